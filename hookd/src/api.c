/* api.c - see api.h. */
#define _GNU_SOURCE
#include "api.h"

#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "hookd.h"
#include "log.h"
#include "secret.h"
#include "trigger.h"

static void reply_json(hk_api_reply *out, int status, json_t *body)
{
    out->status = status;
    out->body = body ? json_dumps(body, JSON_COMPACT) : NULL;
    json_decref(body);
}

static void error(hk_api_reply *out, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void error(hk_api_reply *out, int status, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    reply_json(out, status, json_pack("{s:[{s:s}]}", "errors", "message", msg));
}

static void store_error(hk_api_reply *out, int rc, const char *what)
{
    if (rc == HK_E_NOTFOUND)
        error(out, 404, "no such %s", what);
    else if (rc == HK_E_CONFLICT)
        error(out, 409, "an applet with that name exists already");
    else
        error(out, 503, "the store failed; see hookd's log");
}

/* "/api/applets/12/enable" -> parts "applets", "12", "enable" (views into a copy) */
typedef struct {
    char buf[256];
    const char *part[4];
    int n;
} path_parts;

static bool split(const char *path, path_parts *pp)
{
    memset(pp, 0, sizeof *pp);
    if (strlen(path) >= sizeof pp->buf || strncmp(path, "/api/", 5) != 0)
        return false;
    strcpy(pp->buf, path + 5);
    char *save = NULL;
    for (char *t = strtok_r(pp->buf, "/", &save); t; t = strtok_r(NULL, "/", &save)) {
        if (pp->n == 4)
            return false;
        pp->part[pp->n++] = t;
    }
    return true;
}

static bool is(const path_parts *pp, int i, const char *s)
{
    return i < pp->n && strcmp(pp->part[i], s) == 0;
}

static int64_t id_of(const path_parts *pp, int i)
{
    if (i >= pp->n)
        return 0;
    char *end;
    errno = 0;
    long long v = strtoll(pp->part[i], &end, 10);
    return *end || errno || v <= 0 ? 0 : (int64_t)v;
}

/* A query parameter, decoded, or NULL. */
static char *query_get(const char *query, const char *name)
{
    if (!query)
        return NULL;
    size_t nl = strlen(name);
    const char *p = query;
    while (*p) {
        const char *end = strchr(p, '&');
        size_t len = end ? (size_t)(end - p) : strlen(p);
        if (len > nl && strncmp(p, name, nl) == 0 && p[nl] == '=') {
            size_t outlen, bad;
            return hk_pct_decode(p + nl + 1, len - nl - 1, true, &outlen, &bad);
        }
        p += len + (end ? 1 : 0);
    }
    return NULL;
}

static json_t *body_json(const hk_api_request *rq, hk_api_reply *out)
{
    json_error_t je;
    json_t *j = json_loadb(rq->body ? rq->body : "", rq->body_len, 0, &je);
    if (!j) {
        char why[160];
        error(out, 400, "malformed JSON body: %s at line %d column %d",
              hk_json_why(&je, why, sizeof why), je.line, je.column);
        return NULL;
    }
    if (!json_is_object(j)) {
        json_decref(j);
        error(out, 400, "the body must be a JSON object");
        return NULL;
    }
    return j;
}

static void set_session_cookie(hk_api_reply *out, const char *token)
{
    if (token)
        snprintf(out->set_cookie, sizeof out->set_cookie,
                 HK_SESSION_COOKIE "=%s; Path=/; HttpOnly; SameSite=Strict", token);
    else
        snprintf(out->set_cookie, sizeof out->set_cookie,
                 HK_SESSION_COOKIE "=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0");
}

/* Runs on a hash thread (http.c), after hk_login_admit let this address try: the outcome
 * goes back to the delays' counts. */
static void login(hk_app *app, const hk_api_request *rq, hk_api_reply *out)
{
    hk_login_outcome outcome = HK_LOGIN_OTHER;
    json_t *b = body_json(rq, out);
    if (!b) {
        hk_login_done(app->login, rq->ip, outcome, hk_now_ms());
        return;
    }
    const char *pw = json_string_value(json_object_get(b, "password"));
    char token[HK_TOKEN_LEN + 1], csrf[HK_TOKEN_LEN + 1];
    int rc = pw ? hk_auth_login(app->auth, pw, token, csrf) : -1;
    json_decref(b);
    if (rc == -2) {
        /* data_dir names the store as given (a PostgreSQL URI without its password) */
        error(out, 403, "no admin password is set: run `hookd password %s %s`",
              hk_store_is_url(app->data_dir) ? "--store" : "--data", app->data_dir);
    } else if (rc == -1) {
        outcome = HK_LOGIN_WRONG;
        hk_log("api: failed login from %s", rq->ip);
        error(out, 401, "wrong password");
    } else if (rc != 0) {
        error(out, 500, "cannot make a session");
    } else {
        outcome = HK_LOGIN_OK;
        hk_log("api: login from %s", rq->ip);
        set_session_cookie(out, token);
        reply_json(out, 200, json_pack("{s:s}", "csrf", csrf));
    }
    hk_login_done(app->login, rq->ip, outcome, hk_now_ms());
}

/* An applet that the config file's "applets" names: hookd applies the file again at each
 * start, so a change through the API would silently come undone. Refused instead, as a
 * pinned key or password is. */
static bool applet_pinned(hk_app *app, const char *name)
{
    size_t i;
    json_t *a;
    json_array_foreach(app->cfg.applets, i, a)
    {
        const char *n = json_string_value(json_object_get(a, "name"));
        if (n && name && strcmp(n, name) == 0)
            return true;
    }
    return false;
}

static void pinned_applet_error(hk_api_reply *out, const char *name)
{
    error(out, 409, "the applet \"%s\" is pinned by the config file (its \"applets\"); change "
                    "it there and restart hookd", name);
}

static void applets_list(hk_app *app, hk_api_reply *out)
{
    hk_applet *list;
    size_t n;
    int rc = hk_store_applet_list(app->store, &list, &n);
    if (rc != HK_OK) {
        store_error(out, rc, "applet");
        return;
    }
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(arr, hk_applet_to_json(&list[i]));
    hk_applets_free(list, n);
    reply_json(out, 200, json_pack("{s:o}", "applets", arr));
}

static void applet_create(hk_app *app, const hk_api_request *rq, hk_api_reply *out)
{
    json_t *b = body_json(rq, out);
    if (!b)
        return;
    hk_applet a;
    char err[400];
    int rc = hk_applet_from_json(b, NULL, &a, err, sizeof err);
    json_decref(b);
    if (rc != 0) {
        error(out, 400, "%s", err);
        return;
    }
    rc = hk_store_applet_insert(app->store, &a);
    if (rc != HK_OK) {
        store_error(out, rc, "applet");
    } else {
        hk_log("api: applet %lld \"%s\" created (%s on %s)", (long long)a.id, a.name, a.action,
               a.event);
        reply_json(out, 201, hk_applet_to_json(&a));
    }
    hk_applet_clear(&a);
}

/* PUT/PATCH with a body, or enable/disable (body NULL, enabled given) */
static void applet_change(hk_app *app, int64_t id, const hk_api_request *rq, int enabled,
                          hk_api_reply *out)
{
    hk_applet cur, next;
    int rc = hk_store_applet_get(app->store, id, NULL, &cur);
    if (rc != HK_OK) {
        store_error(out, rc, "applet");
        return;
    }
    if (applet_pinned(app, cur.name)) {
        pinned_applet_error(out, cur.name);
        hk_applet_clear(&cur);
        return;
    }
    json_t *b = enabled < 0 ? body_json(rq, out) : json_pack("{s:b}", "enabled", enabled);
    if (!b) {
        hk_applet_clear(&cur);
        return;
    }
    json_t *given_id = json_object_get(b, "id");
    char err[400];
    if (given_id && (!json_is_integer(given_id) || json_integer_value(given_id) != id)) {
        error(out, 400, "id: cannot be changed");
        rc = -1;
    } else {
        rc = hk_applet_from_json(b, &cur, &next, err, sizeof err);
        if (rc != 0)
            error(out, 400, "%s", err);
    }
    json_decref(b);
    hk_applet_clear(&cur);
    if (rc != 0)
        return;
    rc = hk_store_applet_update(app->store, &next);
    if (rc != HK_OK) {
        store_error(out, rc, "applet");
    } else {
        hk_log("api: applet %lld \"%s\" %s", (long long)id, next.name,
               enabled < 0 ? "changed" : enabled ? "enabled" : "disabled");
        reply_json(out, 200, hk_applet_to_json(&next));
    }
    hk_applet_clear(&next);
}

/* adds "occurred_at_text" (IFTTT's OccurredAt) to each event */
static void decorate_events(json_t *events)
{
    size_t i;
    json_t *e;
    json_array_foreach(events, i, e)
    {
        char when[64];
        hk_occurred_at(json_integer_value(json_object_get(e, "occurred_at")), when, sizeof when);
        json_object_set_new(e, "occurred_at_text", json_string(when));
    }
}

static void events_list(hk_app *app, const hk_api_request *rq, hk_api_reply *out)
{
    hk_event_query q = {.limit = 50};
    char *limit = query_get(rq->query, "limit");
    char *before = query_get(rq->query, "before");
    char *event = query_get(rq->query, "event");
    if (limit)
        q.limit = atoi(limit);
    if (before)
        q.before_id = atoll(before);
    q.event = event && *event ? event : NULL;
    json_t *res = NULL;
    if (q.limit < 1 || q.limit > 500) {
        error(out, 400, "limit: must be from 1 to 500");
    } else {
        int rc = hk_store_events_json(app->store, &q, &res);
        if (rc != HK_OK) {
            store_error(out, rc, "event");
        } else {
            decorate_events(json_object_get(res, "events"));
            reply_json(out, 200, res);
        }
    }
    free(limit);
    free(before);
    free(event);
}

static void event_one(hk_app *app, int64_t id, hk_api_reply *out)
{
    hk_event_query q = {.limit = 1, .before_id = id + 1};
    json_t *res = NULL;
    int rc = hk_store_events_json(app->store, &q, &res);
    if (rc != HK_OK) {
        store_error(out, rc, "event");
        return;
    }
    json_t *events = json_object_get(res, "events");
    json_t *e = json_array_get(events, 0);
    if (!e || json_integer_value(json_object_get(e, "id")) != id) {
        json_decref(res);
        error(out, 404, "no such event");
        return;
    }
    decorate_events(events);
    json_incref(e);
    json_decref(res);
    reply_json(out, 200, e);
}

static void password_change(hk_app *app, const hk_api_request *rq, hk_api_reply *out)
{
    json_t *b = body_json(rq, out);
    if (!b)
        return;
    const char *cur = json_string_value(json_object_get(b, "current"));
    const char *nw = json_string_value(json_object_get(b, "new"));
    if (app->cfg.admin_password) {
        /* a new one would work until the next start, which puts the file's back */
        error(out, 409, "the admin password is pinned by the config file (\"admin_password\"); "
                        "change it there and restart hookd");
    } else if (!cur || !nw) {
        error(out, 400, "send {\"current\": \"...\", \"new\": \"...\"}");
    } else if (strlen(nw) < HK_PASSWORD_MIN) {
        error(out, 400, "the new password must have at least %d characters", HK_PASSWORD_MIN);
    } else if (!hk_auth_check_password(app->auth, cur)) {
        error(out, 403, "the current password is wrong");
    } else if (hk_auth_set_password(app->auth, nw, rq->session) != 0) {
        error(out, 503, "cannot store the password");
    } else {
        hk_log("api: admin password changed from %s", rq->ip);
        out->status = 204;
    }
    json_decref(b);
}

static bool is_json_type(const char *ct)
{
    if (!ct)
        return false;
    while (*ct == ' ')
        ct++;
    return strncasecmp(ct, "application/json", 16) == 0 && (ct[16] == '\0' || ct[16] == ';' ||
                                                            ct[16] == ' ');
}

void hk_api_handle(hk_app *app, const hk_api_request *rq, hk_api_reply *out)
{
    memset(out, 0, sizeof *out);
    path_parts pp;
    const char *m = rq->method;
    bool get = strcmp(m, "GET") == 0, post = strcmp(m, "POST") == 0;
    bool change = !get && strcmp(m, "HEAD") != 0;
    if (!split(rq->path, &pp) || pp.n == 0) {
        error(out, 404, "no such API route");
        return;
    }
    if (rq->body_len > 0 && !is_json_type(rq->content_type)) {
        error(out, 415, "send JSON bodies with Content-Type: application/json");
        return;
    }
    if (is(&pp, 0, "login") && pp.n == 1) {
        if (!post)
            error(out, 405, "use POST");
        else
            login(app, rq, out);
        return;
    }
    char csrf[HK_TOKEN_LEN + 1];
    if (!hk_auth_session(app->auth, rq->session, csrf)) {
        error(out, 401, "log in first: POST /api/login {\"password\": \"...\"}");
        return;
    }
    if (change && (!rq->csrf || !hk_secret_eq(rq->csrf, csrf))) {
        error(out, 403, "missing or wrong X-CSRF-Token header (from POST /api/login or "
                        "GET /api/session)");
        return;
    }

    if (is(&pp, 0, "session") && pp.n == 1) {
        if (get)
            reply_json(out, 200, json_pack("{s:s}", "csrf", csrf));
        else
            error(out, 405, "use GET");
    } else if (is(&pp, 0, "logout") && pp.n == 1) {
        if (!post) {
            error(out, 405, "use POST");
            return;
        }
        hk_auth_logout(app->auth, rq->session);
        set_session_cookie(out, NULL);
        out->status = 204;
    } else if (is(&pp, 0, "password") && pp.n == 1) {
        if (post)
            password_change(app, rq, out);
        else
            error(out, 405, "use POST");
    } else if (is(&pp, 0, "key") && pp.n == 1) {
        if (!get) {
            error(out, 405, "use GET");
            return;
        }
        char key[HK_KEY_MAX + 1];
        hk_app_key(app, key);
        reply_json(out, 200, json_pack("{s:s}", "key", key));
    } else if (is(&pp, 0, "key") && is(&pp, 1, "rotate") && pp.n == 2) {
        if (!post) {
            error(out, 405, "use POST");
            return;
        }
        char key[HK_KEY_MAX + 1], mk[16];
        if (app->cfg.key) {
            error(out, 409, "the key is pinned by the config file (\"key\"); change it there and "
                            "restart hookd");
        } else if (hk_app_rotate_key(app, key) != 0) {
            error(out, 503, "cannot store a new key");
        } else {
            hk_log("api: key rotated from %s: now %s", rq->ip, hk_mask(key, mk, sizeof mk));
            reply_json(out, 200, json_pack("{s:s}", "key", key));
        }
    } else if (is(&pp, 0, "applets") && pp.n == 1) {
        if (get)
            applets_list(app, out);
        else if (post)
            applet_create(app, rq, out);
        else
            error(out, 405, "use GET or POST");
    } else if (is(&pp, 0, "applets") && pp.n == 2) {
        int64_t id = id_of(&pp, 1);
        if (!id) {
            error(out, 404, "no such applet");
        } else if (get) {
            hk_applet a;
            int rc = hk_store_applet_get(app->store, id, NULL, &a);
            if (rc != HK_OK) {
                store_error(out, rc, "applet");
                return;
            }
            reply_json(out, 200, hk_applet_to_json(&a));
            hk_applet_clear(&a);
        } else if (strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0) {
            applet_change(app, id, rq, -1, out);
        } else if (strcmp(m, "DELETE") == 0) {
            hk_applet a;
            int rc = hk_store_applet_get(app->store, id, NULL, &a);
            bool pinned = rc == HK_OK && applet_pinned(app, a.name);
            if (pinned)
                pinned_applet_error(out, a.name);
            if (rc == HK_OK)
                hk_applet_clear(&a);
            if (pinned)
                return;
            rc = rc == HK_OK ? hk_store_applet_delete(app->store, id) : rc;
            if (rc != HK_OK) {
                store_error(out, rc, "applet");
                return;
            }
            hk_log("api: applet %lld deleted", (long long)id);
            out->status = 204;
        } else {
            error(out, 405, "use GET, PUT, PATCH or DELETE");
        }
    } else if (is(&pp, 0, "applets") && pp.n == 3 &&
               (is(&pp, 2, "enable") || is(&pp, 2, "disable"))) {
        int64_t id = id_of(&pp, 1);
        if (!post)
            error(out, 405, "use POST");
        else if (!id)
            error(out, 404, "no such applet");
        else
            applet_change(app, id, rq, is(&pp, 2, "enable"), out);
    } else if (is(&pp, 0, "events") && pp.n == 1) {
        if (get)
            events_list(app, rq, out);
        else
            error(out, 405, "use GET");
    } else if (is(&pp, 0, "events") && pp.n == 2) {
        int64_t id = id_of(&pp, 1);
        if (!get)
            error(out, 405, "use GET");
        else if (!id)
            error(out, 404, "no such event");
        else
            event_one(app, id, out);
    } else if (is(&pp, 0, "deliveries") && pp.n == 3 && is(&pp, 2, "retry")) {
        int64_t id = id_of(&pp, 1);
        if (!post) {
            error(out, 405, "use POST");
            return;
        }
        int rc = id ? hk_store_delivery_retry(app->store, id) : HK_E_NOTFOUND;
        if (rc == HK_E_STATE) {
            error(out, 409, "only a failed delivery can be retried");
        } else if (rc != HK_OK) {
            store_error(out, rc, "delivery");
        } else {
            hk_log("api: delivery %lld retried", (long long)id);
            hk_workers_kick(app->workers);
            reply_json(out, 200, json_pack("{s:I, s:s}", "id", (json_int_t)id, "state",
                                           "pending"));
        }
    } else {
        error(out, 404, "no such API route");
    }
}
