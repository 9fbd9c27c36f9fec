/*
 * apperr.h - the chapter's exceptions, captured: the function that failed (PQ_AT_*), its
 * bh_err and a sentence saying why, printed as sys.print_exception() prints a traceback, and
 * told again by the next wake (docs/press-queue.md) since the board sleeps before anyone reads
 * the console.
 */
#ifndef BH_APPERR_H
#define BH_APPERR_H

#include "app/rtc_state.h"
#include "bh_opts.h"
#include "net/http.h"

typedef struct {
    int where;    /* PQ_AT_* */
    int code;     /* a bh_err */
    int detail;   /* the link status, or the HTTP status */
    char message[BH_HTTP_ERR_MAX + 64];
} app_error_t;

/* The last failure; detail is set by the step before it calls app_fail(). */
extern app_error_t app_error;

/* Records where, code and the formatted message in app_error; returns code. */
#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
int app_fail(int where, int code, const char *fmt, ...);

/* The exception call_webhook() raises for a request that failed (err) or was refused (an
 * HTTP status >= 400 in r). */
int app_http_fail(int err, const http_response *r);

/* "wrong password", "no AP found", "connect failed" for a link status that ends a join;
 * NULL for any other (still connecting, or connected). */
const char *app_link_failure(int status);

/* sys.print_exception(): "Traceback ...", the function, then what; and a hal_report(). */
void app_print_exception(void);

/* config.py's messages (cfg_diag_fn), one console line each */
void app_config_diag(void *ctx, int is_error, const char *msg);

/* How the last wake ended, from the queue's record of it: nothing if it succeeded, else
 * "Last wake failed in call_webhook: ...; N kept" on the console and as a hal_report(). */
void app_last_wake(const press_queue *q);

#endif
