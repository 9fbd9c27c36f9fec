/* test_fastwake.c - the record in RTC memory (rtc_state.c) and the fast wake it allows
 * (main.c): a join without scan or DHCP, a cached DNS answer, and every fallback to the
 * chapter's full path, each still sending the press exactly once. */
#include <stddef.h>
#include <string.h>

#include "app/app.h"
#include "app/rtc_state.h"
#include "testboard.h"

#define IP_HOOK2 0x0A000006u

static int ap;   /* home-net, as tb_add_ap numbered it */
static uint32_t hook_ip = TB_IP_HOOK;   /* where hooks.example resolves on the next wake */

/* A fresh test board (fake clock at 0) that keeps RTC memory: the next wake of one board. */
static void wake(hal_reset_cause_t cause, const char *config, int64_t slept_ms)
{
    tb_wake(cause, slept_ms);
    ap = tb_home(config, hook_ip);
}

static void power_on(const char *config)
{
    wake(HAL_RESET_PWRON, config, -1);   /* power loss clears RTC memory */
}

static tb_peer *press(const char *config, int64_t slept_ms)
{
    wake(HAL_RESET_DEEPSLEEP, config, slept_ms);
    return tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
}

static bool posted_once(const tb_peer *p)
{
    return p->used && strstr(p->sent, "POST /trigger/button_pressed/with/key/abc HTTP/1.1\r\n") &&
           tb_connects == 1 && tb_npinlog == 0 && tb_slept;
}

/* ---- the record --------------------------------------------------------------------- */

static void test_record_fits_with_room(void)
{
    CHECK(sizeof(rtc_state) % 4 == 0);
    CHECK(sizeof(rtc_state) == 64);     /* the press queue follows at 64 */
    CHECK_INT(rtc_crc32("123456789", 9), 0xCBF43926u);   /* the CRC-32 check value */
}

static void test_power_on_is_empty(void)
{
    tb_reset();
    rtc_state st;
    memset(&st, 0xAA, sizeof st);
    CHECK_INT(rtc_load(&st), BH_ERR_NOENT);
    CHECK_INT(st.channel, 0);
    CHECK_INT(st.lease_until_s, 0);
    CHECK_INT(st.dns_host, 0);
}

static void test_round_trip(void)
{
    tb_reset();
    rtc_state st, back;
    memset(&st, 0, sizeof st);
    st.channel = 6;
    st.lease_until_s = 1234;
    st.dns_host = rtc_hash("hooks.example", NULL);
    CHECK_INT(rtc_save(&st), BH_OK);
    CHECK_INT(rtc_load(&back), BH_OK);
    CHECK(memcmp(&st, &back, sizeof st) == 0);
}

static void test_corrupt_is_ignored(void)
{
    rtc_state st, back;
    for (size_t i = 0; i < sizeof st; i++) {
        tb_reset();
        memset(&st, 0, sizeof st);
        st.channel = 6;
        st.lease_until_s = 99;
        rtc_save(&st);
        tb_rtc[i] ^= 0x10;              /* one flipped bit anywhere */
        CHECK_INT(rtc_load(&back), BH_ERR_PROTO);
        CHECK_INT(back.channel, 0);
        CHECK_INT(back.lease_until_s, 0);
    }
}

static void test_old_version_is_ignored(void)
{
    tb_reset();
    rtc_state st, back;
    memset(&st, 0, sizeof st);
    st.channel = 6;
    rtc_save(&st);
    /* the layout of another firmware version, with a good checksum */
    memcpy(&st, tb_rtc, sizeof st);
    st.version = RTC_STATE_VERSION - 1;
    st.crc = rtc_crc32(&st, offsetof(rtc_state, crc));
    memcpy(tb_rtc, &st, sizeof st);
    CHECK_INT(rtc_load(&back), BH_ERR_PROTO);
    CHECK_INT(back.channel, 0);
    /* and one of another size */
    st.version = RTC_STATE_VERSION;
    st.size = (uint16_t)(sizeof st + 4);
    st.crc = rtc_crc32(&st, offsetof(rtc_state, crc));
    memcpy(tb_rtc, &st, sizeof st);
    CHECK_INT(rtc_load(&back), BH_ERR_PROTO);
}

/* ---- the fast wake -------------------------------------------------------------------- */

/* Power-on, then a first press (the full path), leaving the RTC record for the next one. */
static void first_press(const char *config)
{
    power_on(config);
    tb_boot();
    tb_peer *p = press(config, 60000);
    tb_boot();
    CHECK(posted_once(p));
    CHECK(!tb_join_bssid);              /* the full path: scan and DHCP */
    CHECK(!tb_join_static);
    CHECK_INT(tb_dns_lookups, 1);
}

static void test_second_press_is_fast(void)
{
    first_press(TB_CONFIG);
    tb_peer *p = press(TB_CONFIG, 120000);  /* two minutes later: within the DNS TTL */
    tb_boot();
    CHECK(posted_once(p));
    CHECK_INT(tb_joins, 1);
    CHECK(tb_join_bssid);
    CHECK_INT(tb_join_channel, 6);
    CHECK(tb_join_static);              /* the lease, no DHCP */
    CHECK_INT(tb_dns_lookups, 0);       /* the cached answer */
    CHECK(strstr(tb_console, "Network config: ('192.168.0.45', "));
}

static void test_ap_moved_channel_falls_back(void)
{
    first_press(TB_CONFIG);
    tb_peer *p = press(TB_CONFIG, 60000);
    tb_ap_set_channel(ap, 11);
    tb_boot();
    CHECK(posted_once(p));
    CHECK_INT(tb_joins, 2);             /* the fast join, then the full one */
    CHECK(!tb_join_bssid);
    CHECK(strstr(tb_console, "Fast join failed (status 3): scanning\n"));
    CHECK(strstr(tb_reports, "wifi fast_join 3"));
    CHECK(!strstr(tb_reports, "error"));
    /* the next press joins the AP on its new channel, fast again */
    p = press(TB_CONFIG, 60000);
    tb_ap_set_channel(ap, 11);
    tb_boot();
    CHECK(posted_once(p));
    CHECK_INT(tb_joins, 1);
    CHECK_INT(tb_join_channel, 11);
    CHECK(tb_join_static);
}

static void test_password_changed_on_the_ap(void)
{
    first_press(TB_CONFIG);
    /* the AP's password changed and so did config.py's: the kept AP was for the old one */
    static char cfg[1024];
    strcpy(cfg, TB_CONFIG);
    strcat(cfg, "WIFI_PASSWORD = 'new one'\n");
    wake(HAL_RESET_DEEPSLEEP, cfg, 60000);
    tb_peer *p = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_boot();   /* the AP still has the old password: the full join fails as the chapter's would */
    CHECK(!p->used);
    CHECK_INT(tb_joins, 1);             /* no fast join with settings made for another key */
    CHECK(strstr(tb_console, "wrong password"));
}

static void test_lease_past_half_is_renewed(void)
{
    first_press(TB_CONFIG);                /* lease 7200 s: used as is until 3600 s after */
    tb_peer *p = press(TB_CONFIG, 3700000);
    tb_boot();
    CHECK(posted_once(p));
    CHECK(tb_join_bssid);               /* still no scan */
    CHECK(!tb_join_static);             /* but DHCP again */
    /* a drifting clock is allowed for: 3400 s measured is taken as over 3600 */
    first_press(TB_CONFIG);
    p = press(TB_CONFIG, 3400000);
    tb_boot();
    CHECK(!tb_join_static);
    first_press(TB_CONFIG);
    p = press(TB_CONFIG, 3300000);
    tb_boot();
    CHECK(tb_join_static);
}

static void test_unknown_sleep_drops_time_limits(void)
{
    first_press(TB_CONFIG);
    tb_peer *p = press(TB_CONFIG, -1);     /* the board cannot tell how long it slept */
    tb_boot();
    CHECK(posted_once(p));
    CHECK(tb_join_bssid);
    CHECK(!tb_join_static);
    CHECK_INT(tb_dns_lookups, 1);
}

static void test_dns_ttl(void)
{
    power_on(TB_CONFIG);
    tb_boot();
    tb_peer *p = press(TB_CONFIG, 1000);
    tb_dns_ttl = 30;
    tb_boot();
    CHECK(posted_once(p));
    p = press(TB_CONFIG, 10000);
    tb_boot();
    CHECK_INT(tb_dns_lookups, 0);
    p = press(TB_CONFIG, 25000);           /* 1 + 10 + 25 s > 30 s */
    tb_boot();
    CHECK(posted_once(p));
    CHECK_INT(tb_dns_lookups, 1);
}

static void test_stale_dns_answer_asks_again(void)
{
    first_press(TB_CONFIG);
    /* the webhook host moved within the TTL: the cached address refuses, nothing was sent */
    hook_ip = IP_HOOK2;
    wake(HAL_RESET_DEEPSLEEP, TB_CONFIG, 60000);
    hook_ip = TB_IP_HOOK;
    tb_peer *old = tb_add_peer(TB_IP_HOOK, 80, NULL);
    old->connect_err = BH_ERR_REFUSED;
    tb_peer *p = tb_add_peer(IP_HOOK2, 80, TB_OK_REPLY);
    tb_boot();
    CHECK(old->used);
    CHECK_INT(tb_dns_lookups, 1);       /* asked again */
    CHECK_INT(tb_connects, 2);
    CHECK(p->used && strstr(p->sent, "POST /trigger/"));
    CHECK_INT(tb_npinlog, 0);
}

static void test_kept_address_unroutable_joins_again(void)
{
    /* no DNS answer kept (TTL 0), so only the lease is at stake */
    power_on(TB_CONFIG);
    tb_boot();
    tb_peer *p = press(TB_CONFIG, 1000);
    tb_dns_ttl = 0;
    tb_boot();
    CHECK(posted_once(p));
    /* the router moved us: over the kept address nothing gets through */
    wake(HAL_RESET_DEEPSLEEP, TB_CONFIG, 60000);
    tb_dns_ttl = 0;
    tb_peer *lost = tb_add_peer(TB_IP_HOOK, 80, NULL);
    lost->connect_err = BH_ERR_UNREACH;
    p = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    tb_boot();
    CHECK(lost->used);
    CHECK(p->used && strstr(p->sent, "POST /trigger/"));
    CHECK_INT(tb_joins, 2);             /* the fast join, then the full one */
    CHECK(!tb_join_bssid);
    CHECK(!tb_join_static);
    CHECK_INT(tb_npinlog, 0);
    CHECK(tb_slept);
}

static void test_fast_wake_off_is_the_chapter(void)
{
    static char cfg[1024];
    strcpy(cfg, TB_CONFIG);
    strcat(cfg, "FAST_WAKE = 0\n");
    power_on(cfg);
    tb_boot();
    for (int i = 0; i < 2; i++) {
        tb_peer *p = press(cfg, 60000);
        tb_boot();
        CHECK(posted_once(p));
        CHECK(!tb_join_bssid);
        CHECK(!tb_join_static);
        CHECK_INT(tb_dns_lookups, 1);
    }
    /* the fast-wake record untouched; the press queue (offset 64 on) is kept either way */
    static const uint8_t zero[sizeof(rtc_state)];
    CHECK(memcmp(tb_rtc, zero, sizeof zero) == 0);
}

static void test_corrupt_record_takes_the_full_path(void)
{
    first_press(TB_CONFIG);
    tb_rtc[20] ^= 1;
    tb_peer *p = press(TB_CONFIG, 60000);
    tb_boot();
    CHECK(posted_once(p));
    CHECK(!tb_join_bssid);
    CHECK(strstr(tb_reports, "info rtc"));
    /* and the record written after it is good again */
    p = press(TB_CONFIG, 60000);
    tb_boot();
    CHECK(tb_join_static);
}

/* An HTTPS press asks the port to keep and resume its TLS session only with FAST_WAKE = 1
 * (the session itself is the port's: tests/e2e/test_https.py). */
static void test_tls_resumption_follows_fast_wake(void)
{
    for (int fast = 0; fast <= 1; fast++) {
        static char cfg[1024];
        strcpy(cfg, TB_CONFIG);
        strcpy(strstr(cfg, "http://"), "https://hooks.example/trigger/button_pressed/with/key/abc'\n"
               "BUTTON_ID = 'micropython1'\n");
        strcat(cfg, fast ? "FAST_WAKE = 1\n" : "FAST_WAKE = 0\n");
        power_on(cfg);
        tb_boot();
        wake(HAL_RESET_DEEPSLEEP, cfg, 60000);
        tb_peer *p = tb_add_peer(TB_IP_HOOK, 443, TB_OK_REPLY);
        tb_boot();
        CHECK(p->used && p->tls && tb_slept);
        CHECK_INT(p->tls_resume, fast);
    }
}

int main(void)
{
    test_record_fits_with_room();
    test_power_on_is_empty();
    test_round_trip();
    test_corrupt_is_ignored();
    test_old_version_is_ignored();
    test_second_press_is_fast();
    test_ap_moved_channel_falls_back();
    test_password_changed_on_the_ap();
    test_lease_past_half_is_renewed();
    test_unknown_sleep_drops_time_limits();
    test_dns_ttl();
    test_stale_dns_answer_asks_again();
    test_kept_address_unroutable_joins_again();
    test_fast_wake_off_is_the_chapter();
    test_corrupt_record_takes_the_full_path();
    test_tls_resumption_follows_fast_wake();
    return tb_done("test_fastwake");
}
