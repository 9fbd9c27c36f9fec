/*
 * dns.c - hal_dns_lookup_ttl() over lwIP's UDP raw API: one A query to the DNS server DHCP
 * (or the kept lease's static set-up) gave, sent again each second until the timeout, to the
 * second server if there is one; the reply read by dns_msg.c, which gives the TTL that lwIP's
 * own resolver keeps to itself.
 */
#include <string.h>

#include "bhl.h"
#include "dns_msg.h"
#include "lwip_port.h"
#include "hal/hal.h"
#include "lwip/dns.h"
#include "lwip/ip_addr.h"
#include "lwip/netif.h"
#include "lwip/pbuf.h"
#include "lwip/udp.h"

#define DNS_PORT 53
#define RESEND_MS 1000

/* A server the board was told to use instead of DHCP's (bhl_dns_override) */
static uint32_t override_ip;
static uint16_t override_port;

void bhl_dns_override(uint32_t ip, uint16_t port)
{
    override_ip = ip;
    override_port = port;
}

static struct {
    const char *host;
    uint16_t id;
    int rc;               /* 1 while waiting */
    uint32_t ip, ttl;
} q;

static void on_reply(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                     u16_t port)
{
    static uint8_t msg[DNSMSG_MAX];
    (void)arg, (void)pcb, (void)addr;
    if (port == (override_ip ? override_port : DNS_PORT) && q.rc == 1) {
        uint16_t n = pbuf_copy_partial(p, msg, sizeof msg, 0);
        uint32_t ip, ttl;
        int rc = dnsmsg_answer(msg, n, q.id, q.host, &ip, &ttl);
        if (rc == BH_OK) {
            q.ip = ip;
            q.ttl = ttl;
        }
        if (rc != BH_ERR_PROTO)   /* not our answer: keep waiting */
            q.rc = rc;
    }
    pbuf_free(p);
}

/* "a.b.c.d" with each part 0..255 and nothing else: an address, not a name */
static bool ipv4_literal(const char *s, uint32_t *ip)
{
    uint32_t v = 0;
    for (int part = 0; part < 4; part++) {
        unsigned n = 0, digits = 0;
        while (*s >= '0' && *s <= '9' && digits < 4) {
            n = n * 10 + (unsigned)(*s++ - '0');
            digits++;
        }
        if (!digits || n > 255 || *s != (part < 3 ? '.' : '\0'))
            return false;
        v = v << 8 | n;
        s += part < 3;
    }
    *ip = v;
    return true;
}

static int send_query(struct udp_pcb *pcb, const ip_addr_t *server)
{
    uint8_t msg[DNSMSG_MAX];
    int len = dnsmsg_query(msg, sizeof msg, q.id, q.host);
    if (len < 0)
        return len;
    struct pbuf *p = pbuf_alloc(PBUF_TRANSPORT, (u16_t)len, PBUF_RAM);
    if (!p)
        return BH_ERR_NOMEM;
    pbuf_take(p, msg, (u16_t)len);
    err_t e = udp_sendto(pcb, p, server, override_ip ? override_port : DNS_PORT);
    pbuf_free(p);
    return bhl_err(e);
}

int hal_dns_lookup_ttl(const char *host, uint32_t *ip, uint32_t *ttl_s, uint32_t timeout_ms)
{
    uint32_t ttl_ignored;
    if (!host || !ip)
        return BH_ERR_ARG;
    if (!ttl_s)
        ttl_s = &ttl_ignored;
    bhl_init();
    *ttl_s = 0;
    if (ipv4_literal(host, ip))
        return BH_OK;     /* as lwIP: a literal is answered without asking */
    if (!netif_default || ip4_addr_isany_val(*netif_ip4_addr(netif_default)))
        return BH_ERR_NOLINK;
    ip_addr_t forced = IPADDR4_INIT(lwip_htonl(override_ip));
    const ip_addr_t *servers[2] = {dns_getserver(0), dns_getserver(1)};
    int nservers = 0;
    if (override_ip)
        servers[nservers++] = &forced;
    else
        for (int i = 0; i < 2; i++)
            if (!ip_addr_isany(servers[i]))
                servers[nservers++] = servers[i];
    if (!nservers)
        return BH_ERR_DNS;      /* no server: neither DHCP nor the static set-up gave one */
    struct udp_pcb *pcb = udp_new();
    if (!pcb)
        return BH_ERR_NOMEM;
    int rc = bhl_err(udp_bind(pcb, IP4_ADDR_ANY, 0));
    if (rc == BH_OK) {
        uint16_t id;
        hal_random(&id, sizeof id);
        q.host = host;
        q.id = id;
        q.rc = 1;
        udp_recv(pcb, on_reply, NULL);
        uint32_t start = hal_millis(), sent = 0;
        for (int tries = 0; q.rc == 1; ) {
            if (tries == 0 || bhl_expired(sent, RESEND_MS)) {
                sent = hal_millis();
                rc = send_query(pcb, servers[tries++ % nservers]);
                if (rc == BH_ERR_ARG || rc == BH_ERR_TOOBIG) {
                    q.rc = BH_ERR_DNS;   /* not a name a server could answer */
                    break;
                }
            }
            if (bhl_expired(start, timeout_ms)) {
                q.rc = BH_ERR_TIMEOUT;
                break;
            }
            bhl_wait_step();
        }
        rc = q.rc;   /* BH_ERR_TIMEOUT: no server answered (as the simulated board says) */
    }
    udp_remove(pcb);
    q.rc = 0;
    if (rc == BH_OK) {
        *ip = q.ip;
        *ttl_s = q.ttl;
    }
    return rc;
}

int hal_dns_lookup(const char *host, uint32_t *ip, uint32_t timeout_ms)
{
    return hal_dns_lookup_ttl(host, ip, NULL, timeout_ms);
}
