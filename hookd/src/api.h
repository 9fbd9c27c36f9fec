/*
 * api.h - the JSON API under /api/, for the web page and scripts. Everything but POST
 * /api/login needs a session (cookie hookd_session); every change (any method but GET) also
 * needs the session's CSRF token in X-CSRF-Token, and JSON bodies must say
 * Content-Type: application/json. Errors: {"errors":[{"message":"..."}]}. Routes: docs/hookd.md.
 */
#ifndef HOOKD_API_H
#define HOOKD_API_H

#include <stddef.h>

#include "app.h"

typedef struct {
    const char *method;
    const char *path;            /* raw, from "/api/" on */
    const char *query;           /* raw, or NULL */
    const char *content_type;    /* or NULL */
    const char *session;         /* the hookd_session cookie, or NULL */
    const char *csrf;            /* the X-CSRF-Token header, or NULL */
    const char *body;
    size_t body_len;
    const char *ip;
} hk_api_request;

typedef struct {
    int status;
    char *body;                  /* malloc'd JSON, or NULL for no body */
    char set_cookie[160];        /* a Set-Cookie header's value, or "" */
} hk_api_reply;

void hk_api_handle(hk_app *app, const hk_api_request *rq, hk_api_reply *out);

#endif
