/*
 * form.c - application/x-www-form-urlencoded, as a browser sends a form (portal.h): names and
 * values decoded the same way, '+' a space, %XX one byte. A malformed escape is an error, not
 * passed through, so the page can say so instead of saving a password that is not the one
 * typed.
 */
#include <string.h>

#include "hal/hal.h"
#include "portal/portal.h"

static int hexval(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Decodes s[0..n) into out (cap bytes, out may be NULL to only check). Returns the decoded
 * length, or BH_ERR_PROTO / BH_ERR_TOOBIG. */
static int decode(const char *s, size_t n, char *out, size_t cap)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        int c = (unsigned char)s[i];
        if (c == '+') {
            c = ' ';
        } else if (c == '%') {
            if (i + 2 >= n)
                return BH_ERR_PROTO;
            int a = hexval((unsigned char)s[i + 1]), b = hexval((unsigned char)s[i + 2]);
            if (a < 0 || b < 0)
                return BH_ERR_PROTO;
            c = a * 16 + b;
            i += 2;
        }
        if (c == 0)
            return BH_ERR_PROTO;
        if (out) {
            if (k + 1 >= cap)
                return BH_ERR_TOOBIG;
            out[k] = (char)c;
        }
        k++;
    }
    if (out)
        out[k] = 0;
    return (int)k;
}

int form_get(const char *body, size_t len, const char *name, char *out, size_t cap)
{
    if (!out || cap == 0)
        return BH_ERR_ARG;
    out[0] = 0;
    size_t want = strlen(name);
    size_t pos = 0;
    while (pos <= len) {
        const char *amp = memchr(body + pos, '&', len - pos);
        size_t end = amp ? (size_t)(amp - body) : len;
        const char *pair = body + pos;
        size_t pn = end - pos;
        const char *eq = memchr(pair, '=', pn);
        size_t kn = eq ? (size_t)(eq - pair) : pn;
        /* the name decoded into a small buffer: a name longer than any asked for is not it */
        char key[24];
        int kl = decode(pair, kn, key, sizeof key);
        if (kl == BH_ERR_PROTO)
            return BH_ERR_PROTO;
        if (kl >= 0 && (size_t)kl == want && !memcmp(key, name, want)) {
            if (!eq)
                return 0;
            return decode(eq + 1, pn - kn - 1, out, cap);
        }
        if (!amp)
            break;
        pos = end + 1;
    }
    return BH_ERR_NOENT;
}
