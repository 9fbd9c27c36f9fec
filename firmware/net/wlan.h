/*
 * wlan.h - MicroPython's network.WLAN (ports/esp8266, v1.11 to v1.20) over the board's radio.
 *
 * Two interfaces: WLAN_STA (joins a router) and WLAN_AP (the board's own access point).
 * Factory state: AP active as "MicroPython-xxxxxx" / "micropythoN" / WPA/WPA2-PSK, STA
 * inactive. Like the ESP8266 SDK, the STA credentials, the AP settings and which interfaces
 * are active are kept in flash (BH_WLAN_FILE) and applied by wlan_init() at boot, so an
 * active STA with saved credentials reconnects by itself.
 *
 * Every call returns 0 (or a value >= 0) on success, or a negative bh_err; after a failure
 * wlan_errmsg() gives MicroPython's message ("STA required", "unknown config param", ...) and
 * wlan_errtype() the exception it raises ("OSError", "ValueError", "TypeError"), so a console
 * can print "OSError: STA required" as the chapter's REPL would.
 *
 * The wlan_repr_* formatters print values exactly as MicroPython's REPL shows them, e.g.
 *   ('192.168.0.45', '255.255.255.0', '192.168.0.1', '192.168.0.1')
 *   (b'NETGEAR99', b'\xa0@\xa0\x91}\xac', 3, -72, 3, 0)
 * They work like snprintf: write at most cap bytes including the NUL, return the full length.
 *
 * No wlan call blocks except wlan_scan(), which waits for the radio as MicroPython's does.
 */
#ifndef BH_WLAN_H
#define BH_WLAN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bh_opts.h"
#include "hal/hal.h"

enum { WLAN_STA = 0, WLAN_AP = 1 };

/* status() of an inactive STA: the SDK's 0xff, which MicroPython returns as is. */
#define WLAN_STATUS_INACTIVE 255
/* status('rssi') when not associated: the SDK's "invalid" value. */
#define WLAN_RSSI_INVALID 31

/* Load BH_WLAN_FILE (or the factory state) and apply it to the radio. Call once at boot;
 * every other call runs it first if it has not run. A corrupt file is reported with
 * hal_report("wifi", ...) and replaced by the factory state. */
int wlan_init(void);

int wlan_active(int ifc);                     /* 1 or 0 */
int wlan_set_active(int ifc, bool on);
int wlan_scan(int ifc, hal_ap_info *out, int max); /* STA only; number of entries */
/* STA only. NULL ssid, key and bssid: connect with the saved settings. Otherwise, as MicroPython, the
 * given ones replace all saved ones (a missing key becomes ""); ssid is cut to 32 bytes,
 * key to 64. Returns at once; watch wlan_status(). */
int wlan_connect(int ifc, const char *ssid, const char *key, const uint8_t *bssid);
int wlan_disconnect(int ifc);                 /* STA only */
int wlan_status(int ifc);                     /* STA: hal_link_t or 255; AP: -1 */
int wlan_status_param(int ifc, const char *param, int *out); /* "rssi" on STA only */
int wlan_isconnected(int ifc);                /* 1 or 0 */

/* ifconfig(): ip, netmask, gateway and the DNS server (one for both interfaces, as in lwIP). */
int wlan_ifconfig(int ifc, hal_ipcfg *out);
/* ifconfig((ip, mask, gw, dns)): on STA a static address, which stops DHCP until
 * wlan_ifconfig_dhcp() or the next boot. */
int wlan_set_ifconfig(int ifc, const hal_ipcfg *cfg);
int wlan_ifconfig_dhcp(int ifc);              /* ifconfig('dhcp'): STA only */

/* config() values. For wlan_config_get, s points into wlan's own storage, valid until the
 * next wlan call. */
typedef enum { WLAN_V_INT, WLAN_V_BOOL, WLAN_V_STR, WLAN_V_BYTES } wlan_vtype;
typedef struct {
    wlan_vtype type;
    int32_t i;            /* INT, BOOL */
    const char *s;        /* STR, BYTES: len bytes */
    size_t len;
} wlan_value;
typedef struct {
    const char *key;
    wlan_value val;
} wlan_kw;

/* config('key'): mac, essid, channel, hidden, authmode, dhcp_hostname (and the v1.20 aliases
 * ssid, security, hostname). The password can never be read back. */
int wlan_config_get(int ifc, const char *key, wlan_value *out);
/* config(key=value, ...): all keys are applied together or none is. essid, password,
 * authmode, channel, hidden on AP; dhcp_hostname on STA; mac is checked but this HAL cannot
 * change it (BH_ERR_UNSUPPORTED). */
int wlan_config_set(int ifc, const wlan_kw *kw, size_t n);

const char *wlan_errmsg(void);                /* "" if the last failure had no message */
const char *wlan_errtype(void);

void wlan_mac(int ifc, uint8_t mac[6]);       /* AP: the STA MAC with bit 1 of byte 0 flipped */

/* "192.168.4.1" -> 0xC0A80401; "" is 0.0.0.0 as in MicroPython; anything else that is not
 * four numbers 0-255 fails with ValueError "invalid arguments". */
int wlan_parse_ip(const char *s, size_t len, uint32_t *ip);

size_t wlan_fmt_ip(char *buf, size_t cap, uint32_t ip);
size_t wlan_repr_str(char *buf, size_t cap, const char *s, size_t len);      /* 'x' */
size_t wlan_repr_bytes(char *buf, size_t cap, const uint8_t *b, size_t len); /* b'x' */
size_t wlan_repr_value(char *buf, size_t cap, const wlan_value *v);
size_t wlan_repr_ifconfig(char *buf, size_t cap, const hal_ipcfg *c);
size_t wlan_repr_scan_entry(char *buf, size_t cap, const hal_ap_info *ap);
size_t wlan_repr_scan(char *buf, size_t cap, const hal_ap_info *aps, int n); /* [(...), ...] */

#endif
