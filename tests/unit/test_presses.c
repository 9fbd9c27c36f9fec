/* test_presses.c - the press queue's interface (app/presses.c): each press kept before
 * anything is tried, sent oldest first with its own Idempotency-Key, leaving the queue only
 * once sent, and how the wake ended kept for the next one. */
#include <stdio.h>
#include <string.h>

#include "app/apperr.h"
#include "app/fastwake.h"
#include "app/presses.h"
#include "testboard.h"

static char keys[8][40];
static int nkeys, fail_at;

static int send(const char *key)
{
    snprintf(keys[nkeys], sizeof keys[0], "%s", key);
    return ++nkeys == fail_at ? BH_ERR_TIMEOUT : BH_OK;
}

/* a wake of the same board: RTC memory kept, the queue read from it */
static void wake(int64_t slept_ms)
{
    tb_wake(HAL_RESET_DEEPSLEEP, slept_ms);
    fw_begin(&presses);
    nkeys = fail_at = 0;
}

static press_queue saved(void)
{
    press_queue q;
    CHECK_INT(pq_load(&q), BH_OK);
    return q;
}

static void test_kept_then_sent_in_order(void)
{
    tb_reset();
    fw_begin(&presses);   /* power-on: a new queue */
    presses_add(PRESS_SINGLE);
    CHECK_INT(saved().count, 1);   /* in RTC memory before anything is tried */
    wake(5000);
    presses_add(PRESS_SINGLE);
    wake(5000);
    presses_add(PRESS_SINGLE);
    CHECK_INT(presses.count, 3);
    char want[40];
    fail_at = 2;   /* the second press's request fails */
    CHECK_INT(presses_send(send), BH_ERR_TIMEOUT);
    CHECK_INT(nkeys, 2);
    snprintf(want, sizeof want, "18fe34d37fa4-%08lx-%lu", (unsigned long)presses.boot_id,
             (unsigned long)presses.seq[0] - 1);
    CHECK_STR(keys[0], want);
    snprintf(want, sizeof want, "18fe34d37fa4-%08lx-%lu", (unsigned long)presses.boot_id,
             (unsigned long)presses.seq[0]);
    CHECK_STR(keys[1], want);   /* the failed one is still kept, first */
    CHECK_INT(saved().count, 2);
    wake(5000);
    CHECK_INT(presses_send(send), BH_OK);
    CHECK_INT(nkeys, 2);
    CHECK_STR(keys[0], want);   /* the same key again: hookd fires it once */
    CHECK_INT(saved().count, 0);
}

static void test_retry_wake_is_no_press(void)
{
    bh_config cfg;
    tb_reset();
    cfg_parse("config.py", "", 0, &cfg, NULL, NULL);   /* the defaults: no BUTTON_PIN */
    fw_begin(&presses);
    presses_add(PRESS_SINGLE);
    app_error.where = PQ_AT_WEBHOOK;
    app_error.detail = 503;
    CHECK_INT(presses_end(BH_ERR_PROTO, 60, false), 60000);   /* the timer is armed */
    wake(60000);   /* the timer's sleep */
    CHECK(press_wake(&cfg));   /* a wake that sends, but no press */
    CHECK_INT(presses.count, 1);
    CHECK(strstr(tb_console, "Retry wake: 1 kept\n"));
    CHECK_INT(presses.last_err, BH_ERR_PROTO);
    CHECK_INT(presses.last_where, PQ_AT_WEBHOOK);
    CHECK_INT(presses.last_detail, 503);
    presses_end(BH_ERR_PROTO, 60, false);
    wake(30000);   /* a press during the timer's sleep: a press */
    CHECK(press_wake(&cfg));
    CHECK_INT(presses.count, 2);
    app_error.detail = 0;
    CHECK_INT(presses_send(send), BH_OK);
    CHECK_INT(presses_end(BH_OK, 60, false), 0);   /* nothing kept: no timer */
    press_queue q = saved();
    CHECK_INT(q.count, 0);
    CHECK_INT(q.last_err, 0);
    CHECK_INT(q.last_where, PQ_AT_NONE);
}

int main(void)
{
    test_kept_then_sent_in_order();
    test_retry_wake_is_no_press();
    return tb_done("test_presses");
}
