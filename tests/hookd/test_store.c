/*
 * test_store.c - the store (store.h) without the server: group commit, idempotency keys,
 * deliveries for matching enabled applets only, batch claims with a lease / take-over /
 * renewal / release / finish / retry / recover, the events list, retention pruning, settings,
 * sessions; deliveries follow applets changed just before a commit (by the store, or by another
 * process writing the SQLite file); and two store handles (two instances) on one store: one idempotency key submitted
 * through both is stored once, and concurrent claimers never get the same delivery.
 *
 * The store: a new SQLite data folder, or with HOOKD_TEST_STORE=postgresql://... (an empty
 * database: tests/hookd/pg_run.py makes one) that PostgreSQL database.
 * Exits non-zero when a check fails.
 */
#define _GNU_SOURCE
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <sqlite3.h>

#include "store.h"

#include "check.h"

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static int done_count;

static void on_done(hk_commit *c)
{
    (void)c;
    pthread_mutex_lock(&mu);
    done_count++;
    pthread_cond_broadcast(&cv);
    pthread_mutex_unlock(&mu);
}

static hk_event *event(const char *name, const char *v1, int64_t when)
{
    hk_event *e = calloc(1, sizeof *e);
    e->name = strdup(name);
    e->value1 = v1 ? strdup(v1) : NULL;
    e->occurred_at = when;
    e->source_ip = strdup("192.0.2.1");
    return e;
}

/* Submits n commits at once and waits for all. */
static void commit_all(hk_store *s, hk_commit *cs, int n)
{
    pthread_mutex_lock(&mu);
    done_count = 0;
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < n; i++) {
        cs[i].done = on_done;
        CHECK(hk_store_submit(s, &cs[i]) == HK_OK, "submit %d", i);
    }
    pthread_mutex_lock(&mu);
    while (done_count < n)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
}

#define LEASE 30000

/* Claims and finishes everything due through one store handle (a thread per "instance"). */
typedef struct {
    hk_store *s;
    int64_t ids[512];
    int n, batches;
} drainer;

static void *drain(void *arg)
{
    drainer *dr = arg;
    hk_delivery ds[7];
    int64_t next;
    int got;
    while ((got = hk_store_delivery_claim(dr->s, hk_now_ms(), LEASE, ds, 7, &next)) > 0) {
        dr->batches++;
        for (int i = 0; i < got; i++) {
            if (dr->n < 512)
                dr->ids[dr->n++] = ds[i].id;
            hk_attempt at = {.started_ms = hk_now_ms(), .status = "ok", .result = "ok"};
            bool lost = true;
            CHECK(hk_store_delivery_finish(dr->s, &ds[i], &at, "done", 0, 1, &lost) == HK_OK &&
                      !lost, "finish %lld", (long long)ds[i].id);
        }
    }
    CHECK(got == 0, "claim: %d", got);
    return NULL;
}

static void two_instances(const char *where, int64_t now)
{
    char err[256];
    hk_store *a = hk_store_open(where, err, sizeof err);
    hk_store *b = hk_store_open(where, err, sizeof err);
    CHECK(a && b, "open twice: %s", err);
    if (!a || !b)
        return;
    hk_store_start(a);
    hk_store_start(b);
    /* the same idempotency key through both handles at once: stored once */
    enum { K = 20 };
    hk_commit ca[K], cb[K];
    hk_event *ea[K], *eb[K];
    memset(ca, 0, sizeof ca);
    memset(cb, 0, sizeof cb);
    char keys[K][32];
    pthread_mutex_lock(&mu);
    done_count = 0;
    pthread_mutex_unlock(&mu);
    for (int i = 0; i < K; i++)
        snprintf(keys[i], sizeof keys[i], "both-%d", i);
    for (int i = 0; i < K; i++) {
        ea[i] = event("press", "a", now);
        eb[i] = event("press", "b", now);
        ca[i] = (hk_commit){.event = ea[i], .idem_key = keys[i], .done = on_done};
        cb[i] = (hk_commit){.event = eb[i], .idem_key = keys[K - 1 - i], .done = on_done};
        hk_store_submit(a, &ca[i]);
        hk_store_submit(b, &cb[i]);
    }
    pthread_mutex_lock(&mu);
    while (done_count < 2 * K)
        pthread_cond_wait(&cv, &mu);
    pthread_mutex_unlock(&mu);
    int stored = 0, dups = 0, errors = 0;
    for (int i = 0; i < K; i++) {
        hk_commit *c2[2] = {&ca[i], &cb[K - 1 - i]};
        int st = 0;
        for (int j = 0; j < 2; j++) {
            stored += c2[j]->status == HK_COMMIT_STORED;
            dups += c2[j]->status == HK_COMMIT_DUPLICATE;
            errors += c2[j]->status == HK_COMMIT_ERROR;
            st += c2[j]->status == HK_COMMIT_STORED;
        }
        CHECK(st == 1 && c2[0]->event_id == c2[1]->event_id, "key %d stored %d times (%lld %lld)",
              i, st, (long long)c2[0]->event_id, (long long)c2[1]->event_id);
        hk_event_free(ea[i]);
        hk_event_free(eb[i]);
    }
    CHECK(stored == K && dups == K && errors == 0, "stored %d duplicates %d errors %d", stored,
          dups, errors);

    /* concurrent claimers: every due delivery claimed once */
    int64_t pending, running, failed;
    hk_store_delivery_counts(a, &pending, &running, &failed);
    drainer da = {.s = a}, db = {.s = b};
    pthread_t ta, tb;
    pthread_create(&ta, NULL, drain, &da);
    pthread_create(&tb, NULL, drain, &db);
    pthread_join(ta, NULL);
    pthread_join(tb, NULL);
    int twice = 0;
    for (int i = 0; i < da.n; i++)
        for (int j = 0; j < db.n; j++)
            twice += da.ids[i] == db.ids[j];
    CHECK(twice == 0, "%d deliveries claimed by both", twice);
    CHECK(da.n + db.n == pending, "claimed %d + %d of %lld", da.n, db.n, (long long)pending);
    printf("test_store: two instances: %d + %d deliveries claimed in %d + %d batches, "
           "%d twice\n", da.n, db.n, da.batches, db.batches, twice);
    hk_store_close(a);
    hk_store_close(b);
}

/* A data folder as the first hookd left it (schema version 1, PRAGMA user_version, no
 * schema_version table): opening it migrates it to the current version with its rows kept.
 * The schema below is a frozen copy of store_sqlite.c's migration 1 on purpose: it stands for
 * the files already out there, so code that relies on an edit of that migration (which old
 * files never get) fails here instead of passing with it. */
static void migrate_from_v1(void)
{
    char dir[] = "/tmp/hookd-test-v1-XXXXXX", path[128], err[256];
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    snprintf(path, sizeof path, "%s/hookd.db", dir);
    sqlite3 *db = NULL;
    CHECK(sqlite3_open(path, &db) == SQLITE_OK, "create v1");
    const char *v1 =
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
        "CREATE INDEX attempts_by_delivery ON attempts(delivery_id);"
        "PRAGMA user_version=1;"
        "INSERT INTO settings VALUES('key', 'kept-key');"
        "INSERT INTO events VALUES(1, 'press', 0, 'old', NULL, NULL, NULL, 1, 1, NULL, NULL);"
        "INSERT INTO events VALUES(2, 'keyed', 0, 'old', NULL, NULL, NULL, 1, 1, NULL, 'k1');"
        "INSERT INTO deliveries VALUES(1, 1, 1, 'a', 'file', 'pending', 0, 0, 1, 1, NULL);"
        "INSERT INTO deliveries VALUES(2, 1, 1, 'a', 'file', 'running', 0, 0, 1, 1, NULL);";
    CHECK(sqlite3_exec(db, v1, NULL, NULL, NULL) == SQLITE_OK, "v1: %s", sqlite3_errmsg(db));
    sqlite3_close(db);
    hk_store *s = hk_store_open(dir, err, sizeof err);
    CHECK(s != NULL, "open v1: %s", err);
    if (s) {
        char *v = NULL;
        int64_t pending, running, failed, next;
        int n;
        CHECK(hk_store_setting_get(s, "key", &v) == HK_OK && strcmp(v, "kept-key") == 0,
              "kept: %s", v);
        free(v);
        CHECK(hk_store_delivery_counts(s, &pending, &running, &failed) == HK_OK &&
                  pending == 1 && running == 1, "v1 rows: %lld %lld", (long long)pending,
              (long long)running);
        CHECK(hk_store_delivery_recover(s, &n) == HK_OK && n == 1, "recover %d", n);
        hk_delivery ds[4];
        CHECK(hk_store_delivery_claim(s, hk_now_ms(), LEASE, ds, 4, &next) == 2,
              "both claimable after the migration");
        CHECK(hk_store_session_put(s, "x", "y", 1000) == HK_OK, "sessions table");
        /* the old event's idempotency key still counts; a new one is stored */
        CHECK(hk_store_start(s) == HK_OK, "start");
        hk_event *e = event("press", "again", (int64_t)time(NULL));
        hk_commit c[2] = {{.event = e, .idem_key = "k1"}, {.event = e, .idem_key = "k2"}};
        commit_all(s, c, 2);
        CHECK(c[0].status == HK_COMMIT_DUPLICATE && c[0].event_id == 2 &&
                  strcmp(c[0].dup_name, "keyed") == 0, "k1 kept: %d", c[0].status);
        CHECK(c[1].status == HK_COMMIT_STORED && c[1].event_id == 3, "k2 stored: %d", c[1].status);
        hk_event_free(e);
        /* pruning: the old keyed event goes; the one with deliveries left to do stays */
        int64_t deleted = 0;
        CHECK(hk_store_prune(s, 2, &deleted) == HK_OK && deleted == 1, "pruned %lld",
              (long long)deleted);
        CHECK(hk_store_delivery_counts(s, &pending, &running, &failed) == HK_OK &&
                  pending + running + failed == 2, "deliveries kept: %lld %lld %lld",
              (long long)pending, (long long)running, (long long)failed);
        hk_store_close(s);
    }
    CHECK(sqlite3_open(path, &db) == SQLITE_OK, "reopen");
    sqlite3_stmt *st = NULL;
    sqlite3_prepare_v2(db, "SELECT group_concat(version), (SELECT user_version FROM"
                           " pragma_user_version) FROM schema_version", -1, &st, NULL);
    CHECK(st && sqlite3_step(st) == SQLITE_ROW &&
              strcmp((const char *)sqlite3_column_text(st, 0), "1,2,3,4") == 0 &&
              sqlite3_column_int(st, 1) == 4, "versions %s", st ? sqlite3_column_text(st, 0) : NULL);
    sqlite3_finalize(st);
    /* the key's index holds the keyed events only (k2; k1's was pruned); the deliveries'
     * foreign key names the new table; the time's index is gone (version 4) */
    sqlite3_prepare_v2(db, "SELECT (SELECT count(*) FROM events INDEXED BY events_by_idem_key"
                           " WHERE idem_key IS NOT NULL), (SELECT count(*) FROM"
                           " pragma_foreign_key_check), (SELECT count(*) FROM pragma_index_list("
                           "'events') WHERE origin = 'u'), (SELECT count(*) FROM"
                           " pragma_index_list('events') WHERE name = 'events_by_time')",
                       -1, &st, NULL);
    CHECK(st && sqlite3_step(st) == SQLITE_ROW && sqlite3_column_int(st, 0) == 1 &&
              sqlite3_column_int(st, 1) == 0 && sqlite3_column_int(st, 2) == 0 &&
              sqlite3_column_int(st, 3) == 0,
          "keys %d, foreign key errors %d, UNIQUE columns %d, time indexes %d",
          sqlite3_column_int(st, 0), sqlite3_column_int(st, 1), sqlite3_column_int(st, 2),
          sqlite3_column_int(st, 3));
    sqlite3_finalize(st);
    /* a newer file than this hookd knows is refused, not misused */
    sqlite3_exec(db, "INSERT INTO schema_version VALUES(99, 0)", NULL, NULL, NULL);
    sqlite3_close(db);
    s = hk_store_open(dir, err, sizeof err);
    CHECK(s == NULL && strstr(err, "schema version 99") != NULL, "newer refused: %s", err);
    hk_store_close(s);
    char cmd[160];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

static int64_t add_applet(hk_store *s, const char *name, const char *ev, bool enabled)
{
    hk_applet a = {0};
    a.name = strdup(name);
    a.event = strdup(ev);
    a.action = strdup("file");
    a.fields = json_pack("{s:s}", "path", "/tmp/unused");
    a.enabled = enabled;
    CHECK(hk_store_applet_insert(s, &a) == HK_OK, "insert %s", name);
    int64_t id = a.id;
    hk_applet_clear(&a);
    return id;
}

/* One event committed alone: the deliveries it got. */
static int deliveries_for(hk_store *s, const char *name)
{
    hk_event *e = event(name, "v", (int64_t)time(NULL));
    hk_commit c = {.event = e};
    commit_all(s, &c, 1);
    CHECK(c.status == HK_COMMIT_STORED, "%s stored", name);
    hk_event_free(e);
    return c.deliveries;
}

/* An event gets a delivery for the applets enabled when it is committed, whatever changed
 * them just before: this store's applet calls, or (SQLite) another process writing the file
 * (the SQLite backend keeps the events that have an applet in memory). */
static void applets_followed(const char *where, const char *sqlite_dir)
{
    char err[256];
    hk_store *s = hk_store_open(where, err, sizeof err);
    CHECK(s && hk_store_start(s) == HK_OK, "open: %s", err);
    if (!s)
        return;
    CHECK(deliveries_for(s, "later") == 0, "no applet yet");
    int64_t id = add_applet(s, "later one", "later", true);
    CHECK(deliveries_for(s, "later") == 1, "the new applet's delivery");
    hk_applet a;
    CHECK(hk_store_applet_get(s, id, NULL, &a) == HK_OK, "get");
    a.enabled = false;
    CHECK(hk_store_applet_update(s, &a) == HK_OK, "disable");
    CHECK(deliveries_for(s, "later") == 0, "disabled: none");
    a.enabled = true;
    CHECK(hk_store_applet_update(s, &a) == HK_OK, "enable");
    CHECK(deliveries_for(s, "later") == 1, "enabled again");
    hk_applet_clear(&a);
    CHECK(hk_store_applet_delete(s, id) == HK_OK, "delete");
    CHECK(deliveries_for(s, "later") == 0, "deleted: none");
    if (sqlite_dir) {
        char path[512];
        snprintf(path, sizeof path, "%s/hookd.db", sqlite_dir);
        sqlite3 *db = NULL;
        CHECK(sqlite3_open(path, &db) == SQLITE_OK, "open %s", path);
        sqlite3_busy_timeout(db, 5000);
        CHECK(sqlite3_exec(db, "INSERT INTO applets(name, event, action, fields, enabled,"
                               " created_ms, updated_ms) VALUES('outside', 'later', 'file',"
                               " '{}', 1, 0, 0)", NULL, NULL, NULL) == SQLITE_OK,
              "insert from outside: %s", sqlite3_errmsg(db));
        sqlite3_close(db);
        CHECK(deliveries_for(s, "later") == 1, "an applet another process added");
    }
    hk_store_close(s);
}

static void redact(void)
{
    char out[256];
    hk_store_redact("postgresql://hookd:s3cret@db:5432/hookd?sslmode=require&password=x", out,
                    sizeof out);
    CHECK(strcmp(out, "postgresql://hookd@db:5432/hookd") == 0, "redacted: %s", out);
    hk_store_redact("postgres:///hookd?host=/run/postgresql", out, sizeof out);
    CHECK(strcmp(out, "postgres:///hookd") == 0, "redacted: %s", out);
    hk_store_redact("/var/lib/hookd", out, sizeof out);
    CHECK(strcmp(out, "/var/lib/hookd") == 0, "a folder: %s", out);
    CHECK(hk_store_is_url("postgresql://x") && hk_store_is_url("postgres://x") &&
              !hk_store_is_url("sqlite:/x") && !hk_store_is_url("/x"), "is_url");
}

int main(void)
{
    redact();
    char dir[] = "/tmp/hookd-test-store-XXXXXX";
    CHECK(mkdtemp(dir) != NULL, "mkdtemp");
    const char *where = getenv("HOOKD_TEST_STORE");
    if (!where || !*where)
        where = dir;
    char err[256];
    hk_store *s = hk_store_open(where, err, sizeof err);
    CHECK(s != NULL, "open: %s", err);
    if (!s)
        return 1;
    CHECK(hk_store_start(s) == HK_OK, "start");
    bool sqlite = strcmp(hk_store_kind(s), "sqlite") == 0;
    printf("test_store: on %s\n", hk_store_kind(s));

    /* settings */
    char *v = NULL;
    CHECK(hk_store_setting_get(s, "key", &v) == HK_E_NOTFOUND, "no key yet");
    CHECK(hk_store_setting_set(s, "key", "one") == HK_OK, "set");
    CHECK(hk_store_setting_set(s, "key", "two") == HK_OK, "replace");
    CHECK(hk_store_setting_get(s, "key", &v) == HK_OK && strcmp(v, "two") == 0, "got %s", v);
    free(v);

    /* applets */
    int64_t a1 = add_applet(s, "one", "press", true);
    int64_t a2 = add_applet(s, "two", "press", true);
    add_applet(s, "off", "press", false);
    add_applet(s, "elsewhere", "other", true);
    hk_applet dup = {.name = "one", .event = "x", .action = "file", .fields = json_object()};
    CHECK(hk_store_applet_insert(s, &dup) == HK_E_CONFLICT, "unique names");
    json_decref(dup.fields);
    hk_applet got;
    CHECK(hk_store_applet_get(s, 0, "two", &got) == HK_OK && got.id == a2, "by name");
    hk_applet_clear(&got);
    CHECK(hk_store_applet_get(s, 9999, NULL, &got) == HK_E_NOTFOUND, "missing");
    hk_applet *list;
    size_t n;
    CHECK(hk_store_applet_list(s, &list, &n) == HK_OK && n == 4, "list %zu", n);
    hk_applets_free(list, n);

    /* group commit: many events, idempotency keys repeated inside one batch and across */
    int64_t now = (int64_t)time(NULL);
    enum { N = 40 };
    hk_commit cs[N];
    hk_event *evs[N];
    memset(cs, 0, sizeof cs);
    for (int i = 0; i < N; i++) {
        evs[i] = event(i % 2 ? "press" : "quiet", "v", now);
        cs[i].event = evs[i];
        cs[i].idem_key = i >= 30 ? "same-key" : NULL;
    }
    commit_all(s, cs, N);
    int stored = 0, dups = 0, deliveries = 0;
    for (int i = 0; i < N; i++) {
        stored += cs[i].status == HK_COMMIT_STORED;
        dups += cs[i].status == HK_COMMIT_DUPLICATE;
        deliveries += cs[i].deliveries;
    }
    CHECK(stored == 31 && dups == 9, "stored %d dups %d", stored, dups);
    /* odd i are "press" with 2 enabled applets; i = 30 (quiet) holds the key */
    CHECK(deliveries == 15 * 2, "deliveries %d", deliveries);
    CHECK(cs[31].status == HK_COMMIT_DUPLICATE && cs[31].event_id == cs[30].event_id &&
              strcmp(cs[31].dup_name, "quiet") == 0 && !cs[31].dup_json,
          "a repeat points at the first");
    CHECK(evs[1]->id == cs[1].event_id && evs[1]->id > 0, "the event's id is set");
    uint64_t batches, events;
    hk_store_commit_stats(s, &batches, &events);
    CHECK(events == N && batches >= 1 && batches <= N, "batches %llu events %llu",
          (unsigned long long)batches, (unsigned long long)events);
    for (int i = 0; i < N; i++)
        hk_event_free(evs[i]);

    /* deliveries */
    int64_t pending, running, failed, next;
    CHECK(hk_store_delivery_counts(s, &pending, &running, &failed) == HK_OK && pending == 30,
          "pending %lld", (long long)pending);
    int64_t t = hk_now_ms();
    hk_delivery ds[16], d;
    bool lost = true;
    CHECK(hk_store_delivery_claim(s, t, LEASE, ds, 1, &next) == 1, "claim one");
    d = ds[0];
    CHECK((d.applet_id == a1 || d.applet_id == a2) && strcmp(d.action, "file") == 0 &&
              d.tries == 0 && d.claim != 0, "claimed %lld", (long long)d.id);
    hk_attempt at = {.started_ms = t, .duration_ms = 5, .status = "retry", .result = "down"};
    CHECK(hk_store_delivery_finish(s, &d, &at, "pending", t + 60000, 1, &lost) == HK_OK && !lost,
          "finish");
    /* drain the rest, in batches */
    int claimed = 0, nbatch = 0, n_got;
    hk_delivery last = d;
    while ((n_got = hk_store_delivery_claim(s, t, LEASE, ds, 8, &next)) > 0) {
        CHECK(n_got <= 8, "a batch of %d", n_got);
        nbatch++;
        for (int i = 0; i < n_got; i++) {
            claimed++;
            last = ds[i];
            at.status = "ok";
            at.result = "fine";
            CHECK(hk_store_delivery_finish(s, &ds[i], &at, "done", t, 1, &lost) == HK_OK && !lost,
                  "done");
        }
    }
    CHECK(claimed == 29 && nbatch == 4, "claimed %d in %d batches", claimed, nbatch);
    CHECK(next == t + 60000, "the next due is the retry: %lld", (long long)(next - t));
    CHECK(hk_store_delivery_claim(s, t + 60000, LEASE, ds, 8, &next) == 1 && ds[0].tries == 1,
          "due later");
    d = ds[0];
    at.status = "fail";
    at.result = "gave up";
    CHECK(hk_store_delivery_finish(s, &d, &at, "failed", t, 2, NULL) == HK_OK, "failed");
    CHECK(hk_store_delivery_retry(s, last.id) == HK_E_STATE, "done is not retried");
    CHECK(hk_store_delivery_retry(s, 123456) == HK_E_NOTFOUND, "missing");
    CHECK(hk_store_delivery_retry(s, d.id) == HK_OK, "retry");
    t = hk_now_ms();
    CHECK(hk_store_delivery_claim(s, t, 1000, ds, 8, &next) == 1 && ds[0].tries == 0,
          "a new round");
    hk_delivery first = ds[0];
    /* the lease: held until it runs out, then anyone's (an instance that died) */
    CHECK(hk_store_delivery_claim(s, t + 500, 1000, ds, 8, &next) == 0 && next == t + 1000,
          "held by its lease: next %lld", (long long)(next - t));
    CHECK(hk_store_delivery_claim(s, t + 1001, 1000, ds, 8, &next) == 1 &&
              ds[0].id == first.id && ds[0].claim != first.claim, "taken over after the lease");
    at.status = "ok";
    at.result = "late";
    CHECK(hk_store_delivery_finish(s, &first, &at, "done", t, 1, &lost) == HK_OK && lost,
          "the first owner's finish finds its claim lost");
    CHECK(hk_store_delivery_counts(s, &pending, &running, &failed) == HK_OK && running == 1,
          "still the new owner's: running %lld", (long long)running);
    at.result = "retry later";
    CHECK(hk_store_delivery_finish(s, &ds[0], &at, "pending", t, 0, &lost) == HK_OK && !lost,
          "the new owner's finish counts");
    /* renewal: a lease renewed does not run out */
    t = hk_now_ms();
    CHECK(hk_store_delivery_claim(s, t, 10, ds, 8, &next) == 1, "claim with a short lease");
    CHECK(hk_store_delivery_extend(s, 60000) == HK_OK, "renew");
    CHECK(hk_store_delivery_claim(s, t + 1000, 1000, ds + 1, 8, &next) == 0, "renewed");
    /* release: back to pending, due now */
    CHECK(hk_store_delivery_release(s, &ds[0]) == HK_OK, "release");
    CHECK(hk_store_delivery_claim(s, hk_now_ms(), LEASE, ds, 8, &next) == 1, "claimable again");
    int recovered;
    CHECK(hk_store_delivery_recover(s, &recovered) == HK_OK && recovered == (sqlite ? 1 : 0),
          "recover %d", recovered);
    if (!sqlite)   /* PostgreSQL leaves it to the lease: give it back instead */
        CHECK(hk_store_delivery_release(s, &ds[0]) == HK_OK, "release");
    CHECK(hk_store_delivery_counts(s, &pending, &running, &failed) == HK_OK && pending == 1 &&
              running == 0 && failed == 0, "counts %lld %lld %lld", (long long)pending,
          (long long)running, (long long)failed);

    /* sessions */
    char csrf[64] = "";
    CHECK(hk_store_session_put(s, "s1", "csrf-1", 3600000) == HK_OK, "session");
    CHECK(hk_store_session_put(s, "s2", "csrf-2", 3600000) == HK_OK, "session 2");
    CHECK(hk_store_session_get(s, "s1", 3600000, csrf, sizeof csrf) == HK_OK &&
              strcmp(csrf, "csrf-1") == 0, "got %s", csrf);
    CHECK(hk_store_session_get(s, "nope", 3600000, csrf, sizeof csrf) == HK_E_NOTFOUND, "none");
    usleep(20000);
    CHECK(hk_store_session_get(s, "s1", 5, csrf, sizeof csrf) == HK_E_NOTFOUND, "idle too long");
    CHECK(hk_store_session_delete(s, NULL, "s2") == HK_OK &&
              hk_store_session_get(s, "s1", 3600000, NULL, 0) == HK_E_NOTFOUND &&
              hk_store_session_get(s, "s2", 3600000, NULL, 0) == HK_OK, "all but s2 ended");
    CHECK(hk_store_session_delete(s, "s2", NULL) == HK_OK &&
              hk_store_session_get(s, "s2", 3600000, NULL, 0) == HK_E_NOTFOUND, "logout");

    /* the events list */
    hk_event_query q = {.limit = 5, .event = "press"};
    json_t *j = NULL;
    CHECK(hk_store_events_json(s, &q, &j) == HK_OK, "events");
    json_t *arr = json_object_get(j, "events");
    CHECK(json_array_size(arr) == 5, "5 events");
    json_t *e0 = json_array_get(arr, 0);
    CHECK(strcmp(json_string_value(json_object_get(e0, "event")), "press") == 0, "filtered");
    CHECK(json_array_size(json_object_get(e0, "deliveries")) == 2, "2 deliveries");
    json_t *d0 = json_array_get(json_object_get(e0, "deliveries"), 0);
    CHECK(json_array_size(json_object_get(d0, "attempts")) >= 1, "attempts");
    json_decref(j);

    /* retention: old events go, unless a delivery is still to do */
    hk_commit old[2];
    memset(old, 0, sizeof old);
    hk_event *o1 = event("other", NULL, now - 100 * 86400);   /* one pending delivery */
    hk_event *o2 = event("quiet", NULL, now - 100 * 86400);   /* none */
    old[0].event = o1;
    old[1].event = o2;
    commit_all(s, old, 2);
    int64_t deleted;
    CHECK(hk_store_prune(s, now - 86400, &deleted) == HK_OK && deleted == 1, "pruned %lld",
          (long long)deleted);
    hk_event *back = NULL;
    CHECK(hk_store_event_get(s, o1->id, &back) == HK_OK, "kept: pending work");
    hk_event_free(back);
    CHECK(hk_store_event_get(s, o2->id, &back) == HK_E_NOTFOUND, "deleted");
    hk_event_free(o1);
    hk_event_free(o2);
    /* more than fits one slice (HK_PRUNE_SLICE a transaction): all of them go */
    enum { MANY = 2 * HK_PRUNE_SLICE + 1 };
    hk_commit *many = calloc(MANY, sizeof *many);
    for (int i = 0; i < MANY; i++)
        many[i].event = event("quiet", NULL, now - 100 * 86400);
    commit_all(s, many, MANY);
    CHECK(hk_store_prune(s, now - 86400, &deleted) == HK_OK && deleted == MANY,
          "pruned %lld of %d", (long long)deleted, MANY);
    for (int i = 0; i < MANY; i++)
        hk_event_free(many[i].event);
    free(many);

    /* after stop, submits are refused */
    hk_store_stop(s);
    hk_commit late = {0};
    CHECK(hk_store_submit(s, &late) == HK_E_CLOSED, "closed");
    hk_store_close(s);

    /* it is all still there after a reopen (the migrations are not applied twice) */
    s = hk_store_open(where, err, sizeof err);
    CHECK(s && hk_store_delivery_counts(s, &pending, &running, &failed) == HK_OK &&
              pending == 2, "reopened: pending %lld", (long long)pending);
    hk_store_close(s);

    two_instances(where, now);
    applets_followed(where, sqlite ? dir : NULL);
    if (sqlite)
        migrate_from_v1();

    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
    printf("test_store: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
