/* test_awake.c - the wake's time bound (app/awake.c): every wait ends within AWAKE_MAX, and
 * a join that fails says why. */
#include <stdio.h>
#include <string.h>

#include "app/apperr.h"
#include "app/awake.h"
#include "net/wlan.h"
#include "testboard.h"

static bh_config config;

/* the home network in range, config.py (with extra) parsed, the station joining with pw:
 * a join that takes join_ms, or fails (join_fail) */
static void joining(const char *extra, const char *pw, uint32_t join_ms, int join_fail)
{
    char text[512];
    snprintf(text, sizeof text, "%s%s", TB_CONFIG, extra);
    tb_reset();
    tb_home(text, TB_IP_HOOK);
    tb_join_ms = join_ms;
    tb_join_fail = join_fail;
    CHECK_INT(cfg_parse("config.py", text, strlen(text), &config, NULL, NULL), BH_OK);
    wlan_init();
    wlan_set_active(WLAN_STA, true);
    wlan_connect(WLAN_STA, config.wifi_ssid, pw, NULL);
    awake_begin(config.awake_max, 0);
}

static void test_left_is_bounded(void)
{
    tb_reset();
    awake_begin(20, 0);   /* AWAKE_MAX 20 s: the steps end BH_WAKE_END_MS earlier */
    CHECK_INT(awake_left(UINT32_MAX), 20000 - BH_WAKE_END_MS);
    CHECK_INT(awake_left(1000), 1000);
    tb_now_ms = 20000 - BH_WAKE_END_MS - 300;
    CHECK_INT(awake_left(1000), 300);
    CHECK_INT(awake_http_ms(10), 300);
    tb_now_ms = 20000;
    CHECK_INT(awake_left(1000), 0);
    /* 0 would mean http.c's default timeout, not none */
    CHECK_INT(awake_http_ms(10), 1);
}

static void test_joins(void)
{
    int status = HAL_LINK_IDLE;
    joining("", "correct horse", 1000, 0);
    CHECK_INT(awake_wait_link(10000, &status), BH_OK);
    CHECK(wlan_isconnected(WLAN_STA));
    joining("", "correct horse", 1000, 0);
    CHECK_INT(awake_wait_wifi(&config), BH_OK);
    CHECK_INT(app_error.detail, HAL_LINK_CONNECTING);
}

static void test_wrong_password_says_so(void)
{
    joining("", "wrong", 1000, 0);
    CHECK_INT(awake_wait_wifi(&config), BH_ERR_NOLINK);
    CHECK_INT(app_error.where, PQ_AT_WIFI);
    CHECK_INT(app_error.code, BH_ERR_NOLINK);
    CHECK_INT(app_error.detail, HAL_LINK_WRONG_PASSWORD);
    CHECK_STR(app_error.message, "Wi-Fi 'home-net': wrong password (status 2)");
}

static void test_slow_join_ends_within_the_bound(void)
{
    joining("AWAKE_MAX = 5\n", "correct horse", 60000, 0);   /* no answer in time */
    CHECK_INT(awake_wait_wifi(&config), BH_ERR_TIMEOUT);
    CHECK_INT(app_error.where, PQ_AT_WIFI);
    /* WIFI_TIMEOUT is longer than what AWAKE_MAX leaves: the bound wins */
    CHECK_STR(app_error.message, "Wi-Fi 'home-net': not connected after 1 s (status 1)");
    CHECK(tb_now_ms >= 5000 - BH_WAKE_END_MS && tb_now_ms <= 5000 - BH_WAKE_END_MS + 10);
}

static void test_link_status_is_given(void)
{
    int status = HAL_LINK_IDLE;
    joining("", "correct horse", 1000, 1);
    CHECK_INT(awake_wait_link(10000, &status), BH_ERR_NOLINK);
    CHECK_INT(status, HAL_LINK_CONNECT_FAIL);
    CHECK_STR(app_link_failure(status), "connect failed");
    CHECK(app_link_failure(HAL_LINK_CONNECTING) == NULL);
    CHECK(app_link_failure(HAL_LINK_GOT_IP) == NULL);
}

int main(void)
{
    test_left_is_bounded();
    test_joins();
    test_wrong_password_says_so();
    test_slow_join_ends_within_the_bound();
    test_link_status_is_given();
    return tb_done("test_awake");
}
