/* config.c - see config.h. */
#define _GNU_SOURCE
#include "config.h"
#include "hookd.h"

#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void hk_config_set(char **field, const char *value)
{
    free(*field);
    *field = value ? strdup(value) : NULL;
}

/* The CPUs this process may run on (its affinity: taskset, a cgroup's cpuset), at least 1,
 * at most 256 (limits.http_threads' bound): the HTTP threads' default, one per core, so that
 * a bigger machine serves more without a setting. */
unsigned hk_cores_available(void)
{
    cpu_set_t set;
    int n = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : 0;
    if (n < 1)
        n = 1;
    return n > 256 ? 256 : (unsigned)n;
}

void hk_config_defaults(hk_config *c)
{
    memset(c, 0, sizeof *c);
    hk_config_set(&c->listen, "127.0.0.1:8080");
    c->body_max = 64 * 1024;
    c->per_ip = (hk_rate){20, 40};
    c->per_key = (hk_rate){50, 100};
    c->connections = 1024;
    c->connections_per_ip = 256;
    c->connection_timeout_s = 10;
    c->header_timeout_s = 10;
    c->body_timeout_s = 10;
    c->http_threads = hk_cores_available();
    c->http_poll = true;
    c->login = (hk_login_cfg){.free_failures = 5, .delay_ms = 1000, .max_delay_s = 300,
                              .account_max_delay_s = 30, .forget_s = 900, .hash_threads = 2,
                              .queue = 16};
    c->workers = 4;
    c->max_attempts = 10;
    c->backoff_initial_ms = 2000;
    c->backoff_max_ms = 3600 * 1000;
    c->shutdown_timeout_s = 10;
    c->lease_s = 30;
    c->command_max_concurrent = 4;
    c->retention_days = 30;
}

void hk_config_free(hk_config *c)
{
    free(c->listen);
    free(c->key);
    free(c->admin_password);
    json_decref(c->applets);
    memset(c, 0, sizeof *c);
}

/* Every name in obj must be one of names[]. */
static int only(json_t *obj, const char *where, const char *const *names, char *err,
                size_t cap)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v)
    {
        int ok = 0;
        for (const char *const *n = names; *n; n++)
            ok |= strcmp(k, *n) == 0;
        if (!ok) {
            snprintf(err, cap, "%s: unknown setting \"%s\"", where, k);
            return -1;
        }
    }
    return 0;
}

static int num(json_t *obj, const char *where, const char *name, double min, double max,
               double *out, char *err, size_t cap)
{
    json_t *v = json_object_get(obj, name);
    if (!v)
        return 0;
    if (!json_is_number(v) || json_number_value(v) < min || json_number_value(v) > max ||
        isnan(json_number_value(v))) {
        snprintf(err, cap, "%s.%s: must be a number from %g to %g", where, name, min, max);
        return -1;
    }
    *out = json_number_value(v);
    return 0;
}

static int uint_(json_t *obj, const char *where, const char *name, double min, double max,
                 unsigned *out, char *err, size_t cap)
{
    double d = *out;
    json_t *v = json_object_get(obj, name);
    if (v && !json_is_integer(v)) {
        snprintf(err, cap, "%s.%s: must be a whole number", where, name);
        return -1;
    }
    if (num(obj, where, name, min, max, &d, err, cap) != 0)
        return -1;
    *out = (unsigned)d;
    return 0;
}

static int str(json_t *obj, const char *where, const char *name, char **out, char *err,
               size_t cap)
{
    json_t *v = json_object_get(obj, name);
    if (!v)
        return 0;
    if (!json_is_string(v) || json_string_length(v) == 0) {
        snprintf(err, cap, "%s.%s: must be a non-empty string", where, name);
        return -1;
    }
    hk_config_set(out, json_string_value(v));
    return 0;
}

static int event_loop(json_t *obj, const char *where, bool *use_poll, char *err, size_t cap)
{
    json_t *v = json_object_get(obj, "event_loop");
    if (!v)
        return 0;
    const char *s = json_string_value(v);
    if (!s || (strcmp(s, "epoll") != 0 && strcmp(s, "poll") != 0)) {
        snprintf(err, cap, "%s.event_loop: must be \"epoll\" or \"poll\"", where);
        return -1;
    }
    *use_poll = strcmp(s, "poll") == 0;
    return 0;
}

static int login(json_t *obj, const char *where, hk_login_cfg *c, char *err, size_t cap)
{
    static const char *const names[] = {"free_failures", "delay_ms", "max_delay_s",
                                        "account_max_delay_s", "forget_s", "hash_threads",
                                        "queue", NULL};
    json_t *v = json_object_get(obj, "login");
    if (!v)
        return 0;
    char w[700];
    snprintf(w, sizeof w, "%s.login", where);
    if (!json_is_object(v)) {
        snprintf(err, cap, "%s: must be an object like {\"free_failures\": 5}", w);
        return -1;
    }
    if (only(v, w, names, err, cap) ||
        uint_(v, w, "free_failures", 0, 1000, &c->free_failures, err, cap) ||
        uint_(v, w, "delay_ms", 1, 3600e3, &c->delay_ms, err, cap) ||
        uint_(v, w, "max_delay_s", 1, 86400, &c->max_delay_s, err, cap) ||
        uint_(v, w, "account_max_delay_s", 1, 3600, &c->account_max_delay_s, err, cap) ||
        uint_(v, w, "forget_s", 1, 7 * 86400, &c->forget_s, err, cap) ||
        uint_(v, w, "hash_threads", 1, 64, &c->hash_threads, err, cap) ||
        uint_(v, w, "queue", 1, 4096, &c->queue, err, cap))
        return -1;
    return 0;
}

static int rate(json_t *obj, const char *where, const char *name, hk_rate *r, char *err,
                size_t cap)
{
    static const char *const names[] = {"rate", "burst", NULL};
    json_t *v = json_object_get(obj, name);
    if (!v)
        return 0;
    char w[64];
    snprintf(w, sizeof w, "%s.%s", where, name);
    if (!json_is_object(v)) {
        snprintf(err, cap, "%s: must be an object like {\"rate\": 10, \"burst\": 20}", w);
        return -1;
    }
    if (only(v, w, names, err, cap) || num(v, w, "rate", 0, 1e9, &r->rate, err, cap) ||
        num(v, w, "burst", 1, 1e9, &r->burst, err, cap))
        return -1;
    return 0;
}

int hk_config_load(hk_config *c, const char *path, char *err, size_t cap)
{
    static const char *const top[] = {"listen", "key", "admin_password", "limits",
                                      "deliveries", "retention_days", "applets", NULL};
    static const char *const lim[] = {"body_max_bytes", "per_ip", "per_key", "connections",
                                      "connections_per_ip", "connection_timeout_s",
                                      "header_timeout_s", "body_timeout_s",
                                      "http_threads", "event_loop", "login", NULL};
    static const char *const del[] = {"workers", "max_attempts", "backoff_initial_ms",
                                      "backoff_max_ms", "shutdown_timeout_s",
                                      "command_max_concurrent", "lease_s", NULL};
    json_error_t je;
    json_t *root = json_load_file(path, 0, &je);
    if (!root) {
        char why[160];
        /* a file that cannot be read: jansson's text names the system error */
        snprintf(err, cap, "%s:%d:%d: %s", path, je.line, je.column,
                 json_error_code(&je) == json_error_cannot_open_file
                     ? je.text
                     : hk_json_why(&je, why, sizeof why));
        return -1;
    }
    int rc = -1;
    char where[512];
    snprintf(where, sizeof where, "%s", path);
    if (!json_is_object(root)) {
        snprintf(err, cap, "%s: must hold a JSON object", path);
        goto out;
    }
    if (only(root, where, top, err, cap) || str(root, where, "listen", &c->listen, err, cap) ||
        str(root, where, "key", &c->key, err, cap) ||
        str(root, where, "admin_password", &c->admin_password, err, cap) ||
        uint_(root, where, "retention_days", 0, 100000, &c->retention_days, err, cap))
        goto out;
    json_t *l = json_object_get(root, "limits");
    if (l) {
        char w[600];
        snprintf(w, sizeof w, "%s: limits", path);
        double body = (double)c->body_max;
        if (!json_is_object(l)) {
            snprintf(err, cap, "%s: must be an object", w);
            goto out;
        }
        if (only(l, w, lim, err, cap) ||
            num(l, w, "body_max_bytes", 1, 64 * 1024 * 1024, &body, err, cap) ||
            rate(l, w, "per_ip", &c->per_ip, err, cap) ||
            rate(l, w, "per_key", &c->per_key, err, cap) ||
            uint_(l, w, "connections", 1, 1000000, &c->connections, err, cap) ||
            uint_(l, w, "connections_per_ip", 0, 1000000, &c->connections_per_ip, err, cap) ||
            uint_(l, w, "connection_timeout_s", 1, 3600, &c->connection_timeout_s, err, cap) ||
            uint_(l, w, "header_timeout_s", 1, 3600, &c->header_timeout_s, err, cap) ||
            uint_(l, w, "body_timeout_s", 1, 3600, &c->body_timeout_s, err, cap) ||
            uint_(l, w, "http_threads", 1, 256, &c->http_threads, err, cap) ||
            event_loop(l, w, &c->http_poll, err, cap) ||
            login(l, w, &c->login, err, cap))
            goto out;
        c->body_max = (size_t)body;
    }
    json_t *d = json_object_get(root, "deliveries");
    if (d) {
        char w[600];
        snprintf(w, sizeof w, "%s: deliveries", path);
        unsigned cmax = (unsigned)c->command_max_concurrent;
        double bi = (double)c->backoff_initial_ms, bm = (double)c->backoff_max_ms;
        if (!json_is_object(d)) {
            snprintf(err, cap, "%s: must be an object", w);
            goto out;
        }
        if (only(d, w, del, err, cap) || uint_(d, w, "workers", 1, 256, &c->workers, err, cap) ||
            uint_(d, w, "max_attempts", 1, 1000, &c->max_attempts, err, cap) ||
            num(d, w, "backoff_initial_ms", 1, 86400e3, &bi, err, cap) ||
            num(d, w, "backoff_max_ms", 1, 7 * 86400e3, &bm, err, cap) ||
            uint_(d, w, "shutdown_timeout_s", 0, 3600, &c->shutdown_timeout_s, err, cap) ||
            uint_(d, w, "command_max_concurrent", 1, 1024, &cmax, err, cap) ||
            uint_(d, w, "lease_s", 2, 3600, &c->lease_s, err, cap))
            goto out;
        c->backoff_initial_ms = (int64_t)bi;
        c->backoff_max_ms = (int64_t)bm;
        c->command_max_concurrent = (int)cmax;
    }
    json_t *a = json_object_get(root, "applets");
    if (a) {
        if (!json_is_array(a)) {
            snprintf(err, cap, "%s: applets: must be an array", path);
            goto out;
        }
        json_decref(c->applets);
        c->applets = json_incref(a);
    }
    rc = 0;
out:
    json_decref(root);
    return rc;
}
