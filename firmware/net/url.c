/* url.c - URL parsing and redirect resolution, without copies or heap. */
#include "net/url.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "bh_opts.h"
#include "hal/hal.h"

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int fail(char *err, size_t cap, int code, const char *fmt, ...)
{
    if (err && cap) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err, cap, fmt, ap);
        va_end(ap);
    }
    return code;
}

static bool is_alpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }
static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }

static bool eq_nocase(const char *a, size_t n, const char *b)
{
    if (strlen(b) != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (lower(a[i]) != lower(b[i]))
            return false;
    return true;
}

/* Length of a scheme ("http" in "http:...") at s, or 0 if s does not start with one. */
static size_t scheme_len(const char *s)
{
    size_t i = 0;
    if (!is_alpha(s[0]))
        return 0;
    while (is_alpha(s[i]) || is_digit(s[i]) || s[i] == '+' || s[i] == '-' || s[i] == '.')
        i++;
    return s[i] == ':' ? i : 0;
}

static int parse_ipv4(const char *p, size_t n, uint32_t *ip)
{
    uint32_t addr = 0;
    size_t i = 0;
    for (int part = 0; part < 4; part++) {
        if (part > 0) {
            if (i >= n || p[i] != '.')
                return -1;
            i++;
        }
        uint32_t v = 0;
        size_t digits = 0;
        while (i < n && is_digit(p[i]) && digits < 4) {
            v = v * 10 + (uint32_t)(p[i] - '0');
            i++;
            digits++;
        }
        if (digits == 0 || digits > 3 || v > 255)
            return -1;
        addr = addr << 8 | v;
    }
    if (i != n)
        return -1;
    *ip = addr;
    return 0;
}

static int parse_host(const char *h, size_t n, url_parts *u, char *err, size_t cap)
{
    if (n == 0)
        return fail(err, cap, BH_ERR_ARG, "empty host");
    if (n >= BH_HOST_MAX)
        return fail(err, cap, BH_ERR_TOOBIG, "host name longer than %d characters",
                    BH_HOST_MAX - 1);
    bool numeric = true;
    for (size_t i = 0; i < n; i++) {
        char c = h[i];
        if (c == '.') {
            if (i == 0 || h[i - 1] == '.')
                return fail(err, cap, BH_ERR_ARG, "empty label in host '%.*s'", (int)n, h);
            continue;
        }
        if (!is_digit(c))
            numeric = false;
        if (!is_alpha(c) && !is_digit(c) && c != '-' && c != '_')
            return fail(err, cap, BH_ERR_ARG, "bad character '%c' in host '%.*s'", c, (int)n, h);
    }
    u->host.p = h;
    u->host.len = n;
    u->is_ip = false;
    u->ip = 0;
    if (numeric) {
        if (parse_ipv4(h, n, &u->ip) < 0)
            return fail(err, cap, BH_ERR_ARG, "bad IPv4 address '%.*s'", (int)n, h);
        u->is_ip = true;
    }
    return 0;
}

static int parse_port(const char *p, size_t n, url_parts *u, char *err, size_t cap)
{
    if (n == 0)
        return fail(err, cap, BH_ERR_ARG, "empty port after ':'");
    uint32_t v = 0;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(p[i]) || i >= 5)
            return fail(err, cap, BH_ERR_ARG, "bad port '%.*s' (1-65535)", (int)n, p);
        v = v * 10 + (uint32_t)(p[i] - '0');
    }
    if (v == 0 || v > 65535)
        return fail(err, cap, BH_ERR_ARG, "bad port '%.*s' (1-65535)", (int)n, p);
    u->port = (uint16_t)v;
    u->port_explicit = true;
    return 0;
}

int url_parse(const char *s, url_parts *u, char *err, size_t cap)
{
    if (!s || !u)
        return fail(err, cap, BH_ERR_ARG, "no URL");
    memset(u, 0, sizeof *u);
    size_t len = 0;
    for (; s[len]; len++) {
        unsigned char c = (unsigned char)s[len];
        if (len >= BH_URL_MAX - 1)
            return fail(err, cap, BH_ERR_TOOBIG, "URL longer than %d characters",
                        BH_URL_MAX - 1);
        if (c <= 0x20 || c == 0x7f)
            return fail(err, cap, BH_ERR_ARG, "space or control character at offset %u of URL",
                        (unsigned)len);
        if (c >= 0x80)
            return fail(err, cap, BH_ERR_ARG,
                        "non-ASCII byte at offset %u of URL (percent-encode it)", (unsigned)len);
    }
    if (len == 0)
        return fail(err, cap, BH_ERR_ARG, "empty URL");

    size_t sl = scheme_len(s);
    if (sl == 0 || is_digit(s[sl + 1]))   /* "host:8080/x" has no scheme, not scheme "host" */
        return fail(err, cap, BH_ERR_ARG, "missing scheme (http:// or https://)");
    if (eq_nocase(s, sl, "https"))
        u->https = true;
    else if (!eq_nocase(s, sl, "http"))
        return fail(err, cap, BH_ERR_UNSUPPORTED, "unsupported scheme '%.*s' (only http and https)",
                    (int)sl, s);
    if (s[sl + 1] != '/' || s[sl + 2] != '/')
        return fail(err, cap, BH_ERR_ARG, "expected '//' after '%.*s:'", (int)sl, s);
    u->port = u->https ? 443 : 80;

    const char *auth = s + sl + 3;
    size_t alen = strcspn(auth, "/?#");
    if (memchr(auth, '@', alen))
        return fail(err, cap, BH_ERR_UNSUPPORTED, "user:password@ in URLs is not supported");
    if (alen && auth[0] == '[')
        return fail(err, cap, BH_ERR_UNSUPPORTED, "IPv6 address literals are not supported");
    const char *colon = memchr(auth, ':', alen);
    size_t hlen = colon ? (size_t)(colon - auth) : alen;
    int rc = parse_host(auth, hlen, u, err, cap);
    if (rc < 0)
        return rc;
    if (colon) {
        rc = parse_port(colon + 1, alen - hlen - 1, u, err, cap);
        if (rc < 0)
            return rc;
    }

    const char *path = auth + alen;
    size_t plen = strcspn(path, "#");
    if (plen == 0) {
        u->path.p = "/";
        u->path.len = 1;
    } else {
        u->path.p = path;
        u->path.len = plen;
    }
    return 0;
}

int url_host(const url_parts *u, char *out, size_t cap)
{
    if (u->host.len >= cap)
        return BH_ERR_TOOBIG;
    memcpy(out, u->host.p, u->host.len);
    out[u->host.len] = 0;
    return 0;
}

int url_target(const url_parts *u, char *out, size_t cap)
{
    size_t slash = u->path.p[0] == '?' ? 1 : 0;
    if (slash + u->path.len >= cap)
        return BH_ERR_TOOBIG;
    if (slash)
        out[0] = '/';
    memcpy(out + slash, u->path.p, u->path.len);
    out[slash + u->path.len] = 0;
    return (int)(slash + u->path.len);
}

/* RFC 3986 5.2.4 on a path that starts with '/', in place (the output never outgrows the
 * input read so far). Returns the new length. */
static size_t remove_dots(char *p, size_t n)
{
    size_t r = 0, w = 0;
    while (r < n) {
        size_t s = r + 1, e = s;
        while (e < n && p[e] != '/')
            e++;
        size_t sl = e - s;
        bool last = e == n;
        if (sl == 1 && p[s] == '.') {
            if (last)
                p[w++] = '/';
        } else if (sl == 2 && p[s] == '.' && p[s + 1] == '.') {
            while (w > 0 && p[w - 1] != '/')
                w--;
            if (w > 0)
                w--;           /* drop the popped segment's '/' too */
            if (last)
                p[w++] = '/';
        } else {
            p[w++] = '/';
            memmove(p + w, p + s, sl);
            w += sl;
        }
        r = e;
    }
    if (w == 0)
        p[w++] = '/';
    return w;
}

typedef struct {
    char *b;
    size_t cap, len;
    bool over;
} sbuf;

static void put(sbuf *sb, const char *s, size_t n)
{
    if (sb->over || n >= sb->cap - sb->len) {
        sb->over = true;
        return;
    }
    memcpy(sb->b + sb->len, s, n);
    sb->len += n;
    sb->b[sb->len] = 0;
}

int url_resolve(const char *base, const char *loc, char *out, size_t cap, char *err,
                size_t errcap)
{
    url_parts b;
    if (!out || cap == 0)
        return fail(err, errcap, BH_ERR_ARG, "no room for the resolved URL");
    out[0] = 0;
    int rc = url_parse(base, &b, err, errcap);
    if (rc < 0)
        return rc;
    if (!loc || !loc[0])
        return fail(err, errcap, BH_ERR_ARG, "empty Location");

    sbuf sb = {out, cap, 0, false};
    size_t path_at = 0;           /* where the path to clean of dot segments starts; 0: none */
    if (scheme_len(loc) && !is_digit(loc[scheme_len(loc) + 1])) {
        put(&sb, loc, strlen(loc));
    } else if (loc[0] == '/' && loc[1] == '/') {
        put(&sb, b.https ? "https:" : "http:", b.https ? 6 : 5);
        put(&sb, loc, strlen(loc));
    } else {
        /* scheme://authority as the base wrote it */
        const char *auth_end = b.host.p + b.host.len;
        if (*auth_end == ':')
            auth_end += 1 + strspn(auth_end + 1, "0123456789");
        put(&sb, base, (size_t)(auth_end - base));
        path_at = sb.len;
        /* the base path without its query; "/" when it has none */
        size_t bp = b.path.p[0] == '?' ? 0 : strcspn(b.path.p, "?#");
        if (bp > b.path.len)
            bp = b.path.len;
        if (loc[0] == '/') {
            put(&sb, loc, strlen(loc));
        } else if (loc[0] == '?' || loc[0] == '#') {
            if (bp)
                put(&sb, b.path.p, bp);
            else
                put(&sb, "/", 1);
            if (loc[0] == '#' && b.path.len > bp && b.path.p[bp] == '?')
                put(&sb, b.path.p + bp, b.path.len - bp);   /* "#f" keeps the base query */
            put(&sb, loc, strlen(loc));
        } else {
            size_t dir = bp;
            while (dir > 0 && b.path.p[dir - 1] != '/')
                dir--;
            if (dir)
                put(&sb, b.path.p, dir);
            else
                put(&sb, "/", 1);
            put(&sb, loc, strlen(loc));
        }
    }
    if (sb.over) {
        out[0] = 0;
        return fail(err, errcap, BH_ERR_TOOBIG, "redirect URL longer than %d characters",
                    (int)cap - 1);
    }
    if (path_at) {
        char *p = out + path_at;
        size_t total = strlen(p);
        size_t n = strcspn(p, "?#");
        size_t m = remove_dots(p, n);
        memmove(p + m, p + n, total - n + 1);
    }
    return url_parse(out, &b, err, errcap);
}
