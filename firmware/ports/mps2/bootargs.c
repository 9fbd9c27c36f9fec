/*
 * bootargs.c - the boot parameters of the mps2 board: the words of QEMU's semihosting command
 * line (README.md has the format). Apart from the rest of the board so that it also builds on
 * the host, for its fuzz target (fuzz/fuzz_mps2_bootargs.c).
 */
#include <stdio.h>
#include <string.h>

#include "bootargs.h"

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* A decimal number that fits in 32 bits, the whole of [s, s+n). */
static bool parse_u32(const char *s, size_t n, uint32_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 10)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return false;
        v = v * 10 + (uint64_t)(s[i] - '0');
    }
    if (v > 0xFFFFFFFFu)
        return false;
    *out = (uint32_t)v;
    return true;
}

static bool parse_mac(const char *s, size_t n, uint8_t mac[6])
{
    if (n != 17)
        return false;
    for (int i = 0; i < 6; i++) {
        int hi = hexval(s[i * 3]), lo = hexval(s[i * 3 + 1]);
        if (hi < 0 || lo < 0 || (i < 5 && s[i * 3 + 2] != ':'))
            return false;
        mac[i] = (uint8_t)(hi << 4 | lo);
    }
    return (mac[0] & 1) == 0;   /* a station address is unicast */
}

/* "A.B.C.D:PORT", each part in range */
static bool parse_ip_port(const char *v, size_t n, uint32_t *ip, uint16_t *port)
{
    uint32_t x = 0, u;
    for (int part = 0; part < 5; part++) {
        size_t k = 0;
        while (k < n && v[k] != (part < 3 ? '.' : ':'))
            k++;
        if (part == 4 ? k != n : k >= n)
            return false;
        if (!parse_u32(v, k, &u) || u > (part < 4 ? 255u : 65535u) || (part == 4 && !u))
            return false;
        if (part < 4)
            x = x << 8 | u;
        else
            *port = (uint16_t)u;
        v += k + (part < 4);
        n -= k + (part < 4);
    }
    *ip = x;
    return true;
}

int mps2_parse_cmdline(const char *line, mps2_boot *b, char *err, size_t errcap)
{
    const char *p = line;
    bool first = true;
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        const char *w = p;
        while (*p && *p != ' ')
            p++;
        size_t n = (size_t)(p - w);
        const char *eq = memchr(w, '=', n);
        if (!eq) {
            if (first) {   /* the program's name, as argv[0] */
                first = false;
                continue;
            }
            snprintf(err, errcap, "'%.*s' is not key=value", (int)n, w);
            return -1;
        }
        first = false;
        size_t kn = (size_t)(eq - w), vn = n - kn - 1;
        const char *v = eq + 1;
        uint32_t u;
        bool ok;
        if (kn == 5 && memcmp(w, "cause", 5) == 0) {
            ok = parse_u32(v, vn, &u) && u <= HAL_RESET_HARD;
            if (ok)
                b->cause = (hal_reset_cause_t)u;
        } else if (kn == 8 && memcmp(w, "slept_ms", 8) == 0) {
            ok = parse_u32(v, vn, &b->slept_ms);
            b->slept_known = ok;
        } else if (kn == 6 && memcmp(w, "jumper", 6) == 0) {
            ok = vn == 1 && (v[0] == '0' || v[0] == '1');
            b->jumper = ok && v[0] == '1';
        } else if (kn == 3 && memcmp(w, "mac", 3) == 0) {
            ok = parse_mac(v, vn, b->mac);
            b->mac_set = ok;
        } else if (kn == 4 && memcmp(w, "seed", 4) == 0) {
            ok = vn > 0 && vn % 2 == 0 && vn / 2 <= sizeof b->seed;
            for (size_t i = 0; ok && i < vn / 2; i++) {
                int hi = hexval(v[2 * i]), lo = hexval(v[2 * i + 1]);
                ok = hi >= 0 && lo >= 0;
                if (ok)
                    b->seed[i] = (uint8_t)(hi << 4 | lo);
            }
            b->seed_len = ok ? vn / 2 : 0;
        } else if (kn == 4 && memcmp(w, "hold", 4) == 0) {
            const char *colon = memchr(v, ':', vn);
            ok = colon && parse_u32(v, (size_t)(colon - v), &b->hold_gpio) &&
                 hal_pin_valid((int)b->hold_gpio) &&
                 parse_u32(colon + 1, vn - (size_t)(colon - v) - 1, &b->hold_ms);
        } else if (kn == 3 && memcmp(w, "wdt", 3) == 0) {
            ok = parse_u32(v, vn, &b->wdt_ms);
        } else if (kn == 3 && memcmp(w, "dns", 3) == 0) {
            ok = parse_ip_port(v, vn, &b->dns_ip, &b->dns_port);
        } else {
            snprintf(err, errcap, "unknown boot parameter '%.*s'", (int)kn, w);
            return -1;
        }
        if (!ok) {
            snprintf(err, errcap, "bad value in '%.*s'", (int)n, w);
            return -1;
        }
    }
    return 0;
}
