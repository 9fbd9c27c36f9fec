/*
 * wifi.c - the board contract's radio over the NONOS SDK's Wi-Fi calls. The MicroPython
 * semantics (status codes, scan tuples, the AP's default name and password, ifconfig, config
 * keys) live in the portable firmware (net/wlan.c) and are tested on the other boards; this
 * file only maps the contract onto the SDK, whose station states are the contract's numbers.
 * The fast wake's settings (docs/energy-model.md) are named below. Nothing here has run on a
 * chip (docs/esp8266.md).
 */
#include <string.h>

#include "esp.h"
#include "ports/lwip/bhl.h"

#include "lwip/dhcp.h"
#include "lwip/dns.h"
#include "lwip/netif.h"
#include "user_interface.h"

/* the SDK's station netif (libmain; not in its headers): the DHCP lease's time left */
extern struct netif *eagle_lwip_getif(uint8 index);

/* The energy model's assumptions as the port's settings */
#define BOOT_AUTO_CONNECT 0       /* no join at boot from the SDK's saved config: the app joins */
#define SCAN_WAIT_MS 10000        /* a full active scan of 13 channels takes about 2.5 s */

static uint8_t mode;              /* STATION_MODE | SOFTAP_MODE as the contract asked */
static bool joined, is_static;
static uint8_t assoc_bssid[6], assoc_channel;

static void on_event(System_Event_t *e)
{
    if (e->event == EVENT_STAMODE_CONNECTED) {
        memcpy(assoc_bssid, e->event_info.connected.bssid, 6);
        assoc_channel = e->event_info.connected.channel;
    }
}

void esp_wifi_init(void)
{
    wifi_station_set_auto_connect(BOOT_AUTO_CONNECT);
    wifi_set_event_handler_cb(on_event);
    mode = wifi_get_opmode();
}

static int set_mode(uint8_t m)
{
    if (m == mode && wifi_get_opmode() == m)
        return BH_OK;   /* the application turns the AP off on every wake: no radio restart */
    mode = m;
    return wifi_set_opmode_current(m) ? BH_OK : BH_ERR_IO;
}

void hal_radio_mac(uint8_t mac[6])
{
    wifi_get_macaddr(STATION_IF, mac);
}

int hal_radio_sta_active(bool on)
{
    if (!on && joined)
        hal_radio_leave();
    return set_mode(on ? (uint8_t)(mode | STATION_MODE) : (uint8_t)(mode & ~STATION_MODE));
}

static struct {
    hal_ap_info *out;
    int max, n;
    bool done;
} scan;

static void on_scan(void *arg, STATUS status)
{
    scan.done = true;
    if (status != OK)
        return;
    for (struct bss_info *b = arg; b && scan.n < scan.max; b = STAILQ_NEXT(b, next)) {
        hal_ap_info *a = &scan.out[scan.n++];
        memset(a, 0, sizeof *a);
        size_t len = b->ssid_len <= 32 ? b->ssid_len : 32;
        memcpy(a->ssid, b->ssid, len);
        memcpy(a->bssid, b->bssid, 6);
        a->channel = b->channel;
        a->rssi = b->rssi;
        a->authmode = b->authmode <= AUTH_WPA_WPA2_PSK ? (uint8_t)b->authmode : HAL_AUTH_WPA2_PSK;
        a->hidden = b->is_hidden ? 1 : 0;
    }
}

int hal_radio_scan(hal_ap_info *out, int max)
{
    if (!out || max < 0)
        return BH_ERR_ARG;
    if (!(mode & STATION_MODE))
        return BH_ERR_STATE;
    scan.out = out, scan.max = max, scan.n = 0, scan.done = false;
    if (!wifi_station_scan(NULL, on_scan))
        return BH_ERR_IO;
    uint32_t start = hal_millis();
    while (!scan.done) {
        if (bhl_expired(start, SCAN_WAIT_MS))
            return BH_ERR_TIMEOUT;
        bhl_wait_step();
    }
    return scan.n;
}

static void set_static(const hal_ipcfg *c)
{
    struct ip_info info;
    wifi_station_dhcpc_stop();   /* the kept lease as a static address: no DHCP on the air */
    info.ip.addr = lwip_htonl(c->ip);
    info.netmask.addr = lwip_htonl(c->netmask);
    info.gw.addr = lwip_htonl(c->gw);
    wifi_set_ip_info(STATION_IF, &info);
    if (c->dns) {
        ip_addr_t d = {lwip_htonl(c->dns)};
        dns_setserver(0, &d);
    }
    is_static = true;
}

int hal_radio_join(const hal_join_params *p)
{
    if (!p || !p->ssid || strlen(p->ssid) > 32 || (p->password && strlen(p->password) > 64))
        return BH_ERR_ARG;
    if (!(mode & STATION_MODE))
        return BH_ERR_STATE;
    if (joined)
        hal_radio_leave();
    struct station_config c;
    memset(&c, 0, sizeof c);
    memcpy(c.ssid, p->ssid, strlen(p->ssid));
    if (p->password)
        memcpy(c.password, p->password, strlen(p->password));
    if (p->bssid) {                /* the fast wake: the kept BSSID and channel, no scan */
        c.bssid_set = 1;
        memcpy(c.bssid, p->bssid, 6);
    }
    c.channel = p->channel;
    /* The energy model ("Association"): the SDK keeps the station configuration in its
     * flash parameters with the key it derived from the password (PBKDF2, about a second on
     * this chip), so a join with the same network reuses it: wifi_station_set_config(), not
     * _current(). It is written only when it changed, so a wake does not wear the flash. */
    struct station_config saved;
    bool same = wifi_station_get_config_default(&saved) &&
                memcmp(saved.ssid, c.ssid, sizeof c.ssid) == 0 &&
                memcmp(saved.password, c.password, sizeof c.password) == 0 &&
                saved.bssid_set == c.bssid_set && memcmp(saved.bssid, c.bssid, 6) == 0 &&
                saved.channel == c.channel;
    if (!(same ? wifi_station_set_config_current(&c) : wifi_station_set_config(&c)))
        return BH_ERR_ARG;
    static char host[33];
    strncpy(host, p->hostname ? p->hostname : "buttonhook", sizeof host - 1);
    wifi_station_set_hostname(host);
    is_static = false;
    if (p->static_ip)
        set_static(p->static_ip);
    else
        wifi_station_dhcpc_start();
    joined = wifi_station_connect();
    return joined ? BH_OK : BH_ERR_IO;
}

hal_link_t hal_radio_link(void)
{
    if (!(mode & STATION_MODE) || !joined)
        return HAL_LINK_IDLE;
    /* STATION_IDLE .. STATION_GOT_IP are the contract's 0..5 */
    uint8 s = wifi_station_get_connect_status();
    return s <= STATION_GOT_IP ? (hal_link_t)s : HAL_LINK_CONNECT_FAIL;
}

int hal_radio_leave(void)
{
    if (joined)
        wifi_station_disconnect();
    joined = is_static = false;
    return BH_OK;
}

int hal_radio_ipcfg(hal_ipcfg *out)
{
    if (hal_radio_link() != HAL_LINK_GOT_IP)
        return BH_ERR_NOLINK;
    struct ip_info info;
    if (!wifi_get_ip_info(STATION_IF, &info))
        return BH_ERR_IO;
    out->ip = lwip_ntohl(info.ip.addr);
    out->netmask = lwip_ntohl(info.netmask.addr);
    out->gw = lwip_ntohl(info.gw.addr);
    out->dns = lwip_ntohl(dns_getserver(0)->addr);
    out->lease_s = 0;
    struct netif *n = eagle_lwip_getif(STATION_IF);
    if (!is_static && n && n->dhcp)
        out->lease_s = bhl_lease_left(n->dhcp);
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
    memcpy(bssid, assoc_bssid, 6);
    *channel = assoc_channel ? assoc_channel : wifi_get_channel();
    *rssi = wifi_station_get_rssi();
    return BH_OK;
}

int hal_radio_ap(bool active, const hal_ap_params *p)
{
    if (!active)
        return set_mode((uint8_t)(mode & ~SOFTAP_MODE));
    /* what the SDK's wifi_softap_set_config() refuses, as ports/sim checks it */
    if (!p || !p->ssid || !p->ssid[0] || strlen(p->ssid) > 32 || p->authmode == HAL_AUTH_WEP ||
        p->authmode > HAL_AUTH_WPA_WPA2_PSK || p->channel < 1 || p->channel > 13 ||
        (p->authmode != HAL_AUTH_OPEN &&
         (!p->password || strlen(p->password) < 8 || strlen(p->password) > 63)))
        return BH_ERR_ARG;
    int rc = set_mode((uint8_t)(mode | SOFTAP_MODE));
    if (rc != BH_OK)
        return rc;
    struct softap_config c;
    memset(&c, 0, sizeof c);
    memcpy(c.ssid, p->ssid, strlen(p->ssid));
    c.ssid_len = (uint8)strlen(p->ssid);
    if (p->password)
        memcpy(c.password, p->password, strlen(p->password));
    c.channel = p->channel;
    c.authmode = (AUTH_MODE)p->authmode;
    c.ssid_hidden = p->hidden;
    c.max_connection = 4;
    c.beacon_interval = 100;
    return wifi_softap_set_config_current(&c) ? BH_OK : BH_ERR_IO;
}

int hal_radio_ap_stations(void)
{
    return (mode & SOFTAP_MODE) ? wifi_softap_get_station_num() : 0;
}
