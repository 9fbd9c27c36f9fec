/*
 * test_trigger.c - the request-to-event parser (trigger.c), the UTF-8 check, the token
 * buckets (ratelimit.c) and the retry backoff (worker.c): pure functions, checked one case a
 * line. Exits non-zero when any check fails.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ratelimit.h"
#include "trigger.h"
#include "worker.h"

#include "check.h"

#define KEY "AbCdEfGhIjKlMnOpQrStUv"

static const char *str(const char *s) { return s ? s : "(null)"; }

static int same(const char *a, const char *b)
{
    return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* One request; want_status 0 means an event with these values (NULL: absent). */
static void req(int line, const char *method, const char *path, const char *query,
                const char *ctype, const char *body, int want_status, const char *want_msg,
                const char *name, const char *v1, const char *v2, const char *v3,
                const char *payload)
{
    hk_request rq = {method, path, query, ctype, body, body ? strlen(body) : 0};
    hk_reject rej;
    hk_event *e = hk_trigger_parse(&rq, KEY, &rej);
    checks++;
    if (want_status) {
        if (e || rej.status != want_status || (want_msg && !strstr(rej.message, want_msg))) {
            failures++;
            fprintf(stderr, "line %d: want %d \"%s\", got %s %d \"%s\"\n", line, want_status,
                    str(want_msg), e ? "an event" : "", rej.status, rej.message);
        }
    } else if (!e) {
        failures++;
        fprintf(stderr, "line %d: want an event, got %d %s\n", line, rej.status, rej.message);
    } else if (!same(e->name, name) || !same(e->value1, v1) || !same(e->value2, v2) ||
               !same(e->value3, v3) || !same(e->payload, payload) ||
               e->json != (payload != NULL)) {
        failures++;
        fprintf(stderr, "line %d: got %s [%s|%s|%s] payload %s\n", line, e->name, str(e->value1),
                str(e->value2), str(e->value3), str(e->payload));
    }
    hk_event_free(e);
}

#define OK(m, p, q, ct, b, name, v1, v2, v3) \
    req(__LINE__, m, p, q, ct, b, 0, NULL, name, v1, v2, v3, NULL)
#define OKJ(m, p, q, ct, b, name, payload) \
    req(__LINE__, m, p, q, ct, b, 0, NULL, name, NULL, NULL, NULL, payload)
#define BAD(m, p, q, ct, b, status, msg) \
    req(__LINE__, m, p, q, ct, b, status, msg, NULL, NULL, NULL, NULL, NULL)

static void test_parse(void)
{
    const char *P = "/trigger/button_pressed/with/key/" KEY;
    const char *J = "/trigger/button_pressed/json/with/key/" KEY;
    const char *json = "application/json";
    const char *form = "application/x-www-form-urlencoded";

    /* the chapter's request */
    OK("POST", P, NULL, json, "{\"value1\":\"micropython1\"}", "button_pressed", "micropython1",
       NULL, NULL);
    OK("GET", P, NULL, NULL, NULL, "button_pressed", NULL, NULL, NULL);
    OK("POST", P, NULL, "Application/JSON; charset=utf-8", "{\"value2\":\"x\"}", "button_pressed",
       NULL, "x", NULL);
    OK("POST", P, NULL, "application/vnd.x+json", "{\"value3\":\"y\"}", "button_pressed", NULL,
       NULL, "y");
    /* query, form, precedence, decoding */
    OK("GET", P, "value1=a+b&value2=%41%42&value3", NULL, NULL, "button_pressed", "a b", "AB",
       "");
    OK("POST", P, "value1=q&value2=q2", form, "value1=f&&x=1&=", "button_pressed", "f", "q2",
       NULL);
    OK("POST", P, NULL, json, "{\"value1\":1.5,\"value2\":[1,\"a\"],\"value3\":null}",
       "button_pressed", "1.5", "[1,\"a\"]", NULL);
    OK("POST", P, NULL, NULL, "  {\"value1\":\"sniffed\"}", "button_pressed", "sniffed", NULL,
       NULL);
    OK("POST", P, NULL, "text/plain", "just text", "button_pressed", NULL, NULL, NULL);
    OK("POST", P, NULL, "application/octet-stream", "\xff\xfe", "button_pressed", NULL, NULL,
       NULL);
    OK("GET", "/trigger/caf%C3%A9%20bar/with/key/" KEY, NULL, NULL, NULL, "caf\xc3\xa9 bar", NULL,
       NULL, NULL);
    OK("GET", "/trigger/a+b/with/key/" KEY, NULL, NULL, NULL, "a+b", NULL, NULL, NULL);
    OK("GET", "/trigger/json/with/key/" KEY, NULL, NULL, NULL, "json", NULL, NULL, NULL);
    OK("GET", P, "value1=%E2%82%AC", NULL, NULL, "button_pressed", "\xe2\x82\xac", NULL, NULL);
    /* the JSON endpoint */
    OKJ("POST", J, "value1=ignored", json, "{\"b\": [1, 2.5, null], \"a\": \"x\"}",
        "button_pressed", "{\"b\":[1,2.5,null],\"a\":\"x\"}");
    OKJ("GET", J, NULL, NULL, NULL, "button_pressed", "{}");
    OKJ("POST", J, NULL, "text/plain", "42", "button_pressed", "42");
    OKJ("POST", J, NULL, form, "a=1&b=x+y", "button_pressed", "{\"a\":\"1\",\"b\":\"x y\"}");

    /* shape: 404 */
    BAD("GET", "/trigger//with/key/" KEY, NULL, NULL, NULL, 404, "empty event name");
    BAD("GET", "/trigger//json/with/key/" KEY, NULL, NULL, NULL, 404, "empty event name");
    BAD("GET", "/", NULL, NULL, NULL, 404, "unknown path");
    BAD("GET", "/trigger", NULL, NULL, NULL, 404, NULL);
    BAD("GET", "/trigger/e/with/key", NULL, NULL, NULL, 404, NULL);
    BAD("GET", "/trigger/e/with/key/" KEY "/", NULL, NULL, NULL, 404, NULL);
    BAD("GET", "/trigger/e/With/key/" KEY, NULL, NULL, NULL, 404, NULL);
    BAD("GET", "/trigger/e/x/with/key/" KEY, NULL, NULL, NULL, 404, NULL);
    BAD("GET", "/trigger/a/b/c/d/e/f/g/h", NULL, NULL, NULL, 404, NULL);
    /* method: 405, before the key */
    BAD("PUT", P, NULL, NULL, NULL, 405, "use GET or POST");
    BAD("DELETE", "/trigger/e/with/key/wrong", NULL, NULL, NULL, 405, NULL);
    /* key: 401 */
    BAD("GET", "/trigger/e/with/key/wrong", NULL, NULL, NULL, 401, "You sent an invalid key.");
    BAD("GET", "/trigger/e/with/key/", NULL, NULL, NULL, 401, NULL);
    BAD("GET", "/trigger/e/with/key/" KEY "x", NULL, NULL, NULL, 401, NULL);
    OK("GET", "/trigger/e/with/key/%41bCdEfGhIjKlMnOpQrStUv", NULL, NULL, NULL, "e", NULL, NULL,
       NULL);
    BAD("GET", "/trigger/e/with/key/%zz", NULL, NULL, NULL, 401, NULL);
    BAD("GET", "/trigger/e/with/key/" KEY "%00", NULL, NULL, NULL, 401, NULL);
    /* the event name: 400 */
    BAD("GET", "/trigger/a%ff/with/key/" KEY, NULL, NULL, NULL, 400, "not valid UTF-8 (byte 1)");
    BAD("GET", "/trigger/a%0a/with/key/" KEY, NULL, NULL, NULL, 400, "control character");
    BAD("GET", "/trigger/a%00/with/key/" KEY, NULL, NULL, NULL, 400, "NUL");
    BAD("GET", "/trigger/a%zz/with/key/" KEY, NULL, NULL, NULL, 400, "percent-encoding");
    /* bodies and values: 400, 415 */
    BAD("POST", P, NULL, json, "{\"value1\":", 400, "malformed JSON body");
    BAD("POST", P, NULL, json, "[1]", 400, "must be an object");
    BAD("POST", P, NULL, json, "{\"value1\":\"\\u0000\"}", 400, "malformed JSON body");
    BAD("POST", P, NULL, json, "{\"value1\":\"\xc3\x28\"}", 400, "malformed JSON body");
    BAD("POST", P, NULL, form, "value1=%c3%28", 400, "value1 is not valid UTF-8 (byte 0");
    BAD("POST", P, NULL, form, "value3=ab%ed%a0%80", 400, "value3 is not valid UTF-8 (byte 2");
    BAD("POST", P, NULL, form, "value2=a%00", 400, "NUL byte");
    BAD("POST", P, NULL, form, "other=%G0", 400, "malformed form body: bad percent-encoding");
    BAD("GET", P, "value1=%", NULL, NULL, 400, "malformed query string");
    BAD("POST", P, NULL, "multipart/form-data; boundary=x", "--x", 415, "multipart");
    BAD("POST", J, NULL, json, "nope", 400, "malformed JSON body");
    BAD("POST", J, NULL, form, "a=%ff", 400, "not valid UTF-8");
    BAD("POST", J, NULL, form, "%ff=1", 400, "not valid UTF-8");

    /* a body sent again (a button's, at every press) gives the same values, whatever came
     * between; one of the same length but other bytes gives its own; the query's values
     * still fill what the body leaves out, and the body's still win */
    const char *b1 = "{\"value1\":\"micropython1\",\"value3\":7}";
    OK("POST", P, NULL, json, b1, "button_pressed", "micropython1", NULL, "7");
    OK("POST", P, NULL, json, b1, "button_pressed", "micropython1", NULL, "7");
    OK("POST", P, "value1=q&value2=q2", json, b1, "button_pressed", "micropython1", "q2", "7");
    OK("POST", P, NULL, json, "{\"value1\":\"micropython2\",\"value3\":8}", "button_pressed",
       "micropython2", NULL, "8");
    OK("POST", P, NULL, json, b1, "button_pressed", "micropython1", NULL, "7");
    BAD("POST", P, NULL, json, "{\"value1\":\"micropython1\",\"value3\":7", 400,
        "malformed JSON body");
    BAD("POST", P, NULL, json, "[\"value1\",\"micropython1\",\"value3\",7]", 400,
        "must be an object");
    BAD("POST", P, NULL, json, "[\"value1\",\"micropython1\",\"value3\",7]", 400,
        "must be an object");
    OK("POST", P, NULL, json, b1, "button_pressed", "micropython1", NULL, "7");
    /* and a long one, past what a thread keeps */
    char big[700] = "{\"value2\":\"";
    size_t n = strlen(big);
    memset(big + n, 'x', 600);
    strcpy(big + n + 600, "\"}");
    for (int i = 0; i < 2; i++) {
        hk_request rq = {"POST", P, NULL, json, big, strlen(big)};
        hk_reject rej;
        hk_event *e = hk_trigger_parse(&rq, KEY, &rej);
        checks++;
        if (!e || e->value1 || !e->value2 || strlen(e->value2) != 600 || e->value3) {
            failures++;
            fprintf(stderr, "long body, try %d: %s\n", i, e ? "wrong values" : rej.message);
        }
        hk_event_free(e);
    }
}

static void utf8(int line, const char *s, size_t n, long want)
{
    long got = hk_utf8_invalid_at(s, n);
    checks++;
    if (got != want) {
        failures++;
        fprintf(stderr, "line %d: utf8 want %ld got %ld\n", line, want, got);
    }
}

static void test_utf8(void)
{
    utf8(__LINE__, "", 0, -1);
    utf8(__LINE__, "plain", 5, -1);
    utf8(__LINE__, "\xc3\xa9\xe2\x82\xac\xf0\x9f\x98\x80", 9, -1);
    utf8(__LINE__, "\xf4\x8f\xbf\xbf", 4, -1);      /* U+10FFFF */
    utf8(__LINE__, "a\x80", 2, 1);                   /* a lone continuation byte */
    utf8(__LINE__, "ab\xc3", 3, 2);                  /* cut short */
    utf8(__LINE__, "\xc0\xaf", 2, 0);                /* overlong "/" */
    utf8(__LINE__, "\xe0\x80\xaf", 3, 0);            /* overlong */
    utf8(__LINE__, "\xed\xa0\x80", 3, 0);            /* surrogate */
    utf8(__LINE__, "\xf4\x90\x80\x80", 4, 0);        /* above U+10FFFF */
    utf8(__LINE__, "\xff", 1, 0);
    utf8(__LINE__, "x\xe2\x28\xa1", 4, 1);
}

static void test_ratelimit(void)
{
    hk_limiter *l = hk_limiter_new(2, 3);   /* 2 a second, bursts of 3 */
    int ra;
    CHECK(hk_limiter_take(l, "a", 1000, &ra), "1st");
    CHECK(hk_limiter_take(l, "a", 1000, &ra), "2nd");
    CHECK(hk_limiter_take(l, "a", 1000, &ra), "3rd");
    CHECK(!hk_limiter_take(l, "a", 1000, &ra) && ra == 1, "4th refused, retry after %d", ra);
    CHECK(hk_limiter_take(l, "b", 1000, &ra), "another name has its own bucket");
    CHECK(hk_limiter_take(l, "a", 1500, &ra), "half a second later: one token back");
    CHECK(!hk_limiter_take(l, "a", 1500, &ra), "and only one");
    CHECK(hk_limiter_take(l, "a", 10000, &ra) && hk_limiter_take(l, "a", 10000, &ra) &&
              hk_limiter_take(l, "a", 10000, &ra) && !hk_limiter_take(l, "a", 10000, &ra),
          "refilled to the burst, not beyond");
    /* many names: the table stays bounded and keeps working */
    char name[32];
    for (int i = 0; i < 100000; i++) {
        snprintf(name, sizeof name, "10.0.%d.%d", i / 256, i % 256);
        hk_limiter_take(l, name, 20000 + i, &ra);
    }
    CHECK(hk_limiter_take(l, "fresh", 200000, &ra), "a new name after many");
    hk_limiter_free(l);
    hk_limiter *off = hk_limiter_new(0, 1);
    for (int i = 0; i < 100; i++)
        CHECK(hk_limiter_take(off, "x", 0, &ra), "rate 0: no limit");
    hk_limiter_free(off);
}

static void test_backoff(void)
{
    for (int i = 0; i < 200; i++) {
        int64_t d1 = hk_backoff_ms(1, 1000, 60000);
        int64_t d3 = hk_backoff_ms(3, 1000, 60000);
        int64_t d20 = hk_backoff_ms(20, 1000, 60000);
        CHECK(d1 >= 500 && d1 <= 1000, "1st retry %lld", (long long)d1);
        CHECK(d3 >= 2000 && d3 <= 4000, "3rd retry %lld", (long long)d3);
        CHECK(d20 >= 30000 && d20 <= 60000, "capped %lld", (long long)d20);
    }
    CHECK(hk_backoff_ms(1000, 1000, 3600000) <= 3600000, "no overflow");
}

int main(void)
{
    test_parse();
    test_utf8();
    test_ratelimit();
    test_backoff();
    printf("test_trigger: %d checks, %d failures\n", checks, failures);
    return failures ? 1 : 0;
}
