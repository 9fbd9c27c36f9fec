/*
 * lwip14_pbuf.h - lwIP 2.1's pbuf_free_header() for lwIP 1.4 (lwip14_compat.h), which has
 * only pbuf_header(). It needs struct pbuf, pbuf_free() and pbuf_header() declared first
 * (lwIP 1.4's pbuf.h on the chip; tests/unit/test_esp_lwip14.c's stand-ins on the host).
 */
#ifndef BH_LWIP14_PBUF_H
#define BH_LWIP14_PBUF_H

/* Drops size bytes from the front of a chain, freeing the pbufs that empties, and returns
 * what is left (NULL when all of it was read): lwIP 2.1.3's pbuf_free_header, step by step.
 * sock.c reads a received chain this way as the firmware consumes it. */
static inline struct pbuf *bhl14_pbuf_free_header(struct pbuf *q, u16_t size)
{
    struct pbuf *p = q;
    while (size > 0 && p) {
        if (size >= p->len) {
            struct pbuf *f = p;
            size = (u16_t)(size - p->len);
            p = p->next;
            f->next = NULL;
            pbuf_free(f);
        } else {
            pbuf_header(p, (s16_t)-(s16_t)size);
            size = 0;
        }
    }
    return p;
}

#endif
