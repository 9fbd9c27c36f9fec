/* apperr.c - the chapter's exceptions, captured (apperr.h). */
#include <stdarg.h>
#include <stdio.h>

#include "app/app.h"
#include "app/apperr.h"

app_error_t app_error;

/* indexed by PQ_AT_*: the name a traceback shows */
static const char *const step_name[] = {"run", "load_config", "connect_wifi", "call_webhook"};

int app_fail(int where, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    app_error.where = where;
    app_error.code = code;
    vsnprintf(app_error.message, sizeof app_error.message, fmt, ap);
    va_end(ap);
    return code;
}

int app_http_fail(int err, const http_response *r)
{
    app_error.detail = r->status;
    if (err != BH_OK)
        return app_fail(PQ_AT_WEBHOOK, err, "%s", r->error);
    return app_fail(PQ_AT_WEBHOOK, BH_ERR_PROTO, "HTTP %d %s from %s", r->status, r->reason,
                    r->url);
}

const char *app_link_failure(int status)
{
    switch (status) {
    case HAL_LINK_WRONG_PASSWORD: return "wrong password";
    case HAL_LINK_NO_AP_FOUND: return "no AP found";
    case HAL_LINK_CONNECT_FAIL: return "connect failed";
    default: return NULL;
    }
}

void app_print_exception(void)
{
    const char *where = step_name[app_error.where];
    bh_printf("Traceback (most recent call last):\n  in run()\n  in %s()\n%s: %s\n", where,
              app_error.code == BH_ERR_TIMEOUT ? "TimeoutError" : "RuntimeError",
              app_error.message);
    hal_report("error", where, app_error.code, app_error.message);
}

void app_config_diag(void *ctx, int is_error, const char *msg)
{
    (void)ctx, (void)is_error;
    bh_printf("%s\n", msg);
}

void app_last_wake(const press_queue *q)
{
    char text[80];
    /* & 3: a record from RTC memory indexes step_name[] only within its bounds */
    int code = q->last_err, at = q->last_where & 3, d = q->last_detail;
    const char *why = at == PQ_AT_WIFI ? app_link_failure(d) : d ? "HTTP status" : NULL;
    if (!code)
        return;
    snprintf(text, sizeof text, "%s: %s (%d); %d kept", step_name[at],
             why ? why : bh_strerror(code), d ? d : code, q->count);
    bh_printf("Last wake failed in %s\n", text);
    hal_report("info", "last_wake", code, text);
}
