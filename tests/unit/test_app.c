/* test_app.c - the chapter's application on the test board, with a fake clock. */
#include <string.h>

#include "app/app.h"
#include "testboard.h"

static const char *CONFIG =
    "WIFI_SSID = 'home-net'\n"
    "WIFI_PASSWORD = \"correct horse\"\n"
    "WEBHOOK_URL = 'http://hooks.example/trigger/button_pressed/with/key/abc'\n"
    "BUTTON_ID = 'micropython1'  # the button's id\n"
    "LED_PIN = 2  # D4\n"
    "LED2_PIN = 16  # D0\n"
    "DEBUG_PIN = 14  # D5\n";

static const char *OK_REPLY =
    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nContent-Length: 54\r\n\r\n"
    "Congratulations! You've fired the button_pressed event";

static void board(hal_reset_cause_t cause, const char *config)
{
    tb_reset();
    tb_reset_cause = cause;
    tb_home(config, TB_IP_HOOK);
}

/* show_error(): three cycles of (LED on, LED2 off) 0.5 s then (LED off, LED2 on) 0.5 s, then
 * both pins on. Checks the writes and their times from the first one. */
static void check_blink(void)
{
    CHECK_INT(tb_npinlog, 14);
    if (tb_npinlog != 14)
        return;
    uint32_t t0 = tb_pinlog[0].t;
    for (int i = 0; i < 3; i++) {
        const tb_pin_event *e = &tb_pinlog[i * 4];
        CHECK_INT(e[0].gpio, 2); CHECK_INT(e[0].value, 1); CHECK_INT(e[0].t - t0, i * 1000);
        CHECK_INT(e[1].gpio, 16); CHECK_INT(e[1].value, 0); CHECK_INT(e[1].t - t0, i * 1000);
        CHECK_INT(e[2].gpio, 2); CHECK_INT(e[2].value, 0); CHECK_INT(e[2].t - t0, i * 1000 + 500);
        CHECK_INT(e[3].gpio, 16); CHECK_INT(e[3].value, 1); CHECK_INT(e[3].t - t0, i * 1000 + 500);
    }
    CHECK_INT(tb_pinlog[12].gpio, 2); CHECK_INT(tb_pinlog[12].value, 1);
    CHECK_INT(tb_pinlog[13].gpio, 16); CHECK_INT(tb_pinlog[13].value, 1);
    CHECK_INT(tb_pinlog[13].t - t0, 3000);
}

static void test_power_on_only_sleeps(void)
{
    board(HAL_RESET_PWRON, CONFIG);
    tb_add_peer(TB_IP_HOOK, 80, OK_REPLY);
    tb_boot();
    CHECK(tb_slept);
    CHECK_INT(tb_sleep_ms, 0);
    CHECK_INT(tb_connects, 0);
    CHECK_INT(tb_joins, 0);
    CHECK_INT(tb_npinlog, 0);
}

static void test_press_posts_once(void)
{
    board(HAL_RESET_DEEPSLEEP, CONFIG);
    tb_peer *p = tb_add_peer(TB_IP_HOOK, 80, OK_REPLY);
    tb_boot();
    CHECK(tb_slept);
    CHECK_INT(tb_connects, 1);
    CHECK(strstr(p->sent, "POST /trigger/button_pressed/with/key/abc HTTP/1.1\r\n") == p->sent);
    CHECK(strstr(p->sent, "\r\nHost: hooks.example\r\n"));
    CHECK(strstr(p->sent, "\r\nContent-Type: application/json\r\n"));
    CHECK(strstr(p->sent, "\r\n\r\n{\"value1\": \"micropython1\"}"));
    CHECK(strstr(tb_console, "Connecting to WiFi...\n"));
    CHECK(strstr(tb_console, "Network config: ('192.168.0.45', '255.255.255.0', "
                             "'192.168.0.1', '192.168.0.1')\n"));
    CHECK(strstr(tb_console, "Invoking webhook\nWebhook invoked\n"));
    CHECK_INT(tb_npinlog, 0);           /* no blink */
    CHECK(!tb_ap_active);               /* connect_wifi() turned the AP off */
}

static void test_values_and_escaping(void)
{
    static char cfg[1024];
    strcpy(cfg, CONFIG);
    strcat(cfg, "VALUE2 = 'say \"hi\"'\nVALUE3 = 'back\\\\slash'\n");
    board(HAL_RESET_DEEPSLEEP, cfg);
    tb_peer *p = tb_add_peer(TB_IP_HOOK, 80, OK_REPLY);
    tb_boot();
    CHECK(strstr(p->sent, "{\"value1\": \"micropython1\", \"value2\": \"say \\\"hi\\\"\", "
                          "\"value3\": \"back\\\\slash\"}"));
}

static void test_server_error_blinks(void)
{
    board(HAL_RESET_DEEPSLEEP, CONFIG);
    tb_add_peer(TB_IP_HOOK, 80, "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 0\r\n\r\n");
    tb_boot();
    CHECK(tb_slept);
    CHECK(strstr(tb_console, "Webhook failed\n"));
    CHECK(strstr(tb_console, "in call_webhook()\nRuntimeError: HTTP 500 Internal Server Error"));
    CHECK(strstr(tb_reports, "error call_webhook"));
    check_blink();
}

static void test_refused_blinks(void)
{
    board(HAL_RESET_DEEPSLEEP, CONFIG);
    tb_peer *p = tb_add_peer(TB_IP_HOOK, 80, NULL);
    p->connect_err = BH_ERR_REFUSED;
    tb_boot();
    CHECK(strstr(tb_console, "connection refused"));
    check_blink();
}

static void test_wrong_password(void)
{
    static char cfg[1024];
    strcpy(cfg, CONFIG);
    strcat(cfg, "WIFI_PASSWORD = 'nope'\n");
    board(HAL_RESET_DEEPSLEEP, cfg);
    tb_boot();
    CHECK(strstr(tb_console, "Wi-Fi 'home-net': wrong password (status 2)"));
    CHECK(strstr(tb_console, "in connect_wifi()"));
    CHECK_INT(tb_connects, 0);
    check_blink();
}

static void test_no_ap_found(void)
{
    static char cfg[1024];
    strcpy(cfg, CONFIG);
    strcat(cfg, "WIFI_SSID = 'gone'\n");
    board(HAL_RESET_DEEPSLEEP, cfg);
    tb_boot();
    CHECK(strstr(tb_console, "Wi-Fi 'gone': no AP found (status 3)"));
    check_blink();
}

static void test_wifi_timeout(void)
{
    static char cfg[1024];
    strcpy(cfg, CONFIG);
    strcat(cfg, "WIFI_TIMEOUT = 5\n");
    board(HAL_RESET_DEEPSLEEP, cfg);
    tb_join_ms = 60000;                 /* the router never answers in time */
    tb_boot();
    CHECK(strstr(tb_console, "not connected after 5 s (status 1)"));
    CHECK(strstr(tb_console, "TimeoutError"));
    CHECK(tb_pinlog[0].t >= 5000 && tb_pinlog[0].t < 5200);
    CHECK(tb_slept);
}

static void test_debug_jumper_stays_awake(void)
{
    board(HAL_RESET_DEEPSLEEP, CONFIG);
    tb_add_peer(TB_IP_HOOK, 80, OK_REPLY);
    tb_pin_input[14] = 0;
    tb_boot();
    CHECK(!tb_slept);
    CHECK(strstr(tb_console, "Debug mode detected.\n"));
    CHECK_INT(tb_connects, 1);
}

static void test_bad_config(void)
{
    static char cfg[1024];
    strcpy(cfg, CONFIG);
    strcat(cfg, "LED_PIN = 6\n");
    board(HAL_RESET_DEEPSLEEP, cfg);
    tb_add_peer(TB_IP_HOOK, 80, OK_REPLY);
    tb_boot();
    CHECK(strstr(tb_console, "config.py:8:"));
    CHECK(strstr(tb_console, "in load_config()"));
    CHECK_INT(tb_connects, 0);          /* no webhook from a broken config */
    check_blink();                      /* on the default pins */
    CHECK(tb_slept);
}

/* A WEBHOOK_URL the HTTP client would refuse is a config.py error with its line: the board
 * blinks it without joining Wi-Fi (the radio time of a join would buy nothing). */
static void test_bad_webhook_url(void)
{
    static char cfg[1024];
    strcpy(cfg, CONFIG);
    strcat(cfg, "WEBHOOK_URL = 'http://hooks.example:99999/trigger/button_pressed'\n");
    board(HAL_RESET_DEEPSLEEP, cfg);
    tb_add_peer(TB_IP_HOOK, 80, OK_REPLY);
    tb_boot();
    CHECK(strstr(tb_console, "config.py:8: WEBHOOK_URL: bad port '99999' (1-65535)\n"));
    CHECK(strstr(tb_console, "in load_config()"));
    CHECK_INT(tb_scans + tb_joins, 0);
    CHECK_INT(tb_connects, 0);
    check_blink();
    CHECK(tb_slept);
}

static void test_missing_config(void)
{
    tb_reset();
    tb_reset_cause = HAL_RESET_DEEPSLEEP;
    tb_boot();
    CHECK(strstr(tb_console, "config.py"));
    check_blink();
    CHECK(tb_slept);
}

int main(void)
{
    test_power_on_only_sleeps();
    test_press_posts_once();
    test_values_and_escaping();
    test_server_error_blinks();
    test_refused_blinks();
    test_wrong_password();
    test_no_ap_found();
    test_wifi_timeout();
    test_debug_jumper_stays_awake();
    test_bad_config();
    test_bad_webhook_url();
    test_missing_config();
    return tb_done("test_app");
}
