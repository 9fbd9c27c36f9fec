/*
 * fastwake.h - the fast wake (FAST_WAKE = 1, docs/fast-wake.md): the AP of the last good join
 * and its DHCP lease are kept in RTC memory (rtc_state.h), so the next press joins on that
 * AP's channel without a scan and, while the lease is safely valid, with it as a static
 * address without DHCP. When what was kept no longer holds, the wake falls back to the
 * chapter's full join by itself. The DNS cache (dnscache.h) keeps its answer in the same record.
 */
#ifndef BH_FASTWAKE_H
#define BH_FASTWAKE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "app/config.h"
#include "app/rtc_state.h"
#include "net/http.h"

/* What the last wakes left in RTC memory; saved by fw_save(). */
extern rtc_state fw_rtc;

/* Reads both records of RTC memory (this one, then the press queue into q), reporting once if
 * either was corrupt, and starts the board's clock: the saved clock plus the deep sleep as
 * the board measured it. A sleep of unknown length voids every time limit kept. */
void fw_begin(press_queue *q);

/* The board's clock in seconds (rtc_state.h): what kept entries expire by. */
uint32_t fw_clock_s(void);

/* Joins the AP kept for key (rtc_hash(ssid, password)) on its channel, with the kept lease as
 * a static address while it is valid. False: nothing kept for key, or it failed (then it is
 * forgotten and the caller joins the full way). */
bool fw_join(const bh_config *c, uint32_t key);

/* Keeps the AP and the lease of the join just made (begun at joined_s) for the next wake. */
void fw_remember(uint32_t key, uint32_t joined_s);

/* http_do(rq, rs) within c's HTTP_TIMEOUT and the wake's bound, with what FAST_WAKE keeps:
 * the DNS cache (dnscache.h) and, for https, a resumed TLS session (a short handshake). When
 * it failed over what was kept, which may be to blame, it asks once more: the cached address
 * is forgotten, and the kept lease when nothing answered over it (then rejoin() joins the full
 * way first). Returns http_do()'s result, or rejoin()'s failure. */
int fw_http_do(http_request *rq, http_response *rs, const bh_config *c, int (*rejoin)(void));

/* Saves the record for the next wake, with the clock as it will be when the sleep starts. */
void fw_save(void);

#endif
