/* store.c - the backend-independent part of the store: dispatch and group commit. */
#define _GNU_SOURCE
#include "store.h"

#include <pthread.h>
#include <stdio.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"
#include "secret.h"

/* at most this many events in one transaction */
#define COMMIT_BATCH_MAX 512

struct hk_store {
    const hk_store_ops *ops;
    void *db;
    pthread_mutex_t mu;
    pthread_cond_t cv;
    pthread_cond_t fin_cv;       /* a batch of attempts was recorded */
    hk_commit *head, *tail;      /* the queue */
    hk_finish *fins;             /* attempts to record with the next batch */
    bool started, stopping;
    pthread_t writer;
    hk_commit *batch[COMMIT_BATCH_MAX];
    hk_finish *fin_batch[COMMIT_BATCH_MAX];
    hk_finish *owned_batch[COMMIT_BATCH_MAX];
    atomic_uint_fast64_t batches, events;
    int64_t owner;               /* this handle's id in the deliveries it claims */
    atomic_uint_fast64_t claims; /* makes each claim's token */
};

int64_t hk_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

bool hk_store_is_url(const char *where)
{
    return strncmp(where, "postgresql://", 13) == 0 || strncmp(where, "postgres://", 11) == 0;
}

void hk_store_redact(const char *where, char *out, size_t cap)
{
    if (!hk_store_is_url(where)) {
        snprintf(out, cap, "%s", where);
        return;
    }
    const char *auth = strstr(where, "://") + 3;
    size_t qpos = strcspn(where, "?");
    const char *at = memchr(auth, '@', (size_t)(where + qpos - auth));
    const char *colon = at ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
    if (colon)   /* user:password@ -> user@ */
        snprintf(out, cap, "%.*s%.*s", (int)(colon - where), where,
                 (int)(where + qpos - at), at);
    else
        snprintf(out, cap, "%.*s", (int)qpos, where);
}

hk_store *hk_store_open(const char *where, char *err, size_t errcap)
{
    const hk_store_ops *ops = &hk_store_sqlite;
    if (strncmp(where, "sqlite:", 7) == 0)
        where += 7;
    else if (hk_store_is_url(where))
        ops = &hk_store_pg;
    hk_store *s = calloc(1, sizeof *s);
    if (!s) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    s->ops = ops;
    /* random, so that two processes (or a restart) never share an owner id: a claim of a
     * crashed process is never mistaken for a live one's */
    uint64_t r = 0;
    if (hk_random(&r, sizeof r) != 0) {
        snprintf(err, errcap, "no random numbers for the store's owner id");
        free(s);
        return NULL;
    }
    s->owner = (int64_t)(r >> 2) + 1;
    s->db = ops->open(where, err, errcap);
    if (!s->db) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_cond_init(&s->cv, NULL);
    pthread_cond_init(&s->fin_cv, NULL);
    return s;
}

/* an attempt's record queued by hk_store_delivery_finish_async, with its own copies */
typedef struct {
    hk_finish f;
    hk_delivery d;
    hk_attempt a;
    char *state, *status, *result;
} owned_finish;

static void owned_done(owned_finish *o)
{
    if (o->f.rc != HK_OK)
        hk_log("delivery %lld: cannot record its attempt; it runs again once its lease runs out "
               "(or after a restart)", (long long)o->d.id);
    else if (o->f.lost)
        hk_log("delivery %lld: its lease ran out while it ran and another worker took it over;"
               " this attempt is recorded, its state is the new worker's", (long long)o->d.id);
    free(o->state);
    free(o->status);
    free(o->result);
    free(o);
}

static void finish_all(hk_commit **items, size_t n)
{
    for (size_t i = 0; i < n; i++)
        items[i]->done(items[i]);
}

static void *writer_main(void *arg)
{
    hk_store *s = arg;
    hk_commit **items = s->batch;
    hk_finish **fins = s->fin_batch;
    for (;;) {
        pthread_mutex_lock(&s->mu);
        while (!s->head && !s->fins && !s->stopping)
            pthread_cond_wait(&s->cv, &s->mu);
        if (!s->head && !s->fins && s->stopping) {
            pthread_mutex_unlock(&s->mu);
            break;
        }
        size_t n = 0, nf = 0;
        while (s->head && n < COMMIT_BATCH_MAX) {
            items[n++] = s->head;
            s->head = s->head->next;
        }
        if (!s->head)
            s->tail = NULL;
        while (s->fins && nf < COMMIT_BATCH_MAX) {
            fins[nf++] = s->fins;
            s->fins = s->fins->next;
        }
        pthread_mutex_unlock(&s->mu);

        for (size_t i = 0; i < n; i++) {
            items[i]->status = HK_COMMIT_ERROR;
            items[i]->deliveries = 0;
            items[i]->error[0] = '\0';
        }
        /* one transaction, one fsync: the events and the attempts finished meanwhile */
        int rc = s->ops->commit_events(s->db, items, n, fins, nf, hk_now_ms());
        if (rc != HK_OK && n + nf > 1) {
            /* one bad request must not fail the others: store them one by one */
            for (size_t i = 0; i < n; i++)
                s->ops->commit_events(s->db, &items[i], 1, NULL, 0, hk_now_ms());
            for (size_t i = 0; i < nf; i++)
                fins[i]->rc = s->ops->delivery_finish(s->db, fins[i]);
        }
        if (n > 0) {
            atomic_fetch_add(&s->batches, 1);
            atomic_fetch_add(&s->events, n);
        }
        finish_all(items, n);
        if (nf > 0) {
            /* the queued ones are ours to free; a waiter's may vanish once done is set */
            size_t no = 0;
            pthread_mutex_lock(&s->mu);
            for (size_t i = 0; i < nf; i++) {
                if (fins[i]->owned)
                    s->owned_batch[no++] = fins[i];
                else
                    fins[i]->done = true;
            }
            pthread_cond_broadcast(&s->fin_cv);
            pthread_mutex_unlock(&s->mu);
            for (size_t i = 0; i < no; i++)
                owned_done((owned_finish *)s->owned_batch[i]);
        }
    }
    return NULL;
}

int hk_store_start(hk_store *s)
{
    if (pthread_create(&s->writer, NULL, writer_main, s) != 0)
        return HK_E_STORE;
    pthread_setname_np(s->writer, "hookd-store");   /* its CPU apart in top -H, perf */
    pthread_mutex_lock(&s->mu);
    s->started = true;
    pthread_mutex_unlock(&s->mu);
    return HK_OK;
}

int hk_store_submit(hk_store *s, hk_commit *c)
{
    c->next = NULL;
    pthread_mutex_lock(&s->mu);
    if (s->stopping || !s->started) {
        pthread_mutex_unlock(&s->mu);
        return HK_E_CLOSED;
    }
    if (s->tail)
        s->tail->next = c;
    else
        s->head = c;
    s->tail = c;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return HK_OK;
}

void hk_store_stop(hk_store *s)
{
    pthread_mutex_lock(&s->mu);
    bool started = s->started;
    s->stopping = true;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    if (started) {
        pthread_join(s->writer, NULL);
        s->started = false;
    }
}

void hk_store_close(hk_store *s)
{
    if (!s)
        return;
    hk_store_stop(s);
    s->ops->close(s->db);
    pthread_mutex_destroy(&s->mu);
    pthread_cond_destroy(&s->cv);
    pthread_cond_destroy(&s->fin_cv);
    free(s);
}

void hk_store_commit_stats(hk_store *s, uint64_t *batches, uint64_t *events)
{
    *batches = atomic_load(&s->batches);
    *events = atomic_load(&s->events);
}

int hk_store_setting_get(hk_store *s, const char *name, char **value)
{
    return s->ops->setting_get(s->db, name, value);
}

int hk_store_setting_set(hk_store *s, const char *name, const char *value)
{
    return s->ops->setting_set(s->db, name, value);
}

int hk_store_setting_add(hk_store *s, const char *name, const char *value)
{
    return s->ops->setting_add(s->db, name, value);
}

int hk_store_applet_list(hk_store *s, hk_applet **out, size_t *n)
{
    int rc = s->ops->applet_list(s->db, out, n);
    if (rc != HK_OK) {   /* the backend may have read part of the list */
        hk_applets_free(*out, *n);
        *out = NULL;
        *n = 0;
    }
    return rc;
}

int hk_store_applet_get(hk_store *s, int64_t id, const char *name, hk_applet *out)
{
    return s->ops->applet_get(s->db, id, name, out);
}

int hk_store_applet_insert(hk_store *s, hk_applet *a)
{
    return s->ops->applet_insert(s->db, a, hk_now_ms());
}

int hk_store_applet_update(hk_store *s, const hk_applet *a)
{
    return s->ops->applet_update(s->db, a, hk_now_ms());
}

int hk_store_applet_delete(hk_store *s, int64_t id)
{
    return s->ops->applet_delete(s->db, id);
}

void hk_applet_clear(hk_applet *a)
{
    free(a->name);
    free(a->event);
    free(a->action);
    json_decref(a->fields);
    memset(a, 0, sizeof *a);
}

void hk_applets_free(hk_applet *list, size_t n)
{
    for (size_t i = 0; i < n; i++)
        hk_applet_clear(&list[i]);
    free(list);
}

void hk_commit_outcome(hk_commit **items, size_t n, hk_finish **fins, size_t nf, int rc,
                       const char *why)
{
    for (size_t i = 0; i < nf; i++)
        fins[i]->rc = rc;
    for (size_t i = 0; i < n; i++) {
        if (rc != HK_OK) {
            items[i]->status = HK_COMMIT_ERROR;
            items[i]->deliveries = 0;
            items[i]->event_id = 0;
            snprintf(items[i]->error, sizeof items[i]->error, "%s", why);
        } else if (items[i]->status == HK_COMMIT_STORED) {
            items[i]->event->id = items[i]->event_id;
        }
    }
}

/* strdup that keeps NULL */
static char *dup_or_null(const char *s)
{
    return s ? strdup(s) : NULL;
}

int hk_applet_from_cols(hk_applet *a, int64_t id, const char *name, const char *event,
                        const char *action, const char *fields, bool enabled)
{
    memset(a, 0, sizeof *a);
    a->id = id;
    a->name = dup_or_null(name);
    a->event = dup_or_null(event);
    a->action = dup_or_null(action);
    a->fields = fields ? json_loads(fields, 0, NULL) : NULL;
    if (!a->fields)
        a->fields = json_object();
    a->enabled = enabled;
    if (!a->name || !a->event || !a->action || !a->fields) {
        hk_applet_clear(a);
        return HK_E_STORE;
    }
    return HK_OK;
}

hk_event *hk_event_from_cols(int64_t id, const char *name, bool json, const char *value1,
                             const char *value2, const char *value3, const char *payload,
                             int64_t occurred_at, const char *source_ip)
{
    hk_event *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->id = id;
    e->name = dup_or_null(name);
    e->json = json;
    e->value1 = dup_or_null(value1);
    e->value2 = dup_or_null(value2);
    e->value3 = dup_or_null(value3);
    e->payload = dup_or_null(payload);
    e->occurred_at = occurred_at;
    e->source_ip = dup_or_null(source_ip);
    if (!e->name) {
        hk_event_free(e);
        return NULL;
    }
    return e;
}

/* the API's names (docs/hookd.md, GET /api/events) */
const char *const hk_event_keys[HK_EVENT_KEYS] = {
    "id", "event", "json", "value1", "value2", "value3", "payload", "occurred_at", "source_ip",
    "idempotency_key"};
const char *const hk_delivery_keys[HK_DELIVERY_KEYS] = {
    "id", "applet_id", "applet", "action", "state", "tries", "next_at_ms", "created_ms",
    "updated_ms", "last_result"};
const char *const hk_attempt_keys[HK_ATTEMPT_KEYS] = {"started_ms", "duration_ms", "status",
                                                      "result"};

int hk_store_event_get(hk_store *s, int64_t id, hk_event **out)
{
    return s->ops->event_get(s->db, id, out);
}

int hk_store_events_json(hk_store *s, const hk_event_query *q, json_t **out)
{
    return s->ops->events_json(s->db, q, out);
}

const char *hk_store_kind(hk_store *s)
{
    return s->ops->name;
}

int hk_store_delivery_claim(hk_store *s, int64_t now_ms, int64_t lease_ms, hk_delivery *out,
                            int max, int64_t *next_due_ms)
{
    /* the owner's id in the high bits keeps tokens of different processes apart */
    int64_t claim = (int64_t)(((uint64_t)s->owner << 20) ^ (atomic_fetch_add(&s->claims, 1) + 1));
    claim &= INT64_MAX;
    return s->ops->delivery_claim(s->db, now_ms, now_ms + lease_ms, s->owner, claim, out, max,
                                  next_due_ms);
}

/* While the writer runs, the attempt joins its next group commit (synced as every commit:
 * this returns once it is durable); before it starts or once it stops, its own transaction. */
int hk_store_delivery_finish(hk_store *s, const hk_delivery *d, const hk_attempt *a,
                             const char *state, int64_t next_at_ms, int tries, bool *lost)
{
    hk_finish f = {.d = d, .a = a, .state = state, .next_at_ms = next_at_ms, .tries = tries,
                   .rc = HK_E_STORE};
    pthread_mutex_lock(&s->mu);
    if (s->stopping || !s->started) {
        pthread_mutex_unlock(&s->mu);
        f.rc = s->ops->delivery_finish(s->db, &f);
    } else {
        f.next = s->fins;
        s->fins = &f;
        pthread_cond_signal(&s->cv);
        while (!f.done)
            pthread_cond_wait(&s->fin_cv, &s->mu);
        pthread_mutex_unlock(&s->mu);
    }
    if (lost)
        *lost = f.lost;
    return f.rc;
}

int hk_store_delivery_finish_async(hk_store *s, const hk_delivery *d, const hk_attempt *a,
                                   const char *state, int64_t next_at_ms, int tries)
{
    owned_finish *o = calloc(1, sizeof *o);
    if (o) {
        o->d = *d;
        o->a = *a;
        o->state = strdup(state);
        o->status = strdup(a->status);
        o->result = strdup(a->result);
    }
    if (!o || !o->state || !o->status || !o->result) {
        if (o) {
            o->f.rc = HK_OK;
            owned_done(o);
        }
        return hk_store_delivery_finish(s, d, a, state, next_at_ms, tries, NULL);
    }
    o->a.status = o->status;
    o->a.result = o->result;
    o->f = (hk_finish){.d = &o->d, .a = &o->a, .state = o->state, .next_at_ms = next_at_ms,
                       .tries = tries, .rc = HK_E_STORE, .owned = true};
    pthread_mutex_lock(&s->mu);
    if (s->stopping || !s->started) {
        pthread_mutex_unlock(&s->mu);
        o->f.rc = s->ops->delivery_finish(s->db, &o->f);
        owned_done(o);
        return HK_OK;
    }
    o->f.next = s->fins;
    s->fins = &o->f;
    pthread_cond_signal(&s->cv);
    pthread_mutex_unlock(&s->mu);
    return HK_OK;
}

int hk_store_delivery_extend(hk_store *s, int64_t lease_ms)
{
    int64_t now = hk_now_ms();
    return s->ops->delivery_extend(s->db, s->owner, now + lease_ms, now);
}

int hk_store_delivery_release(hk_store *s, const hk_delivery *d)
{
    return s->ops->delivery_release(s->db, d, hk_now_ms());
}

int hk_store_watch(hk_store *s, void (*wake)(void *), void *arg)
{
    return s->ops->watch ? s->ops->watch(s->db, wake, arg) : HK_OK;
}

void hk_store_workers_idle(hk_store *s, bool idle)
{
    if (s->ops->workers_idle)
        s->ops->workers_idle(s->db, idle);
}

int hk_store_session_put(hk_store *s, const char *id, const char *csrf, int64_t idle_ms)
{
    return s->ops->session_put(s->db, id, csrf, hk_now_ms(), idle_ms);
}

int hk_store_session_get(hk_store *s, const char *id, int64_t idle_ms, char *csrf,
                         size_t csrfcap)
{
    return s->ops->session_get(s->db, id, hk_now_ms(), idle_ms, csrf, csrfcap);
}

int hk_store_session_delete(hk_store *s, const char *id, const char *keep)
{
    return s->ops->session_delete(s->db, id, keep);
}

int hk_store_delivery_retry(hk_store *s, int64_t id)
{
    return s->ops->delivery_retry(s->db, id, hk_now_ms());
}

int hk_store_delivery_recover(hk_store *s, int *n)
{
    return s->ops->delivery_recover(s->db, hk_now_ms(), n);
}

int hk_store_delivery_counts(hk_store *s, int64_t *pending, int64_t *running, int64_t *failed)
{
    return s->ops->delivery_counts(s->db, pending, running, failed);
}

int hk_store_prune(hk_store *s, int64_t before_s, int64_t *deleted)
{
    *deleted = 0;
    /* in slices, so that triggers never wait long behind a big clean-up, nor does a
     * transaction hold many rows for long */
    int64_t after = 0;
    for (;;) {
        int n = 0;
        int rc = s->ops->prune(s->db, before_s, &after, &n);
        *deleted += n;
        if (rc != HK_OK || after < 0)
            return rc;
    }
}
