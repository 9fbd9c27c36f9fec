/*
 * ethif.c - a wired board: lwIP's netif over the board's Ethernet frames (port_eth_*), the
 * wait loop's turn of the stack (bhl_poll), and the board contract's radio as a cable.
 *
 * The link stands in for Wi-Fi honestly (docs/ports.md): joining means the cable's link is up
 * and an address is set, from DHCP or, on a fast wake, the kept lease set as a static address
 * (no DHCP on the wire). What a cable cannot do has a fixed, documented answer: no scan and no
 * access point of our own (BH_ERR_UNSUPPORTED), no wrong password (any is accepted), the
 * "AP" of hal_radio_assoc() is the wire itself (BSSID 00:00:00:00:00:00, channel 1, 0 dBm),
 * and a cable that stays unplugged reads as HAL_LINK_NO_AP_FOUND after BHL_NOLINK_MS.
 * A leave stops DHCP without a RELEASE: the lease stays the board's for the next wake.
 */
#include <stdio.h>
#include <string.h>

#include "bhl.h"
#include "hal/hal.h"
#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/etharp.h"
#include "lwip/netif.h"
#include "lwip/timeouts.h"
#include "lwip_port.h"
#include "netif/ethernet.h"

#ifndef BHL_NOLINK_MS
#define BHL_NOLINK_MS 3000
#endif
#define FRAME_MAX 1536

static struct netif eth;
static bool sta_on, joined, is_static;
static uint32_t join_ms;
static char hostname[33];

static err_t eth_linkoutput(struct netif *n, struct pbuf *p)
{
    static uint8_t frame[FRAME_MAX];
    (void)n;
    if (p->tot_len > sizeof frame)
        return ERR_BUF;
    pbuf_copy_partial(p, frame, p->tot_len, 0);
    return port_eth_output(frame, p->tot_len) == BH_OK ? ERR_OK : ERR_IF;
}

static err_t eth_netif_init(struct netif *n)
{
    n->name[0] = 'e';
    n->name[1] = 'n';
    n->output = etharp_output;
    n->linkoutput = eth_linkoutput;
    n->mtu = 1500;
    n->hwaddr_len = ETH_HWADDR_LEN;
    port_eth_mac(n->hwaddr);
    n->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    return ERR_OK;
}

static void eth_start(void)
{
    static bool started;
    if (started)
        return;
    started = true;
    bhl_init();
    if (port_eth_init() != BH_OK)
        hal_report("error", "ethernet", BH_ERR_IO, "the Ethernet controller did not start");
    netif_add(&eth, IP4_ADDR_ANY4, IP4_ADDR_ANY4, IP4_ADDR_ANY4, NULL, eth_netif_init,
              ethernet_input);
    netif_set_default(&eth);
}

void bhl_poll(void)
{
    static uint8_t frame[FRAME_MAX];
    eth_start();
    /* a few frames a turn, so a flood cannot starve the timers */
    for (int i = 0; i < 8; i++) {
        int n = port_eth_input(frame, sizeof frame);
        if (n <= 0)
            break;
        struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)n, PBUF_POOL);
        if (!p)
            break;                   /* out of buffers: the frame is dropped, as on a wire */
        pbuf_take(p, frame, (u16_t)n);
        if (eth.input(p, &eth) != ERR_OK)
            pbuf_free(p);
    }
    bool link = port_eth_link();
    if (link != (bool)netif_is_link_up(&eth)) {
        if (link)
            netif_set_link_up(&eth);
        else
            netif_set_link_down(&eth);
    }
    sys_check_timeouts();
    hal_wdt_feed();
}

/* ---- the radio contract on a cable ------------------------------------------------------- */

static void set_addr(uint32_t ip, uint32_t mask, uint32_t gw)
{
    ip4_addr_t a, m, g;
    ip4_addr_set_u32(&a, lwip_htonl(ip));
    ip4_addr_set_u32(&m, lwip_htonl(mask));
    ip4_addr_set_u32(&g, lwip_htonl(gw));
    netif_set_addr(&eth, &a, &m, &g);
}

static void set_static(const hal_ipcfg *c)
{
    dhcp_stop(&eth);
    set_addr(c->ip, c->netmask, c->gw);
    if (c->dns) {
        ip_addr_t d = IPADDR4_INIT(lwip_htonl(c->dns));
        dns_setserver(0, &d);
    }
    is_static = true;
}

static void leave(void)
{
    if (joined) {
        dhcp_stop(&eth);   /* no RELEASE: the kept lease may be used on the next wake */
        set_addr(0, 0, 0);
        netif_set_down(&eth);
    }
    joined = is_static = false;
}

int hal_radio_sta_active(bool on)
{
    eth_start();
    if (!on)
        leave();
    sta_on = on;
    return BH_OK;
}

int hal_radio_scan(hal_ap_info *out, int max)
{
    (void)out, (void)max;
    return BH_ERR_UNSUPPORTED;   /* a cable has nothing to scan */
}

int hal_radio_join(const hal_join_params *p)
{
    if (!p || !p->ssid)
        return BH_ERR_ARG;
    if (!sta_on)
        return BH_ERR_STATE;
    leave();
    snprintf(hostname, sizeof hostname, "%s", p->hostname ? p->hostname : "buttonhook");
    netif_set_hostname(&eth, hostname);
    netif_set_up(&eth);
    joined = true;
    join_ms = hal_millis();
    if (p->static_ip) {
        set_static(p->static_ip);
        return BH_OK;
    }
    set_addr(0, 0, 0);
    return bhl_err(dhcp_start(&eth));
}

hal_link_t hal_radio_link(void)
{
    if (!sta_on || !joined)
        return HAL_LINK_IDLE;
    if (!netif_is_link_up(&eth))
        return bhl_expired(join_ms, BHL_NOLINK_MS) ? HAL_LINK_NO_AP_FOUND : HAL_LINK_CONNECTING;
    if (is_static || dhcp_supplied_address(&eth))
        return HAL_LINK_GOT_IP;
    return HAL_LINK_CONNECTING;
}

int hal_radio_leave(void)
{
    leave();
    return BH_OK;
}

int hal_radio_ipcfg(hal_ipcfg *out)
{
    if (hal_radio_link() != HAL_LINK_GOT_IP)
        return BH_ERR_NOLINK;
    out->ip = lwip_ntohl(ip4_addr_get_u32(netif_ip4_addr(&eth)));
    out->netmask = lwip_ntohl(ip4_addr_get_u32(netif_ip4_netmask(&eth)));
    out->gw = lwip_ntohl(ip4_addr_get_u32(netif_ip4_gw(&eth)));
    out->dns = lwip_ntohl(ip_addr_get_ip4_u32(dns_getserver(0)));
    out->lease_s = 0;
    struct dhcp *d = netif_dhcp_data(&eth);
    if (!is_static && d)
        out->lease_s = bhl_lease_left(d);
    return BH_OK;
}

int hal_radio_set_ipcfg(const hal_ipcfg *cfg)
{
    if (hal_radio_link() != HAL_LINK_GOT_IP)
        return BH_ERR_NOLINK;
    set_static(cfg);
    return BH_OK;
}

int hal_radio_assoc(uint8_t bssid[6], uint8_t *channel, int8_t *rssi)
{
    if (hal_radio_link() != HAL_LINK_GOT_IP)
        return BH_ERR_NOLINK;
    memset(bssid, 0, 6);   /* the wire (see the top of this file) */
    *channel = 1;
    *rssi = 0;
    return BH_OK;
}

int hal_radio_ap(bool active, const hal_ap_params *p)
{
    (void)p;
    return active ? BH_ERR_UNSUPPORTED : BH_OK;
}

int hal_radio_ap_stations(void)
{
    return 0;
}
