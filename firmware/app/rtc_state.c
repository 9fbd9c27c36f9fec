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

/* Both records start with magic, version and size and end with a CRC of what comes before. */
typedef struct {
    uint32_t magic;
    uint16_t version, size;
} rec_head;

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int rec_load(size_t off, void *rec, uint16_t size, uint32_t magic, uint16_t version)
{
    rec_head *h = rec;
    uint32_t crc;
    int rc = hal_rtc_read(off, rec, size);
    memcpy(&crc, (uint8_t *)rec + size - 4, 4);
    if (rc == BH_OK && h->magic == 0 && crc == 0)
        rc = BH_ERR_NOENT;
    else if (rc == BH_OK && (h->magic != magic || h->version != version || h->size != size ||
                             crc != rtc_crc32(rec, size - 4u)))
        rc = BH_ERR_PROTO;
    if (rc != BH_OK) {
        memset(rec, 0, size);
        *h = (rec_head){magic, version, size};
    }
    return rc;
}

#if defined(__GNUC__)
__attribute__((noinline))
#endif
static int rec_save(size_t off, void *rec, uint16_t size, uint32_t magic, uint16_t version)
{
    *(rec_head *)rec = (rec_head){magic, version, size};
    uint32_t crc = rtc_crc32(rec, size - 4u);
    memcpy((uint8_t *)rec + size - 4, &crc, 4);
    return hal_rtc_write(off, rec, size);
}

int rtc_load(rtc_state *st)
{
    return rec_load(0, st, sizeof *st, RTC_STATE_MAGIC, RTC_STATE_VERSION);
}

int rtc_save(rtc_state *st)
{
    return rec_save(0, st, sizeof *st, RTC_STATE_MAGIC, RTC_STATE_VERSION);
}

int pq_load(press_queue *q)
{
    int rc = rec_load(PQ_OFFSET, q, sizeof *q, PQ_MAGIC, PQ_VERSION);
    if (rc == BH_OK && q->count > PQ_MAX)   /* a CRC that holds over nonsense: still nonsense */
        rc = BH_ERR_PROTO;
    if (rc != BH_OK) {
        memset(q, 0, sizeof *q);
        hal_random(&q->boot_id, sizeof q->boot_id);
    }
    return rc;
}

int pq_save(press_queue *q)
{
    return rec_save(PQ_OFFSET, q, sizeof *q, PQ_MAGIC, PQ_VERSION);
}

void pq_pop(press_queue *q)
{
    if (q->count) {
        q->count--;
        memmove(q->seq, q->seq + 1, q->count * sizeof q->seq[0]);
    }
}

void pq_push(press_queue *q)
{
    if (q->count == PQ_MAX) {
        pq_pop(q);
        q->dropped++;
    }
    q->seq[q->count++] = q->next_seq++ & PQ_SEQ_MASK;
}
