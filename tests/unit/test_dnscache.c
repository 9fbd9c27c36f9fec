/* test_dnscache.c - the webhook host's address kept for its TTL (app/dnscache.c). */
#include <stdio.h>
#include <string.h>

#include "app/awake.h"
#include "app/dnscache.h"
#include "app/fastwake.h"
#include "net/wlan.h"
#include "testboard.h"

#define IP_OTHER 0x0A000009u

/* A board at power-on (nothing kept), joined to home-net */
static void joined(void)
{
    static press_queue q;
    int status;
    tb_reset();
    tb_home(TB_CONFIG, TB_IP_HOOK);
    tb_dns_add("other.example", IP_OTHER);
    fw_begin(&q);
    wlan_init();
    wlan_set_active(WLAN_STA, true);
    wlan_connect(WLAN_STA, "home-net", "correct horse", NULL);
    awake_begin(20, 0);
    CHECK_INT(awake_wait_link(10000, &status), BH_OK);
    tb_dns_lookups = 0;
}

static void test_kept_for_its_ttl(void)
{
    uint32_t ip = 0;
    joined();
    tb_dns_ttl = 30;
    CHECK_INT(dns_cache_resolve("hooks.example", &ip, 1000), BH_OK);
    CHECK_INT(ip, TB_IP_HOOK);
    CHECK_INT(tb_dns_lookups, 1);
    CHECK(!dns_cache_used);
    ip = 0;
    tb_now_ms += 20000;
    CHECK_INT(dns_cache_resolve("hooks.example", &ip, 1000), BH_OK);
    CHECK_INT(ip, TB_IP_HOOK);
    CHECK_INT(tb_dns_lookups, 1);   /* no look-up */
    CHECK(dns_cache_used);
    tb_now_ms += 11000;   /* past the TTL: asked again */
    CHECK_INT(dns_cache_resolve("hooks.example", &ip, 1000), BH_OK);
    CHECK_INT(tb_dns_lookups, 2);
}

static void test_other_host_is_looked_up(void)
{
    uint32_t ip = 0;
    joined();
    CHECK_INT(dns_cache_resolve("hooks.example", &ip, 1000), BH_OK);
    CHECK_INT(dns_cache_resolve("other.example", &ip, 1000), BH_OK);
    CHECK_INT(ip, IP_OTHER);
    CHECK_INT(tb_dns_lookups, 2);
}

static void test_ttl_zero_and_failures_are_not_kept(void)
{
    uint32_t ip = 0;
    joined();
    tb_dns_ttl = 0;
    CHECK_INT(dns_cache_resolve("hooks.example", &ip, 1000), BH_OK);
    CHECK_INT(dns_cache_resolve("hooks.example", &ip, 1000), BH_OK);
    CHECK_INT(tb_dns_lookups, 2);
    CHECK_INT(dns_cache_resolve("nowhere.example", &ip, 1000), BH_ERR_DNS);
    CHECK_INT(dns_cache_resolve("nowhere.example", &ip, 1000), BH_ERR_DNS);
    CHECK_INT(tb_dns_lookups, 4);
}

static void test_forget(void)
{
    uint32_t ip = 0;
    joined();
    dns_cache_resolve("hooks.example", &ip, 1000);
    dns_cache_resolve("hooks.example", &ip, 1000);
    CHECK(dns_cache_used);
    dns_cache_forget();   /* a request over it reached nothing */
    CHECK(!dns_cache_used);
    CHECK_INT(dns_cache_resolve("hooks.example", &ip, 1000), BH_OK);
    CHECK_INT(tb_dns_lookups, 2);
}

/* kept across deep sleep in RTC memory; a sleep of unknown length voids it */
static void test_kept_across_sleep(void)
{
    static press_queue q;
    uint32_t ip = 0;
    joined();
    dns_cache_resolve("hooks.example", &ip, 1000);
    fw_save();
    tb_wake(HAL_RESET_DEEPSLEEP, 60000);
    fw_begin(&q);
    CHECK_INT(fw_rtc.dns_ip, TB_IP_HOOK);
    CHECK(fw_rtc.dns_until_s > fw_clock_s());
    tb_wake(HAL_RESET_DEEPSLEEP, -1);
    fw_begin(&q);
    CHECK_INT(fw_rtc.dns_until_s, 0);
}

int main(void)
{
    test_kept_for_its_ttl();
    test_other_host_is_looked_up();
    test_ttl_zero_and_failures_are_not_kept();
    test_forget();
    test_kept_across_sleep();
    return tb_done("test_dnscache");
}
