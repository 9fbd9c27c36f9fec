/*
 * ratelimit.h - token buckets by name (a client address, a key), in a fixed-size table:
 * memory stays bounded however many clients come; when the table is full the least recently
 * seen bucket nearby is reused.
 */
#ifndef HOOKD_RATELIMIT_H
#define HOOKD_RATELIMIT_H

#include <stdbool.h>
#include <stdint.h>

typedef struct hk_limiter hk_limiter;

/* rate: tokens per second (0: no limit, take always succeeds); burst: the bucket's size. */
hk_limiter *hk_limiter_new(double rate, double burst);
void hk_limiter_free(hk_limiter *l);
/* Takes one token from name's bucket: true, or false with the seconds until one is back. */
bool hk_limiter_take(hk_limiter *l, const char *name, int64_t now_ms, int *retry_after_s);

#endif
