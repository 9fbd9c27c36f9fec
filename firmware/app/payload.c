/* payload.c - the webhook's JSON body (payload.h), and the placeholders' values. */
#include <stdio.h>

#include "app/payload.h"
#include "app/placeholders.h"
#include "app/presses.h"
#include "net/json.h"

int ph_battery_mv(char *out, size_t cap)
{
    uint16_t mv;
    return hal_supply_mv(&mv) == BH_OK ? snprintf(out, cap, "%u", (unsigned)mv) : 0;
}

/* the press being sent, counted from 1 since power-on; from the console (no press), the
 * presses counted so far */
int ph_presses(char *out, size_t cap)
{
    uint32_t n = presses.count ? (presses.seq[0] & PQ_SEQ_MASK) + 1 : presses.next_seq;
    return snprintf(out, cap, "%lu", (unsigned long)n);
}

int ph_rssi(char *out, size_t cap)
{
    uint8_t bssid[6], channel;
    int8_t rssi;
    return hal_radio_assoc(bssid, &channel, &rssi) == BH_OK ? snprintf(out, cap, "%d", rssi) : 0;
}

/* placeholder i's function: a chain of calls, not a table of pointers (the ESP8266 keeps
 * read-only data in its short data RAM) */
static int value(int i, char *out, size_t cap)
{
    int k = 0;
#define PH_CALL(name, fn) if (i == k++) return fn(out, cap);
    BH_PLACEHOLDERS(PH_CALL)
#undef PH_CALL
    return 0;
}

int ph_expand(const char *text, char *out, size_t cap)
{
    char why[8];   /* config.py was checked when read: a malformed text is only refused */
    return ph_scan(text, out, cap, value, why, sizeof why);
}

int payload_json(const bh_config *c, const char **body)
{
    static char buf[PAYLOAD_MAX];
    char v[BH_CFG_STR_MAX + PH_VALUE_MAX];   /* on the stack: the ESP8266's data RAM is short */
    json_writer w;
    json_begin(&w, buf, sizeof buf);
    json_str(&w, "value1", c->button_id);
    *body = buf;
    for (int k = 0; k < 2; k++) {
        if (!(k ? cfg_has(c, VALUE3) : cfg_has(c, VALUE2)))
            continue;
        if (ph_expand(k ? c->value3 : c->value2, v, sizeof v) < 0)
            return buf[0] = 0, BH_ERR_TOOBIG;
        json_str(&w, k ? "value3" : "value2", v);
    }
    return json_end(&w);
}
