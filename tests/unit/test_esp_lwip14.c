/* test_esp_lwip14.c - the ESP8266 port's pbuf_free_header() for the SDK's lwIP 1.4
 * (firmware/ports/esp8266/lwip14_pbuf.h), on stand-in pbufs that behave as lwIP 1.4's
 * (pbuf_header moves the payload and shortens len and tot_len; pbuf_free frees a chain).
 * What a user would notice if it were wrong: an HTTP response read with bytes lost or
 * repeated where one received segment ends, or a board that runs out of pbufs. */
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "testboard.h"

typedef uint16_t u16_t;
typedef int16_t s16_t;
struct pbuf {
    struct pbuf *next;
    uint8_t *payload;
    u16_t tot_len, len;
    int freed;
};

static int frees;
static void pbuf_free(struct pbuf *p)
{
    for (; p; p = p->next) {
        p->freed++;
        frees++;
    }
}
static uint8_t pbuf_header(struct pbuf *p, s16_t inc)
{
    /* 1.4: a negative increment hides that many bytes at the front of this pbuf */
    if (inc >= 0 || (u16_t)-inc > p->len)
        return 1;
    p->payload += -inc;
    p->len = (u16_t)(p->len + inc);
    p->tot_len = (u16_t)(p->tot_len + inc);
    return 0;
}

#include "../../firmware/ports/esp8266/lwip14_pbuf.h"

/* a chain of segments of these lengths holding 0, 1, 2, ... in order */
static struct pbuf bufs[4];
static uint8_t data[64];
static struct pbuf *chain(const u16_t *lens, int n)
{
    uint8_t *at = data;
    u16_t total = 0;
    for (int i = 0; i < n; i++)
        total = (u16_t)(total + lens[i]);
    for (int i = 0; i < n; i++) {
        bufs[i] = (struct pbuf){i + 1 < n ? &bufs[i + 1] : NULL, at, total, lens[i], 0};
        at += lens[i];
        total = (u16_t)(total - lens[i]);
    }
    for (int i = 0; i < (int)sizeof data; i++)
        data[i] = (uint8_t)i;
    frees = 0;
    return &bufs[0];
}

static void every_cut(void)
{
    static const u16_t lens[3] = {3, 5, 7};
    for (u16_t cut = 0; cut <= 15; cut++) {
        struct pbuf *p = bhl14_pbuf_free_header(chain(lens, 3), cut);
        /* what is left is bytes cut..14, in order, and the head's tot_len says so */
        uint8_t want = (uint8_t)cut, n = 0;
        int bad = 0;
        for (struct pbuf *q = p; q; q = q->next)
            for (u16_t i = 0; i < q->len; i++, n++)
                bad += q->payload[i] != want++;
        CHECK_INT(bad, 0);
        CHECK_INT(n, 15 - cut);
        CHECK(cut == 15 ? p == NULL : p != NULL && p->tot_len == 15 - cut);
        /* a pbuf is freed once it is wholly read, and only then */
        int whole = (cut >= 3) + (cut >= 8) + (cut >= 15);
        CHECK_INT(frees, whole);
        for (int i = 0; i < 3; i++)
            CHECK_INT(bufs[i].freed, i < whole);
    }
}

int main(void)
{
    tb_reset();
    every_cut();
    return tb_done("test_esp_lwip14");
}
