/* worker.c - see worker.h. */
#define _GNU_SOURCE
#include "worker.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "hookd.h"
#include "log.h"
#include "metrics.h"
#include "secret.h"

struct hk_workers {
    hk_store *store;
    unsigned n;
    unsigned max_attempts;
    int64_t backoff_initial_ms, backoff_max_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv;         /* kicks and stop */
    pthread_cond_t done_cv;    /* a worker ended */
    unsigned kicks, alive;
    bool stopping;
    pthread_t *threads;
};

int64_t hk_backoff_ms(int tries, int64_t initial_ms, int64_t max_ms)
{
    int64_t d = initial_ms;
    for (int i = 1; i < tries && d < max_ms; i++)
        d *= 2;
    if (d > max_ms)
        d = max_ms;
    uint32_t r = 0;
    hk_random(&r, sizeof r);
    int64_t half = d / 2;
    return d - half + (half > 0 ? (int64_t)(r % (uint64_t)(half + 1)) : 0);
}

static void wait_until(hk_workers *w, int64_t wall_deadline_ms)
{
    int64_t wait = wall_deadline_ms - hk_now_ms();
    if (wait <= 0)
        return;
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = ts.tv_nsec + (wait % 1000) * 1000000;
    ts.tv_sec += wait / 1000 + ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    pthread_cond_timedwait(&w->cv, &w->mu, &ts);
}

static bool stopping(hk_workers *w)
{
    pthread_mutex_lock(&w->mu);
    bool s = w->stopping;
    pthread_mutex_unlock(&w->mu);
    return s;
}

/* Records the attempt; the store may be briefly unwritable, so try a few times. */
static void finish(hk_workers *w, const hk_delivery *d, const hk_attempt *a, const char *state,
                   int64_t next_at, int tries)
{
    for (int i = 0; i < 5; i++) {
        if (hk_store_delivery_finish(w->store, d, a, state, next_at, tries) == HK_OK)
            return;
        if (stopping(w))
            break;
        struct timespec ts = {1, 0};
        nanosleep(&ts, NULL);
    }
    hk_log("delivery %lld: cannot record its attempt; it runs again after a restart",
           (long long)d->id);
}

static void run_delivery(hk_workers *w, const hk_delivery *d)
{
    char result[1024] = "";
    hk_event *e = NULL;
    hk_applet a = {0};
    hk_action_status st = HK_ACTION_FAIL;
    const char *applet_name = "?", *action = d->action;
    int64_t start = hk_now_ms();

    int rc = hk_store_event_get(w->store, d->event_id, &e);
    if (rc == HK_OK)
        rc = hk_store_applet_get(w->store, d->applet_id, NULL, &a);
    if (rc == HK_E_NOTFOUND) {
        snprintf(result, sizeof result, "%s was deleted", e ? "its applet" : "its event");
    } else if (rc != HK_OK) {
        st = HK_ACTION_RETRY;
        snprintf(result, sizeof result, "the store could not be read");
    } else {
        applet_name = a.name;
        action = a.action;   /* the applet's current action: it may have been edited */
        const hk_action *act = hk_action_find(a.action);
        if (!a.enabled) {
            snprintf(result, sizeof result, "the applet is disabled (enable it, then retry)");
        } else if (!act) {
            snprintf(result, sizeof result, "unknown action \"%s\"", a.action);
        } else {
            char idem[64];
            snprintf(idem, sizeof idem, "hookd-%lld-%lld", (long long)d->event_id,
                     (long long)d->id);
            st = act->run(a.fields, e, idem, result, sizeof result);
            if (!result[0])
                snprintf(result, sizeof result, "%s", st == HK_ACTION_OK ? "ok" : "failed");
        }
    }
    int64_t end = hk_now_ms();
    int tries = d->tries + 1;
    hk_attempt at = {.started_ms = start, .duration_ms = end - start, .result = result};
    const char *state;
    int64_t next_at = end;
    hk_delivery_result mr;
    if (st == HK_ACTION_OK) {
        state = "done";
        at.status = "ok";
        mr = HK_DELIV_OK;
    } else if (st == HK_ACTION_RETRY && (unsigned)tries < w->max_attempts) {
        state = "pending";
        at.status = "retry";
        next_at = end + hk_backoff_ms(tries, w->backoff_initial_ms, w->backoff_max_ms);
        mr = HK_DELIV_RETRY;
    } else {
        state = "failed";
        at.status = "fail";
        mr = HK_DELIV_FAILED;
    }
    hk_metrics_delivery(action, mr);
    if (mr == HK_DELIV_RETRY)
        hk_log("delivery %lld (event %lld, applet \"%s\", %s) attempt %d: %s; next in %.1f s",
               (long long)d->id, (long long)d->event_id, applet_name, action, tries, result,
               (double)(next_at - end) / 1000.0);
    else
        hk_log("delivery %lld (event %lld, applet \"%s\", %s) attempt %d: %s: %s",
               (long long)d->id, (long long)d->event_id, applet_name, action, tries,
               mr == HK_DELIV_OK ? "done" : "failed", result);
    hk_delivery done = *d;
    snprintf(done.action, sizeof done.action, "%s", action);
    finish(w, &done, &at, state, next_at, tries);
    hk_event_free(e);
    hk_applet_clear(&a);
}

static void *worker_main(void *arg)
{
    hk_workers *w = arg;
    for (;;) {
        if (stopping(w))
            break;
        hk_delivery d;
        int64_t next_due = 0, now = hk_now_ms();
        int rc = hk_store_delivery_claim(w->store, now, &d, &next_due);
        if (rc == 1) {
            hk_workers_kick(w);   /* there may be more: let another worker look */
            run_delivery(w, &d);
            continue;
        }
        pthread_mutex_lock(&w->mu);
        if (w->kicks == 0 && !w->stopping) {
            int64_t deadline = now + (rc == 0 ? 5000 : 1000);
            if (rc == 0 && next_due > 0 && next_due < deadline)
                deadline = next_due;
            wait_until(w, deadline);
        }
        if (w->kicks > 0)
            w->kicks--;
        pthread_mutex_unlock(&w->mu);
    }
    pthread_mutex_lock(&w->mu);
    w->alive--;
    pthread_cond_broadcast(&w->done_cv);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

hk_workers *hk_workers_start(hk_store *s, const hk_config *cfg)
{
    hk_workers *w = calloc(1, sizeof *w);
    if (!w)
        return NULL;
    w->store = s;
    w->n = cfg->workers;
    w->max_attempts = cfg->max_attempts;
    w->backoff_initial_ms = cfg->backoff_initial_ms;
    w->backoff_max_ms = cfg->backoff_max_ms;
    w->threads = calloc(w->n, sizeof *w->threads);
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_cond_init(&w->done_cv, &ca);
    pthread_condattr_destroy(&ca);
    if (!w->threads) {
        free(w);
        return NULL;
    }
    for (unsigned i = 0; i < w->n; i++) {
        pthread_mutex_lock(&w->mu);
        w->alive++;
        pthread_mutex_unlock(&w->mu);
        if (pthread_create(&w->threads[i], NULL, worker_main, w) != 0) {
            hk_log("cannot start worker %u", i);
            pthread_mutex_lock(&w->mu);
            w->alive--;
            w->n = i;
            pthread_mutex_unlock(&w->mu);
            break;
        }
    }
    return w;
}

void hk_workers_kick(hk_workers *w)
{
    pthread_mutex_lock(&w->mu);
    if (w->kicks < w->n)
        w->kicks++;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
}

bool hk_workers_stop(hk_workers *w, unsigned timeout_s)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_s;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    pthread_cond_broadcast(&w->cv);
    while (w->alive > 0) {
        if (pthread_cond_timedwait(&w->done_cv, &w->mu, &ts) != 0)
            break;
    }
    bool all = w->alive == 0;
    pthread_mutex_unlock(&w->mu);
    if (!all)
        return false;
    for (unsigned i = 0; i < w->n; i++)
        pthread_join(w->threads[i], NULL);
    pthread_cond_destroy(&w->cv);
    pthread_cond_destroy(&w->done_cv);
    pthread_mutex_destroy(&w->mu);
    free(w->threads);
    free(w);
    return true;
}
