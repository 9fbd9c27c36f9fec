/* fuzz_config.c - config.py reader: any bytes must give a clean result and well-formed
 * printable one-line messages, and whatever it accepts must satisfy the documented limits:
 * a file that is not strict UTF-8 (or holds a NUL) is never accepted, every string kept is
 * UTF-8, and WEBHOOK_URL is one the HTTP client's URL parser takes. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"
#include "hal/hal.h"
#include "net/url.h"

/* Well-formed UTF-8 without NUL, by the Unicode Standard's table 3-7 (written apart from
 * config.c's check, so the two test each other). */
static int strict_utf8(const uint8_t *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        uint8_t b = s[i];
        if (b == 0)
            return 0;
        if (b < 0x80) {
            i++;
            continue;
        }
        uint8_t lo = 0x80, hi = 0xBF;
        size_t len;
        if (b >= 0xC2 && b <= 0xDF) len = 2;
        else if (b == 0xE0) { len = 3; lo = 0xA0; }
        else if (b >= 0xE1 && b <= 0xEC) len = 3;
        else if (b == 0xED) { len = 3; hi = 0x9F; }
        else if (b >= 0xEE && b <= 0xEF) len = 3;
        else if (b == 0xF0) { len = 4; lo = 0x90; }
        else if (b >= 0xF1 && b <= 0xF3) len = 4;
        else if (b == 0xF4) { len = 4; hi = 0x8F; }
        else return 0;
        if (i + len > n || s[i + 1] < lo || s[i + 1] > hi)
            return 0;
        for (size_t k = 2; k < len; k++)
            if (s[i + k] < 0x80 || s[i + k] > 0xBF)
                return 0;
        i += len;
    }
    return 1;
}

static void check_msg(void *ctx, int is_error, const char *m)
{
    (void)ctx;
    (void)is_error;
    size_t n = strlen(m);   /* must be NUL-terminated */
    if (n == 0 || n >= BH_PRINT_MAX || strncmp(m, "config.py:", 10) != 0)
        abort();
    for (size_t i = 0; i < n; i++)   /* file bytes never reach the console raw */
        if (m[i] < 0x20 || m[i] > 0x7E)
            abort();
}

static void check_str(const char *s, size_t cap)
{
    if (!memchr(s, 0, cap) || !strict_utf8((const uint8_t *)s, strlen(s)))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bh_config cfg;
    int rc = cfg_parse("config.py", (const char *)data, size, &cfg, check_msg, NULL);
    if (rc != 0 && rc != BH_ERR_ARG)
        abort();
    if (rc == 0 && !strict_utf8(data, size))
        abort();
#define CHECK_S(name, field, req, sz, check) check_str(cfg.field, sz);
#define CHECK_I(name, field, def, lo, hi, check)
    BH_CFG_KEYS(CHECK_S, CHECK_I)
    if (rc == 0) {
        if (!cfg.wifi_ssid[0] || !cfg_has(&cfg, WIFI_SSID) || !cfg_has(&cfg, WIFI_PASSWORD) ||
            !cfg_has(&cfg, WEBHOOK_URL) || !cfg_has(&cfg, BUTTON_ID))
            abort();
        if (!hal_pin_valid(cfg.led_pin) || !hal_pin_valid(cfg.led2_pin) ||
            !hal_pin_valid(cfg.debug_pin) || cfg.debug_pin == 16)
            abort();
        if (cfg.wifi_timeout < 1 || cfg.wifi_timeout > 300 || cfg.http_timeout < 1 ||
            cfg.http_timeout > 300)
            abort();
        url_parts u;
        if (url_parse(cfg.webhook_url, &u, NULL, 0) != 0)
            abort();
    }
    return 0;
}
