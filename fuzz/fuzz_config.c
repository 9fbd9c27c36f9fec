/* fuzz_config.c - config.py reader: any bytes must give a clean result and well-formed
 * printable one-line messages, and whatever it accepts must satisfy the documented limits. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/config.h"
#include "hal/hal.h"

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
    if (!memchr(s, 0, cap))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static bh_config cfg;
    int rc = cfg_parse("config.py", (const char *)data, size, &cfg, check_msg, NULL);
    if (rc != 0 && rc != BH_ERR_ARG)
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
        if (strncmp(cfg.webhook_url, "http://", 7) != 0 && strncmp(cfg.webhook_url, "https://", 8) != 0)
            abort();
    }
    return 0;
}
