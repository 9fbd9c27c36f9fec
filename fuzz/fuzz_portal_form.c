/* fuzz_portal_form.c - the set-up page's form decoder (portal/form.c) and config.py writer
 * (portal/cfgtext.c) on arbitrary bytes.
 *  - form_get: a value fits its buffer, has no NUL inside, and percent-encoding it again as
 *    the only field gives back the same bytes;
 *  - portal_config_text: the input split at NULs into SSID, password, URL and button id; what
 *    it writes, config.c must read back with the very same values, and when the values are
 *    plain printable ASCII within the settings' limits, with a URL the client takes, it must
 *    read back without an error. */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "app/config.h"
#include "bh_opts.h"
#include "hal/hal.h"
#include "net/url.h"
#include "portal/portal.h"

static const char *const names[] = {"ssid", "pw", "url", "id", "other", "force", "a%", ""};

static void form(const uint8_t *data, size_t size)
{
    static char out[300], enc[3 * 300 + 16], back[300];
    const char *name = names[data[0] % 8];
    size_t cap = 1 + data[0] / 8 % 32 * 10;   /* 1 to 311 bytes: every kind of fit */
    if (cap > sizeof out)
        cap = sizeof out;
    int n = form_get((const char *)data + 1, size - 1, name, out, cap);
    if (n < 0) {
        if (n != BH_ERR_NOENT && n != BH_ERR_PROTO && n != BH_ERR_TOOBIG)
            __builtin_trap();
        return;
    }
    if ((size_t)n >= cap || strlen(out) != (size_t)n)
        __builtin_trap();
    size_t k = (size_t)snprintf(enc, sizeof enc, "%s=", name);
    for (int i = 0; i < n; i++)
        k += (size_t)snprintf(enc + k, sizeof enc - k, "%%%02X", (unsigned char)out[i]);
    if (form_get(enc, k, name, back, sizeof back) != n || memcmp(back, out, (size_t)n))
        __builtin_trap();
}

static bool plain(const char *s, size_t lo, size_t hi)
{
    size_t n = strlen(s);
    for (size_t i = 0; i < n; i++)
        if (s[i] < 0x20 || s[i] > 0x7e)
            return false;
    return n >= lo && n <= hi;
}

static void config(const uint8_t *data, size_t size)
{
    static char in[1024], txt[BH_CFG_FILE_MAX];
    static bh_config cfg;
    if (size >= sizeof in)
        size = sizeof in - 1;
    memcpy(in, data, size);
    in[size] = 0;
    const char *f[4] = {"", "", "", ""};
    char *p = in;
    for (int i = 0; i < 4 && p < in + size + 1; i++) {
        f[i] = p;
        p += strlen(p) + 1;
    }
    portal_settings s = {f[0], f[1], f[2], f[3]};
    int n = portal_config_text(&s, txt, sizeof txt);
    if (n < 0)
        return;
    int rc = cfg_parse("config.py", txt, (size_t)n, &cfg, NULL, NULL);
    if (rc == BH_OK && (strcmp(cfg.wifi_ssid, f[0]) || strcmp(cfg.wifi_password, f[1]) ||
                        strcmp(cfg.webhook_url, f[2]) || strcmp(cfg.button_id, f[3])))
        __builtin_trap();
    url_parts u;
    if (rc != BH_OK && plain(f[0], 1, 32) && plain(f[1], 0, 64) && plain(f[3], 0, BH_CFG_STR_MAX - 1) &&
        plain(f[2], 1, BH_URL_MAX - 1) && url_parse(f[2], &u, NULL, 0) == 0)
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    if (data[0] & 0x80)
        config(data + 1, size - 1);
    else
        form(data, size);
    return 0;
}
