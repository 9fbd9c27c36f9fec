/* test_presskind.c - single, double and long presses (app/presskind.c, docs/press-kinds.md):
 * which kind each wake keeps, told from the reset cause and what RTC memory holds; a double
 * press before and after the first press's POST began; a wake cut before it kept its press;
 * RESET while idle; a long press on BUTTON_PIN; the event each kind goes to; config.py's
 * refusals. Whole wakes on the test board show what the server gets, {press} included. */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "app/fastwake.h"
#include "app/placeholders.h"
#include "app/presses.h"
#include "testboard.h"

#define URL "http://hooks.example/trigger/button_pressed/with/key/abc"

static bh_config cfg;
static char keys[8][40], urls[8][300];
static int kinds[8], nsent, fail_at;

static int send(const char *key)
{
    snprintf(keys[nsent], sizeof keys[0], "%s", key);
    snprintf(urls[nsent], sizeof urls[0], "%s", press_url(&cfg));
    kinds[nsent] = press_kind;
    return ++nsent == fail_at ? BH_ERR_TIMEOUT : BH_OK;
}

static void config(const char *extra)
{
    char text[600];
    snprintf(text, sizeof text, "%sWIFI_SSID = 'home-net'\nWIFI_PASSWORD = ''\n"
             "WEBHOOK_URL = '" URL "'\nBUTTON_ID = 'b1'\n", extra);
    CHECK_INT(cfg_parse("config.py", text, strlen(text), &cfg, NULL, NULL), BH_OK);
}

/* a boot of the same board: RTC memory kept, the queue read from it */
static void boot(hal_reset_cause_t cause, int64_t slept_ms)
{
    tb_wake(cause, slept_ms);
    fw_begin(&presses);
    nsent = fail_at = 0;
}

static press_queue saved(void)
{
    press_queue q;
    CHECK_INT(pq_load(&q), BH_OK);
    return q;
}

static int kind_of(uint32_t seq) { return (int)(seq >> PQ_KIND_SHIFT); }

/* power-on, then asleep until RESET as every wake ends */
static void power_on(const char *extra)
{
    tb_reset();
    config(extra);
    fw_begin(&presses);
    CHECK(!press_wake(&cfg));   /* power-on is no press */
    presses_end(BH_OK, 60, false);
    CHECK_INT(saved().wake, PQ_WAKE_ASLEEP);
}

static void test_single_press(void)
{
    power_on("");
    boot(HAL_RESET_DEEPSLEEP, 5000);
    CHECK(press_wake(&cfg));
    press_queue q = saved();   /* kept, and marked, before anything is tried */
    CHECK_INT(q.count, 1);
    CHECK_INT(kind_of(q.seq[0]), PRESS_SINGLE);
    CHECK_INT(q.wake, PQ_WAKE_SINGLE);
    CHECK_INT(presses_send(send), BH_OK);
    CHECK_INT(nsent, 1);
    CHECK_INT(kinds[0], PRESS_SINGLE);
    CHECK_STR(urls[0], URL);
    CHECK_INT(press_kind, PRESS_SINGLE);   /* outside the round: single */
    CHECK_INT(saved().wake, PQ_WAKE_SENT);
    CHECK(!strstr(tb_console, "press"));
}

/* RESET again while the first press is still joining Wi-Fi: one press, a double */
static void test_double_before_the_post(void)
{
    power_on("DOUBLE_EVENT = 'button_double'\n");
    boot(HAL_RESET_DEEPSLEEP, 5000);
    CHECK(press_wake(&cfg));
    uint32_t seq = presses.seq[0];
    boot(HAL_RESET_HARD, -1);   /* the chip restarts at once, mid-join */
    CHECK(press_wake(&cfg));
    CHECK(strstr(tb_console, "Double press\n"));
    press_queue q = saved();
    CHECK_INT(q.count, 1);
    CHECK_INT(q.seq[0] & PQ_SEQ_MASK, seq);   /* the same press, so the same key */
    CHECK_INT(kind_of(q.seq[0]), PRESS_DOUBLE);
    CHECK_INT(q.wake, PQ_WAKE_OTHER);
    CHECK_INT(presses_send(send), BH_OK);
    CHECK_INT(nsent, 1);
    CHECK_INT(kinds[0], PRESS_DOUBLE);
    CHECK_STR(urls[0], "http://hooks.example/trigger/button_double/with/key/abc");
}

/* RESET again once the first press's POST has begun: that press may have reached the server
 * and cannot be called back, so it goes (again, with its key) as a single, then a double */
static void test_double_while_the_post_is_in_flight(void)
{
    power_on("DOUBLE_EVENT = 'button_double'\n");
    boot(HAL_RESET_DEEPSLEEP, 5000);
    CHECK(press_wake(&cfg));
    fail_at = 1;   /* the request never completes: the reset cut it */
    CHECK_INT(presses_send(send), BH_ERR_TIMEOUT);
    CHECK_INT(saved().wake, PQ_WAKE_SENT);   /* in RTC memory before the first byte left */
    char first[40];
    snprintf(first, sizeof first, "%s", keys[0]);
    boot(HAL_RESET_HARD, -1);
    CHECK(press_wake(&cfg));
    CHECK(strstr(tb_console, "Double press\n"));
    press_queue q = saved();
    CHECK_INT(q.count, 2);
    CHECK_INT(kind_of(q.seq[0]), PRESS_SINGLE);
    CHECK_INT(kind_of(q.seq[1]), PRESS_DOUBLE);
    CHECK_INT(presses_send(send), BH_OK);
    CHECK_INT(nsent, 2);
    CHECK_STR(keys[0], first);   /* the same key: a server that has it stores it once */
    CHECK(strcmp(keys[1], first) != 0);
    CHECK_INT(kinds[0], PRESS_SINGLE);
    CHECK_INT(kinds[1], PRESS_DOUBLE);
    CHECK_STR(urls[0], URL);
    CHECK_STR(urls[1], "http://hooks.example/trigger/button_double/with/key/abc");
    /* a third press while the double's wake runs: a single of its own, and a fourth makes
     * that one a double */
    boot(HAL_RESET_HARD, -1);
    CHECK(press_wake(&cfg));
    q = saved();
    CHECK_INT(q.count, 1);
    CHECK_INT(kind_of(q.seq[0]), PRESS_SINGLE);
    boot(HAL_RESET_HARD, -1);
    CHECK(press_wake(&cfg));
    CHECK_INT(kind_of(saved().seq[0]), PRESS_DOUBLE);
    CHECK_INT(saved().count, 1);
}

/* RESET again before the first wake even kept its press: RTC memory still says asleep (until
 * RESET: only a press ends that), so both presses are one double */
static void test_double_before_the_press_was_kept(void)
{
    power_on("");
    boot(HAL_RESET_DEEPSLEEP, 5000);   /* cut before press_wake() */
    boot(HAL_RESET_HARD, -1);
    CHECK(press_wake(&cfg));
    press_queue q = saved();
    CHECK_INT(q.count, 1);
    CHECK_INT(kind_of(q.seq[0]), PRESS_DOUBLE);
    /* asleep with the retry timer armed, that wake may have been the timer's: a single */
    power_on("");
    boot(HAL_RESET_DEEPSLEEP, 5000);
    CHECK(press_wake(&cfg));
    CHECK_INT(presses_end(BH_ERR_REFUSED, 60, false), 60000);
    boot(HAL_RESET_DEEPSLEEP, 60000);   /* the timer; cut before press_wake() */
    boot(HAL_RESET_HARD, -1);
    CHECK(press_wake(&cfg));
    q = saved();
    CHECK_INT(q.count, 2);
    CHECK_INT(kind_of(q.seq[1]), PRESS_SINGLE);
}

/* the debug jumper keeps the board awake: RESET then is no press, as in the chapter; nor is
 * a press during a wake after power-on, a crash or the watchdog */
static void test_reset_while_idle_is_no_press(void)
{
    power_on("");
    boot(HAL_RESET_DEEPSLEEP, 5000);
    CHECK(press_wake(&cfg));
    CHECK_INT(presses_send(send), BH_OK);
    presses_end(BH_OK, 60, true);   /* the jumper is in: no deep sleep */
    CHECK_INT(saved().wake, PQ_WAKE_NONE);
    boot(HAL_RESET_HARD, -1);
    CHECK(!press_wake(&cfg));
    CHECK_INT(saved().count, 0);
    boot(HAL_RESET_WDT, -1);
    CHECK(!press_wake(&cfg));
    boot(HAL_RESET_HARD, -1);
    CHECK(!press_wake(&cfg));
    CHECK_INT(saved().count, 0);
    CHECK_INT(saved().next_seq, 1);
}

/* the retry timer's wake is no press; RESET during it is a single, not a double */
static void test_reset_during_a_retry_wake(void)
{
    power_on("");
    boot(HAL_RESET_DEEPSLEEP, 5000);
    CHECK(press_wake(&cfg));
    CHECK_INT(presses_end(BH_ERR_REFUSED, 60, false), 60000);
    boot(HAL_RESET_DEEPSLEEP, 60000);
    CHECK(press_wake(&cfg));
    CHECK(strstr(tb_console, "Retry wake: 1 kept\n"));
    CHECK_INT(presses.count, 1);
    boot(HAL_RESET_HARD, -1);
    CHECK(press_wake(&cfg));
    press_queue q = saved();
    CHECK_INT(q.count, 2);
    CHECK_INT(kind_of(q.seq[0]), PRESS_SINGLE);
    CHECK_INT(kind_of(q.seq[1]), PRESS_SINGLE);
}

static void test_long_press(void)
{
    /* held past a second after the boot began: long, decided then (not at the release) */
    power_on("BUTTON_PIN = 12\nLONG_EVENT = 'button_long'\n");
    boot(HAL_RESET_DEEPSLEEP, 5000);
    tb_pin_input[12] = 0;
    tb_pin_release_ms[12] = 2500;
    CHECK(press_wake(&cfg));
    CHECK(tb_now_ms >= 1000 && tb_now_ms < 1050);
    CHECK(strstr(tb_console, "Long press\n"));
    press_queue q = saved();
    CHECK_INT(q.count, 1);
    CHECK_INT(kind_of(q.seq[0]), PRESS_LONG);
    CHECK_INT(q.wake, PQ_WAKE_OTHER);
    CHECK_INT(presses_send(send), BH_OK);
    CHECK_INT(kinds[0], PRESS_LONG);
    CHECK_STR(urls[0], "http://hooks.example/trigger/button_long/with/key/abc");
    /* let go before: a single, after waiting only that long */
    boot(HAL_RESET_DEEPSLEEP, 5000);
    tb_pin_input[12] = 0;
    tb_pin_release_ms[12] = 300;
    CHECK(press_wake(&cfg));
    CHECK(tb_now_ms >= 300 && tb_now_ms < 350);
    CHECK_INT(kind_of(saved().seq[0]), PRESS_SINGLE);
    CHECK_INT(saved().wake, PQ_WAKE_SINGLE);
    /* the station's auto-connect at boot would join the full way while the button is held:
     * with an AP kept (FAST_WAKE) it is stopped, for the fast join after; without one it
     * goes on (it is the join the wake needs) */
    for (int kept = 1; kept >= 0; kept--) {
        boot(HAL_RESET_DEEPSLEEP, 5000);
        tb_add_ap("home-net", "", 6, -60, HAL_AUTH_OPEN, 0);
        fw_rtc.channel = kept ? 6 : 0;
        tb_sta_active = 1;
        hal_join_params auto_connect = {"home-net", "", NULL, 0, NULL, NULL};
        CHECK_INT(hal_radio_join(&auto_connect), BH_OK);
        CHECK_INT(hal_radio_link(), HAL_LINK_CONNECTING);
        tb_pin_input[12] = 0;
        tb_pin_release_ms[12] = 2500;
        CHECK(press_wake(&cfg));
        CHECK_INT(kind_of(saved().seq[saved().count - 1]), PRESS_LONG);
        CHECK_INT(hal_radio_link(), kept ? HAL_LINK_IDLE : HAL_LINK_GOT_IP);
    }
    /* without BUTTON_PIN the pin is not read: a single, at once */
    power_on("LONG_EVENT = 'button_long'\n");
    boot(HAL_RESET_DEEPSLEEP, 5000);
    tb_pin_input[12] = 0;
    CHECK(press_wake(&cfg));
    CHECK_INT(tb_now_ms, 0);
    CHECK_INT(kind_of(saved().seq[0]), PRESS_SINGLE);
}

static void test_event_per_kind(void)
{
    static const struct { const char *url, *want; } cases[] = {
        {"https://maker.ifttt.com/trigger/button_pressed/with/key/k",
         "https://maker.ifttt.com/trigger/dbl/with/key/k"},
        {"http://hook.local:8080/trigger/x/json/with/key/k?a=1",
         "http://hook.local:8080/trigger/dbl/json/with/key/k?a=1"},
        {"http://hook.local/trigger/x?a=1", "http://hook.local/trigger/dbl?a=1"},
        {"http://hook.local/trigger/", "http://hook.local/trigger/dbl"},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char text[300];
        snprintf(text, sizeof text, "WIFI_SSID = 'n'\nWIFI_PASSWORD = ''\nWEBHOOK_URL = '%s'\n"
                 "BUTTON_ID = 'b'\nDOUBLE_EVENT = 'dbl'\n", cases[i].url);
        CHECK_INT(cfg_parse("config.py", text, strlen(text), &cfg, NULL, NULL), BH_OK);
        press_kind = PRESS_DOUBLE;
        CHECK_STR(press_url(&cfg), cases[i].want);
        press_kind = PRESS_LONG;   /* no LONG_EVENT: the URL as it is */
        CHECK_STR(press_url(&cfg), cases[i].url);
        press_kind = PRESS_SINGLE;
        CHECK_STR(press_url(&cfg), cases[i].url);
    }
    /* {press}: each kind's name, as Home Assistant's event types take them */
    static const char *const names[] = {"single", "double", "long"};
    for (int k = PRESS_SINGLE; k <= PRESS_LONG; k++) {
        char v[PH_VALUE_MAX];
        press_kind = k;
        CHECK_INT(ph_expand("{press}", v, sizeof v), (long)strlen(names[k]));
        CHECK_STR(v, names[k]);
    }
    press_kind = PRESS_SINGLE;
}

static char diags[1024];
static void diag(void *ctx, int is_error, const char *msg)
{
    (void)ctx;
    if (is_error)
        snprintf(diags + strlen(diags), sizeof diags - strlen(diags), "%s\n", msg);
}

static void refused(const char *extra, const char *url, const char *want)
{
    char text[400];
    diags[0] = 0;
    snprintf(text, sizeof text, "WIFI_SSID = 'n'\nWIFI_PASSWORD = ''\nWEBHOOK_URL = '%s'\n"
             "BUTTON_ID = 'b'\n%s", url, extra);
    CHECK_INT(cfg_parse("config.py", text, strlen(text), &cfg, diag, NULL), BH_ERR_ARG);
    CHECK_STR(diags, want);
}

static void test_config_refusals(void)
{
    const char *boot_pin = "BUTTON_PIN = %d: not 0, 2, 15 (they choose the boot mode), an LED "
                           "or DEBUG_PIN: try 12 (D6)\n";
    int pins[] = {0, 2, 15, 14, 16};
    for (int i = 0; i < 5; i++) {
        char extra[32], want[160];
        snprintf(extra, sizeof extra, "BUTTON_PIN = %d\n", pins[i]);
        snprintf(want, sizeof want, "config.py:5: ");
        snprintf(want + strlen(want), sizeof want - strlen(want), boot_pin, pins[i]);
        if (pins[i] == 16)   /* GPIO16 has no pull-up for a button to pull down against */
            snprintf(want, sizeof want, "config.py:5: BUTTON_PIN = 16: GPIO16 has no pull-up "
                     "(try 14)\n");
        refused(extra, URL, want);
    }
    refused("LED_PIN = 12\nBUTTON_PIN = 12\n", URL,
            "config.py:6: BUTTON_PIN = 12: not 0, 2, 15 (they choose the boot mode), an LED "
            "or DEBUG_PIN: try 12 (D6)\n");
    refused("DOUBLE_EVENT = 'a/b'\n", URL,
            "config.py:5: DOUBLE_EVENT = 'a/b' cannot replace EVENT in WEBHOOK_URL's "
            "/trigger/EVENT/ (no / ? # in a name)\n");
    refused("LONG_EVENT = 'held'\n", "http://h/api/webhook/x",
            "config.py:5: LONG_EVENT = 'held' cannot replace EVENT in WEBHOOK_URL's "
            "/trigger/EVENT/ (no / ? # in a name)\n");
    refused("LONG_EVENT = ''\n", URL, "config.py:5: LONG_EVENT is empty\n");
    refused("DOUBLE_EVENT = 'abcdefghijabcdefghijabcdefghijabc'\n", URL,
            "config.py:5: DOUBLE_EVENT is over 32 bytes\n");
}

/* Whole wakes (app_main) on the test board: the server sees one POST per press, the
 * double's on its own event, with the first press's key */
static void test_whole_wakes(void)
{
    static const char conf[] =
        "WIFI_SSID = 'home-net'\nWIFI_PASSWORD = \"correct horse\"\n"
        "WEBHOOK_URL = 'http://hooks.example/trigger/button_pressed/with/key/abc'\n"
        "BUTTON_ID = 'micropython1'\nDOUBLE_EVENT = 'button_double'\n"
        "VALUE2 = '{press} press {presses}'\n";
    tb_reset();
    tb_home(conf, TB_IP_HOOK);
    tb_boot();   /* power-on: asleep until RESET */
    CHECK(tb_slept);
    tb_wake(HAL_RESET_DEEPSLEEP, 8000);
    tb_home(conf, TB_IP_HOOK);
    tb_peer *p = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_boot();
    CHECK(strstr(p->sent, "POST /trigger/button_pressed/with/key/abc HTTP/1.1\r\n") == p->sent);
    CHECK(strstr(p->sent, "\"value2\": \"single press 1\""));
    CHECK_INT(saved().wake, PQ_WAKE_ASLEEP);
    /* a press cut by a second one before it kept anything: one double */
    tb_wake(HAL_RESET_HARD, -1);
    tb_home(conf, TB_IP_HOOK);
    p = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_boot();
    CHECK(tb_slept);
    CHECK_INT(tb_connects, 1);
    CHECK(strstr(p->sent, "POST /trigger/button_double/with/key/abc HTTP/1.1\r\n") == p->sent);
    CHECK(strstr(p->sent, "\r\nIdempotency-Key: 18fe34d37fa4-"));
    CHECK(strstr(p->sent, "-1\r\n"));   /* the second press since power-on */
    CHECK(strstr(p->sent, "\"value2\": \"double press 2\""));   /* {press}, {presses} */
    CHECK(strstr(tb_console, "Double press\n"));
    /* with the jumper in the board stays awake; RESET then is no press */
    tb_wake(HAL_RESET_DEEPSLEEP, 8000);
    tb_home(conf, TB_IP_HOOK);
    tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_pin_input[14] = 0;
    tb_boot();
    CHECK(!tb_slept);
    tb_wake(HAL_RESET_HARD, -1);
    tb_home(conf, TB_IP_HOOK);
    tb_pin_input[14] = 0;
    tb_boot();
    CHECK_INT(tb_connects, 0);
}

int main(void)
{
    test_single_press();
    test_double_before_the_post();
    test_double_while_the_post_is_in_flight();
    test_double_before_the_press_was_kept();
    test_reset_while_idle_is_no_press();
    test_reset_during_a_retry_wake();
    test_long_press();
    test_event_per_kind();
    test_config_refusals();
    test_whole_wakes();
    return tb_done("test_presskind");
}
