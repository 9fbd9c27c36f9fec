/* placeholders.c - the placeholders' syntax (placeholders.h): names only, no values. */
#include "app/placeholders.h"

#include <stdio.h>
#include <string.h>

#include "hal/hal.h"

/* "battery_mv\0presses\0rssi\0": one string, no table of pointers (the ESP8266 keeps
 * read-only data in its short data RAM) */
#define PH_NAME(name, fn) #name "\0"
static const char names[] = BH_PLACEHOLDERS(PH_NAME);
#undef PH_NAME

static int find(const char *name, size_t len)
{
    int i = 0;
    for (const char *p = names; *p; p += strlen(p) + 1, i++)
        if (strlen(p) == len && memcmp(p, name, len) == 0)
            return i;
    return -1;
}

/* "unknown placeholder {x} (known: {battery_mv} {presses} {rssi})" */
static int unknown(const char *name, size_t len, char *why, size_t wcap)
{
    char shown[25];   /* at most 24 bytes of it, printable ASCII: it goes to the console */
    size_t k;
    for (k = 0; k < len && k < sizeof shown - 1; k++)
        shown[k] = (unsigned char)name[k] - 0x20u < 0x5Fu ? name[k] : '?';
    shown[k] = 0;
    int n = snprintf(why, wcap, "unknown placeholder {%s} (known:", shown);
    for (const char *p = names; *p && n > 0 && (size_t)n < wcap; p += strlen(p) + 1)
        n += snprintf(why + n, wcap - (size_t)n, " {%s}", p);
    if (n > 0 && (size_t)n < wcap)
        snprintf(why + n, wcap - (size_t)n, ")");
    return BH_ERR_ARG;
}

int ph_scan(const char *text, char *out, size_t cap, ph_value_fn value, char *why, size_t wcap)
{
    char val[PH_VALUE_MAX];
    size_t n = 0;
    if (out && cap == 0)
        return BH_ERR_TOOBIG;
    for (const char *s = text; *s; s++) {
        const char *piece = s;
        size_t len = 1;
        const char *end = *s == '{' ? strchr(s, '}') : s;
        if ((*s == '{' || *s == '}') && s[1] == *s) {
            s++;   /* "{{" or "}}": the brace itself */
        } else if (*s == '}' || !end) {
            /* one message for both, shorter in the ESP8266's data RAM */
            snprintf(why, wcap, "unmatched '%c' at offset %d (write %c%c for one)", *s,
                     (int)(s - text), *s, *s);
            return BH_ERR_ARG;
        } else if (*s == '{') {
            int i = find(s + 1, (size_t)(end - s - 1));
            if (i < 0)
                return unknown(s + 1, (size_t)(end - s - 1), why, wcap);
            piece = val;
            len = 0;
            if (out && value) {
                int got = value(i, val, sizeof val);
                len = got > 0 && got < (int)sizeof val ? (size_t)got : 0;
            }
            s = end;
        }
        if (out) {
            if (n + len >= cap)
                return BH_ERR_TOOBIG;
            memcpy(out + n, piece, len);
        }
        n += len;
    }
    if (out)
        out[n] = 0;
    return (int)n;
}
