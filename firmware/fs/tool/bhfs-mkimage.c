/*
 * bhfs-mkimage - flash images of the portable file system (firmware/fs/, docs/flash-fs.md) on
 * the host: a board's files (config.py, a CA bundle, webrepl_cfg.py) into an image to flash,
 * and the files of an image (one read back from a board) listed or extracted.
 *
 *   bhfs-mkimage --size BYTES [--sector BYTES] -o IMAGE DIR   every file of DIR into IMAGE
 *   bhfs-mkimage --list IMAGE [--sector BYTES]                 names and sizes
 *   bhfs-mkimage --extract IMAGE DIR [--sector BYTES]          every file into DIR
 *
 * The image is the region a board gives fs_mount(); it is made by the firmware's own fs.c
 * through hal_fs_* (fs_hal.c) on a flash in memory, so it is what the board would write.
 */
#define _POSIX_C_SOURCE 200809L
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "fs/fs.h"
#include "hal/hal.h"

static const char *prog = "bhfs-mkimage";
static uint8_t *img;
static uint32_t img_size;

static int f_read(uint32_t off, void *buf, size_t len)
{
    if (off > img_size || len > img_size - off)
        return BH_ERR_IO;
    memcpy(buf, img + off, len);
    return BH_OK;
}
static uint32_t sector = 4096;
static int f_erase(uint32_t off)
{
    if (off % sector || off >= img_size)
        return BH_ERR_IO;
    memset(img + off, 0xFF, sector);
    return BH_OK;
}
static int f_program(uint32_t off, const void *buf, size_t len)
{
    if (off > img_size || len > img_size - off)
        return BH_ERR_IO;
    const uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        img[off + i] &= p[i];   /* NOR: bits only clear */
    return BH_OK;
}

static void usage(FILE *to)
{
    fprintf(to,
            "usage: %s --size BYTES [--sector BYTES] -o IMAGE DIR   build IMAGE from DIR's files\n"
            "       %s --list IMAGE [--sector BYTES]                 list IMAGE's files\n"
            "       %s --extract IMAGE DIR [--sector BYTES]          write IMAGE's files into DIR\n"
            "BYTES: a number, or with K or M (1024, 1048576). --sector: the flash's erase unit\n"
            "(4096 on the ESP8266, the default). docs/flash-fs.md describes the format.\n",
            prog, prog, prog);
}
/* an error on stderr, after the program's name; returns 1, the exit status */
__attribute__((format(printf, 1, 2))) static int die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stderr, "%s: ", prog);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    return 1;
}
/* "65536", "64K", "1M" */
static int parse_bytes(const char *s, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s || errno || s[0] == '-')
        return -1;
    if (*end == 'K' || *end == 'k')
        v *= 1024, end++;
    else if (*end == 'M' || *end == 'm')
        v *= 1024 * 1024, end++;
    if (*end || v > 0x40000000ull)
        return -1;
    *out = (uint32_t)v;
    return 0;
}

static int mount_geometry(bh_flash *f, const char *what)
{
    if (sector < 512 || sector > 65536)
        return die("--sector %u: must be 512 to 65536 bytes", sector);
    if (img_size % sector)
        return die("%s: %u bytes is not a whole number of %u-byte sectors (--sector)", what,
                   img_size, sector);
    if (img_size / sector < 4)
        return die("%s: %u bytes is too small: the file system needs at least 4 sectors of %u "
                   "bytes", what, img_size, sector);
    *f = (bh_flash){img_size, sector, f_read, f_erase, f_program};
    return 0;
}

static int cmp_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int build(const char *dir, const char *out)
{
    bh_flash f;
    if (mount_geometry(&f, "--size"))
        return 1;
    img = malloc(img_size);
    if (!img)
        return die("out of memory for a %u-byte image", img_size);
    memset(img, 0xFF, img_size);
    if (fs_mount(&f) != BH_ERR_PROTO || fs_format() != BH_OK)
        return die("could not make an empty file system");
    uint32_t used, limit;
    fs_space(&used, &limit);

    DIR *d = opendir(dir);
    if (!d)
        return die("%s: %s", dir, strerror(errno));
    char *names[256];
    int n = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        if (n == 256) {
            rc = die("%s: too many files: the file system holds at most %d", dir, FS_MAX_FILES);
            break;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (rc)
        goto done;
    qsort(names, (size_t)n, sizeof names[0], cmp_names);
    if (n > FS_MAX_FILES) {
        rc = die("%s: %d files: the file system holds at most %d", dir, n, FS_MAX_FILES);
        goto done;
    }
    uint32_t total = 0;
    for (int i = 0; i < n && !rc; i++) {
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        struct stat st;
        if (stat(path, &st) < 0) {
            rc = die("%s: %s", path, strerror(errno));
            break;
        }
        if (!S_ISREG(st.st_mode)) {
            rc = die("%s: not a regular file (the flash has no folders)", path);
            break;
        }
        if (strlen(names[i]) > FS_NAME_MAX) {
            rc = die("%s: name too long (%zu bytes, at most %d)", path, strlen(names[i]),
                     FS_NAME_MAX);
            break;
        }
        if ((unsigned long long)st.st_size > limit) {
            rc = die("%s: too big: %lld bytes, and a %u-byte image holds at most %u bytes of "
                     "files (give a larger --size)", path, (long long)st.st_size, img_size,
                     limit);
            break;
        }
        FILE *in = fopen(path, "rb");
        if (!in) {
            rc = die("%s: %s", path, strerror(errno));
            break;
        }
        size_t len = (size_t)st.st_size;
        uint8_t *buf = malloc(len ? len : 1);
        size_t got = buf ? fread(buf, 1, len, in) : 0;
        fclose(in);
        if (!buf || got != len) {
            free(buf);
            rc = die("%s: could not read it whole", path);
            break;
        }
        int w = hal_fs_write(names[i], 0, buf, len);
        free(buf);
        if (w == BH_ERR_FULL) {
            rc = die("%s: %zu bytes do not fit: the image is full after %u bytes of files (a "
                     "%u-byte image holds at most %u bytes of files, with their headers: give a "
                     "larger --size)", path, len, total, img_size, limit);
        } else if (w < 0) {
            rc = die("%s: %s", path, bh_strerror(w));
        }
        total += (uint32_t)len;
    }
    if (!rc) {
        FILE *o = fopen(out, "wb");
        if (!o || fwrite(img, 1, img_size, o) != img_size || fclose(o) != 0)
            rc = die("%s: %s", out, strerror(errno));
        else {
            fs_space(&used, &limit);
            printf("%s: %d file%s, %u bytes; %u of %u bytes used (%u-byte image, %u-byte "
                   "sectors)\n", out, n, n == 1 ? "" : "s", total, used, limit, img_size, sector);
        }
    }
done:
    for (int i = 0; i < n; i++)
        free(names[i]);
    free(img);
    return rc;
}

static int load(const char *path, bh_flash *f)
{
    FILE *in = fopen(path, "rb");
    if (!in)
        return die("%s: %s", path, strerror(errno));
    struct stat st;
    if (fstat(fileno(in), &st) < 0 || st.st_size <= 0 || st.st_size > 0x40000000) {
        fclose(in);
        return die("%s: not a flash image (empty, or over 1 GB)", path);
    }
    img_size = (uint32_t)st.st_size;
    img = malloc(img_size);
    if (!img || fread(img, 1, img_size, in) != img_size) {
        fclose(in);
        return die("%s: could not read it", path);
    }
    fclose(in);
    if (mount_geometry(f, path))
        return 1;
    int rc = fs_mount(f);
    if (rc == BH_ERR_PROTO)
        return die("%s: no file system in it (erased, damaged, or sectors other than %u bytes: "
                   "see --sector)", path, sector);
    if (rc < 0)
        return die("%s: %s", path, bh_strerror(rc));
    return 0;
}

static int list(const char *path)
{
    bh_flash f;
    if (load(path, &f))
        return 1;
    char name[FS_NAME_MAX + 1];
    int i;
    uint32_t total = 0, used, limit;
    for (i = 0; hal_fs_list(i, name, sizeof name) == BH_OK; i++) {
        int size = hal_fs_size(name);
        printf("%8d  %s\n", size, name);
        total += size > 0 ? (uint32_t)size : 0;
    }
    fs_space(&used, &limit);
    printf("%d file%s, %u bytes; %u of %u bytes used\n", i, i == 1 ? "" : "s", total, used, limit);
    free(img);
    return 0;
}

static int extract(const char *path, const char *dir)
{
    bh_flash f;
    if (load(path, &f))
        return 1;
    if (mkdir(dir, 0777) < 0 && errno != EEXIST) {
        free(img);
        return die("%s: %s", dir, strerror(errno));
    }
    char name[FS_NAME_MAX + 1];
    int rc = 0;
    for (int i = 0; !rc && hal_fs_list(i, name, sizeof name) == BH_OK; i++) {
        char out[4096];
        snprintf(out, sizeof out, "%s/%s", dir, name);
        if (strchr(name, '/') || strcmp(name, ".") == 0 || strcmp(name, "..") == 0) {
            rc = die("%s: the name \"%s\" cannot be a file here; not extracted", path, name);
            break;
        }
        int size = hal_fs_size(name);
        uint8_t *buf = malloc(size > 0 ? (size_t)size : 1);
        int n = buf && size >= 0 ? hal_fs_read(name, 0, buf, (size_t)size) : BH_ERR_NOMEM;
        if (n != size) {
            rc = die("%s: %s: %s", path, name, n < 0 ? bh_strerror(n) : "short read");
        } else {
            FILE *o = fopen(out, "wb");
            if (!o || fwrite(buf, 1, (size_t)size, o) != (size_t)size || fclose(o) != 0)
                rc = die("%s: %s", out, strerror(errno));
            else
                printf("%s\n", out);
        }
        free(buf);
    }
    free(img);
    return rc;
}

int main(int argc, char **argv)
{
    const char *size = NULL, *out = NULL, *listing = NULL, *extracting = NULL, *dir = NULL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        int has = i + 1 < argc;
        if (strcmp(a, "-h") == 0 || strcmp(a, "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(a, "--size") == 0 && has) {
            size = argv[++i];
        } else if (strcmp(a, "--sector") == 0 && has) {
            if (parse_bytes(argv[++i], &sector) < 0)
                return die("--sector %s: not a number of bytes", argv[i]);
        } else if (strcmp(a, "-o") == 0 && has) {
            out = argv[++i];
        } else if (strcmp(a, "--list") == 0 && has) {
            listing = argv[++i];
        } else if (strcmp(a, "--extract") == 0 && has) {
            extracting = argv[++i];
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "%s: %s: unknown option, or its value is missing\n", prog, a);
            usage(stderr);
            return 2;
        } else if (!dir) {
            dir = a;
        } else {
            fprintf(stderr, "%s: %s: one folder only\n", prog, a);
            return 2;
        }
    }
    if (listing && !size && !out && !extracting && !dir)
        return list(listing);
    if (extracting && dir && !size && !out && !listing)
        return extract(extracting, dir);
    if (size && out && dir && !listing && !extracting) {
        if (parse_bytes(size, &img_size) < 0)
            return die("--size %s: not a number of bytes", size);
        return build(dir, out);
    }
    usage(stderr);
    return 2;
}
