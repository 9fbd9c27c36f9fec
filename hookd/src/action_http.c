/*
 * action_http.c - the HTTP request action ("Make a web request"), through libcurl.
 *
 * Values are escaped for where they land: percent-encoded in the URL; in the body by the
 * content type (JSON bodies stay valid JSON, form bodies are percent-encoded). Every request
 * carries "Idempotency-Key: <delivery key>", the same on each retry, so a receiver can drop
 * the duplicate that a retry after a lost reply would make.
 *
 * Outcome: 2xx OK; 408, 429, 5xx and transport errors RETRY; anything else FAIL (a redirect
 * is not followed: POST-to-GET rewrites would silently change the request).
 */
#define _GNU_SOURCE
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "action_util.h"
#include "hookd.h"

static const hka_field http_fields[] = {
    {"url", HKA_TEMPLATE, true, 0, 0},
    {"method", HKA_STRING, false, 0, 0},
    {"headers", HKA_HEADERS, false, 0, 0},
    {"body", HKA_TEMPLATE, false, 0, 0},
    {"escape", HKA_STRING, false, 0, 0},
    {"timeout", HKA_INT, false, 1, 600},
    {"ca_file", HKA_STRING, false, 0, 0},
    {"insecure", HKA_BOOL, false, 0, 0},
    {NULL, 0, false, 0, 0},
};

static const char *const methods[] = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", NULL};
/* headers hookd sets itself, or that would desynchronise the request */
static const char *const reserved[] = {"Idempotency-Key", "Content-Length", "Host",
                                       "Transfer-Encoding", "Connection", NULL};

static const char *find_header(const json_t *headers, const char *name)
{
    const char *k;
    json_t *v;
    json_object_foreach((json_t *)headers, k, v) if (!strcasecmp(k, name)) return
        json_string_value(v);
    return NULL;
}

static int http_validate(const json_t *fields, char *err, size_t errcap)
{
    if (hka_fields_check(fields, http_fields, "http", err, errcap))
        return -1;
    const char *url = hka_get_str(fields, "url", "");
    if (strncasecmp(url, "http://", 7) && strncasecmp(url, "https://", 8)) {
        snprintf(err, errcap, "http: field \"url\" must start with http:// or https://");
        return -1;
    }
    const char *m = hka_get_str(fields, "method", "POST");
    size_t i = 0;
    while (methods[i] && strcmp(methods[i], m))
        i++;
    if (!methods[i]) {
        snprintf(err, errcap,
                 "http: field \"method\" must be one of GET, POST, PUT, PATCH, DELETE, HEAD");
        return -1;
    }
    if (hka_get_str(fields, "body", NULL) && (!strcmp(m, "GET") || !strcmp(m, "HEAD"))) {
        snprintf(err, errcap, "http: field \"body\" needs a method that sends one (POST, PUT, "
                              "PATCH, DELETE)");
        return -1;
    }
    hk_escape esc;
    const char *e = hka_get_str(fields, "escape", NULL);
    if (e && hka_escape_name(e, &esc)) {
        snprintf(err, errcap, "http: field \"escape\" must be none, json, html or url");
        return -1;
    }
    const char *k;
    json_t *v;
    json_object_foreach(json_object_get(fields, "headers"), k, v)
    {
        bool ok = *k != 0;
        for (const char *p = k; *p; p++)
            ok = ok && (isalnum((unsigned char)*p) || strchr("!#$%&'*+-.^_`|~", *p));
        if (!ok) {
            snprintf(err, errcap, "http: field \"headers\": \"%.60s\" is not a header name", k);
            return -1;
        }
        for (i = 0; reserved[i]; i++)
            if (!strcasecmp(k, reserved[i])) {
                snprintf(err, errcap, "http: field \"headers\": %s is set by hookd", reserved[i]);
                return -1;
            }
    }
    return 0;
}

typedef struct {
    char keep[HK_RESPONSE_KEEP];
    size_t len;
} reply;

static size_t write_cb(char *data, size_t size, size_t n, void *ud)
{
    reply *r = ud;
    size_t len = size * n, room = sizeof r->keep - r->len;
    memcpy(r->keep + r->len, data, len < room ? len : room);
    r->len += len < room ? len : room;
    return len;
}

/* The URL for the result line: no query string or user info, which may hold secrets. */
static void shown_url(const char *url, char *out, size_t cap)
{
    CURLU *u = curl_url();
    char *s = NULL;
    snprintf(out, cap, "(url)");
    if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_QUERY, NULL, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_USER, NULL, 0) == CURLUE_OK &&
        curl_url_set(u, CURLUPART_PASSWORD, NULL, 0) == CURLUE_OK &&
        curl_url_get(u, CURLUPART_URL, &s, 0) == CURLUE_OK)
        snprintf(out, cap, "%s", s);
    curl_free(s);
    curl_url_cleanup(u);
}

static bool add_header(struct curl_slist **l, const char *line)
{
    struct curl_slist *n = curl_slist_append(*l, line);
    if (n)
        *l = n;
    return n != NULL;
}

static hk_action_status http_run(const json_t *fields, const hk_event *e,
                                 const char *idempotency_key, char *result, size_t cap)
{
    char err[512] = "";
    if (http_validate(fields, err, sizeof err)) {
        hka_result(result, cap, "%s", err);
        return HK_ACTION_FAIL;
    }
    hka_libs_init();
    hk_action_status st = HK_ACTION_FAIL;
    const char *method = hka_get_str(fields, "method", "POST");
    const json_t *headers = json_object_get(fields, "headers");
    const char *body_tpl = hka_get_str(fields, "body", NULL);
    char *url = NULL, *body = NULL, shown[512];
    struct curl_slist *hl = NULL;
    CURL *c = NULL;
    reply rep = {.len = 0};

    url = hka_expand(fields, "url", NULL, e, HK_ESC_URL, err, sizeof err);
    if (!url) {
        hka_result(result, cap, "http: %s", err);
        goto out;
    }
    shown_url(url, shown, sizeof shown);

    /* the body's escaping follows its content type, or sets it */
    const char *ct = headers ? find_header(headers, "Content-Type") : NULL;
    hk_escape esc = HK_ESC_NONE;
    const char *esc_name = hka_get_str(fields, "escape", NULL);
    if (esc_name)
        hka_escape_name(esc_name, &esc);
    else if (ct)
        esc = hka_is_json_type(ct)                                   ? HK_ESC_JSON
              : !strncasecmp(ct, "application/x-www-form-urlencoded", 33) ? HK_ESC_URL
                                                                          : HK_ESC_NONE;
    else if (body_tpl)
        esc = hka_body_escape(fields, body_tpl);
    if (body_tpl) {
        body = hka_expand(fields, "body", NULL, e, esc, err, sizeof err);
        if (!body) {
            hka_result(result, cap, "http: %s", err);
            goto out;
        }
    }

    const char *k;
    json_t *v;
    json_object_foreach((json_t *)headers, k, v)
    {
        char *val = hk_template_expand(json_string_value(v), e, HK_ESC_NONE, err, sizeof err);
        if (!val) {
            hka_result(result, cap, "http: field \"headers.%s\": %s", k, err);
            goto out;
        }
        hka_buf line = {0};
        hka_buf_printf(&line, "%s: ", k);
        for (char *p = val; *p; p++)   /* no header injection through a value */
            hka_buf_addc(&line, (unsigned char)*p < 0x20 ? ' ' : *p);
        free(val);
        char *s = hka_buf_take(&line);
        bool ok = s && add_header(&hl, s);
        free(s);
        if (!ok) {
            hka_result(result, cap, "http: out of memory");
            st = HK_ACTION_RETRY;
            goto out;
        }
    }
    char idem[300];
    bool ok = true;
    if (idempotency_key && *idempotency_key) {
        snprintf(idem, sizeof idem, "Idempotency-Key: %.256s", idempotency_key);
        for (char *p = idem; *p; p++)
            if ((unsigned char)*p < 0x20)
                *p = ' ';
        ok = add_header(&hl, idem);
    }
    if (body && !ct)
        ok = ok && add_header(&hl, esc == HK_ESC_JSON ? "Content-Type: application/json"
                                                      : "Content-Type: text/plain; charset=utf-8");
    ok = ok && add_header(&hl, "Expect:");   /* no 100-continue round trip */

    c = curl_easy_init();
    if (!c || !ok) {
        hka_result(result, cap, "http: out of memory");
        st = HK_ACTION_RETRY;
        goto out;
    }
    char errbuf[CURL_ERROR_SIZE] = "";
    long timeout_ms = (long)hka_get_int(fields, "timeout", 10) * 1000;
    curl_easy_setopt(c, CURLOPT_URL, url);
    curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
    curl_easy_setopt(c, CURLOPT_USERAGENT, "hookd");
    curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, write_cb);
    curl_easy_setopt(c, CURLOPT_WRITEDATA, &rep);
    hka_curl_setup(c, fields, timeout_ms, errbuf);
    if (!strcmp(method, "HEAD"))
        curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
    else if (strcmp(method, "GET")) {
        curl_easy_setopt(c, CURLOPT_POST, 1L);
        curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
        curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)(body ? strlen(body) : 0));
        if (strcmp(method, "POST"))
            curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
    }

    CURLcode rc = curl_easy_perform(c);
    if (rc != CURLE_OK) {
        st = hka_curl_status(rc);
        hka_result(result, cap, "http: %s %s %s: %s%s%s",
                   st == HK_ACTION_RETRY ? "will retry" : "failed", method, shown,
                   curl_easy_strerror(rc), errbuf[0] ? ": " : "", errbuf);
        goto out;
    }
    long code = 0;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &code);
    if (code >= 200 && code < 300)
        st = HK_ACTION_OK;
    else if (code == 408 || code == 429 || (code >= 500 && code < 600))
        st = HK_ACTION_RETRY;
    else
        st = HK_ACTION_FAIL;
    hka_result(result, cap, "http: %s %s -> %ld", method, shown, code);
    if (code >= 300 && code < 400) {
        char *loc = NULL;
        curl_easy_getinfo(c, CURLINFO_REDIRECT_URL, &loc);
        size_t o = strlen(result);
        if (o < cap)
            snprintf(result + o, cap - o, " (redirect to %.200s not followed)",
                     loc ? loc : "?");
    }
    if (rep.len) {
        size_t o = strlen(result);
        if (o + 2 < cap) {
            memcpy(result + o, ": ", 3);
            hka_result_append_quoted(result, cap, rep.keep, rep.len);
        }
    }
out:
    if (c)
        curl_easy_cleanup(c);
    curl_slist_free_all(hl);
    free(url);
    free(body);
    return st;
}

const hk_action hk_action_http = {"http", http_validate, http_run};
