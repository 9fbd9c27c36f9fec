/*
 * action.c - the table of action kinds and what their files share: field checking and
 * expansion, one-line results, the event as JSON, library set-up.
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>
#include <mosquitto.h>

#include "action_util.h"
#include "hookd.h"

extern const hk_action hk_action_email, hk_action_maildir, hk_action_http, hk_action_mqtt,
    hk_action_command, hk_action_file, hk_action_homeassistant;

static const hk_action *const actions[] = {&hk_action_email, &hk_action_maildir,
                                           &hk_action_http,  &hk_action_mqtt,
                                           &hk_action_command, &hk_action_file,
                                           &hk_action_homeassistant};

const hk_action *hk_action_find(const char *name)
{
    if (!name)
        return NULL;
    for (size_t i = 0; i < sizeof actions / sizeof actions[0]; i++)
        if (!strcmp(actions[i]->name, name))
            return actions[i];
    return NULL;
}

void hk_actions_shutdown(void) { hka_homeassistant_shutdown(); }

static void libs_init_once(void)
{
    curl_global_init(CURL_GLOBAL_DEFAULT);
    mosquitto_lib_init();
}

void hka_libs_init(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, libs_init_once);
}

/* ---------------------------------------------------------------- fields */

static const char *type_name(hka_type t)
{
    switch (t) {
    case HKA_TEMPLATE:
    case HKA_STRING: return "a string";
    case HKA_BOOL: return "true or false";
    case HKA_INT: return "an integer";
    case HKA_TEMPLATES: return "a string or a list of strings";
    case HKA_ARGV: return "a non-empty list of strings";
    case HKA_HEADERS: return "an object of strings";
    }
    return "?";
}

static int check_template(const char *action, const char *field, const char *tpl, char *err,
                          size_t errcap)
{
    char why[256];
    if (hk_template_check(tpl, why, sizeof why) == 0)
        return 0;
    snprintf(err, errcap, "%s: field \"%s\": %s", action, field, why);
    return -1;
}

static int check_one(const char *action, const hka_field *f, const json_t *v, char *err,
                     size_t errcap)
{
    bool ok = true;
    switch (f->type) {
    case HKA_TEMPLATE:
    case HKA_STRING: ok = json_is_string(v); break;
    case HKA_BOOL: ok = json_is_boolean(v); break;
    case HKA_INT:
        ok = json_is_integer(v);
        if (ok && (json_integer_value(v) < f->min || json_integer_value(v) > f->max)) {
            snprintf(err, errcap, "%s: field \"%s\" must be between %lld and %lld", action,
                     f->name, f->min, f->max);
            return -1;
        }
        break;
    case HKA_TEMPLATES:
        if (json_is_array(v)) {
            ok = json_array_size(v) > 0;
            for (size_t i = 0; ok && i < json_array_size(v); i++)
                ok = json_is_string(json_array_get(v, i));
        } else
            ok = json_is_string(v);
        break;
    case HKA_ARGV:
        ok = json_is_array(v) && json_array_size(v) > 0;
        for (size_t i = 0; ok && i < json_array_size(v); i++)
            ok = json_is_string(json_array_get(v, i));
        break;
    case HKA_HEADERS: {
        ok = json_is_object(v);
        const char *k;
        json_t *hv;
        if (ok)
            json_object_foreach((json_t *)v, k, hv) ok = ok && json_is_string(hv);
        break;
    }
    }
    if (!ok) {
        snprintf(err, errcap, "%s: field \"%s\" must be %s", action, f->name,
                 type_name(f->type));
        return -1;
    }
    /* templates */
    if (f->type == HKA_TEMPLATE)
        return check_template(action, f->name, json_string_value(v), err, errcap);
    if (f->type == HKA_TEMPLATES || f->type == HKA_ARGV) {
        if (json_is_string(v))
            return check_template(action, f->name, json_string_value(v), err, errcap);
        for (size_t i = 0; i < json_array_size(v); i++)
            if (check_template(action, f->name, json_string_value(json_array_get(v, i)), err,
                               errcap))
                return -1;
    }
    if (f->type == HKA_HEADERS) {
        const char *k;
        json_t *hv;
        json_object_foreach((json_t *)v, k, hv)
        {
            char label[128];
            snprintf(label, sizeof label, "%s.%s", f->name, k);
            if (check_template(action, label, json_string_value(hv), err, errcap))
                return -1;
        }
    }
    return 0;
}

int hka_fields_check(const json_t *fields, const hka_field *spec, const char *action,
                     char *err, size_t errcap)
{
    if (!json_is_object(fields)) {
        snprintf(err, errcap, "%s: fields must be a JSON object", action);
        return -1;
    }
    const char *key;
    json_t *v;
    json_object_foreach((json_t *)fields, key, v)
    {
        const hka_field *f = spec;
        while (f->name && strcmp(f->name, key))
            f++;
        if (!f->name) {
            char known[512] = "";
            size_t o = 0;
            for (f = spec; f->name && o < sizeof known; f++)
                o += (size_t)snprintf(known + o, sizeof known - o, "%s%s", o ? ", " : "",
                                      f->name);
            snprintf(err, errcap, "%s: unknown field \"%s\" (known: %s)", action, key, known);
            return -1;
        }
    }
    for (const hka_field *f = spec; f->name; f++) {
        v = json_object_get(fields, f->name);
        if (!v || json_is_null(v)) {
            if (f->required) {
                snprintf(err, errcap, "%s: field \"%s\" is required", action, f->name);
                return -1;
            }
            continue;
        }
        if (check_one(action, f, v, err, errcap))
            return -1;
    }
    return 0;
}

const char *hka_get_str(const json_t *fields, const char *name, const char *def)
{
    const char *s = json_string_value(json_object_get(fields, name));
    return s ? s : def;
}

bool hka_get_bool(const json_t *fields, const char *name, bool def)
{
    json_t *v = json_object_get(fields, name);
    return json_is_boolean(v) ? json_is_true(v) : def;
}

long long hka_get_int(const json_t *fields, const char *name, long long def)
{
    json_t *v = json_object_get(fields, name);
    return json_is_integer(v) ? (long long)json_integer_value(v) : def;
}

char *hka_expand(const json_t *fields, const char *name, const char *def_tpl,
                 const hk_event *e, hk_escape esc, char *err, size_t errcap)
{
    const char *tpl = hka_get_str(fields, name, def_tpl);
    if (!tpl)
        return strdup("");
    char why[256];
    char *out = hk_template_expand(tpl, e, esc, why, sizeof why);
    if (!out)
        snprintf(err, errcap, "field \"%s\": %s", name, why);
    return out;
}

bool hka_is_json_type(const char *ct)
{
    if (!ct)
        return false;
    size_t n = strcspn(ct, ";");
    while (n && isspace((unsigned char)ct[n - 1]))
        n--;
    while (n && isspace((unsigned char)*ct)) {
        ct++;
        n--;
    }
    if (n == 16 && !strncasecmp(ct, "application/json", 16))
        return true;
    if (n == 9 && !strncasecmp(ct, "text/json", 9))
        return true;
    return n > 5 && !strncasecmp(ct + n - 5, "+json", 5);
}

int hka_escape_name(const char *s, hk_escape *out)
{
    static const char *const names[] = {"none", "json", "html", "url"};
    for (int i = 0; i < 4; i++)
        if (!strcmp(s, names[i])) {
            *out = (hk_escape)i;
            return 0;
        }
    return -1;
}

hk_escape hka_body_escape(const json_t *fields, const char *tpl)
{
    hk_escape esc;
    const char *name = hka_get_str(fields, "escape", NULL);
    if (name && hka_escape_name(name, &esc) == 0)
        return esc;
    while (tpl && isspace((unsigned char)*tpl))
        tpl++;
    /* "{{Value1}}" alone is a placeholder, not a JSON object */
    return tpl && (*tpl == '[' || (*tpl == '{' && tpl[1] != '{')) ? HK_ESC_JSON : HK_ESC_NONE;
}

const char *hka_or_empty(const char *s) { return s ? s : ""; }

/* ---------------------------------------------------------------- results */

static void one_line(char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || *s == 0x7f)
            *s = ' ';
}

void hka_result(char *result, size_t cap, const char *fmt, ...)
{
    if (!cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(result, cap, fmt, ap);
    va_end(ap);
    one_line(result);
}

void hka_result_append_quoted(char *result, size_t cap, const char *text, size_t n)
{
    size_t o = strlen(result);
    if (o + 3 > cap)
        return;
    result[o++] = '"';
    /* escape one character (or one UTF-8 sequence) at a time, so a cut never splits one */
    size_t i = 0;
    while (i < n) {
        size_t l = 1;
        if ((unsigned char)text[i] >= 0xC0)
            while (i + l < n && l < 4 && ((unsigned char)text[i + l] & 0xC0) == 0x80)
                l++;
        hka_buf one = {0};
        hka_buf_add_json_str(&one, text + i, l);
        /* room for this, the closing quote and NUL, and "..." if more follows */
        size_t need = one.len + 2 + (i + l < n ? 3 : 0);
        if (one.failed || o + need > cap) {
            hka_buf_free(&one);
            if (o + 5 <= cap)
                memcpy(result + o, "...", 3), o += 3;
            break;
        }
        memcpy(result + o, one.p, one.len);
        o += one.len;
        hka_buf_free(&one);
        i += l;
    }
    result[o++] = '"';
    result[o] = 0;
}

/* ---------------------------------------------------------------- the event as JSON */

static void set_clean(json_t *o, const char *k, const char *v)
{
    char *c = hka_utf8_clean(v);
    json_object_set_new(o, k, json_string(c ? c : ""));
    free(c);
}

char *hka_event_json(const hk_event *e)
{
    char when[64];
    hk_occurred_at(e->occurred_at, when, sizeof when);
    json_t *o = json_object();
    set_clean(o, "event", e->name);
    set_clean(o, "value1", e->value1);
    set_clean(o, "value2", e->value2);
    set_clean(o, "value3", e->value3);
    set_clean(o, "occurred_at", when);
    if (e->json || e->payload) {
        json_t *p = e->payload ? json_loads(e->payload, JSON_DECODE_ANY, NULL) : json_null();
        if (p)
            json_object_set_new(o, "payload", p);
        else
            set_clean(o, "payload", e->payload);
    }
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

char *hka_event_stdin(const hk_event *e)
{
    if (e->json && e->payload)
        return strdup(e->payload);
    json_t *o = json_object();
    set_clean(o, "value1", e->value1);
    set_clean(o, "value2", e->value2);
    set_clean(o, "value3", e->value3);
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
    json_decref(o);
    return s;
}

/* ---------------------------------------------------------------- libcurl */

void hka_curl_setup(void *curl, const json_t *fields, long timeout_ms, char *errbuf)
{
    CURL *c = curl;
    curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, timeout_ms);
    curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS, timeout_ms < 10000 ? timeout_ms : 10000L);
    curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
    if (hka_get_str(fields, "ca_file", NULL))
        curl_easy_setopt(c, CURLOPT_CAINFO, hka_get_str(fields, "ca_file", NULL));
    if (hka_get_bool(fields, "insecure", false)) {
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
        curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
    }
}

hk_action_status hka_curl_status(int code)
{
    switch ((CURLcode)code) {
    case CURLE_OK:
        return HK_ACTION_OK;
    /* settings that will not fix themselves */
    case CURLE_UNSUPPORTED_PROTOCOL:
    case CURLE_URL_MALFORMAT:
    case CURLE_NOT_BUILT_IN:
    case CURLE_LOGIN_DENIED:
    case CURLE_USE_SSL_FAILED:
    case CURLE_PEER_FAILED_VERIFICATION:
    case CURLE_SSL_CACERT_BADFILE:
    case CURLE_SSL_CERTPROBLEM:
    case CURLE_REMOTE_ACCESS_DENIED:
    case CURLE_AUTH_ERROR:
    case CURLE_FILESIZE_EXCEEDED:
    case CURLE_TOO_MANY_REDIRECTS:
        return HK_ACTION_FAIL;
    default:
        /* the target being down, slow, or cut off: worth another try */
        return HK_ACTION_RETRY;
    }
}
