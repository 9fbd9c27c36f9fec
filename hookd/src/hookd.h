/*
 * hookd.h - types shared by hookd's parts: the event a trigger stores, the applet that turns
 * it into an action, and the action interface (one file per kind of action).
 *
 *   trigger (http.c) -> hk_event stored (store.c) -> one delivery per matching applet
 *   -> a worker (worker.c) runs the applet's action (action_*.c) with retries
 */
#ifndef HOOKD_H
#define HOOKD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

/* An event as received. Strings are owned by the event (hk_event_free). */
typedef struct {
    int64_t id;               /* store row id, 0 before it is stored */
    char *name;               /* EventName, from the URL */
    bool json;                /* the /json/ trigger: payload holds the whole body */
    char *value1, *value2, *value3;  /* NULL when absent */
    char *payload;            /* JsonPayload (re-serialised JSON) for json triggers, else NULL */
    int64_t occurred_at;      /* unix seconds */
    char *source_ip;
} hk_event;

/* frees the strings of e (which may be on the stack) and zeroes it */
void hk_event_clear(hk_event *e);
/* hk_event_clear, then frees e itself (NULL: nothing) */
void hk_event_free(hk_event *e);

/* The ingredients, for templates: {{EventName}} {{Value1}} {{Value2}} {{Value3}}
 * {{OccurredAt}} {{JsonPayload}}. OccurredAt is IFTTT's "August 23, 2019 at 11:45PM" in the
 * server's local time zone. */
/* JSON: inside a JSON string a value is escaped; outside one it becomes a JSON value (see
 * docs/actions.md). URL: values percent-encoded, for URLs and form bodies. */
typedef enum { HK_ESC_NONE, HK_ESC_JSON, HK_ESC_HTML, HK_ESC_URL } hk_escape;

/* Expands tpl with e's ingredients. Unknown {{Names}} are an error: returns NULL and puts
 * "unknown ingredient {{Foo}} at offset N" in err. Missing values expand to "".
 * The result is malloc'd. */
char *hk_template_expand(const char *tpl, const hk_event *e, hk_escape esc, char *err,
                         size_t errcap);
/* Checks a template without an event (for the API and config: reject typos early). */
int hk_template_check(const char *tpl, char *err, size_t errcap);
/* IFTTT's OccurredAt format for a unix time, in local time. */
void hk_occurred_at(int64_t t, char *out, size_t cap);

/* A JSON parse error in the user's words (never the library's option names), into out. */
const char *hk_json_why(const json_error_t *je, char *out, size_t cap);

/* An applet: if event `event` arrives then run action `action` with `fields`. */
typedef struct {
    int64_t id;
    char *name;
    char *event;              /* EventName to match */
    char *action;             /* "email", "maildir", "http", "mqtt", "command", "file",
                                 "homeassistant" */
    json_t *fields;           /* the action's settings; string values are templates */
    bool enabled;
} hk_applet;

/* The result of one attempt of an action. */
typedef enum {
    HK_ACTION_OK = 0,
    HK_ACTION_RETRY = 1,      /* failed, worth trying again (target down, timeout, 5xx) */
    HK_ACTION_FAIL = 2        /* failed for good (bad settings, 4xx): no retry */
} hk_action_status;

/* Every action kind implements this. run() is called from a worker thread, may block up to
 * its own timeout, and writes a one-line human-readable result (what happened, or why it
 * failed) into result. idempotency_key is stable across retries of one delivery. */
typedef struct {
    const char *name;
    /* Checks fields when an applet is created or seeded: 0, or -1 with a message. */
    int (*validate)(const json_t *fields, char *err, size_t errcap);
    hk_action_status (*run)(const json_t *fields, const hk_event *e,
                            const char *idempotency_key, char *result, size_t cap);
} hk_action;

/* The action kinds, by name; NULL if unknown. */
const hk_action *hk_action_find(const char *name);
/* Closes what actions keep between runs (the homeassistant action's broker connections);
 * called once no worker runs an action any more. */
void hk_actions_shutdown(void);
/* Global limits for the command action (set from the config at start). */
extern int hk_command_max_concurrent;   /* default 4 */

#endif
