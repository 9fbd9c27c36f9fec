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

/* at most this many deliveries claimed at once (and queued here) */
#define CLAIM_MAX 64

/*
 * The workers share one queue of claimed deliveries. When it is empty, one idle worker (at a
 * time) claims a batch from the store in one transaction: as many as there are idle workers,
 * plus one more round so that a worker finishing an action finds the next one ready. The
 * next claim comes at once only when that batch was full (more may be due); otherwise, as
 * after a claim that found nothing, the workers wait for a kick (a new event here, a NOTIFY
 * from another instance through hk_store_watch), for the earliest next_at known (the last
 * empty claim's, or a retry scheduled here), or 5 s. The keeper thread renews the leases of
 * what this process holds every lease/3.
 */
struct hk_workers {
    hk_store *store;
    unsigned n;
    unsigned max_attempts;
    int64_t backoff_initial_ms, backoff_max_ms, lease_ms;
    pthread_mutex_t mu;
    pthread_cond_t cv;         /* kicks, a claimed batch, and stop */
    pthread_cond_t done_cv;    /* a worker ended */
    pthread_cond_t keeper_cv;  /* stop, for the keeper */
    unsigned kicks, alive, busy;
    bool stopping, claiming, keeper_alive;
    bool idle;                 /* what the store was last told (hk_store_workers_idle) */
    int64_t claim_at;          /* no claim before this (ms) unless kicked: nothing is due */
    uint64_t claim_commits;    /* the group commits done when the claim in flight began */
    int64_t next_due;          /* the earliest next_at known to come (0: none) */
    hk_delivery queue[CLAIM_MAX];
    unsigned qhead, qlen;
    pthread_t *threads;
    pthread_t keeper;
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

static void wait_ms(hk_workers *w, pthread_cond_t *cv, int64_t ms)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    int64_t ns = ts.tv_nsec + (ms % 1000) * 1000000;
    ts.tv_sec += ms / 1000 + ns / 1000000000;
    ts.tv_nsec = ns % 1000000000;
    pthread_cond_timedwait(cv, &w->mu, &ts);
}

/* Records the attempt with the writer's next group commit, without waiting for it: the
 * worker goes on with its next delivery meanwhile (store.h says why that is safe). */
static void finish(hk_workers *w, const hk_delivery *d, const hk_attempt *a, const char *state,
                   int64_t next_at, int tries)
{
    if (hk_store_delivery_finish_async(w->store, d, a, state, next_at, tries) != HK_OK)
        hk_log("delivery %lld: cannot record its attempt; it runs again once its lease runs "
               "out (or after a restart)", (long long)d->id);
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
    if (mr == HK_DELIV_RETRY) {
        /* due again then: a worker looks no later (it comes back to the loop and waits) */
        pthread_mutex_lock(&w->mu);
        if (!w->next_due || next_at < w->next_due)
            w->next_due = next_at;
        if (next_at < w->claim_at)
            w->claim_at = next_at;
        pthread_mutex_unlock(&w->mu);
    }
    hk_event_free(e);
    hk_applet_clear(&a);
}

/* With w->mu held: tells the store whether a worker is free to claim new work at once (none
 * running an action or holding a claimed one for it), so that a PostgreSQL commit wakes the
 * other instances only when this one cannot take its own work. */
static void note_idle(hk_workers *w)
{
    bool idle = !w->stopping && w->busy + w->qlen < w->n;
    if (idle != w->idle) {
        w->idle = idle;
        hk_store_workers_idle(w->store, idle);
    }
}

static void *worker_main(void *arg)
{
    hk_workers *w = arg;
    pthread_mutex_lock(&w->mu);
    while (!w->stopping) {
        if (w->qlen > 0) {
            hk_delivery d = w->queue[w->qhead];
            w->qhead = (w->qhead + 1) % CLAIM_MAX;
            w->qlen--;
            w->busy++;
            pthread_mutex_unlock(&w->mu);
            run_delivery(w, &d);
            pthread_mutex_lock(&w->mu);
            w->busy--;
            note_idle(w);
            continue;
        }
        if (w->claiming) {
            /* another worker is claiming: its batch, a kick or stop wakes this one */
            pthread_cond_wait(&w->cv, &w->mu);
            continue;
        }
        if (w->kicks == 0) {
            /* nothing is due before claim_at: wait for it or a kick; one claim finding
             * nothing per wake-up, not one per idle worker (that would spin) */
            int64_t wait = w->claim_at - hk_now_ms();
            if (wait > 0) {
                wait_ms(w, &w->cv, wait);
                continue;
            }
        }
        w->claiming = true;
        w->kicks = 0;   /* this claim sees everything committed before it */
        uint64_t events;
        hk_store_commit_stats(w->store, &w->claim_commits, &events);
        int want = (int)(2 * w->n - w->busy);
        if (want > CLAIM_MAX)
            want = CLAIM_MAX;
        if (want < 1)
            want = 1;
        pthread_mutex_unlock(&w->mu);
        hk_delivery got[CLAIM_MAX];
        int64_t next_due = 0, now = hk_now_ms();
        int rc = hk_store_delivery_claim(w->store, now, w->lease_ms, got, want, &next_due);
        if (rc >= 0)
            hk_metrics_claim(rc > 0);
        pthread_mutex_lock(&w->mu);
        w->claiming = false;
        /* the one known here is kept if earlier: a retry whose record is not committed yet */
        if (rc == 0 && (!w->next_due || w->next_due <= now ||
                        (next_due && next_due < w->next_due)))
            w->next_due = next_due;
        else if (w->next_due && w->next_due <= now)
            w->next_due = 0;   /* passed: what was due then, this claim saw */
        if (rc == want) {
            w->claim_at = 0;   /* a full batch: more may be due, claim again once it is taken */
        } else {
            /* all that was due is taken (or the store failed: again in 1 s) */
            w->claim_at = now + (rc < 0 ? 1000 : 5000);
            if (rc >= 0 && w->next_due && w->next_due < w->claim_at)
                w->claim_at = w->next_due;
        }
        if (rc > 0) {
            for (int i = 0; i < rc; i++)
                w->queue[(w->qhead + w->qlen++) % CLAIM_MAX] = got[i];
            note_idle(w);
            pthread_cond_broadcast(&w->cv);
        }
    }
    w->alive--;
    pthread_cond_broadcast(&w->done_cv);
    pthread_cond_broadcast(&w->keeper_cv);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

/* Renews the leases of the deliveries this process holds, so that no other instance takes
 * over a delivery whose action is merely slow. */
static void *keeper_main(void *arg)
{
    hk_workers *w = arg;
    pthread_mutex_lock(&w->mu);
    /* on after stop while deliveries still run: hk_workers_stop may give up waiting for them */
    while (!w->stopping || w->busy > 0) {
        wait_ms(w, &w->keeper_cv, w->lease_ms / 3);
        if (w->busy + w->qlen == 0)
            continue;
        pthread_mutex_unlock(&w->mu);
        if (hk_store_delivery_extend(w->store, w->lease_ms) != HK_OK)
            hk_log("cannot renew the leases of running deliveries; another instance may run "
                   "them again once they run out");
        pthread_mutex_lock(&w->mu);
    }
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static void wake(void *arg)
{
    hk_workers_kick(arg);
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
    w->lease_ms = (int64_t)(cfg->lease_s ? cfg->lease_s : 30) * 1000;
    w->threads = calloc(w->n, sizeof *w->threads);
    pthread_mutex_init(&w->mu, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->cv, &ca);
    pthread_cond_init(&w->done_cv, &ca);
    pthread_cond_init(&w->keeper_cv, &ca);
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
    if (pthread_create(&w->keeper, NULL, keeper_main, w) == 0)
        w->keeper_alive = true;
    else
        hk_log("cannot start the lease keeper: deliveries longer than %lld s may run twice",
               (long long)(w->lease_ms / 1000));
    pthread_mutex_lock(&w->mu);
    note_idle(w);
    pthread_mutex_unlock(&w->mu);
    if (hk_store_watch(s, wake, w) != HK_OK)
        hk_log("cannot watch the store for new work: workers look every 5 s");
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

void hk_workers_kick_stored(hk_workers *w)
{
    uint64_t commits, events;
    hk_store_commit_stats(w->store, &commits, &events);
    pthread_mutex_lock(&w->mu);
    /* a group commit is counted once it committed: a claim that began after that sees its
     * deliveries, and a kick per trigger of the batch would only run claims that find them
     * gone */
    bool seen = w->claiming && commits <= w->claim_commits;
    pthread_mutex_unlock(&w->mu);
    if (!seen)
        hk_workers_kick(w);
}

/* Called with w->mu held, which it unlocks: the deliveries claimed but not started are given
 * back (pending again), outside the lock as that is a store write. */
static void release_queued(hk_workers *w)
{
    hk_delivery left[CLAIM_MAX];
    unsigned nleft = 0;
    while (w->qlen > 0) {
        left[nleft++] = w->queue[w->qhead];
        w->qhead = (w->qhead + 1) % CLAIM_MAX;
        w->qlen--;
    }
    pthread_mutex_unlock(&w->mu);
    for (unsigned i = 0; i < nleft; i++)
        hk_store_delivery_release(w->store, &left[i]);
}

bool hk_workers_stop(hk_workers *w, unsigned timeout_s)
{
    hk_store_watch(w->store, NULL, NULL);   /* no wake() after this */
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    ts.tv_sec += timeout_s;
    pthread_mutex_lock(&w->mu);
    w->stopping = true;
    note_idle(w);   /* new work is for the other instances now */
    pthread_cond_broadcast(&w->cv);
    pthread_cond_broadcast(&w->keeper_cv);
    /* claimed but not started: back to pending now, for another instance or the next start */
    release_queued(w);
    pthread_mutex_lock(&w->mu);
    while (w->alive > 0) {
        if (pthread_cond_timedwait(&w->done_cv, &w->mu, &ts) != 0)
            break;
    }
    bool all = w->alive == 0;
    /* a claim that was under way when stop began queued its batch after the release above */
    release_queued(w);
    if (!all)
        return false;   /* the keeper goes on renewing the leases of those still running */
    for (unsigned i = 0; i < w->n; i++)
        pthread_join(w->threads[i], NULL);
    if (w->keeper_alive)
        pthread_join(w->keeper, NULL);
    pthread_cond_destroy(&w->cv);
    pthread_cond_destroy(&w->done_cv);
    pthread_cond_destroy(&w->keeper_cv);
    pthread_mutex_destroy(&w->mu);
    free(w->threads);
    free(w);
    return true;
}
