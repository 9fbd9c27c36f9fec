/* json.c - a flat JSON object writer with string escaping, into a capped buffer. */
#include "net/json.h"

#include <stdio.h>
#include <string.h>

#include "hal/hal.h"

static void put(json_writer *w, const char *s, size_t n)
{
    if (w->over || n >= w->cap - w->len) {
        w->over = true;
        return;
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
    w->buf[w->len] = 0;
}

static void put_quoted(json_writer *w, const char *s)
{
    static const char hex[] = "0123456789abcdef";
    put(w, "\"", 1);
    for (; *s && !w->over; s++) {
        unsigned char c = (unsigned char)*s;
        const char *esc = NULL;
        switch (c) {
        case '"': esc = "\\\""; break;
        case '\\': esc = "\\\\"; break;
        case '\n': esc = "\\n"; break;
        case '\r': esc = "\\r"; break;
        case '\t': esc = "\\t"; break;
        case '\b': esc = "\\b"; break;
        case '\f': esc = "\\f"; break;
        default: break;
        }
        if (esc) {
            put(w, esc, 2);
        } else if (c < 0x20 || c == 0x7f) {
            char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            put(w, u, 6);
        } else {
            put(w, (const char *)s, 1);
        }
    }
    put(w, "\"", 1);
}

void json_begin(json_writer *w, char *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->members = 0;
    w->over = buf == NULL || cap == 0;
    put(w, "{", 1);
}

static void key(json_writer *w, const char *k)
{
    if (w->members++)
        put(w, ", ", 2);
    put_quoted(w, k ? k : "");
    put(w, ": ", 2);
}

void json_str(json_writer *w, const char *k, const char *value)
{
    key(w, k);
    if (value)
        put_quoted(w, value);
    else
        put(w, "null", 4);
}

void json_int(json_writer *w, const char *k, long value)
{
    char num[24];
    int n = snprintf(num, sizeof num, "%ld", value);
    key(w, k);
    put(w, num, n > 0 ? (size_t)n : 0);
}

void json_bool(json_writer *w, const char *k, bool value)
{
    key(w, k);
    put(w, value ? "true" : "false", value ? 4 : 5);
}

int json_end(json_writer *w)
{
    put(w, "}", 1);
    if (w->over) {
        if (w->buf && w->cap)
            w->buf[0] = 0;
        return BH_ERR_TOOBIG;
    }
    return (int)w->len;
}

int json_quote(char *out, size_t cap, const char *s)
{
    json_writer w = {out, cap, 0, 0, out == NULL || cap == 0};
    put_quoted(&w, s ? s : "");
    if (w.over) {
        if (out && cap)
            out[0] = 0;
        return BH_ERR_TOOBIG;
    }
    return (int)w.len;
}
