/* fuzz_trigger.c - the request-to-event parser (trigger.c) on arbitrary requests.
 *
 * Input: method, path, query, Content-Type, each ended by a newline, then the body (bytes,
 * NULs included). A path may say "{K}" for the server's key. An empty query is no query; an
 * empty Content-Type is none. Besides the sanitizers it checks what the rest of hookd relies
 * on: an accepted request gives an event whose name is 1..255 bytes of valid UTF-8 without
 * control characters, whose values are valid UTF-8 without NULs, whose payload (JSON
 * endpoint) is valid JSON; a refused one gives a 4xx with a message.
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <jansson.h>

#include "trigger.h"

#define KEY "AbCdEfGhIjKlMnOpQrStUv"

static char *take_line(const uint8_t **p, size_t *n)
{
    const uint8_t *nl = memchr(*p, '\n', *n);
    size_t len = nl ? (size_t)(nl - *p) : *n;
    char *s = strndup((const char *)*p, len);
    *p += nl ? len + 1 : len;
    *n -= nl ? len + 1 : len;
    return s;
}

/* "{K}" -> the key */
static char *with_key(char *s)
{
    char *at = strstr(s, "{K}");
    if (!at)
        return s;
    size_t n = strlen(s);
    char *out = malloc(n + sizeof KEY);
    memcpy(out, s, (size_t)(at - s));
    strcpy(out + (at - s), KEY);
    strcat(out, at + 3);
    free(s);
    return out;
}

static void check_text(const char *s, int allow_empty)
{
    if (!s)
        return;
    size_t n = strlen(s);
    if (!allow_empty && n == 0)
        abort();
    if (hk_utf8_invalid_at(s, n) >= 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const uint8_t *p = data;
    size_t n = size;
    char *method = take_line(&p, &n);
    char *path = with_key(take_line(&p, &n));
    char *query = take_line(&p, &n);
    char *ctype = take_line(&p, &n);
    hk_request rq = {method, path, *query ? query : NULL, *ctype ? ctype : NULL,
                     (const char *)p, n};
    hk_reject rej;
    hk_event *e = hk_trigger_parse(&rq, KEY, &rej);
    if (e) {
        check_text(e->name, 0);
        if (strlen(e->name) > HK_EVENT_NAME_MAX)
            abort();
        for (const char *c = e->name; *c; c++)
            if ((unsigned char)*c < 0x20 || *c == 0x7f)
                abort();
        check_text(e->value1, 1);
        check_text(e->value2, 1);
        check_text(e->value3, 1);
        if (e->json) {
            json_t *j = json_loads(e->payload, JSON_DECODE_ANY, NULL);
            if (!j || e->value1 || e->value2 || e->value3)
                abort();
            json_decref(j);
        } else if (e->payload) {
            abort();
        }
        hk_event_free(e);
    } else if (rej.status < 400 || rej.status > 499 || !rej.message[0]) {
        abort();
    }
    /* the route alone agrees with the whole parse on the URL's shape */
    hk_route r;
    hk_reject rej2;
    if (hk_trigger_route(path, &r, &rej2) == 0)
        hk_route_clear(&r);
    else if (e)
        abort();
    free(method);
    free(path);
    free(query);
    free(ctype);
    return 0;
}
