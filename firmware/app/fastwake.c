/* fastwake.c - the fast join and the kept lease (fastwake.h). */
#include "app/app.h"
#include "app/awake.h"
#include "app/dnscache.h"
#include "app/fastwake.h"
#include "net/wlan.h"

rtc_state fw_rtc;
static uint32_t clock0_s;     /* the clock at this boot */
static bool lease_used;       /* this wake joined with the kept lease as a static address */

/* Deep sleep as the board measured it, plus 1/16 for its clock's drift, rounded up: what was
 * kept expires early rather than late. */
void fw_begin(press_queue *q)
{
    uint32_t ms;
    if (rtc_load(&fw_rtc) == BH_ERR_PROTO || pq_load(q) == BH_ERR_PROTO)
        hal_report("info", "rtc", BH_ERR_PROTO, "RTC memory ignored");
    clock0_s = fw_rtc.clock_s;
    /* nothing kept used yet (app_run() from a console) */
    dns_cache_used = lease_used = false;
    if (hal_slept_ms(&ms) == BH_OK) {
        ms = ms / 1000 + 1;
        clock0_s += ms + ms / 16;
    } else {
        fw_rtc.lease_until_s = fw_rtc.dns_until_s = 0;
    }
}

uint32_t fw_clock_s(void)
{
    return clock0_s + hal_millis() / 1000;
}

static void forget_join(void)
{
    lease_used = false;
    fw_rtc.channel = 0;
    fw_rtc.lease_until_s = 0;
}

bool fw_join(const bh_config *c, uint32_t key)
{
    int status = HAL_LINK_CONNECTING;
    if (!fw_rtc.channel || fw_rtc.wifi_key != key)
        return false;
    lease_used = fw_clock_s() < fw_rtc.lease_until_s;
    hal_join_params p = {c->wifi_ssid, c->wifi_password, fw_rtc.bssid, fw_rtc.channel,
                         lease_used ? &fw_rtc.lease : NULL, NULL};
    /* twice as long with DHCP, which takes a second or more on a real router */
    if (hal_radio_join(&p) == BH_OK &&
        awake_wait_link(BH_FAST_JOIN_TIMEOUT_MS << !lease_used, &status) == BH_OK)
        return true;
    bh_printf("Fast join failed (status %d): scanning\n", status);
    hal_report("wifi", "fast_join", status, "full join");
    forget_join();
    return false;
}

/* A lease is used only until half its time (T1, when a DHCP client would renew it). */
void fw_remember(uint32_t key, uint32_t joined_s)
{
    hal_ipcfg ip;
    int8_t rssi;
    fw_rtc.wifi_key = key;
    if (hal_radio_assoc(fw_rtc.bssid, &fw_rtc.channel, &rssi) != BH_OK)
        fw_rtc.channel = 0;
    if (hal_radio_ipcfg(&ip) == BH_OK && ip.lease_s) {
        fw_rtc.lease = ip;
        fw_rtc.lease.lease_s = 0;
        fw_rtc.lease_until_s = joined_s + ip.lease_s / 2;
    }
}

/* Only when nothing reached a server over what was kept (nothing was sent, so the press
 * still arrives once). A cached address may be stale (the host moved within its TTL); the
 * kept lease only when nothing answered at all (the router no longer routes it). A refusal
 * came back over it: it works. */
int fw_http_do(http_request *rq, http_response *rs, const bh_config *c, int (*rejoin)(void))
{
    rq->total_timeout_ms = awake_http_ms(c->http_timeout);
    rq->resolve = c->fast_wake ? dns_cache_resolve : NULL;
    rq->tls_resume = c->fast_wake;
    int err = http_do(rq, rs);
    bool unrouted = lease_used && (err == BH_ERR_TIMEOUT || err == BH_ERR_UNREACH);
    if (err == BH_OK || !(dns_cache_used || unrouted) || rs->bytes_sent != 0)
        return err;
    dns_cache_forget();
    if (unrouted) {
        forget_join();
        wlan_disconnect(WLAN_STA);
        if ((err = rejoin()) != BH_OK)
            return err;
    }
    rq->total_timeout_ms = awake_http_ms(c->http_timeout);
    return http_do(rq, rs);
}

void fw_save(void)
{
    fw_rtc.clock_s = fw_clock_s() + 1;   /* and the moment until the sleep starts */
    rtc_save(&fw_rtc);
}
