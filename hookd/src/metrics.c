/* metrics.c - see metrics.h. */
#define _GNU_SOURCE
#include "metrics.h"

#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const trig_names[HK_TRIG_NRESULTS] = {
    "ok", "duplicate", "bad_request", "invalid_key", "not_found", "method_not_allowed",
    "too_large", "unsupported_media_type", "rate_limited", "unavailable"};
static const char *const deliv_names[HK_DELIV_NRESULTS] = {"ok", "retry", "failed"};
static const char *const actions[] = {"email", "maildir", "http", "mqtt", "command", "file",
                                      "other"};
#define NACTIONS (sizeof actions / sizeof actions[0])

/* trigger latency buckets, in microseconds */
static const int64_t bounds_us[] = {250, 500, 1000, 2500, 5000, 10000, 25000, 50000, 100000,
                                    250000, 500000, 1000000};
#define NBOUNDS (sizeof bounds_us / sizeof bounds_us[0])

static atomic_uint_fast64_t triggers[HK_TRIG_NRESULTS];
static atomic_uint_fast64_t deliveries[NACTIONS][HK_DELIV_NRESULTS];
static atomic_uint_fast64_t lat_bucket[NBOUNDS + 1];
static atomic_uint_fast64_t lat_sum_us, lat_count;
static atomic_uint_fast64_t claims[2];   /* [0] found none, [1] found some */
static atomic_uint_fast64_t notifications;

void hk_metrics_trigger(hk_trigger_result r, int64_t duration_us)
{
    atomic_fetch_add(&triggers[r], 1);
    if (duration_us < 0)
        duration_us = 0;
    size_t b = 0;
    while (b < NBOUNDS && duration_us > bounds_us[b])
        b++;
    atomic_fetch_add(&lat_bucket[b], 1);
    atomic_fetch_add(&lat_sum_us, (uint64_t)duration_us);
    atomic_fetch_add(&lat_count, 1);
}

void hk_metrics_delivery(const char *action, hk_delivery_result r)
{
    size_t a = 0;
    while (a < NACTIONS - 1 && strcmp(actions[a], action ? action : "") != 0)
        a++;
    atomic_fetch_add(&deliveries[a][r], 1);
}

void hk_metrics_claim(bool found)
{
    atomic_fetch_add(&claims[found], 1);
}

void hk_metrics_notification(void)
{
    atomic_fetch_add(&notifications, 1);
}

hk_trigger_result hk_metrics_result_of(int status)
{
    switch (status) {
    case 200: return HK_TRIG_OK;
    case 401: return HK_TRIG_INVALID_KEY;
    case 404: return HK_TRIG_NOT_FOUND;
    case 405: return HK_TRIG_METHOD;
    case 413: return HK_TRIG_TOO_LARGE;
    case 415: return HK_TRIG_UNSUPPORTED;
    case 429: return HK_TRIG_RATE_LIMITED;
    case 503: return HK_TRIG_UNAVAILABLE;
    default: return HK_TRIG_BAD_REQUEST;
    }
}

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf;

static void put(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void put(sbuf *s, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        int n = vsnprintf(s->buf ? s->buf + s->len : NULL, s->buf ? s->cap - s->len : 0, fmt, ap);
        va_end(ap);
        if (n < 0)
            return;
        if (s->buf && s->len + (size_t)n < s->cap) {
            s->len += (size_t)n;
            return;
        }
        size_t cap = (s->cap ? s->cap * 2 : 4096) + (size_t)n;
        char *b = realloc(s->buf, cap);
        if (!b)
            return;
        s->buf = b;
        s->cap = cap;
    }
}

char *hk_metrics_render(int64_t pending, int64_t running, int64_t failed, uint64_t batches,
                        uint64_t batched_events)
{
    sbuf s = {0};
    put(&s, "# HELP hookd_triggers_total Trigger requests by result.\n"
            "# TYPE hookd_triggers_total counter\n");
    for (int r = 0; r < HK_TRIG_NRESULTS; r++)
        put(&s, "hookd_triggers_total{result=\"%s\"} %llu\n", trig_names[r],
            (unsigned long long)atomic_load(&triggers[r]));
    put(&s, "# HELP hookd_trigger_duration_seconds Time from a trigger request's headers to its "
            "reply (stored durably first when accepted).\n"
            "# TYPE hookd_trigger_duration_seconds histogram\n");
    uint64_t cum = 0;
    for (size_t b = 0; b < NBOUNDS; b++) {
        cum += atomic_load(&lat_bucket[b]);
        put(&s, "hookd_trigger_duration_seconds_bucket{le=\"%g\"} %llu\n", bounds_us[b] / 1e6,
            (unsigned long long)cum);
    }
    cum += atomic_load(&lat_bucket[NBOUNDS]);
    put(&s, "hookd_trigger_duration_seconds_bucket{le=\"+Inf\"} %llu\n", (unsigned long long)cum);
    put(&s, "hookd_trigger_duration_seconds_sum %.6f\n", atomic_load(&lat_sum_us) / 1e6);
    put(&s, "hookd_trigger_duration_seconds_count %llu\n",
        (unsigned long long)atomic_load(&lat_count));
    put(&s, "# HELP hookd_deliveries_total Delivery attempts by action and result (retry: "
            "failed, will try again; failed: given up).\n"
            "# TYPE hookd_deliveries_total counter\n");
    for (size_t a = 0; a < NACTIONS; a++)
        for (int r = 0; r < HK_DELIV_NRESULTS; r++)
            put(&s, "hookd_deliveries_total{action=\"%s\",result=\"%s\"} %llu\n", actions[a],
                deliv_names[r], (unsigned long long)atomic_load(&deliveries[a][r]));
    put(&s, "# HELP hookd_claims_total Claim transactions of this instance's workers, by whether "
            "they took any due delivery (none: a wake-up that found nothing to do).\n"
            "# TYPE hookd_claims_total counter\n"
            "hookd_claims_total{found=\"some\"} %llu\nhookd_claims_total{found=\"none\"} %llu\n",
        (unsigned long long)atomic_load(&claims[1]), (unsigned long long)atomic_load(&claims[0]));
    put(&s, "# HELP hookd_store_notifications_total Notifications of new work from other "
            "instances (PostgreSQL's NOTIFY hookd_work), each a wake-up of a worker.\n"
            "# TYPE hookd_store_notifications_total counter\n"
            "hookd_store_notifications_total %llu\n",
        (unsigned long long)atomic_load(&notifications));
    put(&s, "# HELP hookd_deliveries_pending Deliveries waiting to run (queue depth).\n"
            "# TYPE hookd_deliveries_pending gauge\nhookd_deliveries_pending %lld\n",
        (long long)pending);
    put(&s, "# HELP hookd_deliveries_running Deliveries being run now.\n"
            "# TYPE hookd_deliveries_running gauge\nhookd_deliveries_running %lld\n",
        (long long)running);
    put(&s, "# HELP hookd_deliveries_failed Deliveries that gave up, waiting for a retry.\n"
            "# TYPE hookd_deliveries_failed gauge\nhookd_deliveries_failed %lld\n",
        (long long)failed);
    put(&s, "# HELP hookd_store_commits_total Group commits (transactions) of events.\n"
            "# TYPE hookd_store_commits_total counter\nhookd_store_commits_total %llu\n",
        (unsigned long long)batches);
    put(&s, "# HELP hookd_store_committed_requests_total Trigger requests those commits "
            "carried.\n# TYPE hookd_store_committed_requests_total counter\n"
            "hookd_store_committed_requests_total %llu\n",
        (unsigned long long)batched_events);
    return s.buf;
}
