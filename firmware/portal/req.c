/*
 * req.c - the set-up page's HTTP request head (portal.h). Only what a browser sends to a
 * page's form: the method, the path, Content-Length and Content-Type. Strict where being lax
 * could mislead the board about where the body starts (two different Content-Lengths, a
 * Transfer-Encoding, folded lines), lenient nowhere else it matters: anything else is a 400.
 */
#include <string.h>

#include "hal/hal.h"
#include "portal/portal.h"

static int lower(int c) { return c >= 'A' && c <= 'Z' ? c + 32 : c; }

/* name (lowercase) equals s[0..n) in any case */
static bool is_name(const char *s, size_t n, const char *name)
{
    size_t i = 0;
    for (; i < n && name[i]; i++)
        if (lower((unsigned char)s[i]) != name[i])
            return false;
    return i == n && !name[i];
}

/* RFC 9110's token characters: header names and methods */
static bool tchar(int c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
           (c && memchr("!#$%&'*+-.^_`|~", c, 15) != NULL);
}

static int fail(preq *r, int err, const char *why)
{
    r->why = why;
    return err;
}

/* s[0..n) without the spaces and tabs around it */
static void trim(const char **s, size_t *n)
{
    while (*n && (**s == ' ' || **s == '\t'))
        (*s)++, (*n)--;
    while (*n && ((*s)[*n - 1] == ' ' || (*s)[*n - 1] == '\t'))
        (*n)--;
}

static int content_length(const char *v, size_t n, size_t max_body, bool seen, preq *r)
{
    if (n == 0)
        return fail(r, BH_ERR_PROTO, "empty Content-Length");
    size_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return fail(r, BH_ERR_PROTO, "Content-Length is not a number");
        if (x > max_body)   /* already too big: stop before the sum can overflow */
            break;
        x = x * 10 + (size_t)(v[i] - '0');
    }
    if (seen && x != r->body_len)
        return fail(r, BH_ERR_PROTO, "two different Content-Lengths");
    if (x > max_body)
        return fail(r, BH_ERR_TOOBIG, "body too large");
    r->body_len = x;
    return BH_OK;
}

int preq_parse(const char *buf, size_t len, size_t max_body, preq *r)
{
    memset(r, 0, sizeof *r);
    r->why = "";
    /* the head ends at an empty line; nothing is judged before it is all there, except
     * that a request line can be seen to be wrong early */
    size_t pos = 0, end = 0;
    const char *nl = memchr(buf, '\n', len);
    if (!nl)
        return 0;
    size_t line = (size_t)(nl - buf), ll = line;
    if (ll && buf[ll - 1] == '\r')
        ll--;
    /* METHOD SP target SP HTTP/1.x */
    size_t m = 0;
    while (m < ll && tchar((unsigned char)buf[m]))
        m++;
    if (m == 0 || m > 16 || m >= ll || buf[m] != ' ')
        return fail(r, BH_ERR_PROTO, "bad request line");
    r->method = m == 3 && !memcmp(buf, "GET", 3) ? PREQ_GET
              : m == 4 && !memcmp(buf, "POST", 4) ? PREQ_POST : PREQ_OTHER;
    size_t t = m + 1, te = t;
    while (te < ll && buf[te] > ' ' && buf[te] < 0x7f)
        te++;
    if (te == t || buf[t] != '/' || te + 9 != ll || buf[te] != ' ' ||
        memcmp(buf + te + 1, "HTTP/1.", 7) || buf[ll - 1] < '0' || buf[ll - 1] > '9')
        return fail(r, BH_ERR_PROTO, "bad request line");
    r->path = buf + t;
    const char *q = memchr(r->path, '?', te - t);
    r->path_len = q ? (size_t)(q - r->path) : te - t;

    /* the header lines, to the empty one */
    pos = line + 1;
    bool have_len = false;
    for (;;) {
        nl = memchr(buf + pos, '\n', len - pos);
        if (!nl)
            return 0;
        line = (size_t)(nl - buf);
        ll = line;
        if (ll > pos && buf[ll - 1] == '\r')
            ll--;
        if (ll == pos) {
            end = line + 1;
            break;
        }
        const char *h = buf + pos;
        size_t hn = ll - pos;
        if (h[0] == ' ' || h[0] == '\t')
            return fail(r, BH_ERR_PROTO, "folded header line");
        size_t c = 0;
        while (c < hn && tchar((unsigned char)h[c]))
            c++;
        if (c == 0 || c == hn || h[c] != ':')
            return fail(r, BH_ERR_PROTO, "bad header line");
        const char *v = h + c + 1;
        size_t vn = hn - c - 1;
        trim(&v, &vn);
        for (size_t i = 0; i < vn; i++)
            if ((unsigned char)v[i] < ' ' && v[i] != '\t')
                return fail(r, BH_ERR_PROTO, "control character in a header");
        if (is_name(h, c, "content-length")) {
            int rc = content_length(v, vn, max_body, have_len, r);
            if (rc < 0)
                return rc;
            have_len = true;
        } else if (is_name(h, c, "transfer-encoding")) {
            return fail(r, BH_ERR_UNSUPPORTED, "Transfer-Encoding is not supported");
        } else if (is_name(h, c, "host") || is_name(h, c, "origin")) {
            bool host = c == 4;
            if (host ? r->host != NULL : r->origin != NULL)
                return fail(r, BH_ERR_PROTO, host ? "two Host headers" : "two Origin headers");
            *(host ? &r->host : &r->origin) = v;
            *(host ? &r->host_len : &r->origin_len) = vn;
        } else if (is_name(h, c, "content-type")) {
            /* the type, before any ;charset= */
            size_t k = 0;
            while (k < vn && v[k] != ';' && v[k] != ' ' && v[k] != '\t')
                k++;
            r->form = is_name(v, k, "application/x-www-form-urlencoded");
        }
        pos = line + 1;
    }
    return (int)end;
}
