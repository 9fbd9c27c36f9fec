/*
 * trigger.h - IFTTT Maker Webhooks requests turned into events: a pure function of the
 * request's parts (no I/O, no clock), so it can be unit-tested and fuzzed.
 *
 *   /trigger/{event}/with/key/{key}        value1..3 from a JSON body, form fields or the query
 *   /trigger/{event}/json/with/key/{key}   the whole body becomes JsonPayload
 *
 * Checks, in this order: the path's shape (404), the method (405), the key (401, constant
 * time), the event name (400), the body (400, 415).
 */
#ifndef HOOKD_TRIGGER_H
#define HOOKD_TRIGGER_H

#include <stdbool.h>
#include <stddef.h>

#include "hookd.h"

#define HK_EVENT_NAME_MAX 255

typedef struct {
    const char *method;
    const char *path;           /* raw (still percent-encoded), without the query */
    const char *query;          /* raw, without the '?'; NULL when none */
    const char *content_type;   /* NULL when absent */
    const char *body;
    size_t body_len;
} hk_request;

typedef struct {
    int status;                 /* an HTTP status: 400, 401, 404, 405 or 415 */
    char message[256];          /* for the reply's {"errors":[{"message":...}]} */
} hk_reject;

/* The parts of a trigger URL, decoded (malloc'd; hk_route_clear frees them). */
typedef struct {
    char *event;
    char *key;
    bool json;
} hk_route;

/* Splits a trigger path: 0 with r filled, or 404 / 400 with rej filled. Only the shape is
 * checked (the event name's content is checked by hk_trigger_parse). */
int hk_trigger_route(const char *path, hk_route *r, hk_reject *rej);
void hk_route_clear(hk_route *r);

/* The whole request: an event (occurred_at 0 and source_ip NULL, for the caller to fill), or
 * NULL with rej filled. key is the server's trigger key. */
hk_event *hk_trigger_parse(const hk_request *rq, const char *key, hk_reject *rej);
/* The same for a path the caller has already split with hk_trigger_route (rq->path is not
 * read again; r stays the caller's to clear). */
hk_event *hk_trigger_parse_routed(const hk_request *rq, const hk_route *r, const char *key,
                                  hk_reject *rej);

/* Percent-decodes s[0..n) ('+' as a space when plus_is_space) into a malloc'd,
 * NUL-terminated string, its length in *outlen. NULL when an escape is malformed (its offset
 * in *bad) or memory runs out. */
char *hk_pct_decode(const char *s, size_t n, bool plus_is_space, size_t *outlen, size_t *bad);

/* An event name (from a URL, or an applet's): 1 to HK_EVENT_NAME_MAX bytes of UTF-8, no
 * control characters. 0, or -1 with a message. */
int hk_event_name_check(const char *name, char *msg, size_t cap);

/* Offset of the first byte that is not part of valid UTF-8 (overlong forms, surrogates and
 * code points above U+10FFFF are invalid), or -1 when s[0..n) is valid. */
long hk_utf8_invalid_at(const char *s, size_t n);

#endif
