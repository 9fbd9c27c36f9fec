/* wlan.c - network.WLAN as MicroPython's esp8266 port behaves, over hal_radio_*. */
#include "net/wlan.h"

#include <stdio.h>
#include <string.h>

#include "bh_opts.h"

#define SSID_MAX 32
#define STA_PW_MAX 64   /* station_config.password[64], not NUL-terminated when full */
#define AP_PW_MAX 63    /* softap_config.password[64], always NUL-terminated */
#define HOSTNAME_MAX 32

/* What the SDK keeps in flash. */
typedef struct {
    bool sta_active, ap_active;
    char sta_ssid[SSID_MAX + 1];
    char sta_password[STA_PW_MAX + 1];
    bool sta_bssid_set;
    uint8_t sta_bssid[6];
    char ap_ssid[SSID_MAX + 1];
    char ap_password[AP_PW_MAX + 1];
    uint8_t ap_authmode, ap_channel;
    bool ap_hidden;
} wlan_saved;

/* BH_WLAN_FILE, version 1, little-endian, fixed size:
 *   0 "BHWL"  4 version  5 flags (1 STA active, 2 AP active, 4 bssid set, 8 AP hidden)
 *   6 AP authmode  7 AP channel  8 STA ssid[33]  41 STA password[65]  106 bssid[6]
 *   112 AP ssid[33]  145 AP password[64]  209 FNV-1a of bytes 0-208 */
enum {
    F_VERSION = 4, F_FLAGS = 5, F_AUTH = 6, F_CHAN = 7, F_STA_SSID = 8, F_STA_PW = 41,
    F_BSSID = 106, F_AP_SSID = 112, F_AP_PW = 145, F_SUM = 209, F_SIZE = 213
};
#define WLAN_FILE_VERSION 1

static struct {
    bool inited;
    wlan_saved s;
    uint8_t image[F_SIZE];       /* what the file holds, to skip rewriting it unchanged */
    bool image_valid;
    char hostname[HOSTNAME_MAX + 1];
    bool sta_static;
    bool lease_seen;             /* the current DHCP lease already set the DNS server */
    hal_ipcfg sta_ip, ap_ip;
    uint32_t dns;
    char errmsg[80];
    const char *errtype;
    char strval[SSID_MAX + 1];   /* config() string results */
    uint8_t macval[6];
} W;

static int fail(int code, const char *type, const char *msg)
{
    W.errtype = type;
    snprintf(W.errmsg, sizeof W.errmsg, "%s", msg);
    return code;
}

const char *wlan_errmsg(void) { return W.errmsg; }
const char *wlan_errtype(void) { return W.errtype ? W.errtype : "OSError"; }

/* ---- persistence ------------------------------------------------------------------------ */

static size_t bounded_len(const char *s, size_t max)
{
    size_t n = 0;
    while (n < max && s[n])
        n++;
    return n;
}

static uint32_t fnv1a(const uint8_t *p, size_t n)
{
    uint32_t h = 2166136261u;
    while (n--)
        h = (h ^ *p++) * 16777619u;
    return h;
}

static void put_str(uint8_t *img, size_t off, size_t size, const char *s)
{
    memset(img + off, 0, size);
    memcpy(img + off, s, bounded_len(s, size - 1));
}

static bool get_str(const uint8_t *img, size_t off, size_t size, char *out)
{
    if (!memchr(img + off, 0, size))
        return false;
    memcpy(out, img + off, size);
    return true;
}

static void serialize(const wlan_saved *s, uint8_t img[F_SIZE])
{
    memcpy(img, "BHWL", 4);
    img[F_VERSION] = WLAN_FILE_VERSION;
    img[F_FLAGS] = (uint8_t)((s->sta_active ? 1 : 0) | (s->ap_active ? 2 : 0) |
                             (s->sta_bssid_set ? 4 : 0) | (s->ap_hidden ? 8 : 0));
    img[F_AUTH] = s->ap_authmode;
    img[F_CHAN] = s->ap_channel;
    put_str(img, F_STA_SSID, sizeof s->sta_ssid, s->sta_ssid);
    put_str(img, F_STA_PW, sizeof s->sta_password, s->sta_password);
    memcpy(img + F_BSSID, s->sta_bssid, 6);
    put_str(img, F_AP_SSID, sizeof s->ap_ssid, s->ap_ssid);
    put_str(img, F_AP_PW, sizeof s->ap_password, s->ap_password);
    uint32_t h = fnv1a(img, F_SUM);
    for (int i = 0; i < 4; i++)
        img[F_SUM + i] = (uint8_t)(h >> (8 * i));
}

static const char *deserialize(const uint8_t img[F_SIZE], wlan_saved *s)
{
    if (memcmp(img, "BHWL", 4) != 0)
        return "not a Wi-Fi settings file";
    if (img[F_VERSION] != WLAN_FILE_VERSION)
        return "written by another firmware version";
    uint32_t h = 0;
    for (int i = 0; i < 4; i++)
        h |= (uint32_t)img[F_SUM + i] << (8 * i);
    if (h != fnv1a(img, F_SUM))
        return "checksum mismatch";
    uint8_t f = img[F_FLAGS];
    s->sta_active = f & 1;
    s->ap_active = (f & 2) != 0;
    s->sta_bssid_set = (f & 4) != 0;
    s->ap_hidden = (f & 8) != 0;
    s->ap_authmode = img[F_AUTH];
    s->ap_channel = img[F_CHAN];
    memcpy(s->sta_bssid, img + F_BSSID, 6);
    if (!get_str(img, F_STA_SSID, sizeof s->sta_ssid, s->sta_ssid) ||
        !get_str(img, F_STA_PW, sizeof s->sta_password, s->sta_password) ||
        !get_str(img, F_AP_SSID, sizeof s->ap_ssid, s->ap_ssid) ||
        !get_str(img, F_AP_PW, sizeof s->ap_password, s->ap_password) ||
        s->ap_authmode > HAL_AUTH_WPA_WPA2_PSK || s->ap_channel < 1 || s->ap_channel > 13)
        return "bad field";
    return NULL;
}

/* The SDK writes its flash sector on every set; we skip unchanged writes, because the chapter's
 * connect_wifi() turns the AP off on every wake. */
static int persist(void)
{
    uint8_t img[F_SIZE];
    serialize(&W.s, img);
    if (W.image_valid && memcmp(img, W.image, F_SIZE) == 0)
        return BH_OK;
    int rc = hal_fs_write(BH_WLAN_FILE, 0, img, F_SIZE);
    if (rc < 0) {
        char m[80];
        snprintf(m, sizeof m, "can't save Wi-Fi settings to %s: %s", BH_WLAN_FILE, bh_strerror(rc));
        return fail(rc, "OSError", m);
    }
    memcpy(W.image, img, F_SIZE);
    W.image_valid = true;
    return BH_OK;
}

/* ---- radio helpers ------------------------------------------------------------------------ */

void wlan_mac(int ifc, uint8_t mac[6])
{
    hal_radio_mac(mac);
    if (ifc == WLAN_AP)
        mac[0] ^= 0x02;   /* 18:fe:34:.. -> 1a:fe:34:.., the locally administered bit */
}

static void factory(wlan_saved *s)
{
    uint8_t mac[6];
    memset(s, 0, sizeof *s);
    s->ap_active = true;
    wlan_mac(WLAN_AP, mac);
    /* what MicroPython's inisetup.py sets on first boot */
    snprintf(s->ap_ssid, sizeof s->ap_ssid, "MicroPython-%02x%02x%02x", mac[3], mac[4], mac[5]);
    snprintf(s->ap_password, sizeof s->ap_password, "micropythoN");
    s->ap_authmode = HAL_AUTH_WPA_WPA2_PSK;
    s->ap_channel = 1;
}

static int apply_ap(void)
{
    hal_ap_params p = {W.s.ap_ssid, W.s.ap_password, W.s.ap_authmode, W.s.ap_channel,
                       W.s.ap_hidden};
    return hal_radio_ap(W.s.ap_active, &p);
}

static int join(void)
{
    W.lease_seen = false;
    hal_join_params p = {W.s.sta_ssid, W.s.sta_password, W.s.sta_bssid_set ? W.s.sta_bssid : NULL,
                         0, W.sta_static ? &W.sta_ip : NULL, W.hostname};
    return hal_radio_join(&p);
}

int wlan_init(void)
{
    memset(&W, 0, sizeof W);
    W.inited = true;
    W.dns = 0xD043DEDE;   /* 208.67.222.222: lwIP's default server, shown by the chapter */
    W.ap_ip = (hal_ipcfg){0xC0A80401, 0xFFFFFF00, 0xC0A80401, 0, 0};
    uint8_t mac[6];
    hal_radio_mac(mac);
    /* the SDK's default DHCP host name, which v1.11 reports */
    snprintf(W.hostname, sizeof W.hostname, "ESP_%02X%02X%02X", mac[3], mac[4], mac[5]);

    uint8_t img[F_SIZE];
    const char *why = NULL;
    int size = hal_fs_size(BH_WLAN_FILE);
    if (size == BH_ERR_NOENT)
        factory(&W.s);
    else if (size < 0)
        why = bh_strerror(size);
    else if (size != F_SIZE)
        why = "wrong size";
    else if (hal_fs_read(BH_WLAN_FILE, 0, img, F_SIZE) != F_SIZE)
        why = "read failed";
    else
        why = deserialize(img, &W.s);
    if (why) {
        char m[96];
        snprintf(m, sizeof m, "%s ignored (%s): using the factory Wi-Fi settings", BH_WLAN_FILE,
                 why);
        hal_report("wifi", BH_WLAN_FILE, BH_ERR_PROTO, m);
        factory(&W.s);
    } else if (size == F_SIZE) {
        memcpy(W.image, img, F_SIZE);
        W.image_valid = true;
    } else {
        /* no file is the factory state: write one only once something changes */
        serialize(&W.s, W.image);
        W.image_valid = true;
    }

    int rc = apply_ap();
    if (rc == BH_ERR_UNSUPPORTED && W.s.ap_active) {
        /* a board without an access point (a cable standing in for Wi-Fi): the factory AP
         * cannot be on, so `ap.active()` must not read True */
        W.s.ap_active = false;
        rc = BH_OK;
    }
    int rc2 = hal_radio_sta_active(W.s.sta_active);
    if (rc == 0)
        rc = rc2;
    if (W.s.sta_active && W.s.sta_ssid[0]) {
        rc2 = join();   /* the SDK's auto-connect */
        if (rc == 0)
            rc = rc2;
    }
    if (rc < 0)
        return fail(rc, "OSError", "Cannot update i/f status");
    return BH_OK;
}

static int check_ifc(int ifc)
{
    if (!W.inited)
        wlan_init();
    if (ifc != WLAN_STA && ifc != WLAN_AP)
        return fail(BH_ERR_ARG, "ValueError", "");
    return BH_OK;
}

static int require_if(int ifc, int want)
{
    if (ifc != want)
        return fail(BH_ERR_STATE, "OSError", want == WLAN_STA ? "STA required" : "AP required");
    return BH_OK;
}

/* ---- the WLAN methods -------------------------------------------------------------------- */

int wlan_active(int ifc)
{
    int rc = check_ifc(ifc);
    if (rc < 0)
        return rc;
    return ifc == WLAN_STA ? W.s.sta_active : W.s.ap_active;
}

int wlan_set_active(int ifc, bool on)
{
    int rc = check_ifc(ifc);
    if (rc < 0)
        return rc;
    if (ifc == WLAN_STA) {
        if (W.s.sta_active != on) {
            rc = hal_radio_sta_active(on);
            if (rc < 0)
                return fail(rc, "OSError", "Cannot update i/f status");
            W.s.sta_active = on;
            if (on && W.s.sta_ssid[0])
                join();   /* the SDK reconnects with the saved settings when STA mode returns */
        }
    } else if (W.s.ap_active != on) {
        W.s.ap_active = on;
        rc = apply_ap();
        if (rc < 0) {
            W.s.ap_active = !on;
            return fail(rc, "OSError", "Cannot update i/f status");
        }
    }
    return persist();
}

int wlan_scan(int ifc, hal_ap_info *out, int max)
{
    int rc = check_ifc(ifc);
    if (rc < 0 || (rc = require_if(ifc, WLAN_STA)) < 0)
        return rc;
    if (!W.s.sta_active)
        return fail(BH_ERR_STATE, "OSError", "STA must be active");
    int n = hal_radio_scan(out, max);
    if (n < 0)
        return fail(n, "OSError", "scan failed");
    return n;
}

int wlan_connect(int ifc, const char *ssid, const char *key, const uint8_t *bssid)
{
    int rc = check_ifc(ifc);
    if (rc < 0 || (rc = require_if(ifc, WLAN_STA)) < 0)
        return rc;
    if (ssid || key || bssid) {
        /* the SDK refuses station settings while the station is off */
        if (!W.s.sta_active)
            return fail(BH_ERR_STATE, "OSError", "Cannot set STA config");
        memset(W.s.sta_ssid, 0, sizeof W.s.sta_ssid);
        memset(W.s.sta_password, 0, sizeof W.s.sta_password);
        memset(W.s.sta_bssid, 0, sizeof W.s.sta_bssid);
        if (ssid)
            memcpy(W.s.sta_ssid, ssid, bounded_len(ssid, SSID_MAX));
        if (key)
            memcpy(W.s.sta_password, key, bounded_len(key, STA_PW_MAX));
        W.s.sta_bssid_set = bssid != NULL;
        if (bssid)
            memcpy(W.s.sta_bssid, bssid, 6);
    }
    if (!W.s.sta_active)
        return fail(BH_ERR_STATE, "OSError", "Cannot connect to AP");
    rc = join();
    if (rc < 0)
        return fail(rc, "OSError", "Cannot connect to AP");
    return persist();
}

int wlan_disconnect(int ifc)
{
    int rc = check_ifc(ifc);
    if (rc < 0 || (rc = require_if(ifc, WLAN_STA)) < 0)
        return rc;
    if (!W.s.sta_active)
        return fail(BH_ERR_STATE, "OSError", "Cannot disconnect from AP");
    rc = hal_radio_leave();
    if (rc < 0)
        return fail(rc, "OSError", "Cannot disconnect from AP");
    return BH_OK;
}

/* DHCP hands lwIP a DNS server when a lease is bound; it then serves both interfaces until
 * ifconfig() or the next lease changes it. */
static void refresh_dns(void)
{
    hal_ipcfg lease;
    if (W.s.sta_active && !W.sta_static && hal_radio_ipcfg(&lease) == BH_OK) {
        if (!W.lease_seen && lease.dns)
            W.dns = lease.dns;
        W.lease_seen = true;
    } else {
        W.lease_seen = false;
    }
}

int wlan_status(int ifc)
{
    int rc = check_ifc(ifc);
    if (rc < 0)
        return rc;
    if (ifc == WLAN_AP)
        return -1;
    if (!W.s.sta_active)
        return WLAN_STATUS_INACTIVE;
    refresh_dns();
    return (int)hal_radio_link();
}

int wlan_status_param(int ifc, const char *param, int *out)
{
    int rc = check_ifc(ifc);
    if (rc < 0)
        return rc;
    if (ifc == WLAN_STA && param && strcmp(param, "rssi") == 0) {
        uint8_t bssid[6], ch;
        int8_t rssi;
        *out = W.s.sta_active && hal_radio_assoc(bssid, &ch, &rssi) == BH_OK ? rssi
                                                                             : WLAN_RSSI_INVALID;
        return BH_OK;
    }
    return fail(BH_ERR_ARG, "ValueError", "unknown status param");
}

int wlan_isconnected(int ifc)
{
    int rc = check_ifc(ifc);
    if (rc < 0)
        return rc;
    if (ifc == WLAN_STA) {
        refresh_dns();
        return W.s.sta_active && hal_radio_link() == HAL_LINK_GOT_IP;
    }
    return W.s.ap_active && hal_radio_ap_stations() > 0;
}

int wlan_ifconfig(int ifc, hal_ipcfg *out)
{
    int rc = check_ifc(ifc);
    if (rc < 0)
        return rc;
    refresh_dns();
    memset(out, 0, sizeof *out);
    /* an interface that is down has no address */
    if (ifc == WLAN_AP) {
        if (W.s.ap_active)
            *out = W.ap_ip;
    } else if (W.s.sta_active && W.sta_static) {
        *out = W.sta_ip;
    } else if (!W.s.sta_active || hal_radio_ipcfg(out) != BH_OK) {
        memset(out, 0, sizeof *out);
    }
    out->dns = W.dns;
    return BH_OK;
}

int wlan_set_ifconfig(int ifc, const hal_ipcfg *cfg)
{
    int rc = check_ifc(ifc);
    if (rc < 0)
        return rc;
    hal_ipcfg c = *cfg;
    c.lease_s = 0;
    if (ifc == WLAN_AP) {
        W.ap_ip = c;
    } else {
        W.sta_static = true;
        W.sta_ip = c;
        if (wlan_isconnected(WLAN_STA) == 1 && hal_radio_set_ipcfg(&c) < 0)
            return fail(BH_ERR_IO, "OSError", "wifi_set_ip_info() failed");
    }
    W.dns = c.dns;
    return BH_OK;
}

int wlan_ifconfig_dhcp(int ifc)
{
    int rc = check_ifc(ifc);
    if (rc < 0 || (rc = require_if(ifc, WLAN_STA)) < 0)
        return rc;
    bool was_static = W.sta_static;
    W.sta_static = false;
    /* the HAL has no "restart the DHCP client": joining again gets a lease */
    if (was_static && W.s.sta_active && hal_radio_link() == HAL_LINK_GOT_IP)
        join();
    return BH_OK;
}

/* ---- config() ---------------------------------------------------------------------------- */

enum { K_MAC, K_ESSID, K_HIDDEN, K_AUTHMODE, K_PASSWORD, K_CHANNEL, K_HOSTNAME, K_UNKNOWN };

static int config_key(const char *key)
{
    static const struct { const char *name; int k; } names[] = {
        {"mac", K_MAC}, {"essid", K_ESSID}, {"ssid", K_ESSID}, {"hidden", K_HIDDEN},
        {"authmode", K_AUTHMODE}, {"security", K_AUTHMODE}, {"password", K_PASSWORD},
        {"key", K_PASSWORD}, {"channel", K_CHANNEL}, {"dhcp_hostname", K_HOSTNAME},
        {"hostname", K_HOSTNAME},
    };
    for (size_t i = 0; key && i < sizeof names / sizeof names[0]; i++)
        if (strcmp(key, names[i].name) == 0)
            return names[i].k;
    return K_UNKNOWN;
}

static const char *type_name(wlan_vtype t)
{
    switch (t) {
    case WLAN_V_INT: return "int";
    case WLAN_V_BOOL: return "bool";
    case WLAN_V_STR: return "str";
    default: return "bytes";
    }
}

/* mp_obj_str_get_data(): str or bytes */
static int arg_str(const wlan_value *v, const char **s, size_t *len)
{
    if (v->type != WLAN_V_STR && v->type != WLAN_V_BYTES) {
        char m[64];
        snprintf(m, sizeof m, "can't convert '%s' object to str implicitly", type_name(v->type));
        return fail(BH_ERR_ARG, "TypeError", m);
    }
    *s = v->s ? v->s : "";
    *len = v->s ? v->len : 0;
    return BH_OK;
}

/* mp_obj_get_int(): int or bool */
static int arg_int(const wlan_value *v, int32_t *out)
{
    if (v->type != WLAN_V_INT && v->type != WLAN_V_BOOL) {
        char m[64];
        snprintf(m, sizeof m, "can't convert %s to int", type_name(v->type));
        return fail(BH_ERR_ARG, "TypeError", m);
    }
    *out = v->i;
    return BH_OK;
}

static bool arg_true(const wlan_value *v)
{
    return (v->type == WLAN_V_INT || v->type == WLAN_V_BOOL) ? v->i != 0 : v->len != 0;
}

int wlan_config_set(int ifc, const wlan_kw *kw, size_t n)
{
    int rc = check_ifc(ifc);
    if (rc < 0)
        return rc;
    if (n == 0)   /* config() with nothing is a query without a key */
        return fail(BH_ERR_ARG, "TypeError", "can query only one param");
    wlan_saved s = W.s;
    char hostname[HOSTNAME_MAX + 1];
    bool set_hostname = false, set_mac = false;
    int req_if = -1;
    for (size_t i = 0; i < n; i++) {
        const wlan_value *v = &kw[i].val;
        const char *str;
        size_t len;
        int32_t num;
        switch (config_key(kw[i].key)) {
        case K_MAC:
            if (v->type != WLAN_V_STR && v->type != WLAN_V_BYTES)
                return fail(BH_ERR_ARG, "TypeError", "object with buffer protocol required");
            if (v->len != 6)
                return fail(BH_ERR_ARG, "ValueError", "invalid buffer length");
            set_mac = true;
            break;
        case K_ESSID:
            req_if = WLAN_AP;
            if ((rc = arg_str(v, &str, &len)) < 0)
                return rc;
            memset(s.ap_ssid, 0, sizeof s.ap_ssid);
            memcpy(s.ap_ssid, str, len < SSID_MAX ? len : SSID_MAX);
            break;
        case K_HIDDEN:
            req_if = WLAN_AP;
            s.ap_hidden = arg_true(v);
            break;
        case K_AUTHMODE:
            req_if = WLAN_AP;
            if ((rc = arg_int(v, &num)) < 0)
                return rc;
            s.ap_authmode = (uint8_t)num;
            if (num < 0 || num > 255)
                s.ap_authmode = 0xFF;   /* rejected below, as the SDK does */
            break;
        case K_PASSWORD:
            req_if = WLAN_AP;
            if ((rc = arg_str(v, &str, &len)) < 0)
                return rc;
            memset(s.ap_password, 0, sizeof s.ap_password);
            memcpy(s.ap_password, str, len < AP_PW_MAX ? len : AP_PW_MAX);
            break;
        case K_CHANNEL:
            req_if = WLAN_AP;
            if ((rc = arg_int(v, &num)) < 0)
                return rc;
            s.ap_channel = num >= 0 && num <= 255 ? (uint8_t)num : 0;
            break;
        case K_HOSTNAME:
            req_if = WLAN_STA;
            if ((rc = arg_str(v, &str, &len)) < 0)
                return rc;
            if (len > HOSTNAME_MAX || memchr(str, 0, len))
                return fail(BH_ERR_ARG, "ValueError", "");
            memcpy(hostname, str, len);
            hostname[len] = 0;
            set_hostname = true;
            break;
        default:
            return fail(BH_ERR_ARG, "ValueError", "unknown config param");
        }
    }
    /* as MicroPython: the interface is checked after all keys, against the last key's need */
    if (req_if >= 0 && (rc = require_if(ifc, req_if)) < 0)
        return rc;
    if (set_hostname && ifc == WLAN_STA)
        memcpy(W.hostname, hostname, sizeof hostname);
    if (set_mac)
        return fail(BH_ERR_UNSUPPORTED, "OSError", "this board cannot change its MAC address");
    if (ifc == WLAN_STA) {
        if (!W.s.sta_active)
            return fail(BH_ERR_STATE, "OSError", "can't set STA config");
        return BH_OK;
    }
    /* the SDK's wifi_softap_set_config() refuses these */
    size_t pwlen = strlen(s.ap_password);
    if (!W.s.ap_active)
        return fail(BH_ERR_STATE, "OSError", "can't set AP config");
    if (s.ap_authmode == HAL_AUTH_WEP || s.ap_authmode > HAL_AUTH_WPA_WPA2_PSK ||
        s.ap_channel < 1 || s.ap_channel > 13 || s.ap_ssid[0] == 0 ||
        (s.ap_authmode != HAL_AUTH_OPEN && pwlen < 8))
        return fail(BH_ERR_ARG, "OSError", "can't set AP config");
    wlan_saved old = W.s;
    W.s = s;
    rc = apply_ap();
    if (rc < 0) {
        W.s = old;
        return fail(rc, "OSError", "can't set AP config");
    }
    return persist();
}

int wlan_config_get(int ifc, const char *key, wlan_value *out)
{
    int rc = check_ifc(ifc);
    if (rc < 0)
        return rc;
    int req_if = -1;
    memset(out, 0, sizeof *out);
    switch (config_key(key)) {
    case K_MAC:
        wlan_mac(ifc, W.macval);
        out->type = WLAN_V_BYTES;
        out->s = (const char *)W.macval;
        out->len = 6;
        return BH_OK;
    case K_ESSID:
        snprintf(W.strval, sizeof W.strval, "%s", ifc == WLAN_STA ? W.s.sta_ssid : W.s.ap_ssid);
        out->type = WLAN_V_STR;
        out->s = W.strval;
        out->len = strlen(W.strval);
        break;
    case K_HIDDEN:
        req_if = WLAN_AP;
        out->type = WLAN_V_BOOL;
        out->i = W.s.ap_hidden;
        break;
    case K_AUTHMODE:
        req_if = WLAN_AP;
        out->type = WLAN_V_INT;
        out->i = W.s.ap_authmode;
        break;
    case K_CHANNEL:
        req_if = WLAN_AP;
        out->type = WLAN_V_INT;
        out->i = W.s.ap_channel;
        break;
    case K_HOSTNAME:
        req_if = WLAN_STA;
        snprintf(W.strval, sizeof W.strval, "%s", W.hostname);
        out->type = WLAN_V_STR;
        out->s = W.strval;
        out->len = strlen(W.strval);
        break;
    default:   /* including the password: MicroPython has no way to read it */
        return fail(BH_ERR_ARG, "ValueError", "unknown config param");
    }
    if (req_if >= 0 && (rc = require_if(ifc, req_if)) < 0) {
        memset(out, 0, sizeof *out);
        return rc;
    }
    return BH_OK;
}

/* ---- addresses and reprs ----------------------------------------------------------------- */

int wlan_parse_ip(const char *s, size_t len, uint32_t *ip)
{
    uint32_t addr = 0;
    size_t i = 0;
    if (len == 0) {
        *ip = 0;
        return BH_OK;
    }
    for (int part = 0; part < 4; part++) {
        uint32_t val = 0;
        size_t digits = 0;
        while (i < len && s[i] >= '0' && s[i] <= '9' && digits < 4) {
            val = val * 10 + (uint32_t)(s[i++] - '0');
            digits++;
        }
        if (digits == 0 || val > 255 || (part < 3 && (i >= len || s[i++] != '.')))
            return fail(BH_ERR_ARG, "ValueError", "invalid arguments");
        addr = addr << 8 | val;
    }
    if (i != len)
        return fail(BH_ERR_ARG, "ValueError", "invalid arguments");
    *ip = addr;
    return BH_OK;
}

typedef struct {
    char *buf;
    size_t cap, len;
} sbuf;

static void sb_putc(sbuf *b, char c)
{
    if (b->len + 1 < b->cap)
        b->buf[b->len] = c;
    b->len++;
}

static void sb_puts(sbuf *b, const char *s)
{
    while (*s)
        sb_putc(b, *s++);
}

static void sb_int(sbuf *b, long v)
{
    char t[24];
    snprintf(t, sizeof t, "%ld", v);
    sb_puts(b, t);
}

static size_t sb_end(sbuf *b)
{
    if (b->cap)
        b->buf[b->len < b->cap ? b->len : b->cap - 1] = 0;
    return b->len;
}

/* MicroPython's mp_str_print_quoted(): ' unless the text has a ' and no ", then ". */
static void sb_quoted(sbuf *b, const uint8_t *s, size_t len, bool is_bytes)
{
    bool has_single = false, has_double = false;
    for (size_t i = 0; i < len && !has_double; i++) {
        if (s[i] == '\'')
            has_single = true;
        else if (s[i] == '"')
            has_double = true;
    }
    char q = has_single && !has_double ? '"' : '\'';
    if (is_bytes)
        sb_putc(b, 'b');
    sb_putc(b, q);
    for (size_t i = 0; i < len; i++) {
        uint8_t c = s[i];
        if (c == (uint8_t)q) {
            sb_putc(b, '\\');
            sb_putc(b, q);
        } else if (c == '\\') {
            sb_puts(b, "\\\\");
        } else if (c >= 0x20 && c != 0x7f && (!is_bytes || c < 0x80)) {
            sb_putc(b, (char)c);
        } else if (c == '\n') {
            sb_puts(b, "\\n");
        } else if (c == '\r') {
            sb_puts(b, "\\r");
        } else if (c == '\t') {
            sb_puts(b, "\\t");
        } else {
            static const char hex[] = "0123456789abcdef";
            sb_puts(b, "\\x");
            sb_putc(b, hex[c >> 4]);
            sb_putc(b, hex[c & 15]);
        }
    }
    sb_putc(b, q);
}

static void sb_ip(sbuf *b, uint32_t ip)
{
    for (int i = 3; i >= 0; i--) {
        sb_int(b, (long)((ip >> (8 * i)) & 0xFF));
        if (i)
            sb_putc(b, '.');
    }
}

size_t wlan_fmt_ip(char *buf, size_t cap, uint32_t ip)
{
    sbuf b = {buf, cap, 0};
    sb_ip(&b, ip);
    return sb_end(&b);
}

size_t wlan_repr_str(char *buf, size_t cap, const char *s, size_t len)
{
    sbuf b = {buf, cap, 0};
    sb_quoted(&b, (const uint8_t *)s, len, false);
    return sb_end(&b);
}

size_t wlan_repr_bytes(char *buf, size_t cap, const uint8_t *data, size_t len)
{
    sbuf b = {buf, cap, 0};
    sb_quoted(&b, data, len, true);
    return sb_end(&b);
}

size_t wlan_repr_value(char *buf, size_t cap, const wlan_value *v)
{
    sbuf b = {buf, cap, 0};
    switch (v->type) {
    case WLAN_V_INT: sb_int(&b, (long)v->i); break;
    case WLAN_V_BOOL: sb_puts(&b, v->i ? "True" : "False"); break;
    case WLAN_V_STR:
    case WLAN_V_BYTES:
        sb_quoted(&b, (const uint8_t *)(v->s ? v->s : ""), v->s ? v->len : 0,
                  v->type == WLAN_V_BYTES);
        break;
    }
    return sb_end(&b);
}

size_t wlan_repr_ifconfig(char *buf, size_t cap, const hal_ipcfg *c)
{
    sbuf b = {buf, cap, 0};
    const uint32_t a[4] = {c->ip, c->netmask, c->gw, c->dns};
    sb_putc(&b, '(');
    for (int i = 0; i < 4; i++) {
        sb_puts(&b, i ? ", '" : "'");
        sb_ip(&b, a[i]);
        sb_putc(&b, '\'');
    }
    sb_putc(&b, ')');
    return sb_end(&b);
}

static void sb_scan_entry(sbuf *b, const hal_ap_info *ap)
{
    sb_putc(b, '(');
    sb_quoted(b, (const uint8_t *)ap->ssid, bounded_len(ap->ssid, sizeof ap->ssid), true);
    sb_puts(b, ", ");
    sb_quoted(b, ap->bssid, 6, true);
    sb_puts(b, ", ");
    sb_int(b, ap->channel);
    sb_puts(b, ", ");
    sb_int(b, ap->rssi);
    sb_puts(b, ", ");
    sb_int(b, ap->authmode);
    sb_puts(b, ", ");
    sb_int(b, ap->hidden);
    sb_putc(b, ')');
}

size_t wlan_repr_scan_entry(char *buf, size_t cap, const hal_ap_info *ap)
{
    sbuf b = {buf, cap, 0};
    sb_scan_entry(&b, ap);
    return sb_end(&b);
}

size_t wlan_repr_scan(char *buf, size_t cap, const hal_ap_info *aps, int n)
{
    sbuf b = {buf, cap, 0};
    sb_putc(&b, '[');
    for (int i = 0; i < n; i++) {
        if (i)
            sb_puts(&b, ", ");
        sb_scan_entry(&b, &aps[i]);
    }
    sb_putc(&b, ']');
    return sb_end(&b);
}
