/*
 * store_sqlite.c - the SQLite backend of store.h: one file DIR/hookd.db in WAL mode.
 *
 * Two connections: one that writes (group commits, deliveries, applets, settings) and one that
 * only reads (the API's lists, the workers' event and applet look-ups), each behind its own
 * mutex; WAL lets the reader run while the writer commits. synchronous=FULL: a COMMIT returns
 * after the WAL is fsync'ed, so a stored event survives a crash or a power cut. Only the
 * claim of a batch of deliveries is written without a sync (losing it is harmless: a restart
 * turns running deliveries back to pending anyway); the next synced commit makes it durable
 * too.
 */
#define _GNU_SOURCE
#include "store.h"

#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <sqlite3.h>

#include "log.h"
#include "walbuf.h"

/* Versioned migrations, applied in order at open inside one BEGIN IMMEDIATE transaction (so
 * that two processes opening the same new file do not both apply them); each applied one is a
 * row of schema_version. PRAGMA user_version follows the newest, so that an older hookd that
 * only knows user_version refuses a newer file instead of misusing it. */
static const char *const migrations[] = {
    /* 1: the first schema */
    "CREATE TABLE settings(name TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;"
    "CREATE TABLE applets(id INTEGER PRIMARY KEY, name TEXT NOT NULL UNIQUE,"
    " event TEXT NOT NULL, action TEXT NOT NULL, fields TEXT NOT NULL,"
    " enabled INTEGER NOT NULL, created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL);"
    "CREATE INDEX applets_by_event ON applets(event, enabled);"
    "CREATE TABLE events(id INTEGER PRIMARY KEY, name TEXT NOT NULL, json INTEGER NOT NULL,"
    " value1 TEXT, value2 TEXT, value3 TEXT, payload TEXT, occurred_at INTEGER NOT NULL,"
    " received_ms INTEGER NOT NULL, source_ip TEXT, idem_key TEXT UNIQUE);"
    "CREATE INDEX events_by_time ON events(occurred_at);"
    "CREATE TABLE deliveries(id INTEGER PRIMARY KEY,"
    " event_id INTEGER NOT NULL REFERENCES events(id) ON DELETE CASCADE,"
    " applet_id INTEGER NOT NULL, applet_name TEXT NOT NULL, action TEXT NOT NULL,"
    " state TEXT NOT NULL, tries INTEGER NOT NULL DEFAULT 0, next_at INTEGER NOT NULL,"
    " created_ms INTEGER NOT NULL, updated_ms INTEGER NOT NULL, last_result TEXT);"
    "CREATE INDEX deliveries_by_state ON deliveries(state, next_at);"
    "CREATE INDEX deliveries_by_event ON deliveries(event_id);"
    "CREATE TABLE attempts(id INTEGER PRIMARY KEY,"
    " delivery_id INTEGER NOT NULL REFERENCES deliveries(id) ON DELETE CASCADE,"
    " started_ms INTEGER NOT NULL, duration_ms INTEGER NOT NULL, status TEXT NOT NULL,"
    " result TEXT NOT NULL);"
    "CREATE INDEX attempts_by_delivery ON attempts(delivery_id);",
    /* 2: claims with a lease (a running delivery's next_at is its lease's end), admin
     * sessions in the store */
    "ALTER TABLE deliveries ADD COLUMN owner INTEGER;"
    "ALTER TABLE deliveries ADD COLUMN claim INTEGER;"
    "CREATE INDEX deliveries_due ON deliveries(next_at, id)"
    " WHERE state IN ('pending', 'running');"
    "CREATE TABLE sessions(id TEXT PRIMARY KEY, csrf TEXT NOT NULL,"
    " created_ms INTEGER NOT NULL, last_ms INTEGER NOT NULL) WITHOUT ROWID;",
    /* 3: the idempotency keys' index without the events that have none (most: a button's
     * trigger has none), which it held all as NULLs: a page written per commit for nothing,
     * a third of an accept-only commit's WAL frames. SQLite cannot drop a column's UNIQUE:
     * the table is made again (foreign keys are off during the migrations, so dropping the
     * old table deletes no delivery; deliveries' REFERENCES events then names the new one). */
    "CREATE TABLE events_v3(id INTEGER PRIMARY KEY, name TEXT NOT NULL, json INTEGER NOT NULL,"
    " value1 TEXT, value2 TEXT, value3 TEXT, payload TEXT, occurred_at INTEGER NOT NULL,"
    " received_ms INTEGER NOT NULL, source_ip TEXT, idem_key TEXT);"
    "INSERT INTO events_v3 SELECT id, name, json, value1, value2, value3, payload, occurred_at,"
    " received_ms, source_ip, idem_key FROM events;"
    "DROP TABLE events;"
    "ALTER TABLE events_v3 RENAME TO events;"
    "CREATE INDEX events_by_time ON events(occurred_at);"
    "CREATE UNIQUE INDEX events_by_idem_key ON events(idem_key) WHERE idem_key IS NOT NULL;",
    /* 4: no index of the events' time. Only the hourly retention prune used it, and it cost
     * every trigger an index entry (a third of an accept-only event's instructions, 1.5 of
     * the 4.4 WAL pages a commit writes); the prune now walks the table by id in slices
     * (sq_prune), which finds an event stored after a clock step back as well. */
    "DROP INDEX events_by_time;",
};
#define SCHEMA_VERSION ((int)(sizeof migrations / sizeof migrations[0]))

typedef struct {
    sqlite3 *w, *r;
    pthread_mutex_t wmu, rmu;
    /* the group commit's statements, prepared once */
    sqlite3_stmt *idem, *ins_event, *ins_deliv;
    /* the attempts' statements (delivery_finish and the group commit), prepared once */
    sqlite3_stmt *ins_attempt, *upd_deliv;
    /* the workers' claim, prepared once */
    sqlite3_stmt *claim, *next_due, *sync_normal, *sync_full;
    /* the group commit's BEGIN IMMEDIATE and COMMIT, parsed once (sqlite3_exec parsed them
     * at every commit) */
    sqlite3_stmt *begin, *commit;
    /* The names of the events that have an enabled applet, for the group commit: an event
     * without one skips the INSERT ... SELECT of its deliveries, which cost 8k instructions
     * per event when it matched nothing (callgrind), a third of the commit's. Read in the
     * writer's transaction when stale: after this connection wrote applets, or when another
     * process committed (PRAGMA data_version, checked once per commit). */
    sqlite3_stmt *data_version, *listened_st;
    char **listened;
    size_t nlistened;
    bool listened_ok;
    int64_t listened_version;
    /* The checkpointer: SQLite's automatic checkpoint ran inside the commit that crossed
     * 1000 WAL frames, copying pages into hookd.db and syncing it before that commit's
     * triggers were answered. Instead the writer's WAL hook wakes this thread, which
     * checkpoints (PASSIVE) from its own connection while the writer goes on; the writer's
     * next transaction then starts the WAL over. Should it fall behind (a long burst never
     * leaves it a moment between two commits, or it fails), the writer checkpoints itself at
     * CKPT_WRITER_FRAMES, as SQLite did, so the WAL stays bounded. */
    sqlite3 *ck;
    pthread_t ck_thread;
    pthread_mutex_t ck_mu;
    pthread_cond_t ck_cv;
    bool ck_started, ck_wanted, ck_stop;
    int ck_next;                  /* the writer's: frames at which to wake it again */
    int ck_failures;              /* in a row, for the log */
} sq;

/* WAL frames (pages) after which the checkpointer is woken: SQLite's own default */
#define CKPT_FRAMES 1000
/* ... and after which the writer checkpoints in its commit (the WAL's bound) */
#define CKPT_WRITER_FRAMES 4000

static int fail(sqlite3 *c, const char *what)
{
    hk_log("store: %s: %s", what, sqlite3_errmsg(c));
    return HK_E_STORE;
}

static int exec(sqlite3 *c, const char *sql)
{
    char *msg = NULL;
    if (sqlite3_exec(c, sql, NULL, NULL, &msg) != SQLITE_OK) {
        hk_log("store: %.60s: %s", sql, msg ? msg : sqlite3_errmsg(c));
        sqlite3_free(msg);
        return HK_E_STORE;
    }
    return HK_OK;
}

static sqlite3_stmt *prep(sqlite3 *c, const char *sql)
{
    sqlite3_stmt *st = NULL;
    if (sqlite3_prepare_v2(c, sql, -1, &st, NULL) != SQLITE_OK) {
        hk_log("store: prepare %.60s: %s", sql, sqlite3_errmsg(c));
        return NULL;
    }
    return st;
}

/* a prepared statement without result rows */
static int step_done(sqlite3_stmt *st)
{
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    return rc == SQLITE_DONE || rc == SQLITE_ROW ? HK_OK : HK_E_STORE;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
    const unsigned char *t = sqlite3_column_text(st, i);
    return t ? strdup((const char *)t) : NULL;
}

static void rollback(sqlite3 *c)
{
    if (!sqlite3_get_autocommit(c))
        sqlite3_exec(c, "ROLLBACK", NULL, NULL, NULL);
}

static void ck_stop(sq *q)
{
    if (!q->ck_started)
        return;
    pthread_mutex_lock(&q->ck_mu);
    q->ck_stop = true;
    pthread_cond_signal(&q->ck_cv);
    pthread_mutex_unlock(&q->ck_mu);
    pthread_join(q->ck_thread, NULL);
    q->ck_started = false;
}

static void sq_close(void *db)
{
    sq *q = db;
    if (!q)
        return;
    ck_stop(q);
    sqlite3_close(q->ck);
    sqlite3_finalize(q->idem);
    sqlite3_finalize(q->ins_event);
    sqlite3_finalize(q->ins_deliv);
    sqlite3_finalize(q->ins_attempt);
    sqlite3_finalize(q->upd_deliv);
    sqlite3_finalize(q->claim);
    sqlite3_finalize(q->next_due);
    sqlite3_finalize(q->sync_normal);
    sqlite3_finalize(q->sync_full);
    sqlite3_finalize(q->begin);
    sqlite3_finalize(q->commit);
    sqlite3_finalize(q->data_version);
    sqlite3_finalize(q->listened_st);
    for (size_t i = 0; i < q->nlistened; i++)
        free(q->listened[i]);
    free(q->listened);
    sqlite3_close(q->w);
    sqlite3_close(q->r);
    pthread_mutex_destroy(&q->wmu);
    pthread_mutex_destroy(&q->rmu);
    pthread_mutex_destroy(&q->ck_mu);
    pthread_cond_destroy(&q->ck_cv);
    free(q);
}

/* The schema's version: the newest row of schema_version, or for a file made before that table
 * existed, PRAGMA user_version (0: a new file). */
static int schema_version(sqlite3 *w)
{
    sqlite3_stmt *st = prep(w, "SELECT count(*) FROM sqlite_master WHERE name = 'schema_version'");
    int version = -1;
    if (st && sqlite3_step(st) == SQLITE_ROW) {
        bool table = sqlite3_column_int(st, 0) > 0;
        sqlite3_finalize(st);
        st = prep(w, table ? "SELECT coalesce(max(version), 0) FROM schema_version"
                           : "PRAGMA user_version");
        if (st && sqlite3_step(st) == SQLITE_ROW)
            version = sqlite3_column_int(st, 0);
    }
    sqlite3_finalize(st);
    return version;
}

static int migrate(sqlite3 *w, const char *path, char *err, size_t errcap)
{
    if (exec(w, "BEGIN IMMEDIATE") != HK_OK) {
        snprintf(err, errcap, "cannot lock %s to check its schema: %s", path, sqlite3_errmsg(w));
        return HK_E_STORE;
    }
    int version = schema_version(w);
    if (version < 0 || version > SCHEMA_VERSION) {
        if (version < 0)
            snprintf(err, errcap, "cannot read the schema version of %s: %s", path,
                     sqlite3_errmsg(w));
        else
            snprintf(err, errcap, "%s has schema version %d; this hookd knows versions up to %d",
                     path, version, SCHEMA_VERSION);
        rollback(w);
        return HK_E_STORE;
    }
    int rc = exec(w, "CREATE TABLE IF NOT EXISTS schema_version(version INTEGER PRIMARY KEY,"
                     " applied_ms INTEGER NOT NULL)");
    for (int v = version + 1; rc == HK_OK && v <= SCHEMA_VERSION; v++) {
        char sql[160];
        snprintf(sql, sizeof sql,
                 "INSERT INTO schema_version VALUES(%d, %lld); PRAGMA user_version=%d;", v,
                 (long long)hk_now_ms(), v);
        rc = exec(w, migrations[v - 1]);
        if (rc == HK_OK)
            rc = exec(w, sql);
        if (rc == HK_OK && v > 1)
            hk_log("store: %s: schema migrated to version %d", path, v);
    }
    if (rc == HK_OK && version >= 1 && version < SCHEMA_VERSION) {
        /* a file from before schema_version: record the versions it had */
        for (int v = 1; rc == HK_OK && v <= version; v++) {
            char sql[120];
            snprintf(sql, sizeof sql, "INSERT OR IGNORE INTO schema_version VALUES(%d, 0)", v);
            rc = exec(w, sql);
        }
    }
    if (rc == HK_OK)
        rc = exec(w, "COMMIT");
    if (rc != HK_OK) {
        snprintf(err, errcap, "cannot migrate %s to schema version %d: %s", path,
                 SCHEMA_VERSION, sqlite3_errmsg(w));
        rollback(w);
    }
    return rc;
}

static void *ck_main(void *arg)
{
    sq *q = arg;
    pthread_mutex_lock(&q->ck_mu);
    for (;;) {
        while (!q->ck_wanted && !q->ck_stop)
            pthread_cond_wait(&q->ck_cv, &q->ck_mu);
        if (q->ck_stop)
            break;
        q->ck_wanted = false;
        pthread_mutex_unlock(&q->ck_mu);
        int log = 0, done = 0;
        int rc = sqlite3_wal_checkpoint_v2(q->ck, NULL, SQLITE_CHECKPOINT_PASSIVE, &log, &done);
        if (rc == SQLITE_BUSY)   /* another checkpoint ran (the writer's): nothing failed */
            rc = SQLITE_OK;
        pthread_mutex_lock(&q->ck_mu);
        if (rc != SQLITE_OK && q->ck_failures++ == 0)   /* once per run of failures */
            hk_log("store: checkpoint of the WAL: %s; the writer checkpoints itself past %d"
                   " frames", sqlite3_errmsg(q->ck), CKPT_WRITER_FRAMES);
        else if (rc == SQLITE_OK && q->ck_failures > 0) {
            hk_log("store: checkpoint of the WAL works again (%d failed)", q->ck_failures);
            q->ck_failures = 0;
        }
    }
    pthread_mutex_unlock(&q->ck_mu);
    return NULL;
}

/* after each commit of the writer, frames: the WAL's length */
static int wal_hook(void *arg, sqlite3 *w, const char *name, int frames)
{
    sq *q = arg;
    if (frames >= CKPT_WRITER_FRAMES || (!q->ck_started && frames >= CKPT_FRAMES)) {
        int rc = sqlite3_wal_checkpoint_v2(w, name, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
        if (rc != SQLITE_OK && rc != SQLITE_BUSY)
            hk_log("store: checkpoint of the WAL (%d frames): %s", frames, sqlite3_errmsg(w));
    } else if (frames < CKPT_FRAMES) {
        q->ck_next = CKPT_FRAMES;   /* the WAL started over */
    } else if (frames >= q->ck_next) {
        /* again only after another quarter: a pass that the writer's commits outran left
         * little to copy, and each pass syncs the WAL and the database */
        q->ck_next = frames + CKPT_FRAMES / 4;
        pthread_mutex_lock(&q->ck_mu);
        if (!q->ck_wanted) {
            q->ck_wanted = true;
            pthread_cond_signal(&q->ck_cv);
        }
        pthread_mutex_unlock(&q->ck_mu);
    }
    return SQLITE_OK;   /* the commit itself is done and durable whatever happens here */
}

/* Before SQLite's first use in the process: no memory statistics. With them (SQLite's
 * default) every allocation SQLite makes, about ten per stored event, takes a process-wide
 * mutex to count itself; hookd reads none of the counts. Past initialisation SQLite refuses
 * the setting (SQLITE_MISUSE) and keeps counting: harmless. */
static pthread_once_t sqlite_setup_once = PTHREAD_ONCE_INIT;

static void sqlite_setup(void)
{
    (void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static void *sq_open(const char *dir, char *err, size_t errcap)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/hookd.db", dir);
    sq *q = calloc(1, sizeof *q);
    if (!q) {
        snprintf(err, errcap, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&q->wmu, NULL);
    pthread_mutex_init(&q->rmu, NULL);
    pthread_mutex_init(&q->ck_mu, NULL);
    q->ck_next = CKPT_FRAMES;
    pthread_cond_init(&q->ck_cv, NULL);
    /* made here first so that it is private (0600); SQLite gives its -wal and -shm files the
     * same mode */
    int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
    if (fd >= 0)
        close(fd);
    int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
    pthread_once(&sqlite_setup_once, sqlite_setup);
    /* the writer's WAL frames go out in one write per commit (walbuf.h) */
    if (hk_walbuf_register() != SQLITE_OK) {
        snprintf(err, errcap, "cannot register SQLite's VFS %s", HK_WALBUF_VFS);
        sq_close(q);
        return NULL;
    }
    if (sqlite3_open_v2(path, &q->w, flags, HK_WALBUF_VFS) != SQLITE_OK) {
        snprintf(err, errcap, "cannot open %s: %s", path, sqlite3_errmsg(q->w));
        sq_close(q);
        return NULL;
    }
    sqlite3_busy_timeout(q->w, 5000);
    if (exec(q->w, "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; PRAGMA foreign_keys=OFF;")) {
        snprintf(err, errcap, "cannot set up %s: %s", path, sqlite3_errmsg(q->w));
        sq_close(q);
        return NULL;
    }
    /* foreign keys on only after the migrations (migration 3 makes a table again) */
    if (migrate(q->w, path, err, errcap) != HK_OK) {
        sq_close(q);
        return NULL;
    }
    if (exec(q->w, "PRAGMA foreign_keys=ON")) {
        snprintf(err, errcap, "cannot set up %s: %s", path, sqlite3_errmsg(q->w));
        sq_close(q);
        return NULL;
    }
    if (sqlite3_open_v2(path, &q->r, SQLITE_OPEN_READONLY | SQLITE_OPEN_NOMUTEX, NULL) !=
        SQLITE_OK) {
        snprintf(err, errcap, "cannot open %s to read: %s", path, sqlite3_errmsg(q->r));
        sq_close(q);
        return NULL;
    }
    sqlite3_busy_timeout(q->r, 5000);
    /* the checkpointer's connection; without it (or its thread) the writer checkpoints as
     * SQLite does by default, at CKPT_FRAMES */
    if (sqlite3_open_v2(path, &q->ck, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX, NULL) ==
            SQLITE_OK &&
        exec(q->ck, "PRAGMA synchronous=FULL") == HK_OK &&
        pthread_create(&q->ck_thread, NULL, ck_main, q) == 0) {
        pthread_setname_np(q->ck_thread, "hookd-ckpt");
        q->ck_started = true;
    } else {
        hk_log("store: no checkpointer thread (%s): commits checkpoint the WAL themselves",
               q->ck ? sqlite3_errmsg(q->ck) : "out of memory");
    }
    sqlite3_wal_hook(q->w, wal_hook, q);   /* replaces wal_autocheckpoint's hook */
    q->idem = prep(q->w, "SELECT id, name, json FROM events WHERE idem_key = ?");
    q->ins_event = prep(q->w,
                        "INSERT INTO events(name, json, value1, value2, value3, payload,"
                        " occurred_at, received_ms, source_ip, idem_key)"
                        " VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)");
    q->ins_deliv = prep(q->w,
                        "INSERT INTO deliveries(event_id, applet_id, applet_name, action, state,"
                        " tries, next_at, created_ms, updated_ms)"
                        " SELECT ?1, id, name, action, 'pending', 0, ?2, ?2, ?2 FROM applets"
                        " WHERE event = ?3 AND enabled = 1 ORDER BY id");
    q->ins_attempt = prep(q->w,
                          "INSERT INTO attempts(delivery_id, started_ms, duration_ms, status,"
                          " result) VALUES(?, ?, ?, ?, ?)");
    q->upd_deliv = prep(q->w,
                        "UPDATE deliveries SET state = ?, tries = ?, next_at = ?, updated_ms = ?,"
                        " last_result = ?, action = ?, owner = NULL, claim = NULL"
                        " WHERE id = ? AND claim = ? AND state = 'running'");
    /* INDEXED BY: without statistics SQLite would pick deliveries_by_state and sort every
     * due row for each claim, which slows a claim down as the backlog grows */
    q->claim = prep(q->w,
                    "UPDATE deliveries SET state = 'running', owner = ?1, claim = ?2, next_at = ?3,"
                    " updated_ms = ?4 WHERE id IN (SELECT id FROM deliveries"
                    " INDEXED BY deliveries_due WHERE state IN ('pending', 'running')"
                    " AND next_at <= ?4 ORDER BY next_at, id LIMIT ?5)"
                    " RETURNING id, event_id, applet_id, action, tries");
    q->next_due = prep(q->w, "SELECT min(next_at) FROM deliveries INDEXED BY deliveries_due"
                             " WHERE state IN ('pending', 'running')");
    q->sync_normal = prep(q->w, "PRAGMA synchronous=NORMAL");
    q->sync_full = prep(q->w, "PRAGMA synchronous=FULL");
    q->begin = prep(q->w, "BEGIN IMMEDIATE");
    q->commit = prep(q->w, "COMMIT");
    q->data_version = prep(q->w, "PRAGMA data_version");
    q->listened_st = prep(q->w, "SELECT DISTINCT event FROM applets WHERE enabled = 1");
    if (!q->idem || !q->ins_event || !q->ins_deliv || !q->ins_attempt || !q->upd_deliv ||
        !q->claim || !q->next_due || !q->sync_normal || !q->sync_full || !q->data_version || !q->begin || !q->commit ||
        !q->listened_st) {
        snprintf(err, errcap, "cannot prepare statements on %s", path);
        sq_close(q);
        return NULL;
    }
    return q;
}

/* ---- events: the group commit ---- */

/* Inside the writer's transaction: q->listened up to date, or listened_ok false (then every
 * event runs the deliveries' INSERT ... SELECT, as before the list existed). */
static void listened_refresh(sq *q)
{
    sqlite3_stmt *st = q->data_version;
    sqlite3_reset(st);
    int64_t version = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : -1;
    sqlite3_reset(st);
    if (q->listened_ok && version == q->listened_version && version != -1)
        return;
    q->listened_ok = false;
    for (size_t i = 0; i < q->nlistened; i++)
        free(q->listened[i]);
    q->nlistened = 0;
    if (version == -1)
        return;
    st = q->listened_st;
    sqlite3_reset(st);
    int rc;
    while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
        char *name = col_dup(st, 0);
        char **l = name ? realloc(q->listened, (q->nlistened + 1) * sizeof *l) : NULL;
        if (!l) {
            free(name);
            break;
        }
        q->listened = l;
        q->listened[q->nlistened++] = name;
    }
    sqlite3_reset(st);
    q->listened_ok = rc == SQLITE_DONE;
    q->listened_version = version;
}

/* false only when the event surely has no enabled applet */
static bool listened(const sq *q, const char *event)
{
    if (!q->listened_ok)
        return true;
    for (size_t i = 0; i < q->nlistened; i++)
        if (strcmp(q->listened[i], event) == 0)
            return true;
    return false;
}

static int commit_one(sq *q, hk_commit *c, int64_t now_ms)
{
    sqlite3 *w = q->w;
    hk_event *e = c->event;
    if (c->idem_key) {
        sqlite3_reset(q->idem);
        sqlite3_bind_text(q->idem, 1, c->idem_key, -1, SQLITE_STATIC);
        int rc = sqlite3_step(q->idem);
        if (rc == SQLITE_ROW) {
            c->status = HK_COMMIT_DUPLICATE;
            c->event_id = sqlite3_column_int64(q->idem, 0);
            snprintf(c->dup_name, sizeof c->dup_name, "%s",
                     (const char *)sqlite3_column_text(q->idem, 1));
            c->dup_json = sqlite3_column_int(q->idem, 2) != 0;
            sqlite3_reset(q->idem);
            return HK_OK;
        }
        sqlite3_reset(q->idem);
        if (rc != SQLITE_DONE)
            return fail(w, "idempotency look-up");
    }
    sqlite3_stmt *st = q->ins_event;
    sqlite3_reset(st);
    sqlite3_bind_text(st, 1, e->name, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 2, e->json);
    sqlite3_bind_text(st, 3, e->value1, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, e->value2, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 5, e->value3, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 6, e->payload, -1, SQLITE_STATIC);
    sqlite3_bind_int64(st, 7, e->occurred_at);
    sqlite3_bind_int64(st, 8, now_ms);
    sqlite3_bind_text(st, 9, e->source_ip, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 10, c->idem_key, -1, SQLITE_STATIC);
    int rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fail(w, "insert event");
    c->event_id = sqlite3_last_insert_rowid(w);
    if (!listened(q, e->name)) {
        c->deliveries = 0;
        c->status = HK_COMMIT_STORED;
        return HK_OK;
    }
    st = q->ins_deliv;
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, c->event_id);
    sqlite3_bind_int64(st, 2, now_ms);
    sqlite3_bind_text(st, 3, e->name, -1, SQLITE_STATIC);
    rc = sqlite3_step(st);
    sqlite3_reset(st);
    if (rc != SQLITE_DONE)
        return fail(w, "insert deliveries");
    c->deliveries = sqlite3_changes(w);
    c->status = HK_COMMIT_STORED;
    return HK_OK;
}

/* an attempt and its delivery's new state, inside the caller's transaction */
static int record_attempt(sq *q, hk_finish *f)
{
    const hk_delivery *d = f->d;
    const hk_attempt *a = f->a;
    sqlite3_stmt *ia = q->ins_attempt, *ud = q->upd_deliv;
    sqlite3_reset(ia);
    sqlite3_reset(ud);
    sqlite3_bind_int64(ia, 1, d->id);
    sqlite3_bind_int64(ia, 2, a->started_ms);
    sqlite3_bind_int64(ia, 3, a->duration_ms);
    sqlite3_bind_text(ia, 4, a->status, -1, SQLITE_STATIC);
    sqlite3_bind_text(ia, 5, a->result, -1, SQLITE_STATIC);
    sqlite3_bind_text(ud, 1, f->state, -1, SQLITE_STATIC);
    sqlite3_bind_int(ud, 2, f->tries);
    sqlite3_bind_int64(ud, 3, f->next_at_ms);
    sqlite3_bind_int64(ud, 4, a->started_ms + a->duration_ms);
    sqlite3_bind_text(ud, 5, a->result, -1, SQLITE_STATIC);
    sqlite3_bind_text(ud, 6, d->action, -1, SQLITE_STATIC);
    sqlite3_bind_int64(ud, 7, d->id);
    sqlite3_bind_int64(ud, 8, d->claim);
    int rc = HK_OK;
    if (sqlite3_step(ia) != SQLITE_DONE || sqlite3_step(ud) != SQLITE_DONE)
        rc = fail(q->w, "record attempt");
    else
        f->lost = sqlite3_changes(q->w) == 0;
    sqlite3_reset(ia);
    sqlite3_reset(ud);
    sqlite3_clear_bindings(ia);   /* the bound strings are the caller's */
    sqlite3_clear_bindings(ud);
    return rc;
}

static int sq_commit_events(void *db, hk_commit **items, size_t n, hk_finish **fins, size_t nf,
                            int64_t now_ms)
{
    sq *q = db;
    int rc = HK_OK;
    pthread_mutex_lock(&q->wmu);
    if (step_done(q->begin) != HK_OK) {
        rc = fail(q->w, "BEGIN IMMEDIATE");
    } else {
        if (n > 0)
            listened_refresh(q);
        for (size_t i = 0; i < n && rc == HK_OK; i++)
            rc = commit_one(q, items[i], now_ms);
        for (size_t i = 0; i < nf && rc == HK_OK; i++)
            rc = record_attempt(q, fins[i]);
        if (rc == HK_OK && step_done(q->commit) != HK_OK)
            rc = fail(q->w, "COMMIT");
    }
    char why[120] = "";
    if (rc != HK_OK) {
        snprintf(why, sizeof why, "%s", sqlite3_errmsg(q->w));
        rollback(q->w);
    }
    hk_commit_outcome(items, n, fins, nf, rc, why);
    pthread_mutex_unlock(&q->wmu);
    return rc;
}

/* ---- settings ---- */

static int sq_setting_get(void *db, const char *name, char **value)
{
    sq *q = db;
    *value = NULL;
    pthread_mutex_lock(&q->rmu);
    int rc = HK_E_STORE;
    sqlite3_stmt *st = prep(q->r, "SELECT value FROM settings WHERE name = ?");
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW) {
            *value = col_dup(st, 0);
            rc = *value ? HK_OK : HK_E_STORE;
        } else if (s == SQLITE_DONE) {
            rc = HK_E_NOTFOUND;
        } else {
            fail(q->r, "read setting");
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->rmu);
    return rc;
}

static int sq_setting_set(void *db, const char *name, const char *value)
{
    sq *q = db;
    pthread_mutex_lock(&q->wmu);
    int rc = HK_E_STORE;
    sqlite3_stmt *st = prep(q->w,
                            "INSERT INTO settings(name, value) VALUES(?, ?)"
                            " ON CONFLICT(name) DO UPDATE SET value = excluded.value");
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? HK_OK : fail(q->w, "write setting");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->wmu);
    return rc;
}

static int sq_setting_add(void *db, const char *name, const char *value)
{
    sq *q = db;
    pthread_mutex_lock(&q->wmu);
    int rc = HK_E_STORE;
    sqlite3_stmt *st = prep(q->w, "INSERT INTO settings(name, value) VALUES(?, ?)"
                                  " ON CONFLICT(name) DO NOTHING");
    if (st) {
        sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        sqlite3_bind_text(st, 2, value, -1, SQLITE_STATIC);
        if (sqlite3_step(st) == SQLITE_DONE)
            rc = sqlite3_changes(q->w) ? HK_OK : HK_E_CONFLICT;
        else
            rc = fail(q->w, "add setting");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->wmu);
    return rc;
}

/* ---- applets ---- */

#define APPLET_COLS "id, name, event, action, fields, enabled"

/* the text of column i, or NULL */
static const char *col_text(sqlite3_stmt *st, int i)
{
    return (const char *)sqlite3_column_text(st, i);
}

static int applet_from_row(sqlite3_stmt *st, hk_applet *a)
{
    return hk_applet_from_cols(a, sqlite3_column_int64(st, 0), col_text(st, 1), col_text(st, 2),
                               col_text(st, 3), col_text(st, 4), sqlite3_column_int(st, 5) != 0);
}

static int sq_applet_list(void *db, hk_applet **out, size_t *n)
{
    sq *q = db;
    *out = NULL;
    *n = 0;
    pthread_mutex_lock(&q->rmu);
    int rc = HK_E_STORE;
    size_t cap = 0;
    sqlite3_stmt *st = prep(q->r, "SELECT " APPLET_COLS " FROM applets ORDER BY id");
    if (st) {
        int s;
        rc = HK_OK;
        while (rc == HK_OK && (s = sqlite3_step(st)) == SQLITE_ROW) {
            if (*n == cap) {
                cap = cap ? cap * 2 : 16;
                hk_applet *grown = realloc(*out, cap * sizeof **out);
                if (!grown) {
                    rc = HK_E_STORE;
                    break;
                }
                *out = grown;
            }
            rc = applet_from_row(st, &(*out)[*n]);
            if (rc == HK_OK)
                (*n)++;
        }
        if (rc == HK_OK && s != SQLITE_DONE)
            rc = fail(q->r, "list applets");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->rmu);
    return rc;
}

static int sq_applet_get(void *db, int64_t id, const char *name, hk_applet *out)
{
    sq *q = db;
    memset(out, 0, sizeof *out);
    pthread_mutex_lock(&q->rmu);
    int rc = HK_E_STORE;
    sqlite3_stmt *st = prep(q->r, id ? "SELECT " APPLET_COLS " FROM applets WHERE id = ?"
                                     : "SELECT " APPLET_COLS " FROM applets WHERE name = ?");
    if (st) {
        if (id)
            sqlite3_bind_int64(st, 1, id);
        else
            sqlite3_bind_text(st, 1, name, -1, SQLITE_STATIC);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW)
            rc = applet_from_row(st, out);
        else if (s == SQLITE_DONE)
            rc = HK_E_NOTFOUND;
        else
            rc = fail(q->r, "read applet");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->rmu);
    return rc;
}

static int write_applet(sq *q, sqlite3_stmt *st, const hk_applet *a, int64_t now_ms)
{
    char *fields = json_dumps(a->fields, JSON_COMPACT);
    if (!fields)
        return HK_E_STORE;
    sqlite3_bind_text(st, 1, a->name, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, a->event, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 3, a->action, -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 4, fields, -1, SQLITE_STATIC);
    sqlite3_bind_int(st, 5, a->enabled);
    sqlite3_bind_int64(st, 6, now_ms);
    sqlite3_bind_int64(st, 7, a->id);
    int s = sqlite3_step(st);
    free(fields);
    if (s == SQLITE_DONE)
        return HK_OK;
    if (sqlite3_extended_errcode(q->w) == SQLITE_CONSTRAINT_UNIQUE)
        return HK_E_CONFLICT;
    return fail(q->w, "write applet");
}

static int sq_applet_insert(void *db, hk_applet *a, int64_t now_ms)
{
    sq *q = db;
    pthread_mutex_lock(&q->wmu);
    q->listened_ok = false;   /* read again at the next commit */
    int rc = HK_E_STORE;
    sqlite3_stmt *st = prep(q->w,
                            "INSERT INTO applets(name, event, action, fields, enabled, created_ms,"
                            " updated_ms) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?6)");
    if (st) {
        int64_t id = a->id;
        a->id = 0;
        rc = write_applet(q, st, a, now_ms);
        a->id = rc == HK_OK ? sqlite3_last_insert_rowid(q->w) : id;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->wmu);
    return rc;
}

static int sq_applet_update(void *db, const hk_applet *a, int64_t now_ms)
{
    sq *q = db;
    pthread_mutex_lock(&q->wmu);
    q->listened_ok = false;   /* read again at the next commit */
    int rc = HK_E_STORE;
    sqlite3_stmt *st = prep(q->w,
                            "UPDATE applets SET name = ?1, event = ?2, action = ?3, fields = ?4,"
                            " enabled = ?5, updated_ms = ?6 WHERE id = ?7");
    if (st) {
        rc = write_applet(q, st, a, now_ms);
        if (rc == HK_OK && sqlite3_changes(q->w) == 0)
            rc = HK_E_NOTFOUND;
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->wmu);
    return rc;
}

static int sq_applet_delete(void *db, int64_t id)
{
    sq *q = db;
    pthread_mutex_lock(&q->wmu);
    q->listened_ok = false;   /* read again at the next commit */
    int rc = HK_E_STORE;
    sqlite3_stmt *st = prep(q->w, "DELETE FROM applets WHERE id = ?");
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        if (sqlite3_step(st) == SQLITE_DONE)
            rc = sqlite3_changes(q->w) ? HK_OK : HK_E_NOTFOUND;
        else
            rc = fail(q->w, "delete applet");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->wmu);
    return rc;
}

/* ---- reading events ---- */

static int sq_event_get(void *db, int64_t id, hk_event **out)
{
    sq *q = db;
    *out = NULL;
    pthread_mutex_lock(&q->rmu);
    int rc = HK_E_STORE;
    sqlite3_stmt *st = prep(q->r,
                            "SELECT name, json, value1, value2, value3, payload, occurred_at,"
                            " source_ip FROM events WHERE id = ?");
    if (st) {
        sqlite3_bind_int64(st, 1, id);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW) {
            *out = hk_event_from_cols(id, col_text(st, 0), sqlite3_column_int(st, 1) != 0,
                                      col_text(st, 2), col_text(st, 3), col_text(st, 4),
                                      col_text(st, 5), sqlite3_column_int64(st, 6),
                                      col_text(st, 7));
            if (*out)
                rc = HK_OK;
        } else if (s == SQLITE_DONE) {
            rc = HK_E_NOTFOUND;
        } else {
            fail(q->r, "read event");
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->rmu);
    return rc;
}

static json_t *col_json(sqlite3_stmt *st, int i)
{
    switch (sqlite3_column_type(st, i)) {
    case SQLITE_NULL:
        return json_null();
    case SQLITE_INTEGER:
        return json_integer(sqlite3_column_int64(st, i));
    default: {
        const char *t = (const char *)sqlite3_column_text(st, i);
        return t ? json_string(t) : json_null();
    }
    }
}

/* Rows of st as objects with the given keys (one per column), into arr. */
static int rows_json(sqlite3_stmt *st, const char *const *keys, int nkeys, json_t *arr)
{
    int s;
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        json_t *o = json_object();
        for (int i = 0; i < nkeys; i++)
            json_object_set_new(o, keys[i], col_json(st, i));
        json_array_append_new(arr, o);
    }
    return s == SQLITE_DONE ? HK_OK : HK_E_STORE;
}

static int sq_events_json(void *db, const hk_event_query *qr, json_t **out)
{
    sq *q = db;
    *out = NULL;
    json_t *events = json_array();
    pthread_mutex_lock(&q->rmu);
    int rc = exec(q->r, "BEGIN");   /* one snapshot for the whole answer */
    sqlite3_stmt *se = NULL, *sd = NULL, *sa = NULL;
    if (rc == HK_OK) {
        se = prep(q->r,
                  "SELECT id, name, json, value1, value2, value3, payload, occurred_at, source_ip,"
                  " idem_key FROM events WHERE (?1 = 0 OR id < ?1) AND (?2 IS NULL OR name = ?2)"
                  " ORDER BY id DESC LIMIT ?3");
        sd = prep(q->r,
                  "SELECT id, applet_id, applet_name, action, state, tries, next_at, created_ms,"
                  " updated_ms, last_result FROM deliveries WHERE event_id = ? ORDER BY id");
        sa = prep(q->r,
                  "SELECT started_ms, duration_ms, status, result FROM attempts"
                  " WHERE delivery_id = ? ORDER BY id");
        rc = se && sd && sa ? HK_OK : HK_E_STORE;
    }
    if (rc == HK_OK) {
        sqlite3_bind_int64(se, 1, qr->before_id);
        sqlite3_bind_text(se, 2, qr->event, -1, SQLITE_STATIC);
        sqlite3_bind_int(se, 3, qr->limit);
        rc = rows_json(se, hk_event_keys, HK_EVENT_KEYS, events);
    }
    size_t i;
    json_t *ev;
    json_array_foreach(events, i, ev)
    {
        if (rc != HK_OK)
            break;
        json_object_set_new(ev, "json", json_boolean(json_integer_value(json_object_get(ev, "json"))));
        json_t *dels = json_array();
        json_object_set_new(ev, "deliveries", dels);
        sqlite3_reset(sd);
        sqlite3_bind_int64(sd, 1, json_integer_value(json_object_get(ev, "id")));
        rc = rows_json(sd, hk_delivery_keys, HK_DELIVERY_KEYS, dels);
        size_t j;
        json_t *d;
        json_array_foreach(dels, j, d)
        {
            if (rc != HK_OK)
                break;
            json_t *atts = json_array();
            json_object_set_new(d, "attempts", atts);
            sqlite3_reset(sa);
            sqlite3_bind_int64(sa, 1, json_integer_value(json_object_get(d, "id")));
            rc = rows_json(sa, hk_attempt_keys, HK_ATTEMPT_KEYS, atts);
        }
    }
    if (rc != HK_OK)
        fail(q->r, "list events");
    sqlite3_finalize(se);
    sqlite3_finalize(sd);
    sqlite3_finalize(sa);
    if (!sqlite3_get_autocommit(q->r))
        sqlite3_exec(q->r, "COMMIT", NULL, NULL, NULL);
    pthread_mutex_unlock(&q->rmu);
    if (rc != HK_OK) {
        json_decref(events);
        return HK_E_STORE;
    }
    *out = json_pack("{s:o}", "events", events);
    return *out ? HK_OK : HK_E_STORE;
}

/* ---- deliveries ---- */

/* One statement: the due deliveries become ours with a lease. Written without a sync (as a
 * lost claim is harmless: after a crash recover() or the lease makes them due again); the
 * next synced commit makes it durable too. */
static int sq_delivery_claim(void *db, int64_t now_ms, int64_t lease_until_ms, int64_t owner,
                             int64_t claim, hk_delivery *out, int max, int64_t *next_due_ms)
{
    sq *q = db;
    *next_due_ms = 0;
    pthread_mutex_lock(&q->wmu);
    int n = 0, s;
    sqlite3_stmt *st = q->claim;
    if (step_done(q->sync_normal) != HK_OK)
        fail(q->w, "PRAGMA synchronous=NORMAL");
    sqlite3_reset(st);
    sqlite3_bind_int64(st, 1, owner);
    sqlite3_bind_int64(st, 2, claim);
    sqlite3_bind_int64(st, 3, lease_until_ms);
    sqlite3_bind_int64(st, 4, now_ms);
    sqlite3_bind_int(st, 5, max);
    while ((s = sqlite3_step(st)) == SQLITE_ROW) {
        if (n >= max)
            continue;
        hk_delivery *d = &out[n++];
        memset(d, 0, sizeof *d);
        d->id = sqlite3_column_int64(st, 0);
        d->event_id = sqlite3_column_int64(st, 1);
        d->applet_id = sqlite3_column_int64(st, 2);
        snprintf(d->action, sizeof d->action, "%s", (const char *)sqlite3_column_text(st, 3));
        d->tries = sqlite3_column_int(st, 4);
        d->claim = claim;
    }
    int rc = s == SQLITE_DONE ? n : fail(q->w, "claim deliveries");
    sqlite3_reset(st);
    if (step_done(q->sync_full) != HK_OK) {
        /* never leave the writer below FULL: the events' commits rely on it */
        fail(q->w, "PRAGMA synchronous=FULL");
        exec(q->w, "PRAGMA synchronous=FULL");
    }
    if (rc == 0) {
        st = q->next_due;
        sqlite3_reset(st);
        if (sqlite3_step(st) == SQLITE_ROW)
            *next_due_ms = sqlite3_column_int64(st, 0);
        else
            rc = fail(q->w, "next due delivery");
        sqlite3_reset(st);
    }
    pthread_mutex_unlock(&q->wmu);
    return rc;
}

static int sq_delivery_finish(void *db, hk_finish *f)
{
    sq *q = db;
    pthread_mutex_lock(&q->wmu);
    int rc = exec(q->w, "BEGIN IMMEDIATE");
    if (rc == HK_OK)
        rc = record_attempt(q, f);
    if (rc == HK_OK)
        rc = exec(q->w, "COMMIT");
    if (rc != HK_OK)
        rollback(q->w);
    pthread_mutex_unlock(&q->wmu);
    return rc;
}

/* a one-off write statement with int64 parameters; *changes when not NULL */
static int write_ints(sq *q, const char *sql, const int64_t *v, int nv, int *changes,
                      const char *what)
{
    pthread_mutex_lock(&q->wmu);
    int rc = HK_E_STORE;
    sqlite3_stmt *st = prep(q->w, sql);
    if (st) {
        for (int i = 0; i < nv; i++)
            sqlite3_bind_int64(st, i + 1, v[i]);
        if (sqlite3_step(st) == SQLITE_DONE) {
            rc = HK_OK;
            if (changes)
                *changes = sqlite3_changes(q->w);
        } else {
            rc = fail(q->w, what);
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->wmu);
    return rc;
}

static int sq_delivery_extend(void *db, int64_t owner, int64_t lease_until_ms, int64_t now_ms)
{
    int64_t v[] = {lease_until_ms, owner};
    (void)now_ms;
    return write_ints(db, "UPDATE deliveries SET next_at = ?1 WHERE state = 'running'"
                          " AND owner = ?2", v, 2, NULL, "renew leases");
}

static int sq_delivery_release(void *db, const hk_delivery *d, int64_t now_ms)
{
    int64_t v[] = {now_ms, d->id, d->claim};
    return write_ints(db, "UPDATE deliveries SET state = 'pending', next_at = ?1, updated_ms = ?1,"
                          " owner = NULL, claim = NULL"
                          " WHERE id = ?2 AND claim = ?3 AND state = 'running'",
                      v, 3, NULL, "release delivery");
}

static int sq_delivery_retry(void *db, int64_t id, int64_t now_ms)
{
    sq *q = db;
    pthread_mutex_lock(&q->wmu);
    int rc = HK_E_STORE;
    sqlite3_stmt *st = prep(q->w,
                            "UPDATE deliveries SET state = 'pending', tries = 0, next_at = ?1,"
                            " updated_ms = ?1, owner = NULL, claim = NULL"
                            " WHERE id = ?2 AND state = 'failed'");
    if (st) {
        sqlite3_bind_int64(st, 1, now_ms);
        sqlite3_bind_int64(st, 2, id);
        if (sqlite3_step(st) != SQLITE_DONE) {
            rc = fail(q->w, "retry delivery");
        } else if (sqlite3_changes(q->w) == 1) {
            rc = HK_OK;
        } else {
            sqlite3_finalize(st);
            st = prep(q->w, "SELECT 1 FROM deliveries WHERE id = ?");
            if (st) {
                sqlite3_bind_int64(st, 1, id);
                rc = sqlite3_step(st) == SQLITE_ROW ? HK_E_STATE : HK_E_NOTFOUND;
            }
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->wmu);
    return rc;
}

static int sq_delivery_recover(void *db, int64_t now_ms, int *n)
{
    sq *q = db;
    *n = 0;
    pthread_mutex_lock(&q->wmu);
    int rc = HK_E_STORE;
    sqlite3_stmt *st = prep(q->w,
                            "UPDATE deliveries SET state = 'pending', updated_ms = ?1,"
                            " next_at = ?1, owner = NULL, claim = NULL WHERE state = 'running'");
    if (st) {
        sqlite3_bind_int64(st, 1, now_ms);
        if (sqlite3_step(st) == SQLITE_DONE) {
            *n = sqlite3_changes(q->w);
            rc = HK_OK;
        } else {
            rc = fail(q->w, "recover deliveries");
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->wmu);
    return rc;
}

static int sq_delivery_counts(void *db, int64_t *pending, int64_t *running, int64_t *failed)
{
    sq *q = db;
    *pending = *running = *failed = 0;
    pthread_mutex_lock(&q->rmu);
    int rc = HK_E_STORE;
    sqlite3_stmt *st = prep(q->r,
                            "SELECT state, count(*) FROM deliveries"
                            " WHERE state IN ('pending', 'running', 'failed') GROUP BY state");
    if (st) {
        int s;
        while ((s = sqlite3_step(st)) == SQLITE_ROW) {
            const char *state = (const char *)sqlite3_column_text(st, 0);
            int64_t c = sqlite3_column_int64(st, 1);
            if (strcmp(state, "pending") == 0)
                *pending = c;
            else if (strcmp(state, "running") == 0)
                *running = c;
            else
                *failed = c;
        }
        rc = s == SQLITE_DONE ? HK_OK : fail(q->r, "count deliveries");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->rmu);
    return rc;
}

static int sq_prune(void *db, int64_t before_s, int64_t *after, int *n)
{
    sq *q = db;
    int rc = HK_OK;
    pthread_mutex_lock(&q->wmu);
    /* the next HK_PRUNE_SLICE ids (by the table's own b-tree: no index of the time), then
     * the old ones among them that have nothing left to deliver */
    sqlite3_stmt *next = prep(q->w, "SELECT max(id) FROM (SELECT id FROM events WHERE id > ?1"
                                    " ORDER BY id LIMIT ?2)");
    sqlite3_stmt *del = prep(q->w,
                             "DELETE FROM events WHERE id > ?1 AND id <= ?2 AND occurred_at < ?3"
                             " AND NOT EXISTS (SELECT 1 FROM deliveries WHERE event_id = events.id"
                             " AND state IN ('pending', 'running'))");
    if (!next || !del) {
        rc = HK_E_STORE;
    } else {
        sqlite3_bind_int64(next, 1, *after);
        sqlite3_bind_int(next, 2, HK_PRUNE_SLICE);
        if (sqlite3_step(next) != SQLITE_ROW) {
            rc = fail(q->w, "prune events");
        } else if (sqlite3_column_type(next, 0) == SQLITE_NULL) {
            *after = -1;   /* past the last event */
        } else {
            int64_t upto = sqlite3_column_int64(next, 0);
            sqlite3_bind_int64(del, 1, *after);
            sqlite3_bind_int64(del, 2, upto);
            sqlite3_bind_int64(del, 3, before_s);
            if (sqlite3_step(del) == SQLITE_DONE) {
                *n = sqlite3_changes(q->w);
                *after = upto;
            } else {
                rc = fail(q->w, "prune events");
            }
        }
    }
    sqlite3_finalize(next);
    sqlite3_finalize(del);
    pthread_mutex_unlock(&q->wmu);
    return rc;
}

/* ---- sessions ---- */

static int sq_session_put(void *db, const char *id, const char *csrf, int64_t now_ms,
                          int64_t idle_ms)
{
    sq *q = db;
    pthread_mutex_lock(&q->wmu);
    int rc = HK_E_STORE;
    sqlite3_stmt *del = prep(q->w, "DELETE FROM sessions WHERE last_ms < ?");
    sqlite3_stmt *ins = prep(q->w, "INSERT OR REPLACE INTO sessions(id, csrf, created_ms, last_ms)"
                                   " VALUES(?1, ?2, ?3, ?3)");
    if (del && ins) {
        sqlite3_bind_int64(del, 1, now_ms - idle_ms);
        sqlite3_bind_text(ins, 1, id, -1, SQLITE_STATIC);
        sqlite3_bind_text(ins, 2, csrf, -1, SQLITE_STATIC);
        sqlite3_bind_int64(ins, 3, now_ms);
        rc = sqlite3_step(del) == SQLITE_DONE && sqlite3_step(ins) == SQLITE_DONE
                 ? HK_OK
                 : fail(q->w, "store session");
    }
    sqlite3_finalize(del);
    sqlite3_finalize(ins);
    pthread_mutex_unlock(&q->wmu);
    return rc;
}

static int sq_session_get(void *db, const char *id, int64_t now_ms, int64_t idle_ms, char *csrf,
                          size_t csrfcap)
{
    sq *q = db;
    int64_t last = 0;
    pthread_mutex_lock(&q->rmu);
    int rc = HK_E_STORE;
    sqlite3_stmt *st = prep(q->r, "SELECT csrf, last_ms FROM sessions WHERE id = ?");
    if (st) {
        sqlite3_bind_text(st, 1, id, -1, SQLITE_STATIC);
        int s = sqlite3_step(st);
        if (s == SQLITE_ROW) {
            last = sqlite3_column_int64(st, 1);
            if (last < now_ms - idle_ms) {
                rc = HK_E_NOTFOUND;
            } else {
                if (csrf)
                    snprintf(csrf, csrfcap, "%s", (const char *)sqlite3_column_text(st, 0));
                rc = HK_OK;
            }
        } else if (s == SQLITE_DONE) {
            rc = HK_E_NOTFOUND;
        } else {
            fail(q->r, "read session");
        }
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->rmu);
    if (rc == HK_OK && now_ms - last > HK_SESSION_TOUCH_MS) {
        pthread_mutex_lock(&q->wmu);
        st = prep(q->w, "UPDATE sessions SET last_ms = ? WHERE id = ?");
        if (st) {
            sqlite3_bind_int64(st, 1, now_ms);
            sqlite3_bind_text(st, 2, id, -1, SQLITE_STATIC);
            if (sqlite3_step(st) != SQLITE_DONE)
                fail(q->w, "touch session");   /* the session still counts */
            sqlite3_finalize(st);
        }
        pthread_mutex_unlock(&q->wmu);
    }
    return rc;
}

static int sq_session_delete(void *db, const char *id, const char *keep)
{
    sq *q = db;
    pthread_mutex_lock(&q->wmu);
    int rc = HK_E_STORE;
    sqlite3_stmt *st = prep(q->w, id ? "DELETE FROM sessions WHERE id = ?"
                                     : "DELETE FROM sessions WHERE id IS NOT ?");
    if (st) {
        sqlite3_bind_text(st, 1, id ? id : keep, -1, SQLITE_STATIC);
        rc = sqlite3_step(st) == SQLITE_DONE ? HK_OK : fail(q->w, "delete sessions");
        sqlite3_finalize(st);
    }
    pthread_mutex_unlock(&q->wmu);
    return rc;
}

const hk_store_ops hk_store_sqlite = {
    .name = "sqlite",
    .open = sq_open,
    .close = sq_close,
    .commit_events = sq_commit_events,
    .setting_get = sq_setting_get,
    .setting_set = sq_setting_set,
    .setting_add = sq_setting_add,
    .applet_list = sq_applet_list,
    .applet_get = sq_applet_get,
    .applet_insert = sq_applet_insert,
    .applet_update = sq_applet_update,
    .applet_delete = sq_applet_delete,
    .event_get = sq_event_get,
    .events_json = sq_events_json,
    .delivery_claim = sq_delivery_claim,
    .delivery_finish = sq_delivery_finish,
    .delivery_extend = sq_delivery_extend,
    .delivery_release = sq_delivery_release,
    .delivery_retry = sq_delivery_retry,
    .delivery_recover = sq_delivery_recover,
    .delivery_counts = sq_delivery_counts,
    .prune = sq_prune,
    .session_put = sq_session_put,
    .session_get = sq_session_get,
    .session_delete = sq_session_delete,
    .watch = NULL,
};
