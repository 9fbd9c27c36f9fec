/*
 * dnscache.h - one DNS answer, the webhook host's address, kept in RTC memory (fastwake.h's
 * record) for its TTL on the board's clock, so a press skips the look-up (docs/fast-wake.md).
 */
#ifndef BH_DNSCACHE_H
#define BH_DNSCACHE_H

#include <stdbool.h>
#include <stdint.h>

/* Set when this wake's request used the kept address (cleared by fw_begin()). */
extern bool dns_cache_used;

/* http_request.resolve: the kept address of host while its TTL lasts, else a look-up whose
 * answer is kept (an answer with TTL 0 is not). */
int dns_cache_resolve(const char *host, uint32_t *ip, uint32_t timeout_ms);

/* Forgets the kept answer: the request over it reached nothing (fw_retry()). */
void dns_cache_forget(void);

#endif
