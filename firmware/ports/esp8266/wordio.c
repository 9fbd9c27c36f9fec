/*
 * wordio.c - byte ranges over word-only memories (wordio.h): the ESP8266's SPI flash and RTC
 * memory as the SDK gives them. Plain C with no SDK call, tested on the host.
 */
#include "wordio.h"

#include <string.h>

#include "hal/hal.h"

#define WINDOW 64u   /* bytes per SDK call: a stack buffer, and the watchdog fed between */

/* the window at addr: its first word's address, the bytes to skip in it, the bytes of the
 * request it holds, and how many bytes the SDK call moves (whole words) */
typedef struct {
    uint32_t base, skip, n, bytes;
} window;

static window window_at(uint32_t addr, size_t len)
{
    window w;
    w.base = addr & ~3u;
    w.skip = addr - w.base;
    w.n = (uint32_t)(WINDOW - w.skip < len ? WINDOW - w.skip : len);
    w.bytes = (w.skip + w.n + 3u) & ~3u;
    return w;
}

int esp_words_read(esp_words_fn read, uint32_t addr, void *buf, size_t len)
{
    uint32_t tmp[WINDOW / 4];
    uint8_t *out = buf;
    while (len > 0) {
        window w = window_at(addr, len);
        if (!read(w.base, tmp, w.bytes))
            return BH_ERR_IO;
        memcpy(out, (uint8_t *)tmp + w.skip, w.n);
        out += w.n, addr += w.n, len -= w.n;
    }
    return BH_OK;
}

int esp_words_program(esp_words_fn write, uint32_t addr, const void *buf, size_t len)
{
    uint32_t tmp[WINDOW / 4];
    const uint8_t *in = buf;
    while (len > 0) {
        window w = window_at(addr, len);
        memset(tmp, 0xFF, sizeof tmp);
        memcpy((uint8_t *)tmp + w.skip, in, w.n);
        if (!write(w.base, tmp, w.bytes))
            return BH_ERR_IO;
        in += w.n, addr += w.n, len -= w.n;
    }
    return BH_OK;
}

int esp_words_update(esp_words_fn read, esp_words_fn write, uint32_t addr, const void *buf,
                     size_t len)
{
    uint32_t tmp[WINDOW / 4];
    const uint8_t *in = buf;
    while (len > 0) {
        window w = window_at(addr, len);
        if (!read(w.base, tmp, w.bytes))
            return BH_ERR_IO;
        memcpy((uint8_t *)tmp + w.skip, in, w.n);
        if (!write(w.base, tmp, w.bytes))
            return BH_ERR_IO;
        in += w.n, addr += w.n, len -= w.n;
    }
    return BH_OK;
}
