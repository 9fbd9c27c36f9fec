/*
 * store.h - hookd's durable store: settings, applets, events, deliveries and their attempts,
 * admin sessions.
 *
 * One interface, two backends behind a table of functions: SQLite in the data folder
 * (store_sqlite.c, the embedded default) and PostgreSQL (store_pg.c), which several hookd
 * instances can share. This file's functions are thread-safe.
 *
 * Events go in through group commit: hk_store_submit() queues a request and returns; one
 * writer thread takes every queued request, stores them in ONE transaction (each event, its
 * idempotency key and one delivery per matching enabled applet), makes it durable, then calls
 * each request's done() from the writer thread. A caller answers 200 only after done() says
 * HK_COMMIT_STORED or HK_COMMIT_DUPLICATE.
 *
 * Deliveries are claimed in batches with a lease: a claimed delivery is "running", owned by
 * this store handle (one per process) with a claim token, and its next_at is its lease's end.
 * The owner renews the leases while it works (hk_store_delivery_extend); once a lease runs
 * out (its owner crashed or hangs) the delivery is claimable again, by any instance. The
 * finishing write checks that the claim is still the one it made, so a late finisher never
 * overwrites the new owner's state.
 */
#ifndef HOOKD_STORE_H
#define HOOKD_STORE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "hookd.h"

/* results of the store's functions */
enum {
    HK_OK = 0,
    HK_E_STORE = -1,      /* the backend failed (disk full, I/O error, ...) */
    HK_E_NOTFOUND = -2,
    HK_E_CONFLICT = -3,   /* a unique name taken */
    HK_E_STATE = -4,      /* the row is not in a state that allows this */
    HK_E_CLOSED = -5      /* the store is shutting down */
};

typedef struct hk_store hk_store;

/* One event waiting for the group commit. */
typedef struct hk_commit {
    /* in */
    hk_event *event;             /* borrowed; its id is set once stored */
    const char *idem_key;        /* the Idempotency-Key header, or NULL */
    /* out */
    enum { HK_COMMIT_STORED = 1, HK_COMMIT_DUPLICATE, HK_COMMIT_ERROR } status;
    int deliveries;              /* deliveries created (STORED) */
    int64_t event_id;            /* the stored event, or the original one (DUPLICATE) */
    char dup_name[256];
    bool dup_json;               /* DUPLICATE: the original event's name and endpoint */
    char error[160];             /* ERROR: why */
    /* completion, called once from the writer thread */
    void (*done)(struct hk_commit *c);
    void *arg;
    struct hk_commit *next;      /* private: the queue */
} hk_commit;

/* A delivery claimed by a worker. */
typedef struct {
    int64_t id, event_id, applet_id;
    int64_t claim;               /* the claim's token: the finishing write checks it */
    int tries;                   /* attempts already made in this round */
    char action[32];
} hk_delivery;

/* One attempt's record. */
typedef struct {
    int64_t started_ms;
    int64_t duration_ms;
    const char *status;          /* "ok", "retry", "fail" */
    const char *result;          /* the action's one-line result */
} hk_attempt;

/* A delivery's attempt to record, handed to the writer thread so that the attempts finished
 * meanwhile share one synced transaction with the queued events (one fsync, not one each). */
typedef struct hk_finish {
    const hk_delivery *d;
    const hk_attempt *a;
    const char *state;
    int64_t next_at_ms;
    int tries;
    int rc;                      /* out: HK_OK once durably recorded */
    bool lost;                   /* out: the claim was no longer ours (its lease ran out and
                                  * another worker took it over): the attempt is recorded,
                                  * the delivery's state is left to its new owner */
    bool done;                   /* private */
    bool owned;                  /* private: queued by _finish_async, freed by the writer */
    struct hk_finish *next;      /* private: the queue */
} hk_finish;

typedef struct {
    int limit;                   /* newest first, at most this many */
    int64_t before_id;           /* only ids below this (paging), 0 = no bound */
    const char *event;           /* only this event name, or NULL */
} hk_event_query;

/* The backend's table. db is the backend's own handle; see store_sqlite.c for the contract
 * of each function (same names without hk_store_). */
typedef struct {
    const char *name;
    void *(*open)(const char *where, char *err, size_t errcap);
    void (*close)(void *db);
    /* one transaction: the events, then the attempts (fins, may be NULL with nf 0) */
    int (*commit_events)(void *db, hk_commit **items, size_t n, hk_finish **fins, size_t nf,
                         int64_t now_ms);
    int (*setting_get)(void *db, const char *name, char **value);
    int (*setting_set)(void *db, const char *name, const char *value);
    int (*setting_add)(void *db, const char *name, const char *value);
    /* on failure *out may hold the *n applets read so far: the caller frees them */
    int (*applet_list)(void *db, hk_applet **out, size_t *n);
    int (*applet_get)(void *db, int64_t id, const char *name, hk_applet *out);
    int (*applet_insert)(void *db, hk_applet *a, int64_t now_ms);
    int (*applet_update)(void *db, const hk_applet *a, int64_t now_ms);
    int (*applet_delete)(void *db, int64_t id);
    int (*event_get)(void *db, int64_t id, hk_event **out);
    int (*events_json)(void *db, const hk_event_query *q, json_t **out);
    /* claims up to max due deliveries (pending and due, or running with an expired lease)
     * for owner with token claim, lease until lease_until_ms: their count, or HK_E_STORE */
    int (*delivery_claim)(void *db, int64_t now_ms, int64_t lease_until_ms, int64_t owner,
                          int64_t claim, hk_delivery *out, int max, int64_t *next_due_ms);
    int (*delivery_finish)(void *db, hk_finish *f);
    int (*delivery_extend)(void *db, int64_t owner, int64_t lease_until_ms, int64_t now_ms);
    int (*delivery_release)(void *db, const hk_delivery *d, int64_t now_ms);
    int (*delivery_retry)(void *db, int64_t id, int64_t now_ms);
    int (*delivery_recover)(void *db, int64_t now_ms, int *n);
    /* sessions by id (the hash of the cookie's token: the store never holds a usable one) */
    int (*session_put)(void *db, const char *id, const char *csrf, int64_t now_ms,
                       int64_t idle_ms);
    int (*session_get)(void *db, const char *id, int64_t now_ms, int64_t idle_ms, char *csrf,
                       size_t csrfcap);
    int (*session_delete)(void *db, const char *id, const char *keep);
    /* wake(arg) when another process may have added due work (NULL: only this process
     * adds work, as with SQLite's one server per data folder) */
    int (*watch)(void *db, void (*wake)(void *), void *arg);
    /* whether this process has a worker free to claim new work (NULL: nobody else to tell) */
    void (*workers_idle)(void *db, bool idle);
    int (*delivery_counts)(void *db, int64_t *pending, int64_t *running, int64_t *failed);
    /* one slice of hk_store_prune, in its own transaction: deletes at most HK_PRUNE_SLICE
     * events, their count in *n, among those after *after (an id the backend moves on; 0 at
     * the start), and sets *after to -1 when no event is left to look at */
    int (*prune)(void *db, int64_t before_s, int64_t *after, int *n);
} hk_store_ops;

extern const hk_store_ops hk_store_sqlite;
extern const hk_store_ops hk_store_pg;

/* For the backends (store.c), what does not depend on the database: */
/* The end of a backend's commit_events, rc its result: each attempt's rc; each event stored
 * gets its id, or, when rc is not HK_OK, every event is HK_COMMIT_ERROR with why. */
void hk_commit_outcome(hk_commit **items, size_t n, hk_finish **fins, size_t nf, int rc,
                       const char *why);
/* An applet from its columns as text (fields: JSON text, {} when NULL or not JSON), strings
 * copied; HK_E_STORE (and a cleared *a) when out of memory or a column is NULL. */
int hk_applet_from_cols(hk_applet *a, int64_t id, const char *name, const char *event,
                        const char *action, const char *fields, bool enabled);
/* An event read back from its columns, strings copied (NULL stays NULL); NULL when out of
 * memory or name is NULL. */
hk_event *hk_event_from_cols(int64_t id, const char *name, bool json, const char *value1,
                             const char *value2, const char *value3, const char *payload,
                             int64_t occurred_at, const char *source_ip);
/* The keys of hk_store_events_json's objects, one per column the backends select, in order:
 * an event's, a delivery's, an attempt's. */
#define HK_EVENT_KEYS 10
#define HK_DELIVERY_KEYS 10
#define HK_ATTEMPT_KEYS 4
extern const char *const hk_event_keys[HK_EVENT_KEYS];
extern const char *const hk_delivery_keys[HK_DELIVERY_KEYS];
extern const char *const hk_attempt_keys[HK_ATTEMPT_KEYS];
/* events looked at (SQLite) or deleted (PostgreSQL) at most per transaction of
 * hk_store_prune */
#define HK_PRUNE_SLICE 500
/* a session's last use is written back at most this often (sessions' get) */
#define HK_SESSION_TOUCH_MS 60000

/* Opens the store: a data folder ("DIR" or "sqlite:DIR") or a PostgreSQL database
 * ("postgresql://..." or "postgres://...", libpq's URI), creating or migrating its tables;
 * NULL with a message in err. */
hk_store *hk_store_open(const char *where, char *err, size_t errcap);
/* true when where names a PostgreSQL database rather than a data folder */
bool hk_store_is_url(const char *where);
/* where, fit for a log: a URI without its password (nor its query, which may hold one) */
void hk_store_redact(const char *where, char *out, size_t cap);
/* Starts the group-commit writer (the CLI subcommands do not need it). */
int hk_store_start(hk_store *s);
/* Queues an event for the next group commit; done() follows from the writer thread.
 * HK_E_CLOSED (done() will not be called) once hk_store_stop has begun. */
int hk_store_submit(hk_store *s, hk_commit *c);
/* Refuses new submits, commits what is queued, stops the writer. */
void hk_store_stop(hk_store *s);
void hk_store_close(hk_store *s);
/* group commit figures, for /metrics */
void hk_store_commit_stats(hk_store *s, uint64_t *batches, uint64_t *events);

int hk_store_setting_get(hk_store *s, const char *name, char **value);   /* *value malloc'd */
int hk_store_setting_set(hk_store *s, const char *name, const char *value);
/* Only when there is none yet (instances starting together on a new store agree on the
 * first one): HK_OK, or HK_E_CONFLICT when one was there. */
int hk_store_setting_add(hk_store *s, const char *name, const char *value);

int hk_store_applet_list(hk_store *s, hk_applet **out, size_t *n);
/* by id, or by name when id is 0 */
int hk_store_applet_get(hk_store *s, int64_t id, const char *name, hk_applet *out);
int hk_store_applet_insert(hk_store *s, hk_applet *a);         /* sets a->id */
int hk_store_applet_update(hk_store *s, const hk_applet *a);   /* by a->id */
int hk_store_applet_delete(hk_store *s, int64_t id);
void hk_applet_clear(hk_applet *a);
void hk_applets_free(hk_applet *list, size_t n);

int hk_store_event_get(hk_store *s, int64_t id, hk_event **out);
/* {"events":[{... "deliveries":[{... "attempts":[...]}]}]} newest first */
int hk_store_events_json(hk_store *s, const hk_event_query *q, json_t **out);

/* The backend's name: "sqlite" or "postgresql". */
const char *hk_store_kind(hk_store *s);
/* Claims up to max due deliveries (the most overdue first; a running one whose lease ran out
 * counts as due) with a lease of lease_ms, in one transaction: their count (0 when none is
 * due: *next_due_ms is then the earliest next_at of a pending or running one, or 0), or
 * HK_E_STORE. */
int hk_store_delivery_claim(hk_store *s, int64_t now_ms, int64_t lease_ms, hk_delivery *out,
                            int max, int64_t *next_due_ms);
/* Records an attempt and moves the delivery to state ("done", "pending" at next_at_ms,
 * "failed"), with tries attempts made in this round and d->action as the action that ran;
 * only while the claim d->claim is still the delivery's (else *lost, when not NULL, is set:
 * the attempt is recorded, the state is the new owner's). */
int hk_store_delivery_finish(hk_store *s, const hk_delivery *d, const hk_attempt *a,
                             const char *state, int64_t next_at_ms, int tries, bool *lost);
/* The same, without waiting: the record (copied) joins the writer's next group commit and the
 * worker goes on with its next delivery. Until that commit the delivery stays "running" under
 * its lease, so a crash meanwhile only means it runs again (at least once, as any crash
 * during an action). A record that cannot be written is logged; the lease then runs out and
 * the delivery runs again. Synchronous when the writer is not running. */
int hk_store_delivery_finish_async(hk_store *s, const hk_delivery *d, const hk_attempt *a,
                                   const char *state, int64_t next_at_ms, int tries);
/* Renews the leases of every delivery this store handle has claimed and not finished. */
int hk_store_delivery_extend(hk_store *s, int64_t lease_ms);
/* A claimed delivery that was not started goes back to pending, due now. */
int hk_store_delivery_release(hk_store *s, const hk_delivery *d);
/* A failed delivery back to pending, due now, with a fresh round of attempts. */
int hk_store_delivery_retry(hk_store *s, int64_t id);
/* At start, with SQLite (one server per data folder): deliveries left "running" by a stop or
 * a crash go back to pending at once. With PostgreSQL other instances may be running them:
 * nothing is done (*n = 0) and their leases decide. */
int hk_store_delivery_recover(hk_store *s, int *n);
/* Calls wake(arg) (from a thread of the store) when another instance may have added due
 * work; a no-op for SQLite. */
int hk_store_watch(hk_store *s, void (*wake)(void *), void *arg);
/* The workers say whether one of them is free to claim new work at once (hk_workers keeps it
 * up to date; false until they say otherwise). With PostgreSQL a commit that creates work
 * wakes the other instances only when none is: this process claims what it commits itself,
 * and the others would only find it gone (docs/postgresql.md). */
void hk_store_workers_idle(hk_store *s, bool idle);
int hk_store_delivery_counts(hk_store *s, int64_t *pending, int64_t *running, int64_t *failed);
/* Deletes events that occurred before before_s and have no delivery left to do. */
int hk_store_prune(hk_store *s, int64_t before_s, int64_t *deleted);

/* Admin sessions, by id (see auth.c: a hash of the cookie's token). put: a new one (and the
 * clean-up of those idle for idle_ms); get: HK_OK with its CSRF token, touching it (at most
 * once a minute, to spare writes), HK_E_NOTFOUND when missing or idle for idle_ms; delete:
 * id's, or every one but keep's (keep may be NULL) when id is NULL. */
int hk_store_session_put(hk_store *s, const char *id, const char *csrf, int64_t idle_ms);
int hk_store_session_get(hk_store *s, const char *id, int64_t idle_ms, char *csrf,
                         size_t csrfcap);
int hk_store_session_delete(hk_store *s, const char *id, const char *keep);

int64_t hk_now_ms(void);

#endif
