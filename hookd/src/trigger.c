/* trigger.c - see trigger.h. */
#define _GNU_SOURCE
#include "trigger.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "secret.h"

static int reject(hk_reject *rej, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int reject(hk_reject *rej, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(rej->message, sizeof rej->message, fmt, ap);
    va_end(ap);
    rej->status = status;
    return status;
}

long hk_utf8_invalid_at(const char *str, size_t n)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t len;
        unsigned cp, min;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2, cp = c & 0x1f, min = 0x80;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3, cp = c & 0x0f, min = 0x800;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4, cp = c & 0x07, min = 0x10000;
        } else {
            return (long)i;
        }
        if (n - i < len)
            return (long)i;
        for (size_t k = 1; k < len; k++) {
            if ((s[i + k] & 0xc0) != 0x80)
                return (long)i;
            cp = (cp << 6) | (s[i + k] & 0x3f);
        }
        if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return (long)i;
        i += len;
    }
    return -1;
}

static int hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

char *hk_pct_decode(const char *s, size_t n, bool plus_is_space, size_t *outlen, size_t *bad)
{
    char *out = malloc(n + 1);
    if (!out) {
        *bad = 0;
        return NULL;
    }
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%') {
            int h = i + 2 < n ? hexval(s[i + 1]) : -1;
            int l = i + 2 < n ? hexval(s[i + 2]) : -1;
            if (h < 0 || l < 0) {
                *bad = i;
                free(out);
                return NULL;
            }
            out[o++] = (char)(h * 16 + l);
            i += 2;
        } else if (s[i] == '+' && plus_is_space) {
            out[o++] = ' ';
        } else {
            out[o++] = s[i];
        }
    }
    out[o] = '\0';
    *outlen = o;
    return out;
}

void hk_route_clear(hk_route *r)
{
    free(r->event);
    free(r->key);
    r->event = r->key = NULL;
}

int hk_trigger_route(const char *path, hk_route *r, hk_reject *rej)
{
    static const char usage[] =
        "unknown path: use /trigger/{event}/with/key/{key} or "
        "/trigger/{event}/json/with/key/{key}";
    memset(r, 0, sizeof *r);
    if (strncmp(path, "/trigger/", 9) != 0)
        return reject(rej, 404, usage);
    /* up to 5 segments after "/trigger/": E with key K, or E json with key K */
    const char *seg[6];
    size_t len[6];
    size_t nseg = 0;
    const char *p = path + 9;
    for (;;) {
        const char *slash = strchr(p, '/');
        if (nseg == 6)
            return reject(rej, 404, usage);
        seg[nseg] = p;
        len[nseg] = slash ? (size_t)(slash - p) : strlen(p);
        nseg++;
        if (!slash)
            break;
        p = slash + 1;
    }
#define SEG_IS(i, lit) (len[i] == sizeof(lit) - 1 && memcmp(seg[i], lit, len[i]) == 0)
    if (nseg == 4 && SEG_IS(1, "with") && SEG_IS(2, "key"))
        r->json = false;
    else if (nseg == 5 && SEG_IS(1, "json") && SEG_IS(2, "with") && SEG_IS(3, "key"))
        r->json = true;
    else
        return reject(rej, 404, usage);
#undef SEG_IS
    if (len[0] == 0)
        return reject(rej, 404, "empty event name: use /trigger/{event}/with/key/{key}");
    size_t elen, klen, bad;
    r->event = hk_pct_decode(seg[0], len[0], false, &elen, &bad);
    if (!r->event)
        return reject(rej, 400, "bad percent-encoding in the event name at byte %zu", bad);
    size_t k = nseg - 1;
    r->key = hk_pct_decode(seg[k], len[k], false, &klen, &bad);
    if (!r->key) {
        /* no valid key has a '%': a malformed one is simply a wrong key */
        r->key = strdup("");
        if (!r->key) {
            hk_route_clear(r);
            return reject(rej, 400, "out of memory");
        }
    } else if (strlen(r->key) != klen) {
        r->key[0] = '\0';   /* a NUL inside: never a valid key */
    }
    if (strlen(r->event) != elen) {
        hk_route_clear(r);
        return reject(rej, 400, "the event name contains a NUL byte");
    }
    return 0;
}

/* ---- values ---- */

typedef struct {
    char *v[3];
} values;

static void values_clear(values *vs)
{
    for (int i = 0; i < 3; i++) {
        free(vs->v[i]);
        vs->v[i] = NULL;
    }
}

static int value_index(const char *name)
{
    if (strncmp(name, "value", 5) == 0 && name[5] >= '1' && name[5] <= '3' && name[6] == '\0')
        return name[5] - '1';
    return -1;
}

/* Checks a decoded value: valid UTF-8 and no NUL. */
static int check_text(const char *what, const char *name, const char *s, size_t n,
                      hk_reject *rej)
{
    long bad = hk_utf8_invalid_at(s, n);
    if (bad >= 0)
        return reject(rej, 400, "%s: %s is not valid UTF-8 (byte %ld of the value)", what, name,
                      bad);
    if (strlen(s) != n)
        return reject(rej, 400, "%s: %s contains a NUL byte (byte %zu of the value)", what, name,
                      strlen(s));
    return 0;
}

/* Parses name=value&... (query strings and form bodies). With vs, keeps value1..3; with obj,
 * adds every field to it as a string. */
static int parse_pairs(const char *s, size_t n, const char *what, values *vs, json_t *obj,
                       hk_reject *rej)
{
    size_t i = 0;
    while (i < n) {
        size_t end = i;
        while (end < n && s[end] != '&')
            end++;
        if (end > i) {
            size_t eq = i;
            while (eq < end && s[eq] != '=')
                eq++;
            size_t nlen, vlen, bad;
            char *name = hk_pct_decode(s + i, eq - i, true, &nlen, &bad);
            if (!name)
                return reject(rej, 400, "%s: bad percent-encoding at byte %zu", what, i + bad);
            size_t voff = eq < end ? eq + 1 : end;
            char *val = hk_pct_decode(s + voff, end - voff, true, &vlen, &bad);
            if (!val) {
                free(name);
                return reject(rej, 400, "%s: bad percent-encoding at byte %zu", what,
                              voff + bad);
            }
            int idx = value_index(name);
            int rc = 0;
            if (obj) {
                char shown[40];
                snprintf(shown, sizeof shown, "field at byte %zu", i);
                rc = check_text(what, shown, name, nlen, rej);
                if (rc == 0)
                    rc = check_text(what, name, val, vlen, rej);
                if (rc == 0 && json_object_set_new(obj, name, json_stringn(val, vlen)) != 0)
                    rc = reject(rej, 400, "%s: cannot store field %s", what, name);
            } else if (idx >= 0) {
                rc = check_text(what, name, val, vlen, rej);
                if (rc == 0) {
                    free(vs->v[idx]);
                    vs->v[idx] = val;
                    val = NULL;
                }
            }
            free(name);
            free(val);
            if (rc)
                return rc;
        }
        i = end + 1;
    }
    return 0;
}

typedef enum { CT_NONE, CT_JSON, CT_FORM, CT_TEXT, CT_MULTIPART, CT_OTHER } ctype;

static ctype content_type_of(const char *ct)
{
    if (!ct)
        return CT_NONE;
    while (*ct == ' ' || *ct == '\t')
        ct++;
    size_t n = strcspn(ct, "; \t");
    if (n == 0)
        return CT_NONE;
#define IS(lit) (n == sizeof(lit) - 1 && strncasecmp(ct, lit, n) == 0)
    if (IS("application/json") || (n > 5 && strncasecmp(ct + n - 5, "+json", 5) == 0))
        return CT_JSON;
    if (IS("application/x-www-form-urlencoded"))
        return CT_FORM;
    if (IS("text/plain"))
        return CT_TEXT;
    if (IS("multipart/form-data"))
        return CT_MULTIPART;
#undef IS
    return CT_OTHER;
}

static bool looks_like_json_object(const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (b[i] == ' ' || b[i] == '\t' || b[i] == '\r' || b[i] == '\n')
            continue;
        return b[i] == '{';
    }
    return false;
}

static json_t *load_json(const char *body, size_t n, hk_reject *rej)
{
    json_error_t err;
    json_t *root = json_loadb(body, n, JSON_DECODE_ANY, &err);
    char why[160];
    if (!root)
        reject(rej, 400, "malformed JSON body: %s at line %d column %d (byte %d)",
               hk_json_why(&err, why, sizeof why), err.line, err.column, err.position);
    return root;
}

/* A JSON value as a value1..3 text: strings as they are, null as absent, other values as
 * their JSON text (42, true, [1,2]). */
static int take_json_values(json_t *root, values *vs, hk_reject *rej)
{
    if (!json_is_object(root))
        return reject(rej, 400, "the JSON body must be an object like {\"value1\":\"...\"}");
    for (int i = 0; i < 3; i++) {
        char name[8] = "value1";
        name[5] = (char)('1' + i);
        json_t *v = json_object_get(root, name);
        if (!v || json_is_null(v))
            continue;
        char *text = json_is_string(v) ? strdup(json_string_value(v))
                                       : json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!text)
            return reject(rej, 400, "out of memory");
        free(vs->v[i]);
        vs->v[i] = text;
    }
    return 0;
}

/* Each thread keeps the last JSON body it parsed for the plain endpoint and the value1..3 it
 * gave: a button sends the same body at every press, and the next identical body (compared
 * byte for byte) takes the same values without parsing it again (jansson's parse of even
 * {"value1":"micropython1"} is a tenth of a trigger's instructions: an object, its hash
 * table, a string per key and per value, and their frees). Only bodies that parsed, and
 * whose values fit, are kept; the copy is the thread's own, so no lock. */
#define JSON_MEMO_BODY 256
typedef struct {
    size_t len;                    /* 0: nothing kept */
    char body[JSON_MEMO_BODY];
    short at[3];                   /* offset of value1..3 in text, -1: absent */
    char text[3 * JSON_MEMO_BODY];
} json_memo;

static _Thread_local json_memo memo;

/* keeps body and its values in the thread's memo, if they fit */
static void memo_keep(const char *body, size_t n, const values *got)
{
    memo.len = 0;
    if (n == 0 || n > sizeof memo.body)
        return;
    size_t used = 0;
    for (int i = 0; i < 3; i++) {
        memo.at[i] = -1;
        if (!got->v[i])
            continue;
        size_t len = strlen(got->v[i]) + 1;
        if (len > sizeof memo.text - used)
            return;
        memcpy(memo.text + used, got->v[i], len);
        memo.at[i] = (short)used;
        used += len;
    }
    memcpy(memo.body, body, n);
    memo.len = n;
}

/* value1..3 of a JSON body into vs (those it has replace the query's) */
static int take_json_body(const char *body, size_t n, values *vs, hk_reject *rej)
{
    values got = {{NULL, NULL, NULL}};
    if (memo.len == n && memcmp(memo.body, body, n) == 0) {
        for (int i = 0; i < 3; i++) {
            if (memo.at[i] >= 0 && !(got.v[i] = strdup(memo.text + memo.at[i]))) {
                values_clear(&got);
                return reject(rej, 400, "out of memory");
            }
        }
    } else {
        json_t *root = load_json(body, n, rej);
        if (!root)
            return -1;
        int rc = take_json_values(root, &got, rej);
        json_decref(root);
        if (rc) {
            values_clear(&got);
            return rc;
        }
        memo_keep(body, n, &got);
    }
    for (int i = 0; i < 3; i++) {
        if (got.v[i]) {
            free(vs->v[i]);
            vs->v[i] = got.v[i];
        }
    }
    return 0;
}

int hk_event_name_check(const char *name, char *msg, size_t cap)
{
    size_t n = strlen(name);
    if (n == 0) {
        snprintf(msg, cap, "the event name is empty");
        return -1;
    }
    if (n > HK_EVENT_NAME_MAX) {
        snprintf(msg, cap, "the event name is longer than %d bytes", HK_EVENT_NAME_MAX);
        return -1;
    }
    long bad = hk_utf8_invalid_at(name, n);
    if (bad >= 0) {
        snprintf(msg, cap, "the event name is not valid UTF-8 (byte %ld)", bad);
        return -1;
    }
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)name[i];
        if (c < 0x20 || c == 0x7f) {
            snprintf(msg, cap, "the event name contains a control character (byte %zu)", i);
            return -1;
        }
    }
    return 0;
}

hk_event *hk_trigger_parse(const hk_request *rq, const char *key, hk_reject *rej)
{
    hk_route r;
    rej->status = 0;
    rej->message[0] = '\0';
    if (hk_trigger_route(rq->path, &r, rej) != 0)
        return NULL;
    hk_event *e = hk_trigger_parse_routed(rq, &r, key, rej);
    hk_route_clear(&r);
    return e;
}

hk_event *hk_trigger_parse_routed(const hk_request *rq, const hk_route *rt, const char *key,
                                  hk_reject *rej)
{
    const hk_route r = *rt;   /* the caller's: read, never freed here */
    values vs = {{NULL, NULL, NULL}};
    json_t *payload = NULL;
    hk_event *e = NULL;
    rej->status = 0;
    rej->message[0] = '\0';

    if (strcmp(rq->method, "GET") != 0 && strcmp(rq->method, "POST") != 0) {
        reject(rej, 405, "method %.40s not allowed: use GET or POST", rq->method);
        goto out;
    }
    if (!key || !*key || !hk_secret_eq(r.key, key)) {
        reject(rej, 401, "You sent an invalid key.");
        goto out;
    }
    if (hk_event_name_check(r.event, rej->message, sizeof rej->message) != 0) {
        rej->status = 400;
        goto out;
    }

    ctype ct = content_type_of(rq->content_type);
    const char *body = rq->body ? rq->body : "";
    size_t blen = rq->body ? rq->body_len : 0;
    if (blen > 0 && ct == CT_MULTIPART) {
        reject(rej, 415,
               "multipart bodies are not supported: send application/json or "
               "application/x-www-form-urlencoded");
        goto out;
    }
    if (r.json) {
        /* the JSON endpoint: the body, whatever it is, is the payload */
        if (blen == 0) {
            payload = json_object();
        } else if (ct == CT_FORM) {
            payload = json_object();
            if (parse_pairs(body, blen, "malformed form body", NULL, payload, rej) != 0)
                goto out;
        } else {
            payload = load_json(body, blen, rej);
            if (!payload)
                goto out;
        }
    } else {
        if (rq->query && *rq->query &&
            parse_pairs(rq->query, strlen(rq->query), "malformed query string", &vs, NULL,
                        rej) != 0)
            goto out;
        if (blen > 0) {
            if (ct == CT_FORM) {
                if (parse_pairs(body, blen, "malformed form body", &vs, NULL, rej) != 0)
                    goto out;
            } else if (ct == CT_JSON ||
                       ((ct == CT_NONE || ct == CT_TEXT) && looks_like_json_object(body, blen))) {
                if (take_json_body(body, blen, &vs, rej) != 0)
                    goto out;
            }
            /* other bodies are ignored, as the plain endpoint only reads value1..3 */
        }
    }

    e = calloc(1, sizeof *e);
    if (!e) {
        reject(rej, 400, "out of memory");
        goto out;
    }
    e->name = strdup(r.event);
    if (!e->name) {
        free(e);
        e = NULL;
        reject(rej, 400, "out of memory");
        goto out;
    }
    e->json = r.json;
    e->value1 = vs.v[0];
    e->value2 = vs.v[1];
    e->value3 = vs.v[2];
    vs.v[0] = vs.v[1] = vs.v[2] = NULL;
    if (payload) {
        e->payload = json_dumps(payload, JSON_COMPACT | JSON_ENCODE_ANY);
        if (!e->payload) {
            hk_event_free(e);
            e = NULL;
            reject(rej, 400, "the JSON payload cannot be stored");
        }
    }
out:
    json_decref(payload);
    values_clear(&vs);
    return e;
}
