/* test_feedback.c - the LEDs' success and low-battery patterns (app/feedback.c) on the test
 * board: when each shows, what it writes and when, and that the awake bound keeps time for
 * them. */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "app/feedback.h"
#include "testboard.h"

/* A press wake (or another reset cause) with config.py = TB_CONFIG + extra; ok: hooks.example
 * answers 200, else nothing listens there (the webhook fails). */
static uint32_t join_ms = 1000;   /* how long the next wake's join takes */

static void wake(hal_reset_cause_t cause, const char *extra, int ok, int supply_mv)
{
    static char cfg[1024];
    snprintf(cfg, sizeof cfg, "%s%s", TB_CONFIG, extra);
    tb_reset();
    tb_join_ms = join_ms;
    tb_home(cfg, TB_IP_HOOK);
    if (ok)
        tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    else
        tb_add_peer(TB_IP_HOOK, 80, NULL)->connect_err = BH_ERR_REFUSED;
    tb_reset_cause = cause;
    tb_supply_mv = supply_mv;
    tb_boot();
    CHECK(tb_slept);
}

/* n steps from pinlog[from] on: each writes LED (GPIO2) then LED2 (GPIO16), step_ms apart;
 * lit[i] for step i: bit 0 LED lit (written 0), bit 1 LED2 lit */
static void check_steps(int from, int n, const int *lit, uint32_t step_ms)
{
    CHECK(tb_npinlog >= from + 2 * n);
    if (tb_npinlog < from + 2 * n)
        return;
    uint32_t t0 = tb_pinlog[from].t;
    for (int i = 0; i < n; i++) {
        const tb_pin_event *e = &tb_pinlog[from + 2 * i];
        CHECK_INT(e[0].gpio, 2);
        CHECK_INT(e[0].value, !(lit[i] & 1));
        CHECK_INT(e[1].gpio, 16);
        CHECK_INT(e[1].value, !(lit[i] & 2));
        CHECK_INT(e[0].t - t0, i * step_ms);
        CHECK_INT(e[1].t - t0, i * step_ms);
    }
}

static void test_off_by_default(void)
{
    bh_config c;
    CHECK_INT(cfg_parse("config.py", TB_CONFIG, strlen(TB_CONFIG), &c, NULL, NULL), BH_OK);
    CHECK_INT(c.success_blink, 0);
    CHECK_INT(c.low_battery_mv, 0);
    CHECK_INT(feedback_ms(&c), 0);
    wake(HAL_RESET_DEEPSLEEP, "", 1, 2000);   /* a flat battery, but nobody asked */
    CHECK_INT(tb_npinlog, 0);
    CHECK(!strstr(tb_console, "Battery low"));
}

static void test_success_pattern(void)
{
    static const int both[] = {3, 0, 3, 0};
    wake(HAL_RESET_DEEPSLEEP, "SUCCESS_BLINK = 1\n", 1, 3300);
    CHECK(strstr(tb_console, "Webhook invoked\n"));
    CHECK_INT(tb_npinlog, 8);
    check_steps(0, 4, both, FB_SUCCESS_MS / 4);
    /* the last step's dark time passes before the board sleeps */
    CHECK(tb_now_ms >= tb_pinlog[7].t + FB_SUCCESS_MS / 4);
}

static void test_no_success_pattern_on_failure_or_power_on(void)
{
    /* a failed press: the chapter's error blink only (14 writes, the LEDs taking turns) */
    wake(HAL_RESET_DEEPSLEEP, "SUCCESS_BLINK = 1\n", 0, 3300);
    CHECK(strstr(tb_console, "Webhook failed\n"));
    CHECK_INT(tb_npinlog, 14);
    CHECK_INT(tb_pinlog[0].value, 1);   /* LED dark, LED2 lit: taking turns */
    CHECK_INT(tb_pinlog[1].value, 0);
    /* the power-on boot only sleeps, in the dark, whatever the battery says */
    wake(HAL_RESET_PWRON, "SUCCESS_BLINK = 1\nLOW_BATTERY_MV = 3000\n", 1, 2500);
    CHECK_INT(tb_npinlog, 0);
}

static void test_low_battery_pattern(void)
{
    static const int led_only[] = {1, 0, 1, 0, 1, 0};
    wake(HAL_RESET_DEEPSLEEP, "LOW_BATTERY_MV = 3000\n", 1, 2999);
    CHECK(strstr(tb_console, "Webhook invoked\nBattery low: 2999 mV\n"));
    CHECK_INT(tb_npinlog, 12);
    check_steps(0, 6, led_only, FB_LOW_BATTERY_MS / 6);
    /* at the threshold, or unreadable: nothing */
    wake(HAL_RESET_DEEPSLEEP, "LOW_BATTERY_MV = 3000\n", 1, 3000);
    CHECK_INT(tb_npinlog, 0);
    wake(HAL_RESET_DEEPSLEEP, "LOW_BATTERY_MV = 3000\n", 1, -1);
    CHECK_INT(tb_npinlog, 0);
    CHECK(!strstr(tb_console, "Battery low"));
    /* after the success pattern, and after the error blink */
    static const int both[] = {3, 0, 3, 0};
    wake(HAL_RESET_DEEPSLEEP, "SUCCESS_BLINK = 1\nLOW_BATTERY_MV = 3000\n", 1, 2800);
    CHECK_INT(tb_npinlog, 8 + 12);
    check_steps(0, 4, both, FB_SUCCESS_MS / 4);
    check_steps(8, 6, led_only, FB_LOW_BATTERY_MS / 6);
    wake(HAL_RESET_DEEPSLEEP, "SUCCESS_BLINK = 1\nLOW_BATTERY_MV = 3000\n", 0, 2800);
    CHECK_INT(tb_npinlog, 14 + 12);
    check_steps(14, 6, led_only, FB_LOW_BATTERY_MS / 6);
}

static void test_inside_the_awake_bound(void)
{
    /* a join that never ends: the steps stop at the bound, less the error blink and, with
     * LOW_BATTERY_MV, the low-battery pattern; the board is asleep by AWAKE_MAX */
    join_ms = 600000;
    wake(HAL_RESET_DEEPSLEEP, "AWAKE_MAX = 8\nLOW_BATTERY_MV = 3000\n", 1, 2900);
    join_ms = 1000;
    CHECK(strstr(tb_console, "Battery low: 2900 mV\n"));
    CHECK_INT(tb_npinlog, 14 + 12);
    /* the steps ended at 8000 - 3500 - 600 ms; the blink (3 s) and the pattern (0.6 s) take
     * the board to 7500, which leaves the 0.5 s the bound keeps for the way into sleep */
    CHECK(tb_now_ms <= 8000 - (BH_WAKE_END_MS - 3000));
    CHECK(tb_now_ms >= 8000 - (BH_WAKE_END_MS - 3000) - 10);
}

int main(void)
{
    test_off_by_default();
    test_success_pattern();
    test_no_success_pattern_on_failure_or_power_on();
    test_low_battery_pattern();
    test_inside_the_awake_bound();
    return tb_done("test_feedback");
}
