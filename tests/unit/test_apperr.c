/* test_apperr.c - the chapter's exceptions (app/apperr.c): where and why, printed as a
 * traceback, and the last wake's failure told by the next wake. */
#include <stdio.h>
#include <string.h>

#include "app/apperr.h"
#include "testboard.h"

static void test_traceback(void)
{
    tb_reset();
    CHECK_INT(app_fail(PQ_AT_WEBHOOK, BH_ERR_TIMEOUT, "POST %s: no answer", "http://h/x"),
              BH_ERR_TIMEOUT);
    app_print_exception();
    CHECK_STR(tb_console, "Traceback (most recent call last):\n  in run()\n  in call_webhook()\n"
                          "TimeoutError: POST http://h/x: no answer\n");
    CHECK(strstr(tb_reports, "error call_webhook "));
    tb_reset();
    app_fail(PQ_AT_CONFIG, BH_ERR_ARG, "config.py has errors (see above)");
    app_print_exception();
    CHECK(strstr(tb_console, "  in load_config()\nRuntimeError: config.py has errors"));
}

static void test_http_failures(void)
{
    static http_response r;
    memset(&r, 0, sizeof r);
    r.status = 404;
    strcpy(r.reason, "Not Found");
    strcpy(r.url, "http://hooks.example/x");
    CHECK_INT(app_http_fail(BH_OK, &r), BH_ERR_PROTO);   /* refused: the chapter's raise */
    CHECK_INT(app_error.where, PQ_AT_WEBHOOK);
    CHECK_INT(app_error.detail, 404);
    CHECK_STR(app_error.message, "HTTP 404 Not Found from http://hooks.example/x");
    memset(&r, 0, sizeof r);
    strcpy(r.error, "POST http://hooks.example/x: connect: refused");
    CHECK_INT(app_http_fail(BH_ERR_REFUSED, &r), BH_ERR_REFUSED);
    CHECK_INT(app_error.detail, 0);
    CHECK_STR(app_error.message, "POST http://hooks.example/x: connect: refused");
}

static void test_last_wake(void)
{
    press_queue q;
    memset(&q, 0, sizeof q);
    tb_reset();
    app_last_wake(&q);   /* it succeeded: nothing to tell */
    CHECK_STR(tb_console, "");
    CHECK_STR(tb_reports, "");
    q.last_err = BH_ERR_NOLINK;
    q.last_where = PQ_AT_WIFI;
    q.last_detail = HAL_LINK_WRONG_PASSWORD;
    q.count = 3;
    app_last_wake(&q);
    CHECK_STR(tb_console, "Last wake failed in connect_wifi: wrong password (2); 3 kept\n");
    CHECK(strstr(tb_reports, "info last_wake "));
    tb_reset();
    q.last_err = BH_ERR_PROTO;
    q.last_where = PQ_AT_WEBHOOK;
    q.last_detail = 500;
    q.count = 1;
    app_last_wake(&q);
    CHECK_STR(tb_console, "Last wake failed in call_webhook: HTTP status (500); 1 kept\n");
    /* no detail: the error's own words; a step out of range names no step out of bounds */
    tb_reset();
    q.last_err = BH_ERR_TIMEOUT;
    q.last_where = 0xF1;
    q.last_detail = 0;
    app_last_wake(&q);
    char want[128];
    snprintf(want, sizeof want, "Last wake failed in load_config: %s (%d); 1 kept\n",
             bh_strerror(BH_ERR_TIMEOUT), BH_ERR_TIMEOUT);
    CHECK_STR(tb_console, want);
}

int main(void)
{
    test_traceback();
    test_http_failures();
    test_last_wake();
    return tb_done("test_apperr");
}
