/*
 * flash.h - the raw-flash contract the portable file system (fs.h) is written against.
 *
 * NOR flash as on the ESP8266's SPI chip: erasing a sector sets all its bytes to 0xFF;
 * programming can only clear bits (1 -> 0). A power cut may stop a program or an erase at any
 * byte. A board gives one region of its flash as a bh_flash and mounts the file system on it;
 * offsets are from the start of that region.
 */
#ifndef BH_FLASH_H
#define BH_FLASH_H

#include <stddef.h>
#include <stdint.h>

typedef struct bh_flash {
    uint32_t size;     /* bytes in the region: a multiple of sector */
    uint32_t sector;   /* the erase unit: 4096 on the ESP8266 */
    /* each returns 0 or a negative bh_err (BH_ERR_IO) */
    int (*read)(uint32_t off, void *buf, size_t len);
    int (*erase)(uint32_t off);                                  /* the sector at off */
    int (*program)(uint32_t off, const void *buf, size_t len);   /* clears bits only */
} bh_flash;
/* The file system reads and programs at any byte offset and length (a sector header, one
 * byte to kill a record). A driver whose chip API wants aligned 4-byte words, as the ESP8266
 * SDK's spi_flash_write does, pads a program with 0xFF bytes, which leave NOR flash as it is. */

#endif
