/*
 * config-check - the board's own config.py reader (firmware/app/config.c) on the host, so
 * that `make esp8266 CONFIG=path/to/config.py` refuses a file the board would refuse, with the
 * board's messages ("config.py:LINE: what is wrong"), before it goes into a flash image.
 *
 *   config-check FILE      exit 0 when the board would accept FILE as its config.py, else 1
 *
 * The reader sees FILE as the flash file config.py (hal_fs_size/hal_fs_read below) and the
 * ESP8266's pins (hal_pin_valid as ports/esp8266/board.c has them), so its size limit, its
 * pin checks and its URL check are the board's. Built by scripts/esp8266-build.sh.
 */
#define _POSIX_C_SOURCE 200809L
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "app/config.h"
#include "hal/hal.h"

static const char *path;

bool hal_pin_valid(int gpio)
{
    /* as ports/esp8266/board.c: 6-8 and 11 are the flash chip's */
    return (gpio >= 0 && gpio <= 5) || gpio == 9 || gpio == 10 || (gpio >= 12 && gpio <= 16);
}

int hal_fs_size(const char *name)
{
    struct stat st;
    if (strcmp(name, "config.py") != 0 || stat(path, &st) != 0)
        return BH_ERR_NOENT;
    return st.st_size > 0x7FFFFFFF ? 0x7FFFFFFF : (int)st.st_size;
}

int hal_fs_read(const char *name, uint32_t off, void *buf, size_t len)
{
    FILE *f = strcmp(name, "config.py") == 0 ? fopen(path, "rb") : NULL;
    if (!f)
        return BH_ERR_NOENT;
    size_t n = 0;
    if (fseek(f, (long)off, SEEK_SET) == 0)
        n = fread(buf, 1, len, f);
    int err = ferror(f);
    fclose(f);
    return err ? BH_ERR_IO : (int)n;
}

static void diag(void *ctx, int is_error, const char *msg)
{
    (void)ctx, (void)is_error;
    fprintf(stderr, "%s\n", msg);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: config-check FILE (checked as the board's config.py)\n");
        return 2;
    }
    path = argv[1];
    static bh_config cfg;
    return cfg_load("config.py", &cfg, diag, NULL) == BH_OK ? 0 : 1;
}
