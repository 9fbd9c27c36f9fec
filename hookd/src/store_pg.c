/*
 * store_pg.c - the PostgreSQL backend of store.h (libpq), for several hookd instances that
 * share one database.
 *
 * Connections, each behind its own mutex so that one slow use does not hold up the others:
 *   w  the group commit: each batch of events and finished attempts is ONE transaction
 *      (synchronous_commit stays on: COMMIT returns once the WAL is flushed, as SQLite's FULL)
 *   k  the workers' claims and lease renewals
 *   r  everything else: reads, settings, applets, sessions
 *   a  a dedicated connection that LISTENs on "hookd_work", so that idle workers of every
 *      instance wake at once instead of polling. A commit that creates due work NOTIFYs only
 *      when this instance has no idle worker (it claims what it commits itself: waking the
 *      others then only made each of them run a claim that found nothing, N x N claims a
 *      second for N busy instances), and so does a claim that left due work behind (more
 *      was due than this instance can take); a notification sent by this instance's
 *      own connections is ignored (its workers were kicked directly).
 * A connection found broken is reset at its next use (PostgreSQL restarted, failed over).
 *
 * Claims: SELECT ... FOR UPDATE SKIP LOCKED picks due rows that no other transaction holds;
 * the UPDATE in the same statement marks them running with this instance's owner id, a claim
 * token and a lease (next_at). Whoever claims second re-checks next_at on the new row version
 * and skips it, so a delivery is never claimed twice while its lease runs.
 *
 * Idempotency keys: a UNIQUE constraint; an insert that meets a key committed meanwhile by
 * another instance does nothing (ON CONFLICT DO NOTHING) and the event is answered as the
 * duplicate it is. Two batches that wait on each other's keys deadlock; PostgreSQL cancels
 * one, which is retried.
 *
 * Migrations: schema_version rows, applied at open under pg_advisory_lock so that instances
 * starting together apply each one once.
 */
#define _GNU_SOURCE
#include "store.h"

#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <libpq-fe.h>

#include "log.h"
#include "metrics.h"

/* any constant: the advisory lock's key for migrations ("hookd" in ASCII) */
#define MIGRATION_LOCK 0x686f6f6b64LL
#define CHANNEL "hookd_work"
#define BATCH_RETRIES 3

static const char *const migrations[] = {
    /* 1: the schema of SQLite's version 2, in PostgreSQL's types */
    "CREATE TABLE settings(name TEXT PRIMARY KEY, value TEXT NOT NULL);"
    "CREATE TABLE applets(id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " event TEXT NOT NULL, action TEXT NOT NULL, fields TEXT NOT NULL,"
    " enabled BOOLEAN NOT NULL, created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL);"
    "CREATE INDEX applets_by_event ON applets(event, enabled);"
    "CREATE TABLE events(id BIGSERIAL PRIMARY KEY, name TEXT NOT NULL, json BOOLEAN NOT NULL,"
    " value1 TEXT, value2 TEXT, value3 TEXT, payload TEXT, occurred_at BIGINT NOT NULL,"
    " received_ms BIGINT NOT NULL, source_ip TEXT, idem_key TEXT UNIQUE);"
    "CREATE INDEX events_by_time ON events(occurred_at);"
    "CREATE TABLE deliveries(id BIGSERIAL PRIMARY KEY,"
    " event_id BIGINT NOT NULL REFERENCES events(id) ON DELETE CASCADE,"
    " applet_id BIGINT NOT NULL, applet_name TEXT NOT NULL, action TEXT NOT NULL,"
    " state TEXT NOT NULL, tries INTEGER NOT NULL DEFAULT 0, next_at BIGINT NOT NULL,"
    " created_ms BIGINT NOT NULL, updated_ms BIGINT NOT NULL, last_result TEXT,"
    " owner BIGINT, claim BIGINT);"
    "CREATE INDEX deliveries_by_state ON deliveries(state, next_at);"
    "CREATE INDEX deliveries_by_event ON deliveries(event_id);"
    "CREATE INDEX deliveries_due ON deliveries(next_at, id)"
    " WHERE state IN ('pending', 'running');"
    "CREATE TABLE attempts(id BIGSERIAL PRIMARY KEY,"
    " delivery_id BIGINT NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,"
    " started_ms BIGINT NOT NULL, duration_ms BIGINT NOT NULL, status TEXT NOT NULL,"
    " result TEXT NOT NULL);"
    "CREATE INDEX attempts_by_delivery ON attempts(delivery_id);"
    "CREATE TABLE sessions(id TEXT PRIMARY KEY, csrf TEXT NOT NULL,"
    " created_ms BIGINT NOT NULL, last_ms BIGINT NOT NULL);",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

typedef struct {
    PGconn *c;
    pthread_mutex_t mu;
    atomic_int pid;   /* its server process: the listener ignores the NOTIFYs it sends */
} conn;

typedef struct {
    char *uri;
    conn w, k, r;
    /* the listener */
    pthread_mutex_t wake_mu;
    void (*wake)(void *);
    void *wake_arg;
    pthread_t listener;
    bool listening;
    int stop_pipe[2];
    atomic_bool idle;   /* a worker of this process is free to claim new work */
} pg;

/* int64 as a parameter */
typedef struct {
    char s[24];
} num;

static const char *n64(num *b, int64_t v)
{
    snprintf(b->s, sizeof b->s, "%" PRId64, v);
    return b->s;
}

static int64_t get64(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? 0 : strtoll(PQgetvalue(res, row, col), NULL, 10);
}

static bool is_state(const PGresult *res, const char *sqlstate)
{
    const char *s = PQresultErrorField(res, PG_DIAG_SQLSTATE);
    return s && strcmp(s, sqlstate) == 0;
}

/* the SQLSTATE of this thread's last failure, to tell a deadlock from other errors */
static __thread char last_state[6];

static int fail(PGconn *c, const PGresult *res, const char *what)
{
    const char *s = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
    snprintf(last_state, sizeof last_state, "%s", s ? s : "");
    const char *m = res ? PQresultErrorMessage(res) : "";
    if (!m || !*m)
        m = PQerrorMessage(c);
    hk_log("store: %s: %.*s", what, (int)strcspn(m, "\n"), m);
    return HK_E_STORE;
}

/* The connection, reset first when it broke (the server restarted or failed over). */
static PGconn *use(conn *c)
{
    if (PQstatus(c->c) != CONNECTION_OK) {
        PQreset(c->c);
        if (PQstatus(c->c) != CONNECTION_OK) {
            fail(c->c, NULL, "reconnect to PostgreSQL");
            return NULL;
        }
        atomic_store(&c->pid, PQbackendPID(c->c));
        hk_log("store: reconnected to PostgreSQL");
    }
    return c->c;
}

/* One statement with text parameters; NULL when libpq could not even send it. */
static PGresult *run(PGconn *c, const char *sql, int n, const char *const *v)
{
    if (!c)
        return NULL;
    return PQexecParams(c, sql, n, NULL, v, NULL, NULL, 0);
}

/* A statement without rows wanted: HK_OK, or HK_E_STORE logged as what; *changed when not
 * NULL (rows affected); *sqlstate_deadlock when not NULL. */
static int cmd(PGconn *c, const char *sql, int n, const char *const *v, int *changed,
               const char *what)
{
    PGresult *res = run(c, sql, n, v);
    int rc = HK_OK;
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
        rc = fail(c, res, what);
    else if (changed)
        *changed = atoi(PQcmdTuples(res));
    PQclear(res);
    return rc;
}

static void rollback(PGconn *c)
{
    if (c && PQtransactionStatus(c) != PQTRANS_IDLE)
        PQclear(PQexec(c, "ROLLBACK"));
}

/* NOTICEs ("relation ... already exists, skipping") are not worth a log line */
static void quiet(void *arg, const char *message)
{
    (void)arg;
    (void)message;
}

static int conn_open(conn *c, const char *uri, char *err, size_t errcap)
{
    pthread_mutex_init(&c->mu, NULL);
    c->c = PQconnectdb(uri);
    if (PQstatus(c->c) != CONNECTION_OK) {
        const char *m = PQerrorMessage(c->c);
        snprintf(err, errcap, "cannot connect to PostgreSQL: %.*s", (int)strcspn(m, "\n"), m);
        return HK_E_STORE;
    }
    PQsetNoticeProcessor(c->c, quiet, NULL);
    atomic_store(&c->pid, PQbackendPID(c->c));
    return HK_OK;
}

static void conn_close(conn *c)
{
    if (c->c)
        PQfinish(c->c);
    c->c = NULL;
    pthread_mutex_destroy(&c->mu);
}

static void pg_close(void *db)
{
    pg *p = db;
    if (!p)
        return;
    if (p->listening) {
        if (write(p->stop_pipe[1], "x", 1) != 1)
            hk_log("store: cannot stop the listener");
        pthread_join(p->listener, NULL);
    }
    if (p->stop_pipe[0] >= 0) {
        close(p->stop_pipe[0]);
        close(p->stop_pipe[1]);
    }
    conn_close(&p->w);
    conn_close(&p->k);
    conn_close(&p->r);
    pthread_mutex_destroy(&p->wake_mu);
    free(p->uri);
    free(p);
}

static int migrate(PGconn *c, char *err, size_t errcap)
{
    num lk;
    const char *lv[] = {n64(&lk, MIGRATION_LOCK)};
    /* instances starting together wait here for the first to finish */
    if (cmd(c, "SELECT pg_advisory_lock($1)", 1, lv, NULL, "lock for migrations") != HK_OK) {
        snprintf(err, errcap, "cannot take the migration lock: %s", PQerrorMessage(c));
        return HK_E_STORE;
    }
    int rc = cmd(c, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER PRIMARY KEY,"
                    " applied_ms BIGINT NOT NULL)", 0, NULL, NULL, "schema_version");
    int version = -1;
    if (rc == HK_OK) {
        PGresult *res = run(c, "SELECT coalesce(max(version), 0) FROM schema_version", 0, NULL);
        if (res && PQresultStatus(res) == PGRES_TUPLES_OK && PQntuples(res) == 1)
            version = (int)get64(res, 0, 0);
        else
            rc = fail(c, res, "read the schema version");
        PQclear(res);
    }
    if (rc == HK_OK && version > SCHEMA_VERSION) {
        snprintf(err, errcap, "the database has schema version %d; this hookd knows versions up"
                              " to %d", version, SCHEMA_VERSION);
        rc = HK_E_STORE;
    } else if (rc != HK_OK) {
        snprintf(err, errcap, "cannot read the schema version: %s", PQerrorMessage(c));
    }
    for (int v = version + 1; rc == HK_OK && v <= SCHEMA_VERSION; v++) {
        /* each version in its own transaction: a failure leaves the previous one whole */
        num a, b;
        const char *vv[] = {n64(&a, v), n64(&b, hk_now_ms())};
        rc = cmd(c, "BEGIN", 0, NULL, NULL, "begin migration");
        if (rc == HK_OK) {
            PGresult *res = PQexec(c, migrations[v - 1]);
            if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
                rc = fail(c, res, "migration");
            PQclear(res);
        }
        if (rc == HK_OK)
            rc = cmd(c, "INSERT INTO schema_version VALUES($1, $2)", 2, vv, NULL,
                     "record migration");
        if (rc == HK_OK)
            rc = cmd(c, "COMMIT", 0, NULL, NULL, "commit migration");
        if (rc != HK_OK) {
            snprintf(err, errcap, "cannot migrate the database to schema version %d: %s", v,
                     PQerrorMessage(c));
            rollback(c);
        } else {
            hk_log("store: PostgreSQL schema migrated to version %d", v);
        }
    }
    cmd(c, "SELECT pg_advisory_unlock($1)", 1, lv, NULL, "unlock after migrations");
    return rc;
}

static void *pg_open(const char *uri, char *err, size_t errcap)
{
    pg *p = calloc(1, sizeof *p);
    if (!p || !(p->uri = strdup(uri))) {
        free(p);
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    p->stop_pipe[0] = p->stop_pipe[1] = -1;
    pthread_mutex_init(&p->wake_mu, NULL);
    atomic_init(&p->idle, false);   /* until the workers say so: every commit notifies */
    if (conn_open(&p->w, uri, err, errcap) != HK_OK || conn_open(&p->k, uri, err, errcap) != HK_OK ||
        conn_open(&p->r, uri, err, errcap) != HK_OK || migrate(p->w.c, err, errcap) != HK_OK) {
        pg_close(p);
        return NULL;
    }
    return p;
}

/* ---- events: the group commit ---- */

/* A PostgreSQL array literal, built up element by element: a batch goes in as one array
 * per column (unnest), so that a group commit costs a few round trips whatever its size. */
typedef struct {
    char *s;
    size_t len, cap;
    bool oom;
} arr;

static void arr_put(arr *a, const char *t, size_t n)
{
    if (a->oom)
        return;
    if (a->len + n + 2 > a->cap) {
        size_t cap = (a->cap ? a->cap * 2 : 256) + n;
        char *g = realloc(a->s, cap);
        if (!g) {
            a->oom = true;
            return;
        }
        a->s = g;
        a->cap = cap;
    }
    memcpy(a->s + a->len, t, n);
    a->len += n;
    a->s[a->len] = '\0';
}

static void arr_sep(arr *a)
{
    arr_put(a, a->len ? "," : "{", 1);
}

static void arr_text(arr *a, const char *v)
{
    arr_sep(a);
    if (!v) {
        arr_put(a, "NULL", 4);
        return;
    }
    arr_put(a, "\"", 1);
    for (const char *p = v; *p; p++) {
        size_t run = strcspn(p, "\"\\");
        arr_put(a, p, run);
        p += run;
        if (!*p)
            break;
        arr_put(a, "\\", 1);
        arr_put(a, p, 1);
    }
    arr_put(a, "\"", 1);
}

static void arr_int(arr *a, int64_t v)
{
    num b;
    const char *t = n64(&b, v);
    arr_sep(a);
    arr_put(a, t, strlen(t));
}

static const char *arr_end(arr *a)
{
    if (!a->len)
        arr_put(a, "{", 1);
    arr_put(a, "}", 1);
    return a->oom ? NULL : a->s;
}

static void arrs_free(arr *a, int n)
{
    for (int i = 0; i < n; i++)
        free(a[i].s);
}

static PGresult *rows(PGconn *c, const char *sql, int n, const char *const *v, const char *what)
{
    PGresult *res = run(c, sql, n, v);
    if (res && PQresultStatus(res) == PGRES_TUPLES_OK)
        return res;
    fail(c, res, what);
    PQclear(res);
    return NULL;
}

/* The events of a batch in one statement: ids from the sequence, one INSERT of them all (an
 * idempotency key already stored, or repeated in the batch, inserts nothing: ON CONFLICT DO
 * NOTHING, the first one wins), one INSERT of the deliveries of those stored, and per event
 * whether it was stored and its deliveries; then, only when there were duplicates, their
 * originals. */
static int commit_batch(PGconn *c, hk_commit **items, size_t n, int64_t now_ms, bool *work)
{
    enum { COLS = 9 };
    arr ev[COLS] = {{0}};
    for (size_t i = 0; i < n; i++) {
        const hk_event *e = items[i]->event;
        arr_text(&ev[0], e->name);
        arr_text(&ev[1], e->json ? "t" : "f");
        arr_text(&ev[2], e->value1);
        arr_text(&ev[3], e->value2);
        arr_text(&ev[4], e->value3);
        arr_text(&ev[5], e->payload);
        arr_int(&ev[6], e->occurred_at);
        arr_text(&ev[7], e->source_ip);
        arr_text(&ev[8], items[i]->idem_key);
    }
    num now;
    const char *iv[COLS + 1];
    int rc = HK_OK;
    for (int k = 0; k < COLS; k++)
        if (!(iv[k] = arr_end(&ev[k])))
            rc = HK_E_STORE;
    iv[COLS] = n64(&now, now_ms);
    PGresult *res = NULL;
    if (rc == HK_OK)
        res = rows(c,
                   "WITH input AS MATERIALIZED (SELECT nextval('events_id_seq') AS id, t.*"
                   "  FROM unnest($1::text[], $2::bool[], $3::text[], $4::text[], $5::text[],"
                   "  $6::text[], $7::bigint[], $8::text[], $9::text[]) WITH ORDINALITY"
                   "  AS t(name, json, v1, v2, v3, payload, occurred_at, ip, idem, ord)),"
                   " ins AS (INSERT INTO events(id, name, json, value1, value2, value3, payload,"
                   "  occurred_at, received_ms, source_ip, idem_key)"
                   "  SELECT id, name, json, v1, v2, v3, payload, occurred_at, $10, ip, idem"
                   "  FROM input ORDER BY ord ON CONFLICT (idem_key) DO NOTHING RETURNING id, name),"
                   " dl AS (INSERT INTO deliveries(event_id, applet_id, applet_name, action, state,"
                   "  tries, next_at, created_ms, updated_ms)"
                   "  SELECT ins.id, a.id, a.name, a.action, 'pending', 0, $10, $10, $10"
                   "  FROM ins JOIN applets a ON a.event = ins.name AND a.enabled"
                   "  ORDER BY ins.id, a.id RETURNING event_id),"
                   " per AS (SELECT event_id, count(*) AS n FROM dl GROUP BY event_id)"
                   " SELECT i.id, ins.id IS NOT NULL, coalesce(per.n, 0) FROM input i"
                   " LEFT JOIN ins ON ins.id = i.id LEFT JOIN per ON per.event_id = i.id"
                   " ORDER BY i.ord",
                   COLS + 1, iv, "insert events");
    arrs_free(ev, COLS);
    if (!res)
        return HK_E_STORE;
    if ((size_t)PQntuples(res) != n) {
        hk_log("store: insert events: %d rows for %zu events", PQntuples(res), n);
        PQclear(res);
        return HK_E_STORE;
    }
    arr dk = {0};
    size_t ndup = 0;
    for (size_t i = 0; i < n; i++) {
        if (PQgetvalue(res, (int)i, 1)[0] == 't') {
            items[i]->status = HK_COMMIT_STORED;
            items[i]->event_id = get64(res, (int)i, 0);
            items[i]->deliveries = (int)get64(res, (int)i, 2);
            if (items[i]->deliveries > 0)
                *work = true;
        } else {
            items[i]->status = HK_COMMIT_DUPLICATE;   /* its original: below */
            items[i]->event_id = 0;
            arr_text(&dk, items[i]->idem_key);
            ndup++;
        }
    }
    PQclear(res);
    if (ndup > 0) {
        const char *kv[] = {arr_end(&dk)};
        res = kv[0] ? rows(c, "SELECT id, name, json, idem_key FROM events"
                              " WHERE idem_key = ANY($1::text[])", 1, kv, "idempotency look-up")
                    : NULL;
        if (!res) {
            rc = HK_E_STORE;
        } else {
            for (size_t i = 0; i < n; i++) {
                hk_commit *cm = items[i];
                if (cm->status != HK_COMMIT_DUPLICATE)
                    continue;
                for (int r = 0; cm->idem_key && r < PQntuples(res); r++) {
                    if (strcmp(PQgetvalue(res, r, 3), cm->idem_key) != 0)
                        continue;
                    cm->event_id = get64(res, r, 0);
                    snprintf(cm->dup_name, sizeof cm->dup_name, "%s", PQgetvalue(res, r, 1));
                    cm->dup_json = PQgetvalue(res, r, 2)[0] == 't';
                }
                if (!cm->event_id) {
                    hk_log("store: an event without idempotency key was not stored");
                    rc = HK_E_STORE;
                }
            }
            PQclear(res);
        }
    }
    free(dk.s);
    return rc;
}

/* The attempts finished meanwhile, in one statement; a delivery whose claim is no longer
 * ours (not returned by the UPDATE) gets its attempt, not its state. */
static int finish_batch(PGconn *c, hk_finish **fins, size_t nf)
{
    enum { COLS = 10 };
    arr a[COLS] = {{0}};
    for (size_t i = 0; i < nf; i++) {
        const hk_finish *f = fins[i];
        arr_int(&a[0], f->d->id);
        arr_int(&a[1], f->d->claim);
        arr_text(&a[2], f->state);
        arr_int(&a[3], f->tries);
        arr_int(&a[4], f->next_at_ms);
        arr_int(&a[5], f->a->started_ms);
        arr_int(&a[6], f->a->duration_ms);
        arr_text(&a[7], f->a->status);
        arr_text(&a[8], f->a->result);
        arr_text(&a[9], f->d->action);
    }
    const char *v[COLS];
    int rc = HK_OK;
    for (int k = 0; k < COLS; k++)
        if (!(v[k] = arr_end(&a[k])))
            rc = HK_E_STORE;
    PGresult *res = NULL;
    if (rc == HK_OK) {
        res = rows(c,
                   "WITH u AS MATERIALIZED (SELECT * FROM unnest($1::bigint[], $2::bigint[],"
                   "  $3::text[], $4::int[], $5::bigint[], $6::bigint[], $7::bigint[], $8::text[],"
                   "  $9::text[], $10::text[]) AS u(id, claim, state, tries, next_at, started,"
                   "  duration, status, result, action)),"
                   " att AS (INSERT INTO attempts(delivery_id, started_ms, duration_ms, status,"
                   "  result) SELECT id, started, duration, status, result FROM u)"
                   " UPDATE deliveries d SET state = u.state, tries = u.tries, next_at = u.next_at,"
                   " updated_ms = u.started + u.duration, last_result = u.result,"
                   " action = u.action, owner = NULL, claim = NULL FROM u"
                   " WHERE d.id = u.id AND d.claim = u.claim AND d.state = 'running'"
                   " RETURNING d.id",
                   COLS, v, "record attempts");
        if (!res)
            rc = HK_E_STORE;
    }
    if (rc == HK_OK) {
        for (size_t i = 0; i < nf; i++) {
            fins[i]->lost = true;
            for (int r = 0; r < PQntuples(res); r++)
                if (get64(res, r, 0) == fins[i]->d->id)
                    fins[i]->lost = false;
        }
    }
    PQclear(res);
    arrs_free(a, COLS);
    return rc;
}

static void reset_items(hk_commit **items, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        items[i]->status = HK_COMMIT_ERROR;
        items[i]->deliveries = 0;
        items[i]->event_id = 0;
        items[i]->error[0] = '\0';
    }
}

static int pg_commit_events(void *db, hk_commit **items, size_t n, hk_finish **fins, size_t nf,
                            int64_t now_ms)
{
    pg *p = db;
    int rc = HK_E_STORE;
    char why[120] = "the store is not reachable";
    pthread_mutex_lock(&p->w.mu);
    PGconn *c = use(&p->w);
    for (int attempt = 0; c && attempt < BATCH_RETRIES; attempt++) {
        bool work = false;
        reset_items(items, n);
        rc = cmd(c, "BEGIN", 0, NULL, NULL, "begin");
        if (rc == HK_OK && n > 0)
            rc = commit_batch(c, items, n, now_ms, &work);
        if (rc == HK_OK && nf > 0)
            rc = finish_batch(c, fins, nf);
        /* delivered to the listeners at COMMIT, and only if it commits; not when a worker
         * here is free: it claims this work at once (the writer's caller kicks it) */
        if (rc == HK_OK && work && !atomic_load(&p->idle))
            rc = cmd(c, "NOTIFY " CHANNEL, 0, NULL, NULL, "notify");
        PGresult *res = NULL;
        if (rc == HK_OK) {
            res = PQexec(c, "COMMIT");
            if (!res || PQresultStatus(res) != PGRES_COMMAND_OK)
                rc = fail(c, res, "commit");
        }
        if (rc == HK_OK) {
            PQclear(res);
            break;
        }
        const char *m = PQerrorMessage(c);
        snprintf(why, sizeof why, "%.*s", (int)strcspn(m, "\n"), m);
        PQclear(res);
        rollback(c);
        /* a deadlock (two batches waiting on each other's idempotency keys) or a
         * serialization failure: PostgreSQL cancelled this one; run it again */
        if (strcmp(last_state, "40P01") != 0 && strcmp(last_state, "40001") != 0)
            break;
        hk_log("store: batch cancelled by PostgreSQL (%s); running it again", last_state);
    }
    hk_commit_outcome(items, n, fins, nf, rc, why);
    pthread_mutex_unlock(&p->w.mu);
    return rc;
}

/* ---- settings ---- */

static int pg_setting_get(void *db, const char *name, char **value)
{
    pg *p = db;
    *value = NULL;
    pthread_mutex_lock(&p->r.mu);
    PGconn *c = use(&p->r);
    const char *v[] = {name};
    PGresult *res = run(c, "SELECT value FROM settings WHERE name = $1", 1, v);
    int rc;
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = fail(c, res, "read setting");
    else if (PQntuples(res) == 0)
        rc = HK_E_NOTFOUND;
    else
        rc = (*value = strdup(PQgetvalue(res, 0, 0))) ? HK_OK : HK_E_STORE;
    PQclear(res);
    pthread_mutex_unlock(&p->r.mu);
    return rc;
}

static int pg_setting_set(void *db, const char *name, const char *value)
{
    pg *p = db;
    pthread_mutex_lock(&p->r.mu);
    const char *v[] = {name, value};
    int rc = cmd(use(&p->r),
                 "INSERT INTO settings(name, value) VALUES($1, $2)"
                 " ON CONFLICT(name) DO UPDATE SET value = excluded.value",
                 2, v, NULL, "write setting");
    pthread_mutex_unlock(&p->r.mu);
    return rc;
}

static int pg_setting_add(void *db, const char *name, const char *value)
{
    pg *p = db;
    int n = 0;
    pthread_mutex_lock(&p->r.mu);
    const char *v[] = {name, value};
    int rc = cmd(use(&p->r),
                 "INSERT INTO settings(name, value) VALUES($1, $2) ON CONFLICT(name) DO NOTHING",
                 2, v, &n, "add setting");
    pthread_mutex_unlock(&p->r.mu);
    return rc == HK_OK && n == 0 ? HK_E_CONFLICT : rc;
}

/* ---- applets ---- */

#define APPLET_COLS "id, name, event, action, fields, enabled"

static int applet_from_row(const PGresult *res, int row, hk_applet *a)
{
    return hk_applet_from_cols(a, get64(res, row, 0), PQgetvalue(res, row, 1),
                               PQgetvalue(res, row, 2), PQgetvalue(res, row, 3),
                               PQgetvalue(res, row, 4), PQgetvalue(res, row, 5)[0] == 't');
}

static int pg_applet_list(void *db, hk_applet **out, size_t *n)
{
    pg *p = db;
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&p->r.mu);
    PGconn *c = use(&p->r);
    PGresult *res = run(c, "SELECT " APPLET_COLS " FROM applets ORDER BY id", 0, NULL);
    int rc = HK_OK;
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = fail(c, res, "list applets");
    } else if (PQntuples(res) > 0) {
        int rows = PQntuples(res);
        *out = calloc((size_t)rows, sizeof **out);
        rc = *out ? HK_OK : HK_E_STORE;
        for (int i = 0; i < rows && rc == HK_OK; i++) {
            rc = applet_from_row(res, i, &(*out)[i]);
            if (rc == HK_OK)
                (*n)++;
        }
    }
    PQclear(res);
    pthread_mutex_unlock(&p->r.mu);
    return rc;
}

static int pg_applet_get(void *db, int64_t id, const char *name, hk_applet *out)
{
    pg *p = db;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&p->r.mu);
    PGconn *c = use(&p->r);
    num b;
    const char *v[] = {id ? n64(&b, id) : name};
    PGresult *res = run(c, id ? "SELECT " APPLET_COLS " FROM applets WHERE id = $1"
                              : "SELECT " APPLET_COLS " FROM applets WHERE name = $1",
                        1, v);
    int rc;
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK)
        rc = fail(c, res, "read applet");
    else if (PQntuples(res) == 0)
        rc = HK_E_NOTFOUND;
    else
        rc = applet_from_row(res, 0, out);
    PQclear(res);
    pthread_mutex_unlock(&p->r.mu);
    return rc;
}

/* insert (a->id 0, *new_id set) or update by a->id */
static int write_applet(pg *p, const hk_applet *a, int64_t now_ms, int64_t *new_id)
{
    char *fields = json_dumps(a->fields, JSON_COMPACT);
    if (!fields)
        return HK_E_STORE;
    num now, id;
    const char *v[] = {a->name, a->event, a->action, fields, a->enabled ? "t" : "f",
                       n64(&now, now_ms), n64(&id, a->id)};
    pthread_mutex_lock(&p->r.mu);
    PGconn *c = use(&p->r);
    PGresult *res = new_id ? run(c,
                                 "INSERT INTO applets(name, event, action, fields, enabled,"
                                 " created_ms, updated_ms) VALUES($1, $2, $3, $4, $5, $6, $6)"
                                 " RETURNING id",
                                 6, v)
                           : run(c,
                                 "UPDATE applets SET name = $1, event = $2, action = $3,"
                                 " fields = $4, enabled = $5, updated_ms = $6 WHERE id = $7",
                                 7, v);
    int rc;
    ExecStatusType st = res ? PQresultStatus(res) : PGRES_FATAL_ERROR;
    if (st == PGRES_TUPLES_OK && new_id) {
        *new_id = get64(res, 0, 0);
        rc = HK_OK;
    } else if (st == PGRES_COMMAND_OK && !new_id) {
        rc = atoi(PQcmdTuples(res)) ? HK_OK : HK_E_NOTFOUND;
    } else if (res && is_state(res, "23505")) {
        rc = HK_E_CONFLICT;
    } else {
        rc = fail(c, res, "write applet");
    }
    PQclear(res);
    pthread_mutex_unlock(&p->r.mu);
    free(fields);
    return rc;
}

static int pg_applet_insert(void *db, hk_applet *a, int64_t now_ms)
{
    int64_t id = 0, old = a->id;
    a->id = 0;
    int rc = write_applet(db, a, now_ms, &id);
    a->id = rc == HK_OK ? id : old;
    return rc;
}

static int pg_applet_update(void *db, const hk_applet *a, int64_t now_ms)
{
    return write_applet(db, a, now_ms, NULL);
}

static int pg_applet_delete(void *db, int64_t id)
{
    pg *p = db;
    num b;
    const char *v[] = {n64(&b, id)};
    int n = 0;
    pthread_mutex_lock(&p->r.mu);
    int rc = cmd(use(&p->r), "DELETE FROM applets WHERE id = $1", 1, v, &n, "delete applet");
    pthread_mutex_unlock(&p->r.mu);
    return rc == HK_OK && n == 0 ? HK_E_NOTFOUND : rc;
}

/* ---- reading events ---- */

/* the text of a cell, or NULL */
static const char *text_or_null(const PGresult *res, int row, int col)
{
    return PQgetisnull(res, row, col) ? NULL : PQgetvalue(res, row, col);
}

static int pg_event_get(void *db, int64_t id, hk_event **out)
{
    pg *p = db;
    *out = NULL;
    num b;
    const char *v[] = {n64(&b, id)};
    pthread_mutex_lock(&p->r.mu);
    PGconn *c = use(&p->r);
    PGresult *res = run(c,
                        "SELECT name, json, value1, value2, value3, payload, occurred_at,"
                        " source_ip FROM events WHERE id = $1",
                        1, v);
    int rc = HK_E_STORE;
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        fail(c, res, "read event");
    } else if (PQntuples(res) == 0) {
        rc = HK_E_NOTFOUND;
    } else {
        *out = hk_event_from_cols(id, text_or_null(res, 0, 0), PQgetvalue(res, 0, 1)[0] == 't',
                                  text_or_null(res, 0, 2), text_or_null(res, 0, 3),
                                  text_or_null(res, 0, 4), text_or_null(res, 0, 5),
                                  get64(res, 0, 6), text_or_null(res, 0, 7));
        if (*out)
            rc = HK_OK;
    }
    PQclear(res);
    pthread_mutex_unlock(&p->r.mu);
    return rc;
}

#define OID_BOOL 16
#define OID_INT8 20
#define OID_INT4 23

static json_t *cell_json(const PGresult *res, int row, int col)
{
    if (PQgetisnull(res, row, col))
        return json_null();
    const char *v = PQgetvalue(res, row, col);
    switch (PQftype(res, col)) {
    case OID_BOOL:
        return json_boolean(v[0] == 't');
    case OID_INT8:
    case OID_INT4:
        return json_integer(strtoll(v, NULL, 10));
    default:
        return json_string(v);
    }
}

static json_t *row_json(const PGresult *res, int row, const char *const *keys, int nkeys)
{
    json_t *o = json_object();
    for (int i = 0; i < nkeys; i++)
        json_object_set_new(o, keys[i], cell_json(res, row, i));
    return o;
}

/* "{1,2,3}" from the first column of res */
static char *id_array(const PGresult *res)
{
    size_t cap = 3 + (size_t)PQntuples(res) * 21, len = 0;
    char *s = malloc(cap);
    if (!s)
        return NULL;
    s[len++] = '{';
    for (int i = 0; i < PQntuples(res); i++)
        len += (size_t)snprintf(s + len, cap - len, "%s%s", i ? "," : "", PQgetvalue(res, i, 0));
    snprintf(s + len, cap - len, "}");
    return s;
}

/* The first row of res whose column col (sorted ascending) is at least v: a binary search */
static int first_row(const PGresult *res, int col, int64_t v)
{
    int lo = 0, hi = PQntuples(res);
    while (lo < hi) {
        int mid = (lo + hi) / 2;
        if (get64(res, mid, col) < v)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static int pg_events_json(void *db, const hk_event_query *qr, json_t **out)
{
    pg *p = db;
    *out = NULL;
    pthread_mutex_lock(&p->r.mu);
    PGconn *c = use(&p->r);
    PGresult *re = NULL, *rd = NULL, *ra = NULL;
    char *eids = NULL, *dids = NULL;
    json_t *events = NULL;
    /* one snapshot for the whole answer */
    int rc = cmd(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", 0, NULL, NULL, "begin");
    num before, limit;
    const char *ev[] = {n64(&before, qr->before_id), qr->event, n64(&limit, qr->limit)};
    if (rc == HK_OK &&
        !(re = rows(c,
                    "SELECT id, name, json, value1, value2, value3, payload, occurred_at,"
                    " source_ip, idem_key FROM events WHERE ($1 = 0 OR id < $1) AND"
                    " ($2::text IS NULL OR name = $2) ORDER BY id DESC LIMIT $3",
                    3, ev, "list events")))
        rc = HK_E_STORE;
    if (rc == HK_OK && !(eids = id_array(re)))
        rc = HK_E_STORE;
    const char *dv[] = {eids};
    if (rc == HK_OK &&
        !(rd = rows(c,
                    "SELECT id, applet_id, applet_name, action, state, tries, next_at,"
                    " created_ms, updated_ms, last_result, event_id FROM deliveries"
                    " WHERE event_id = ANY($1::bigint[]) ORDER BY event_id, id",
                    1, dv, "list deliveries")))
        rc = HK_E_STORE;
    if (rc == HK_OK && !(dids = id_array(rd)))
        rc = HK_E_STORE;
    const char *av[] = {dids};
    if (rc == HK_OK &&
        !(ra = rows(c,
                    "SELECT started_ms, duration_ms, status, result, delivery_id FROM attempts"
                    " WHERE delivery_id = ANY($1::bigint[]) ORDER BY delivery_id, id",
                    1, av, "list attempts")))
        rc = HK_E_STORE;
    rollback(c);
    if (rc == HK_OK) {
        events = json_array();
        /* deliveries sorted by event, attempts by delivery: walk them alongside */
        int nd = PQntuples(rd), na = PQntuples(ra);
        for (int i = 0; i < PQntuples(re); i++) {
            json_t *e = row_json(re, i, hk_event_keys, HK_EVENT_KEYS);
            int64_t eid = get64(re, i, 0);
            json_t *dels = json_array();
            /* column 10: the delivery's event_id */
            for (int j = first_row(rd, 10, eid); j < nd && get64(rd, j, 10) == eid; j++) {
                json_t *d = row_json(rd, j, hk_delivery_keys, HK_DELIVERY_KEYS);
                int64_t did = get64(rd, j, 0);
                json_t *atts = json_array();
                /* column 4: the attempt's delivery_id */
                for (int k = first_row(ra, 4, did); k < na && get64(ra, k, 4) == did; k++)
                    json_array_append_new(atts, row_json(ra, k, hk_attempt_keys, HK_ATTEMPT_KEYS));
                json_object_set_new(d, "attempts", atts);
                json_array_append_new(dels, d);
            }
            json_object_set_new(e, "deliveries", dels);
            json_array_append_new(events, e);
        }
    }
    PQclear(re);
    PQclear(rd);
    PQclear(ra);
    free(eids);
    free(dids);
    pthread_mutex_unlock(&p->r.mu);
    if (rc != HK_OK)
        return HK_E_STORE;
    *out = json_pack("{s:o}", "events", events);
    return *out ? HK_OK : HK_E_STORE;
}

/* ---- deliveries ---- */

static int pg_delivery_claim(void *db, int64_t now_ms, int64_t lease_until_ms, int64_t owner,
                             int64_t claim, hk_delivery *out, int max, int64_t *next_due_ms)
{
    pg *p = db;
    *next_due_ms = 0;
    num o, cl, le, now, mx;
    const char *v[] = {n64(&o, owner), n64(&cl, claim), n64(&le, lease_until_ms),
                       n64(&now, now_ms), n64(&mx, max)};
    pthread_mutex_lock(&p->k.mu);
    PGconn *c = use(&p->k);
    PGresult *res = run(c,
                        /* one more than asked for is looked at (and skipped by a claim
                         * of another instance meanwhile): is more due than this takes? */
                        "WITH due AS (SELECT id, next_at FROM deliveries"
                        " WHERE state IN ('pending', 'running') AND next_at <= $4"
                        " ORDER BY next_at, id LIMIT $5 + 1 FOR UPDATE SKIP LOCKED),"
                        " take AS (SELECT id FROM due ORDER BY next_at, id LIMIT $5)"
                        " UPDATE deliveries d SET state = 'running', owner = $1, claim = $2,"
                        " next_at = $3, updated_ms = $4 FROM take WHERE d.id = take.id"
                        " RETURNING d.id, d.event_id, d.applet_id, d.action, d.tries,"
                        " (SELECT count(*) FROM due) > $5",
                        5, v);
    int rc;
    bool more = false;
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = fail(c, res, "claim deliveries");
    } else {
        rc = PQntuples(res) < max ? PQntuples(res) : max;
        more = rc > 0 && PQgetvalue(res, 0, 5)[0] == 't';
        for (int i = 0; i < rc; i++) {
            hk_delivery *d = &out[i];
            memset(d, 0, sizeof *d);
            d->id = get64(res, i, 0);
            d->event_id = get64(res, i, 1);
            d->applet_id = get64(res, i, 2);
            snprintf(d->action, sizeof d->action, "%s", PQgetvalue(res, i, 3));
            d->tries = (int)get64(res, i, 4);
            d->claim = claim;
        }
    }
    PQclear(res);
    /* more is due than this instance can take: the idle workers of the others are woken to
     * help (a notification, not a claim of theirs) */
    if (more)
        cmd(c, "NOTIFY " CHANNEL, 0, NULL, NULL, "notify");
    if (rc == 0) {
        res = run(c, "SELECT min(next_at) FROM deliveries WHERE state IN ('pending', 'running')",
                  0, NULL);
        if (res && PQresultStatus(res) == PGRES_TUPLES_OK)
            *next_due_ms = get64(res, 0, 0);
        else
            rc = fail(c, res, "next due delivery");
        PQclear(res);
    }
    pthread_mutex_unlock(&p->k.mu);
    return rc;
}

static int pg_delivery_finish(void *db, hk_finish *f)
{
    pg *p = db;
    pthread_mutex_lock(&p->w.mu);
    PGconn *c = use(&p->w);
    int rc = cmd(c, "BEGIN", 0, NULL, NULL, "begin");
    if (rc == HK_OK)
        rc = finish_batch(c, &f, 1);
    if (rc == HK_OK)
        rc = cmd(c, "COMMIT", 0, NULL, NULL, "commit attempt");
    if (rc != HK_OK)
        rollback(c);
    pthread_mutex_unlock(&p->w.mu);
    return rc;
}

static int pg_delivery_extend(void *db, int64_t owner, int64_t lease_until_ms, int64_t now_ms)
{
    pg *p = db;
    num le, o;
    const char *v[] = {n64(&le, lease_until_ms), n64(&o, owner)};
    (void)now_ms;
    pthread_mutex_lock(&p->k.mu);
    int rc = cmd(use(&p->k),
                 "UPDATE deliveries SET next_at = $1 WHERE state = 'running' AND owner = $2", 2,
                 v, NULL, "renew leases");
    pthread_mutex_unlock(&p->k.mu);
    return rc;
}

static int pg_delivery_release(void *db, const hk_delivery *d, int64_t now_ms)
{
    pg *p = db;
    num now, id, cl;
    const char *v[] = {n64(&now, now_ms), n64(&id, d->id), n64(&cl, d->claim)};
    pthread_mutex_lock(&p->k.mu);
    PGconn *c = use(&p->k);
    int rc = cmd(c, "BEGIN", 0, NULL, NULL, "begin");
    if (rc == HK_OK)
        rc = cmd(c,
                 "UPDATE deliveries SET state = 'pending', next_at = $1, updated_ms = $1,"
                 " owner = NULL, claim = NULL WHERE id = $2 AND claim = $3 AND state = 'running'",
                 3, v, NULL, "release delivery");
    if (rc == HK_OK)
        rc = cmd(c, "NOTIFY " CHANNEL, 0, NULL, NULL, "notify");
    if (rc == HK_OK)
        rc = cmd(c, "COMMIT", 0, NULL, NULL, "commit release");
    if (rc != HK_OK)
        rollback(c);
    pthread_mutex_unlock(&p->k.mu);
    return rc;
}

static int pg_delivery_retry(void *db, int64_t id, int64_t now_ms)
{
    pg *p = db;
    num now, b;
    const char *v[] = {n64(&now, now_ms), n64(&b, id)};
    pthread_mutex_lock(&p->r.mu);
    PGconn *c = use(&p->r);
    int n = 0;
    int rc = cmd(c, "BEGIN", 0, NULL, NULL, "begin");
    if (rc == HK_OK)
        rc = cmd(c,
                 "UPDATE deliveries SET state = 'pending', tries = 0, next_at = $1,"
                 " updated_ms = $1, owner = NULL, claim = NULL WHERE id = $2 AND state = 'failed'",
                 2, v, &n, "retry delivery");
    if (rc == HK_OK && n == 1)
        rc = cmd(c, "NOTIFY " CHANNEL, 0, NULL, NULL, "notify");
    if (rc == HK_OK)
        rc = cmd(c, "COMMIT", 0, NULL, NULL, "commit retry");
    if (rc != HK_OK)
        rollback(c);
    if (rc == HK_OK && n == 0) {
        PGresult *res = run(c, "SELECT 1 FROM deliveries WHERE id = $1", 1, v + 1);
        if (res && PQresultStatus(res) == PGRES_TUPLES_OK)
            rc = PQntuples(res) ? HK_E_STATE : HK_E_NOTFOUND;
        else
            rc = fail(c, res, "find delivery");
        PQclear(res);
    }
    pthread_mutex_unlock(&p->r.mu);
    return rc;
}

/* Other instances may be running the "running" deliveries: their leases decide. */
static int pg_delivery_recover(void *db, int64_t now_ms, int *n)
{
    (void)db;
    (void)now_ms;
    *n = 0;
    return HK_OK;
}

static int pg_delivery_counts(void *db, int64_t *pending, int64_t *running, int64_t *failed)
{
    pg *p = db;
    *pending = *running = *failed = 0;
    pthread_mutex_lock(&p->r.mu);
    PGconn *c = use(&p->r);
    PGresult *res = run(c,
                        "SELECT state, count(*) FROM deliveries"
                        " WHERE state IN ('pending', 'running', 'failed') GROUP BY state",
                        0, NULL);
    int rc = HK_OK;
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = fail(c, res, "count deliveries");
    } else {
        for (int i = 0; i < PQntuples(res); i++) {
            const char *state = PQgetvalue(res, i, 0);
            int64_t v = get64(res, i, 1);
            if (strcmp(state, "pending") == 0)
                *pending = v;
            else if (strcmp(state, "running") == 0)
                *running = v;
            else
                *failed = v;
        }
    }
    PQclear(res);
    pthread_mutex_unlock(&p->r.mu);
    return rc;
}

static int pg_prune(void *db, int64_t before_s, int64_t *after, int *n)
{
    pg *p = db;
    num b, l;
    const char *v[] = {n64(&b, before_s), n64(&l, HK_PRUNE_SLICE)};
    pthread_mutex_lock(&p->r.mu);
    int rc = cmd(use(&p->r),
                 "DELETE FROM events WHERE id IN (SELECT id FROM events e"
                 " WHERE occurred_at < $1 AND NOT EXISTS (SELECT 1 FROM deliveries"
                 " WHERE event_id = e.id AND state IN ('pending', 'running')) LIMIT $2)",
                 2, v, n, "prune events");
    pthread_mutex_unlock(&p->r.mu);
    /* by PostgreSQL's index of the time: done when a slice finds fewer than it may take */
    if (rc != HK_OK || *n < HK_PRUNE_SLICE)
        *after = -1;
    return rc;
}

/* ---- sessions ---- */

static int pg_session_put(void *db, const char *id, const char *csrf, int64_t now_ms,
                          int64_t idle_ms)
{
    pg *p = db;
    num old, now;
    const char *dv[] = {n64(&old, now_ms - idle_ms)};
    const char *iv[] = {id, csrf, n64(&now, now_ms)};
    pthread_mutex_lock(&p->r.mu);
    PGconn *c = use(&p->r);
    int rc = cmd(c, "DELETE FROM sessions WHERE last_ms < $1", 1, dv, NULL, "expire sessions");
    if (rc == HK_OK)
        rc = cmd(c,
                 "INSERT INTO sessions(id, csrf, created_ms, last_ms) VALUES($1, $2, $3, $3)"
                 " ON CONFLICT(id) DO UPDATE SET csrf = excluded.csrf, last_ms = excluded.last_ms",
                 3, iv, NULL, "store session");
    pthread_mutex_unlock(&p->r.mu);
    return rc;
}

static int pg_session_get(void *db, const char *id, int64_t now_ms, int64_t idle_ms, char *csrf,
                          size_t csrfcap)
{
    pg *p = db;
    const char *v[] = {id};
    pthread_mutex_lock(&p->r.mu);
    PGconn *c = use(&p->r);
    PGresult *res = run(c, "SELECT csrf, last_ms FROM sessions WHERE id = $1", 1, v);
    int rc;
    int64_t last = 0;
    if (!res || PQresultStatus(res) != PGRES_TUPLES_OK) {
        rc = fail(c, res, "read session");
    } else if (PQntuples(res) == 0 || (last = get64(res, 0, 1)) < now_ms - idle_ms) {
        rc = HK_E_NOTFOUND;
    } else {
        if (csrf)
            snprintf(csrf, csrfcap, "%s", PQgetvalue(res, 0, 0));
        rc = HK_OK;
    }
    PQclear(res);
    if (rc == HK_OK && now_ms - last > HK_SESSION_TOUCH_MS) {
        num now;
        const char *tv[] = {n64(&now, now_ms), id};
        cmd(c, "UPDATE sessions SET last_ms = $1 WHERE id = $2", 2, tv, NULL, "touch session");
    }
    pthread_mutex_unlock(&p->r.mu);
    return rc;
}

static int pg_session_delete(void *db, const char *id, const char *keep)
{
    pg *p = db;
    const char *v[] = {id ? id : keep};
    pthread_mutex_lock(&p->r.mu);
    int rc = cmd(use(&p->r),
                 id ? "DELETE FROM sessions WHERE id = $1"
                    : "DELETE FROM sessions WHERE $1::text IS NULL OR id <> $1",
                 1, v, NULL, "delete sessions");
    pthread_mutex_unlock(&p->r.mu);
    return rc;
}

/* ---- the listener ---- */

static void call_wake(pg *p)
{
    pthread_mutex_lock(&p->wake_mu);
    if (p->wake)
        p->wake(p->wake_arg);
    pthread_mutex_unlock(&p->wake_mu);
}

static PGconn *listen_conn(pg *p)
{
    PGconn *c = PQconnectdb(p->uri);
    if (PQstatus(c) == CONNECTION_OK) {
        PGresult *res = PQexec(c, "LISTEN " CHANNEL);
        bool ok = res && PQresultStatus(res) == PGRES_COMMAND_OK;
        PQclear(res);
        if (ok)
            return c;
    }
    fail(c, NULL, "listen for new work");
    PQfinish(c);
    return NULL;
}

static void *listener_main(void *arg)
{
    pg *p = arg;
    PGconn *c = NULL;
    for (;;) {
        if (!c) {
            c = listen_conn(p);
            if (c)
                call_wake(p);   /* a notification may have been missed meanwhile */
        }
        struct pollfd fds[2] = {{.fd = p->stop_pipe[0], .events = POLLIN},
                                {.fd = c ? PQsocket(c) : -1, .events = POLLIN}};
        /* without a connection, try again in a second */
        int r = poll(fds, 2, c ? -1 : 1000);
        if (r < 0 && errno != EINTR)
            break;
        if (fds[0].revents)
            break;
        if (c && fds[1].revents) {
            bool any = false;
            if (!PQconsumeInput(c) || PQstatus(c) != CONNECTION_OK) {
                fail(c, NULL, "listen for new work (will reconnect)");
                PQfinish(c);
                c = NULL;
                continue;
            }
            PGnotify *n;
            while ((n = PQnotifies(c)) != NULL) {
                /* this process's own: its workers were kicked directly or are stopping */
                if (n->be_pid != atomic_load(&p->w.pid) && n->be_pid != atomic_load(&p->k.pid) &&
                    n->be_pid != atomic_load(&p->r.pid)) {
                    any = true;
                    hk_metrics_notification();
                }
                PQfreemem(n);
            }
            if (any)
                call_wake(p);
        }
    }
    if (c)
        PQfinish(c);
    return NULL;
}

static int pg_watch(void *db, void (*wake)(void *), void *arg)
{
    pg *p = db;
    pthread_mutex_lock(&p->wake_mu);
    p->wake = wake;
    p->wake_arg = arg;
    pthread_mutex_unlock(&p->wake_mu);
    if (!wake || p->listening)
        return HK_OK;
    if (pipe(p->stop_pipe) != 0) {
        p->stop_pipe[0] = p->stop_pipe[1] = -1;
        return HK_E_STORE;
    }
    if (pthread_create(&p->listener, NULL, listener_main, p) != 0)
        return HK_E_STORE;
    p->listening = true;
    return HK_OK;
}

static void pg_workers_idle(void *db, bool idle)
{
    atomic_store(&((pg *)db)->idle, idle);
}

const hk_store_ops hk_store_pg = {
    .name = "postgresql",
    .open = pg_open,
    .close = pg_close,
    .commit_events = pg_commit_events,
    .setting_get = pg_setting_get,
    .setting_set = pg_setting_set,
    .setting_add = pg_setting_add,
    .applet_list = pg_applet_list,
    .applet_get = pg_applet_get,
    .applet_insert = pg_applet_insert,
    .applet_update = pg_applet_update,
    .applet_delete = pg_applet_delete,
    .event_get = pg_event_get,
    .events_json = pg_events_json,
    .delivery_claim = pg_delivery_claim,
    .delivery_finish = pg_delivery_finish,
    .delivery_extend = pg_delivery_extend,
    .delivery_release = pg_delivery_release,
    .delivery_retry = pg_delivery_retry,
    .delivery_recover = pg_delivery_recover,
    .delivery_counts = pg_delivery_counts,
    .prune = pg_prune,
    .session_put = pg_session_put,
    .session_get = pg_session_get,
    .session_delete = pg_session_delete,
    .watch = pg_watch,
    .workers_idle = pg_workers_idle,
};
