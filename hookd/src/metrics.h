/*
 * metrics.h - counters for GET /metrics (Prometheus text format 0.0.4). Lock-free: the
 * request path and the workers only add to atomics.
 */
#ifndef HOOKD_METRICS_H
#define HOOKD_METRICS_H

#include <stdbool.h>
#include <stdint.h>

typedef enum {
    HK_TRIG_OK,
    HK_TRIG_DUPLICATE,       /* an Idempotency-Key seen before: same reply, nothing stored */
    HK_TRIG_BAD_REQUEST,
    HK_TRIG_INVALID_KEY,
    HK_TRIG_NOT_FOUND,
    HK_TRIG_METHOD,
    HK_TRIG_TOO_LARGE,
    HK_TRIG_UNSUPPORTED,
    HK_TRIG_RATE_LIMITED,
    HK_TRIG_UNAVAILABLE,     /* the store could not write: 503 */
    HK_TRIG_NRESULTS
} hk_trigger_result;

typedef enum { HK_DELIV_OK, HK_DELIV_RETRY, HK_DELIV_FAILED, HK_DELIV_NRESULTS } hk_delivery_result;

void hk_metrics_trigger(hk_trigger_result r, int64_t duration_us);
void hk_metrics_delivery(const char *action, hk_delivery_result r);
/* One claim transaction of the workers: found is whether it took any delivery. */
void hk_metrics_claim(bool found);
/* A NOTIFY hookd_work received from PostgreSQL: new work another instance committed. */
void hk_metrics_notification(void);
/* The text for /metrics (malloc'd), with the gauges read from the store by the caller. */
char *hk_metrics_render(int64_t pending, int64_t running, int64_t failed, uint64_t batches,
                        uint64_t batched_events);
hk_trigger_result hk_metrics_result_of(int status);

#endif
