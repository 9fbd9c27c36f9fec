/* dnscache.c - the webhook host's address, kept for its TTL (dnscache.h). */
#include "app/dnscache.h"
#include "app/fastwake.h"

bool dns_cache_used;

int dns_cache_resolve(const char *host, uint32_t *ip, uint32_t timeout_ms)
{
    uint32_t h = rtc_hash(host, NULL), ttl = 0, t0 = fw_clock_s();
    if (fw_rtc.dns_host == h && t0 < fw_rtc.dns_until_s) {
        *ip = fw_rtc.dns_ip;
        dns_cache_used = true;
        return BH_OK;
    }
    int rc = hal_dns_lookup_ttl(host, ip, &ttl, timeout_ms);
    if (rc == BH_OK && ttl) {
        fw_rtc.dns_host = h;
        fw_rtc.dns_ip = *ip;
        fw_rtc.dns_until_s = t0 + ttl;
    }
    return rc;
}

void dns_cache_forget(void)
{
    fw_rtc.dns_host = 0;
    dns_cache_used = false;
}
