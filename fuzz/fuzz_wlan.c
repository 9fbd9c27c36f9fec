/* fuzz_wlan.c - wlan's flash file and address parser: any wlan.cfg content must boot into a
 * sane state (a valid file or the factory one), and any text must parse or fail cleanly. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "net/wlan.h"
#include "testboard.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 1024)
        return 0;
    tb_reset();
    if (hal_fs_write(BH_WLAN_FILE, 0, data, size) != BH_OK)
        return 0;
    if (wlan_init() != BH_OK)
        abort();
    int sta = wlan_active(WLAN_STA), ap = wlan_active(WLAN_AP);
    if ((sta != 0 && sta != 1) || (ap != 0 && ap != 1) || tb_sta_active != sta || tb_ap_active != ap)
        abort();
    wlan_value v;
    char out[160];
    if (wlan_config_get(WLAN_AP, "essid", &v) != BH_OK || v.len > 32)
        abort();
    wlan_repr_value(out, sizeof out, &v);
    if (wlan_config_get(WLAN_AP, "channel", &v) != BH_OK || v.i < 1 || v.i > 13)
        abort();
    if (wlan_config_get(WLAN_STA, "essid", &v) != BH_OK || v.len > 32)
        abort();
    wlan_repr_bytes(out, sizeof out, data, size);   /* truncates, never overflows */

    uint32_t ip;
    if (wlan_parse_ip((const char *)data, size, &ip) == BH_OK && size > 0) {
        char back[16];
        wlan_fmt_ip(back, sizeof back, ip);
        /* a parsed address prints back as digits and dots only */
        if (strspn(back, "0123456789.") != strlen(back))
            abort();
    }
    return 0;
}
