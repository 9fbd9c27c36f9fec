/* world.c - the radio world file: access points, DHCP, host names, CA bundle, faults.
 * Format: docs/simulated-board.md. Strict: a typo in a world file must not silently give a
 * different world, so unknown keys and wrong types are errors that name the key. */
#define _POSIX_C_SOURCE 200809L
#include <arpa/inet.h>
#include <jansson.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sim.h"

#define DEFAULT_CA_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static int bad(char *err, size_t cap, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int bad(char *err, size_t cap, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, cap, fmt, ap);
    va_end(ap);
    return -1;
}

static int parse_ip(const char *s, uint32_t *out)
{
    struct in_addr a;
    if (inet_pton(AF_INET, s, &a) != 1)
        return -1;
    *out = ntohl(a.s_addr);
    return 0;
}

static int parse_mac(const char *s, uint8_t mac[6])
{
    unsigned b[6];
    char tail;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5],
               &tail) != 6)
        return -1;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)b[i];
    return 0;
}

static void add_ap(sim_world *w, const char *ssid, const char *bssid, int ch, int rssi,
                   int auth, const char *pw, bool hidden)
{
    sim_ap *a = &w->aps[w->naps++];
    memset(a, 0, sizeof *a);
    snprintf(a->ssid, sizeof a->ssid, "%s", ssid);
    snprintf(a->password, sizeof a->password, "%s", pw);
    parse_mac(bssid, a->bssid);
    a->channel = (uint8_t)ch;
    a->rssi = (int8_t)rssi;
    a->auth = (uint8_t)auth;
    a->hidden = hidden;
}

uint8_t sim_ap_channel(const sim_ap *a)
{
    return a->move_boot && sim_sh->boot >= a->move_boot ? a->move_channel : a->channel;
}

/* The same world as examples/world.json, so the example config.py works without --world. */
void sim_world_default(sim_world *w)
{
    memset(w, 0, sizeof *w);
    add_ap(w, "home-net", "a0:40:a0:91:7d:ac", 3, -58, HAL_AUTH_WPA2_PSK, "correct horse", false);
    add_ap(w, "test-net", "70:50:af:c9:90:d2", 11, -73, HAL_AUTH_WPA2_PSK, "not yours", false);
    add_ap(w, "hidden-net", "1c:5f:2b:8d:de:34", 1, -85, HAL_AUTH_WPA_WPA2_PSK, "hidden one", true);
    w->net = 0xC0A80000;       /* 192.168.0.0/24 */
    w->netmask = 0xFFFFFF00;
    w->gateway = 0xC0A80001;
    w->dns = 0xC0A80001;
    w->lease_s = 7200;
    w->dns_ttl_s = 300;
    snprintf(w->ca_bundle, sizeof w->ca_bundle, "%s", DEFAULT_CA_BUNDLE);
    w->wdt_ms = 8000;          /* the ESP8266's hardware watchdog bites after about 8 s */
    w->button_gpio = -1;
    w->flash_bytes = 3u * 1024 * 1024;   /* MicroPython's file system on a 4 MB NodeMCU */
    w->listen_host = 0x7F000001;
    w->scan_ms = 120;
    w->assoc_ms = 80;
    w->dhcp_ms = 100;
    snprintf(w->source, sizeof w->source, "built-in");
}

static const char *const auth_names[] = {"OPEN", "WEP", "WPA_PSK", "WPA2_PSK", "WPA_WPA2_PSK"};

static int get_auth(json_t *v, int *out)
{
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) <= 4) {
        *out = (int)json_integer_value(v);
        return 0;
    }
    if (json_is_string(v))
        for (int i = 0; i < 5; i++)
            if (strcasecmp(json_string_value(v), auth_names[i]) == 0) {
                *out = i;
                return 0;
            }
    return -1;
}

/* A fault is true/false, or a number of boots (counted from power-on) it affects. */
static int get_count(json_t *v, int *out)
{
    if (json_is_boolean(v)) {
        *out = json_is_true(v) ? -1 : 0;
        return 0;
    }
    if (json_is_integer(v) && json_integer_value(v) >= 0 && json_integer_value(v) < 1000000) {
        *out = (int)json_integer_value(v);
        return 0;
    }
    return -1;
}

static int load_aps(sim_world *w, json_t *aps, char *err, size_t cap)
{
    if (!json_is_array(aps))
        return bad(err, cap, "\"aps\" must be a list");
    w->naps = 0;
    size_t i;
    json_t *ap;
    json_array_foreach(aps, i, ap) {
        if (w->naps >= SIM_MAX_APS)
            return bad(err, cap, "aps: at most %d access points", SIM_MAX_APS);
        if (!json_is_object(ap))
            return bad(err, cap, "aps[%zu]: must be an object", i);
        sim_ap *a = &w->aps[w->naps];
        memset(a, 0, sizeof *a);
        a->channel = 6;
        a->rssi = -60;
        a->auth = HAL_AUTH_WPA2_PSK;
        bool have_bssid = false;
        const char *key;
        json_t *v;
        json_object_foreach(ap, key, v) {
            if (strcmp(key, "ssid") == 0) {
                if (!json_is_string(v) || json_string_length(v) > 32)
                    return bad(err, cap, "aps[%zu].ssid: a string of at most 32 bytes", i);
                memcpy(a->ssid, json_string_value(v), json_string_length(v));
            } else if (strcmp(key, "password") == 0) {
                if (!json_is_string(v) || json_string_length(v) > 64)
                    return bad(err, cap, "aps[%zu].password: a string of at most 64 bytes", i);
                memcpy(a->password, json_string_value(v), json_string_length(v));
            } else if (strcmp(key, "bssid") == 0) {
                if (!json_is_string(v) || parse_mac(json_string_value(v), a->bssid) < 0)
                    return bad(err, cap, "aps[%zu].bssid: expected \"xx:xx:xx:xx:xx:xx\"", i);
                have_bssid = true;
            } else if (strcmp(key, "channel") == 0) {
                if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 14)
                    return bad(err, cap, "aps[%zu].channel: 1 to 14", i);
                a->channel = (uint8_t)json_integer_value(v);
            } else if (strcmp(key, "rssi") == 0) {
                if (!json_is_integer(v) || json_integer_value(v) < -127 || json_integer_value(v) > 0)
                    return bad(err, cap, "aps[%zu].rssi: dBm, -127 to 0", i);
                a->rssi = (int8_t)json_integer_value(v);
            } else if (strcmp(key, "auth") == 0) {
                int au;
                if (get_auth(v, &au) < 0)
                    return bad(err, cap, "aps[%zu].auth: OPEN, WEP, WPA_PSK, WPA2_PSK, "
                               "WPA_WPA2_PSK or 0 to 4", i);
                a->auth = (uint8_t)au;
            } else if (strcmp(key, "channel_after_boot") == 0) {
                json_t *b = json_object_get(v, "boot"), *c = json_object_get(v, "channel");
                if (!json_is_object(v) || json_object_size(v) != 2 || !json_is_integer(b) ||
                    json_integer_value(b) < 1 || !json_is_integer(c) ||
                    json_integer_value(c) < 1 || json_integer_value(c) > 14)
                    return bad(err, cap, "aps[%zu].channel_after_boot: {\"boot\": N >= 1, "
                               "\"channel\": 1 to 14}", i);
                a->move_boot = (uint32_t)json_integer_value(b);
                a->move_channel = (uint8_t)json_integer_value(c);
            } else if (strcmp(key, "hidden") == 0) {
                if (!json_is_boolean(v) && !json_is_integer(v))
                    return bad(err, cap, "aps[%zu].hidden: true or false", i);
                a->hidden = json_is_true(v) || (json_is_integer(v) && json_integer_value(v));
            } else {
                return bad(err, cap, "aps[%zu]: unknown key \"%s\"", i, key);
            }
        }
        if (!have_bssid) {
            /* a stable made-up BSSID, so scans look the same on every run */
            uint32_t h = 2166136261u;
            for (const char *p = a->ssid; *p; p++)
                h = (h ^ (uint8_t)*p) * 16777619u;
            uint8_t b[6] = {0x02, 0x1a, (uint8_t)(h >> 24), (uint8_t)(h >> 16),
                            (uint8_t)(h >> 8), (uint8_t)(h + (uint32_t)i)};
            memcpy(a->bssid, b, 6);
        }
        w->naps++;
    }
    return 0;
}

static int load_dhcp(sim_world *w, json_t *d, char *err, size_t cap)
{
    if (!json_is_object(d))
        return bad(err, cap, "\"dhcp\" must be an object");
    const char *key;
    json_t *v;
    json_object_foreach(d, key, v) {
        if (strcmp(key, "lease_s") == 0) {
            /* a router hands out an hour or a day; shorter ones are for testing expiry */
            if (!json_is_integer(v) || json_integer_value(v) < 1 ||
                json_integer_value(v) > 0x7fffffff)
                return bad(err, cap, "dhcp.lease_s: seconds, at least 1");
            w->lease_s = (uint32_t)json_integer_value(v);
            continue;
        }
        if (!json_is_string(v))
            return bad(err, cap, "dhcp.%s: must be a string", key);
        const char *s = json_string_value(v);
        if (strcmp(key, "network") == 0) {
            char ip[32];
            unsigned bits;
            const char *slash = strchr(s, '/');
            if (!slash || (size_t)(slash - s) >= sizeof ip || sscanf(slash + 1, "%u", &bits) != 1 ||
                bits < 8 || bits > 30)
                return bad(err, cap, "dhcp.network: expected \"a.b.c.d/8..30\"");
            memcpy(ip, s, (size_t)(slash - s));
            ip[slash - s] = 0;
            if (parse_ip(ip, &w->net) < 0)
                return bad(err, cap, "dhcp.network: bad address \"%s\"", ip);
            w->netmask = 0xFFFFFFFFu << (32 - bits);
            w->net &= w->netmask;
        } else if (strcmp(key, "gateway") == 0 || strcmp(key, "dns") == 0) {
            uint32_t a;
            if (parse_ip(s, &a) < 0)
                return bad(err, cap, "dhcp.%s: bad address \"%s\"", key, s);
            *(strcmp(key, "dns") == 0 ? &w->dns : &w->gateway) = a;
        } else {
            return bad(err, cap, "dhcp: unknown key \"%s\"", key);
        }
    }
    return 0;
}

static int load_faults(sim_world *w, json_t *f, char *err, size_t cap)
{
    if (!json_is_object(f))
        return bad(err, cap, "\"faults\" must be an object");
    const char *key;
    json_t *v;
    json_object_foreach(f, key, v) {
        bool *flag = strcmp(key, "dns_fail") == 0    ? &w->dns_fail
                     : strcmp(key, "join_fail") == 0 ? &w->join_fail
                     : strcmp(key, "dhcp_fail") == 0 ? &w->dhcp_fail
                     : strcmp(key, "scan_fail") == 0 ? &w->scan_fail
                                                     : NULL;
        int *count = strcmp(key, "firmware_hang") == 0    ? &w->firmware_hang
                     : strcmp(key, "firmware_crash") == 0 ? &w->firmware_crash
                                                          : NULL;
        if (strcmp(key, "tcp_drop_after_boot") == 0) {
            json_t *b = json_object_get(v, "boot"), *n = json_object_get(v, "connects");
            if (!json_is_object(v) || json_object_size(v) != 2 || !json_is_integer(b) ||
                json_integer_value(b) < 1 || !json_is_integer(n) || json_integer_value(n) < 0 ||
                json_integer_value(n) > 1000)
                return bad(err, cap, "faults.%s: {\"boot\": N >= 1, \"connects\": 0 to 1000}",
                           key);
            w->drop_boot = (uint32_t)json_integer_value(b);
            w->drop_connects = (uint32_t)json_integer_value(n);
        } else if (strcmp(key, "rtc_flip_at_boot") == 0) {
            json_t *b = json_object_get(v, "boot"), *o = json_object_get(v, "offset");
            if (!json_is_object(v) || json_object_size(v) != 2 || !json_is_integer(b) ||
                json_integer_value(b) < 1 || !json_is_integer(o) || json_integer_value(o) < 0 ||
                json_integer_value(o) >= HAL_RTC_SIZE)
                return bad(err, cap, "faults.%s: {\"boot\": N >= 1, \"offset\": 0 to %d}", key,
                           HAL_RTC_SIZE - 1);
            w->flip_boot = (uint32_t)json_integer_value(b);
            w->flip_offset = (uint32_t)json_integer_value(o);
        } else if (strcmp(key, "ap_silent_after_boot") == 0) {
            json_t *b = json_object_get(v, "boot"), *m = json_object_get(v, "ms");
            if (!json_is_object(v) || json_object_size(v) != 2 || !json_is_integer(b) ||
                json_integer_value(b) < 1 || !json_is_integer(m) || json_integer_value(m) < 0 ||
                json_integer_value(m) > 600000)
                return bad(err, cap, "faults.%s: {\"boot\": N >= 1, \"ms\": 0 to 600000}", key);
            w->silent_boot = (uint32_t)json_integer_value(b);
            w->silent_ms = (uint32_t)json_integer_value(m);
        } else if (strcmp(key, "host_stall_ms") == 0) {
            if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) > 2000)
                return bad(err, cap, "faults.%s: 0 to 2000 (ms)", key);
            w->host_stall_ms = (uint32_t)json_integer_value(v);
        } else if (flag) {
            if (!json_is_boolean(v))
                return bad(err, cap, "faults.%s: true or false", key);
            *flag = json_is_true(v);
        } else if (count) {
            if (get_count(v, count) < 0)
                return bad(err, cap, "faults.%s: true, false, or how many boots it affects", key);
        } else {
            return bad(err, cap, "faults: unknown fault \"%s\" (known: dns_fail, join_fail, "
                       "dhcp_fail, scan_fail, firmware_hang, firmware_crash, ap_silent_after_boot, tcp_drop_after_boot, "
                       "rtc_flip_at_boot, host_stall_ms)", key);
        }
    }
    return 0;
}

static int get_ms(json_t *v, uint32_t *out, uint32_t lo, uint32_t hi)
{
    if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi)
        return -1;
    *out = (uint32_t)json_integer_value(v);
    return 0;
}

/* "battery": {"mAh": 0.05, "full_mv": 3300, "empty_mv": 2500}: a small capacity drains in a
 * few wakes, for tests */
static int load_battery(sim_world *w, json_t *b, char *err, size_t cap)
{
    const char *k;
    json_t *v;
    if (!json_is_object(b))
        return bad(err, cap, "battery: an object with mAh, full_mv, empty_mv");
    w->battery_full_mv = 3300;
    w->battery_empty_mv = 2500;
    double mAh = 0;
    json_object_foreach(b, k, v) {
        if (strcmp(k, "mAh") == 0 && json_is_number(v) && json_number_value(v) > 0 &&
            json_number_value(v) <= 100000)
            mAh = json_number_value(v);
        else if (strcmp(k, "full_mv") == 0 && get_ms(v, &w->battery_full_mv, 1000, 6000) == 0)
            continue;
        else if (strcmp(k, "empty_mv") == 0 && get_ms(v, &w->battery_empty_mv, 1000, 6000) == 0)
            continue;
        else
            return bad(err, cap, "battery.%s: mAh (above 0, at most 100000), full_mv or empty_mv "
                       "(1000 to 6000)", k);
    }
    if (mAh <= 0)
        return bad(err, cap, "battery: mAh is required (its capacity, above 0)");
    if (w->battery_empty_mv >= w->battery_full_mv)
        return bad(err, cap, "battery: empty_mv must be below full_mv");
    w->battery_mAs = mAh * 3600.0;
    return 0;
}

int sim_world_load(sim_world *w, const char *path, char *err, size_t cap)
{
    sim_world_default(w);
    if (!path)
        return 0;
    json_error_t je;
    json_t *root = json_load_file(path, JSON_REJECT_DUPLICATES, &je);
    if (!root && je.line < 1)
        return bad(err, cap, "%s", je.text);   /* could not open it: jansson names the file */
    if (!root)
        return bad(err, cap, "%s:%d: %s", path, je.line, je.text);
    char why[256] = "";
    int rc = 0;
    if (!json_is_object(root)) {
        rc = bad(why, sizeof why, "must be a JSON object");
        goto out;
    }
    snprintf(w->source, sizeof w->source, "%s", path);
    const char *key;
    json_t *v;
    json_object_foreach(root, key, v) {
        if (strcmp(key, "aps") == 0) {
            rc = load_aps(w, v, why, sizeof why);
        } else if (strcmp(key, "dhcp") == 0) {
            rc = load_dhcp(w, v, why, sizeof why);
        } else if (strcmp(key, "faults") == 0) {
            rc = load_faults(w, v, why, sizeof why);
        } else if (strcmp(key, "hosts") == 0) {
            if (!json_is_object(v)) {
                rc = bad(why, sizeof why, "\"hosts\" must be an object of name: address");
                break;
            }
            const char *name;
            json_t *a;
            w->nhosts = 0;
            json_object_foreach(v, name, a) {
                if (w->nhosts >= SIM_MAX_HOSTS || strlen(name) >= sizeof w->hosts[0].name) {
                    rc = bad(why, sizeof why, "hosts: at most %d names of 127 bytes", SIM_MAX_HOSTS);
                    break;
                }
                sim_host *h = &w->hosts[w->nhosts];
                if (!json_is_string(a) || parse_ip(json_string_value(a), &h->ip) < 0) {
                    rc = bad(why, sizeof why, "hosts.%s: expected an IPv4 address", name);
                    break;
                }
                snprintf(h->name, sizeof h->name, "%s", name);
                w->nhosts++;
            }
        } else if (strcmp(key, "ca_bundle") == 0) {
            if (!json_is_string(v) || json_string_length(v) == 0) {
                rc = bad(why, sizeof why, "ca_bundle: a file path");
                break;
            }
            /* a relative path is relative to the world file, so worlds can ship their CAs */
            const char *p = json_string_value(v);
            const char *slash = strrchr(path, '/');
            if (p[0] == '/' || !slash)
                snprintf(w->ca_bundle, sizeof w->ca_bundle, "%s", p);
            else
                snprintf(w->ca_bundle, sizeof w->ca_bundle, "%.*s/%s", (int)(slash - path),
                         path, p);
        } else if (strcmp(key, "dns_ttl_s") == 0) {
            if (get_ms(v, &w->dns_ttl_s, 0, 604800) < 0)
                rc = bad(why, sizeof why, "dns_ttl_s: seconds, 0 to 604800");
        } else if (strcmp(key, "wdt_ms") == 0) {
            if (get_ms(v, &w->wdt_ms, 500, 600000) < 0)
                rc = bad(why, sizeof why, "wdt_ms: 500 to 600000");
        } else if (strcmp(key, "flash_kb") == 0) {
            uint32_t kb;
            if (get_ms(v, &kb, 4, 16384) < 0)
                rc = bad(why, sizeof why, "flash_kb: 4 to 16384");
            else
                w->flash_bytes = kb * 1024;
        } else if (strcmp(key, "button_gpio") == 0) {
            /* held through a reset, GPIO0, 2 and 15 would choose the chip's boot mode */
            uint32_t g;
            if (get_ms(v, &g, 0, 16) < 0 || !hal_pin_valid((int)g) || g == 0 || g == 2 ||
                g == 15 || g == 16)
                rc = bad(why, sizeof why, "button_gpio: a GPIO with a pull-up that does not "
                         "choose the boot mode: 1, 3, 4, 5, 9, 10, 12, 13, 14");
            else
                w->button_gpio = (int)g;
        } else if (strcmp(key, "ap_stations") == 0) {
            uint32_t n;
            if (get_ms(v, &n, 0, 8) < 0)
                rc = bad(why, sizeof why, "ap_stations: 0 to 8");
            else
                w->ap_stations = (int)n;
        } else if (strcmp(key, "listen_host") == 0) {
            if (!json_is_string(v) || parse_ip(json_string_value(v), &w->listen_host) < 0)
                rc = bad(why, sizeof why, "listen_host: an IPv4 address");
        } else if (strcmp(key, "ports") == 0) {
            if (!json_is_object(v)) {
                rc = bad(why, sizeof why, "ports: an object of \"board port\": host port");
                break;
            }
            const char *bp;
            json_t *hp;
            w->nports = 0;
            json_object_foreach(v, bp, hp) {
                char *end;
                long b = strtol(bp, &end, 10);
                uint32_t h;
                if (*end || b < 1 || b > 65535 || get_ms(hp, &h, 0, 65535) < 0 ||
                    w->nports >= SIM_MAX_PORTS) {
                    rc = bad(why, sizeof why, "ports.%s: a host port 0 to 65535 (0: any free "
                             "one), for a board port 1 to 65535", bp);
                    break;
                }
                w->ports[w->nports].board = (uint16_t)b;
                w->ports[w->nports].host = (uint16_t)h;
                w->nports++;
            }
        } else if (strcmp(key, "battery") == 0) {
            rc = load_battery(w, v, why, sizeof why);
        } else if (strcmp(key, "delays") == 0) {
            if (!json_is_object(v)) {
                rc = bad(why, sizeof why, "delays: an object");
                break;
            }
            const char *dk;
            json_t *dv;
            json_object_foreach(v, dk, dv) {
                uint32_t *d = strcmp(dk, "scan_ms") == 0    ? &w->scan_ms
                              : strcmp(dk, "assoc_ms") == 0 ? &w->assoc_ms
                              : strcmp(dk, "dhcp_ms") == 0  ? &w->dhcp_ms
                                                            : NULL;
                if (!d || get_ms(dv, d, 0, 60000) < 0) {
                    rc = bad(why, sizeof why, "delays.%s: scan_ms, assoc_ms or dhcp_ms, 0 to "
                             "60000", dk);
                    break;
                }
            }
        } else if (key[0] == '_' || strcmp(key, "comment") == 0) {
            /* room for notes in a format without comments */
        } else {
            rc = bad(why, sizeof why, "unknown key \"%s\"", key);
        }
        if (rc < 0)
            break;
    }
out:
    json_decref(root);
    if (rc < 0)
        return bad(err, cap, "%s: %s", path, why);
    return 0;
}
