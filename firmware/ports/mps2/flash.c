/*
 * flash.c - the board's flash: a 256 KB region (4 KB sectors) with NOR semantics, held in RAM
 * and written through to the host file flash.bin in QEMU's working directory, so it survives
 * between wakes (one QEMU run each) as the ESP8266's SPI flash does.
 */
#include <string.h>

#include "mps2.h"
#include "semihost.h"

static uint8_t mem[MPS2_FLASH_SIZE];
static int fd = -1;   /* flash.bin, open for the whole run */

static const char FLASH_FILE[] = "flash.bin";

/* The bytes [off, off+len) of the RAM copy, to the file. */
static int store(uint32_t off, size_t len)
{
    if (fd < 0 || sh_seek(fd, off) < 0 || sh_write(fd, mem + off, len) != (int)len)
        return BH_ERR_IO;
    return BH_OK;
}

/* A missing file is a new chip: all erased. A short file reads as erased after its end and a
 * long one is cut (as flashing an image of another size would leave it); either way the file
 * is rewritten at the region's size so that it mirrors the flash from now on. */
void mps2_flash_load(void)
{
    memset(mem, 0xFF, sizeof mem);
    fd = sh_open(FLASH_FILE, SH_MODE_RPB);
    long have = -1;
    if (fd >= 0) {
        have = sh_flen(fd);
        size_t n = have < 0 ? 0 : (size_t)have > sizeof mem ? sizeof mem : (size_t)have;
        if (sh_read(fd, mem, n) != (int)n) {
            mps2_log("flash: %s could not be read; reads as erased", FLASH_FILE);
            memset(mem, 0xFF, sizeof mem);
        }
        if (have == (long)sizeof mem)
            return;
        sh_close(fd);
    }
    if (have >= 0)
        mps2_log("flash: %s has %ld bytes, not %u: the rest reads as erased", FLASH_FILE, have,
                 (unsigned)sizeof mem);
    fd = sh_open(FLASH_FILE, SH_MODE_WPB);
    if (fd < 0 || store(0, sizeof mem) < 0) {
        mps2_log("flash: cannot create %s: writes will fail", FLASH_FILE);
        fd = -1;
    }
}

static bool in_range(uint32_t off, size_t len)
{
    return off <= sizeof mem && len <= sizeof mem - off;
}

static int flash_read(uint32_t off, void *buf, size_t len)
{
    if (!in_range(off, len) || (!buf && len))
        return BH_ERR_ARG;
    memcpy(buf, mem + off, len);
    return BH_OK;
}

static int flash_erase(uint32_t off)
{
    if (off % MPS2_FLASH_SECTOR != 0 || off >= sizeof mem)
        return BH_ERR_ARG;
    memset(mem + off, 0xFF, MPS2_FLASH_SECTOR);
    return store(off, MPS2_FLASH_SECTOR);
}

/* NOR: programming can only clear bits, so the result is the AND of old and new. */
static int flash_program(uint32_t off, const void *buf, size_t len)
{
    if (!in_range(off, len) || (!buf && len))
        return BH_ERR_ARG;
    const uint8_t *p = buf;
    for (size_t i = 0; i < len; i++)
        mem[off + i] &= p[i];
    return store(off, len);
}

static const bh_flash flash = {
    .size = MPS2_FLASH_SIZE,
    .sector = MPS2_FLASH_SECTOR,
    .read = flash_read,
    .erase = flash_erase,
    .program = flash_program,
};

const bh_flash *mps2_flash(void)
{
    return &flash;
}
