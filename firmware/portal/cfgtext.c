/*
 * cfgtext.c - config.py as the chapter's reader expects it (portal.h), in the layout of the
 * chapter's own file (examples/config.py): the four settings, then the pins with their
 * NodeMCU names. The portal reads the text back with firmware/app/config.c before writing it.
 */
#include <stdio.h>
#include <string.h>

#include "hal/hal.h"
#include "portal/portal.h"

typedef struct {
    char *buf;
    size_t cap, len;
    bool over;
} out_t;

static void put(out_t *o, const char *s, size_t n)
{
    if (o->over || o->len + n >= o->cap) {
        o->over = true;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

static void puts_(out_t *o, const char *s) { put(o, s, strlen(s)); }

/* NAME = 'value' with Python's escapes: UTF-8 passes as is (config.c checks it) */
static void str_line(out_t *o, const char *name, const char *v)
{
    puts_(o, name);
    puts_(o, " = '");
    for (const unsigned char *p = (const unsigned char *)v; *p; p++) {
        char esc[5];
        if (*p == '\\' || *p == '\'') {
            esc[0] = '\\', esc[1] = (char)*p;
            put(o, esc, 2);
        } else if (*p < 0x20 || *p == 0x7f) {
            snprintf(esc, sizeof esc, "\\x%02x", *p);
            put(o, esc, 4);
        } else {
            put(o, (const char *)p, 1);
        }
    }
    puts_(o, "'\n");
}

int portal_config_text(const portal_settings *s, char *buf, size_t cap)
{
    out_t o = {buf, cap, 0, false};
    puts_(&o, "# written by the set-up page (docs/portal.md); edit freely\n");
    str_line(&o, "WIFI_SSID", s->ssid);
    str_line(&o, "WIFI_PASSWORD", s->password);
    str_line(&o, "WEBHOOK_URL", s->url);
    str_line(&o, "BUTTON_ID", s->button_id);
    puts_(&o, "LED_PIN = 2  # D4\nLED2_PIN = 16  # D0\nDEBUG_PIN = 14  # D5\n");
    if (o.over) {
        if (cap)
            buf[0] = 0;
        return BH_ERR_TOOBIG;
    }
    buf[o.len] = 0;
    return (int)o.len;
}
