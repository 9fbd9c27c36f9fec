/* rtc_state.c - the record kept in RTC memory across deep sleep (rtc_state.h). */
#include "app/rtc_state.h"

#include <stddef.h>
#include <string.h>

uint32_t rtc_crc32(const void *p, uint32_t n)
{
    const uint8_t *b = p;
    uint32_t c = 0xFFFFFFFFu;
    while (n--) {
        c ^= *b++;
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1u)));
    }
    return ~c;
}

static uint32_t fnv(uint32_t h, const char *s)
{
    while (*s)
        h = (h ^ (uint8_t)*s++) * 16777619u;
    return h;
}

uint32_t rtc_hash(const char *a, const char *b)
{
    uint32_t h = fnv(2166136261u, a);
    if (b)
        h = fnv(h * 16777619u, b);   /* the NUL between them */
    return h ? h : 1;
}

static void blank(rtc_state *st)
{
    memset(st, 0, sizeof *st);
    st->magic = RTC_STATE_MAGIC;
    st->version = RTC_STATE_VERSION;
    st->size = sizeof *st;
}

int rtc_load(rtc_state *st)
{
    int rc = hal_rtc_read(0, st, sizeof *st);
    if (rc == BH_OK && st->magic == 0 && st->crc == 0)
        rc = BH_ERR_NOENT;
    else if (rc == BH_OK &&
             (st->magic != RTC_STATE_MAGIC || st->version != RTC_STATE_VERSION ||
              st->size != sizeof *st || st->crc != rtc_crc32(st, offsetof(rtc_state, crc))))
        rc = BH_ERR_PROTO;
    if (rc != BH_OK)
        blank(st);
    return rc;
}

int rtc_save(rtc_state *st)
{
    st->magic = RTC_STATE_MAGIC;
    st->version = RTC_STATE_VERSION;
    st->size = sizeof *st;
    st->crc = rtc_crc32(st, offsetof(rtc_state, crc));
    return hal_rtc_write(0, st, sizeof *st);
}
