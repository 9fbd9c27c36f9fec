/* http.c - the HTTP/1.1 client: request building, the incremental response parser, redirects,
 * timeouts and error messages. See http.h and docs/http-client.md. */
#include "net/http.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "hal/hal.h"
#include "net/url.h"

/* ---- small helpers ------------------------------------------------------------------------ */

static char lower(char c) { return (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c; }
static bool is_digit(char c) { return c >= '0' && c <= '9'; }

static bool eq_nocase(const char *a, const char *b)
{
    for (; *a && *b; a++, b++)
        if (lower(*a) != lower(*b))
            return false;
    return *a == *b;
}

static bool is_tchar(char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || is_digit(c) ||
           (c && strchr("!#$%&'*+-.^_`|~", c) != NULL);
}

/* A value byte: visible ASCII, space, tab, or obs-text (>= 0x80). */
static bool is_vchar(char c)
{
    unsigned char u = (unsigned char)c;
    return u == '\t' || (u >= 0x20 && u != 0x7f);
}

/* Appends to a capped buffer; keeps counting what did not fit, so the caller can say how big
 * the whole thing would have been. */
typedef struct {
    char *b;
    size_t cap, len;
} sbuf;

static void put(sbuf *sb, const char *s, size_t n)
{
    if (sb->len < sb->cap) {
        size_t room = sb->cap - sb->len - 1;
        memcpy(sb->b + sb->len, s, n < room ? n : room);
        sb->b[sb->len + (n < room ? n : room)] = 0;
    }
    sb->len += n;
}
static void put_str(sbuf *sb, const char *s) { put(sb, s, strlen(s)); }

/* A printable excerpt of untrusted bytes, for error messages. */
static const char *snip(char *out, size_t cap, const char *s, size_t n)
{
    size_t i = 0;
    for (; i < n && i + 4 < cap; i++)
        out[i] = (s[i] >= 0x20 && s[i] < 0x7f) ? s[i] : '?';
    if (i < n) {
        memcpy(out + i, "...", 3);
        i += 3;
    }
    out[i] = 0;
    return out;
}

/* ---- response headers --------------------------------------------------------------------- */

bool http_header_next(const http_response *r, size_t *pos, const char **name, const char **value)
{
    if (*pos >= r->headers_len)
        return false;
    const char *n = r->headers + *pos;
    const char *v = n + strlen(n) + 1;
    *pos = (size_t)(v - r->headers) + strlen(v) + 1;
    *name = n;
    *value = v;
    return true;
}

const char *http_header_get(const http_response *r, const char *name)
{
    size_t pos = 0;
    const char *n, *v;
    while (http_header_next(r, &pos, &n, &v))
        if (eq_nocase(n, name))
            return v;
    return NULL;
}

/* ---- the response parser ------------------------------------------------------------------ */

enum {
    ST_STATUS,       /* status line */
    ST_HEADER,       /* header lines until an empty one */
    ST_BODY_LEN,     /* Content-Length bytes */
    ST_BODY_CLOSE,   /* everything until the server closes */
    ST_CHUNK_SIZE,   /* hex digits of a chunk size */
    ST_CHUNK_EXT,    /* rest of the chunk-size line: ";name=value" extensions */
    ST_CHUNK_DATA,
    ST_CHUNK_CR,     /* CRLF after chunk data */
    ST_CHUNK_LF,
    ST_TRAILER,      /* trailer lines after the last chunk, until an empty one */
    ST_END           /* finished: p->result says how */
};

#define MAX_INTERIM 8   /* 1xx responses skipped before giving up on the server */

#if defined(__GNUC__)
__attribute__((format(printf, 3, 4)))
#endif
static int perr(http_parser *p, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(p->r->error, sizeof p->r->error, fmt, ap);
    va_end(ap);
    p->state = ST_END;
    p->result = code;
    return code;
}

static int finish(http_parser *p)
{
    p->state = ST_END;
    p->result = HTTP_PARSE_DONE;
    return HTTP_PARSE_DONE;
}

static void start_response(http_parser *p)
{
    http_response *r = p->r;
    r->status = 0;
    r->reason[0] = 0;
    r->headers_len = 0;
    r->body_len = 0;
    r->body[0] = 0;
    p->state = ST_STATUS;
    p->line_len = 0;
    p->raw_len = 0;
    p->cr = false;
}

void http_parse_init(http_parser *p, http_response *r, bool head_request, bool status_only)
{
    memset(p, 0, sizeof *p);
    p->r = r;
    p->head = head_request;
    p->status_only = status_only;
    start_response(p);
}

static int status_line(http_parser *p, const char *l, size_t n)
{
    /* "HTTP/1.1 200 OK": '#' stands for a digit; only HTTP/1.x is spoken */
    static const char shape[] = "HTTP/1.# ### ";
    char ex[48];
    http_response *r = p->r;
    bool ok = n >= 12 && l[9] != '0';
    for (size_t i = 0; ok && i < 13 && i < n; i++)
        ok = shape[i] == '#' ? is_digit(l[i]) : l[i] == shape[i];
    if (!ok)
        return perr(p, BH_ERR_PROTO, "bad status line '%s'", snip(ex, sizeof ex, l, n));
    for (size_t i = 13; i < n; i++)
        if (!is_vchar(l[i]))
            return perr(p, BH_ERR_PROTO, "control character in the reason");
    r->status = (l[9] - '0') * 100 + (l[10] - '0') * 10 + (l[11] - '0');
    size_t rl = n > 13 ? n - 13 : 0;
    if (rl >= sizeof r->reason)
        rl = sizeof r->reason - 1;
    memcpy(r->reason, l + 13, rl);
    r->reason[rl] = 0;
    p->state = ST_HEADER;
    return HTTP_PARSE_MORE;
}

/* The line of n bytes sits at r->headers + r->headers_len; store it there as "name\0value\0"
 * (never longer than the line plus its LF, which the raw cap already counted). A line that
 * starts with a space or tab is an obsolete fold: it continues the previous value. */
static int header_line(http_parser *p, size_t n)
{
    char ex[48];
    http_response *r = p->r;
    char *l = r->headers + r->headers_len;
    bool fold = l[0] == ' ' || l[0] == '\t';
    size_t a = 0;
    if (fold && r->headers_len == 0)
        return perr(p, BH_ERR_PROTO, "fold before any header");
    if (!fold) {
        while (a < n && is_tchar(l[a]))
            a++;
        if (a == 0 || a == n || l[a] != ':')
            return perr(p, BH_ERR_PROTO, "bad header line '%s'", snip(ex, sizeof ex, l, n));
        l[a++] = 0;
    }
    char *dst = l + a;
    size_t b = n;
    while (a < b && (l[a] == ' ' || l[a] == '\t'))
        a++;
    while (b > a && (l[b - 1] == ' ' || l[b - 1] == '\t'))
        b--;
    for (size_t i = a; i < b; i++)
        if (!is_vchar(l[i]))
            return perr(p, BH_ERR_PROTO, "control character in a header");
    if (fold) {
        if (a == b)
            return HTTP_PARSE_MORE;
        l[-1] = ' ';                  /* the previous value's NUL */
        dst = l;
    }
    memmove(dst, l + a, b - a);
    dst[b - a] = 0;
    r->headers_len = (size_t)(dst - r->headers) + b - a + 1;
    return HTTP_PARSE_MORE;
}

static bool is_redirect(int status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The empty line after the headers: decide how the body is framed (RFC 9112 section 6.3). */
static int headers_done(http_parser *p)
{
    char ex[48];
    http_response *r = p->r;
    if (r->status < 200 && r->status != 101) {
        if (++p->interim > MAX_INTERIM)
            return perr(p, BH_ERR_PROTO, "over %d 1xx responses", MAX_INTERIM);
        start_response(p);
        return HTTP_PARSE_MORE;
    }
    bool te = false, chunked = false, has_len = false;
    uint32_t len = 0;
    size_t pos = 0;
    const char *n, *v;
    while (http_header_next(r, &pos, &n, &v)) {
        if (eq_nocase(n, "transfer-encoding")) {
            /* only the last coding matters: chunked must be the final one to frame the body */
            const char *last = strrchr(v, ',');
            last = last ? last + 1 : v;
            while (*last == ' ' || *last == '\t')
                last++;
            te = true;
            chunked = eq_nocase(last, "chunked");
        } else if (eq_nocase(n, "content-length")) {
            uint32_t x = 0;
            size_t i = 0;
            for (; is_digit(v[i]); i++)
                x = x > 99999999u ? 999999999u : x * 10 + (uint32_t)(v[i] - '0');
            if (i == 0 || v[i])
                return perr(p, BH_ERR_PROTO, "bad Content-Length '%s'",
                            snip(ex, sizeof ex, v, strlen(v)));
            if (has_len && x != len)
                return perr(p, BH_ERR_PROTO, "two Content-Lengths");
            has_len = true;
            len = x;
        }
    }
    p->chunked = chunked;
    if (p->head || r->status == 101 || r->status == 204 || r->status == 304 || p->status_only)
        return finish(p);
    if (p->skip_redirect_body && is_redirect(r->status) && http_header_get(r, "location"))
        return finish(p);
    if (chunked) {
        p->state = ST_CHUNK_SIZE;
        p->aux = 0;
        p->left = 0;
    } else if (te || !has_len) {
        p->state = ST_BODY_CLOSE;
    } else if (len > BH_HTTP_BODY_MAX) {
        return perr(p, BH_ERR_TOOBIG, "body of %lu bytes over %d", (unsigned long)len,
                    BH_HTTP_BODY_MAX);
    } else if (len == 0) {
        return finish(p);
    } else {
        p->state = ST_BODY_LEN;
        p->left = len;
    }
    return HTTP_PARSE_MORE;
}

/* One byte of the status line or a header line. */
static int line_byte(http_parser *p, char c)
{
    http_response *r = p->r;
    if (++p->raw_len > BH_HTTP_HDR_MAX)
        return perr(p, BH_ERR_TOOBIG, "headers over %d bytes", BH_HTTP_HDR_MAX);
    if (p->cr && c != '\n')
        return perr(p, BH_ERR_PROTO, "CR without LF");
    if (c == '\r') {
        p->cr = true;
        return HTTP_PARSE_MORE;
    }
    if (c != '\n') {
        if (p->state == ST_STATUS && p->line_len < 5 && c != "HTTP/"[p->line_len])
            return perr(p, BH_ERR_PROTO, "not an HTTP response");
        /* the raw cap bounds this too, but the buffer is what must never overflow */
        if (r->headers_len + p->line_len + 2 >= sizeof r->headers)
            return perr(p, BH_ERR_TOOBIG, "headers over %d bytes", BH_HTTP_HDR_MAX);
        r->headers[r->headers_len + p->line_len++] = c;
        return HTTP_PARSE_MORE;
    }
    p->cr = false;
    size_t n = p->line_len;
    p->line_len = 0;
    if (p->state == ST_STATUS)
        return n == 0 ? HTTP_PARSE_MORE   /* tolerate blank lines before the status line */
                      : status_line(p, r->headers + r->headers_len, n);
    if (n == 0)
        return headers_done(p);
    return header_line(p, n);
}

static int chunk_size_byte(http_parser *p, char c)
{
    http_response *r = p->r;
    int d = is_digit(c) ? c - '0' : (lower(c) >= 'a' && lower(c) <= 'f') ? lower(c) - 'a' + 10 : -1;
    if (p->state == ST_CHUNK_SIZE && d >= 0) {
        p->left = p->left * 16 + (uint32_t)d;
        p->aux++;
        if (p->left > BH_HTTP_BODY_MAX)
            return perr(p, BH_ERR_TOOBIG, "body over %d bytes", BH_HTTP_BODY_MAX);
        return HTTP_PARSE_MORE;
    }
    if (p->aux == 0)
        return perr(p, BH_ERR_PROTO, "bad chunk size");
    if (c != '\n') {
        if (p->state == ST_CHUNK_SIZE && c != ';' && c != ' ' && c != '\t' && c != '\r')
            return perr(p, BH_ERR_PROTO, "bad chunk size");
        if (c != '\t' && c != '\r' && !is_vchar(c))
            return perr(p, BH_ERR_PROTO, "control character in a chunk");
        p->state = ST_CHUNK_EXT;
        if (++p->aux > BH_HTTP_HDR_MAX)
            return perr(p, BH_ERR_TOOBIG, "chunk line over %d bytes", BH_HTTP_HDR_MAX);
        return HTTP_PARSE_MORE;
    }
    if (p->left == 0) {
        p->state = ST_TRAILER;
        p->aux = 0;
        p->line_len = 0;
        return HTTP_PARSE_MORE;
    }
    if (p->left > BH_HTTP_BODY_MAX - r->body_len)
        return perr(p, BH_ERR_TOOBIG, "body over %d bytes", BH_HTTP_BODY_MAX);
    p->state = ST_CHUNK_DATA;
    return HTTP_PARSE_MORE;
}

static void body_put(http_response *r, const char *d, size_t n)
{
    memcpy(r->body + r->body_len, d, n);
    r->body_len += n;
    r->body[r->body_len] = 0;
}

int http_parse_feed(http_parser *p, const char *data, size_t len)
{
    http_response *r = p->r;
    size_t i = 0;
    int rc = HTTP_PARSE_MORE;
    while (i < len && p->state != ST_END) {
        char c = data[i];
        switch (p->state) {
        case ST_STATUS:
        case ST_HEADER:
            rc = line_byte(p, c);
            i++;
            break;
        case ST_BODY_LEN:
        case ST_CHUNK_DATA: {
            size_t n = len - i < p->left ? len - i : p->left;
            body_put(r, data + i, n);   /* room was checked when left was set */
            i += n;
            p->left -= (uint32_t)n;
            if (p->left == 0) {
                if (p->state == ST_BODY_LEN)
                    rc = finish(p);
                else
                    p->state = ST_CHUNK_CR;
            }
            break;
        }
        case ST_BODY_CLOSE: {
            size_t n = len - i, room = BH_HTTP_BODY_MAX - r->body_len;
            /* keep what fits, so the body does not depend on how the bytes were split */
            body_put(r, data + i, n < room ? n : room);
            if (n > room)
                return perr(p, BH_ERR_TOOBIG, "body over %d bytes", BH_HTTP_BODY_MAX);
            i += n;
            break;
        }
        case ST_CHUNK_SIZE:
        case ST_CHUNK_EXT:
            rc = chunk_size_byte(p, c);
            i++;
            break;
        case ST_CHUNK_CR:
        case ST_CHUNK_LF:
            if (c == '\n') {
                p->state = ST_CHUNK_SIZE;
                p->aux = 0;
                p->left = 0;
            } else if (c == '\r' && p->state == ST_CHUNK_CR)
                p->state = ST_CHUNK_LF;
            else
                rc = perr(p, BH_ERR_PROTO, "no CRLF after chunk data");
            i++;
            break;
        case ST_TRAILER:
            if (++p->aux > BH_HTTP_HDR_MAX)
                rc = perr(p, BH_ERR_TOOBIG, "trailer over %d bytes", BH_HTTP_HDR_MAX);
            else if (c == '\n' && p->line_len == 0)
                rc = finish(p);
            else if (c == '\n')
                p->line_len = 0;
            else if (c != '\r')
                p->line_len++;
            i++;
            break;
        default:
            break;
        }
        if (rc < 0)
            return rc;
    }
    return p->state == ST_END ? p->result : HTTP_PARSE_MORE;
}

int http_parse_end(http_parser *p)
{
    switch (p->state) {
    case ST_END:
        return p->result;
    case ST_BODY_CLOSE:
        return finish(p);
    case ST_STATUS:
        return perr(p, BH_ERR_RESET, p->raw_len || p->interim
                                         ? "connection closed in the headers"
                                         : "connection closed before any response");
    case ST_HEADER:
        return perr(p, BH_ERR_RESET, "connection closed in the headers");
    case ST_BODY_LEN:
        return perr(p, BH_ERR_RESET, "connection closed after %lu of %lu body bytes",
                    (unsigned long)p->r->body_len,
                    (unsigned long)(p->r->body_len + p->left));
    default:
        return perr(p, BH_ERR_RESET, "connection closed in the chunked body after %lu bytes",
                    (unsigned long)p->r->body_len);
    }
}

/* ---- the client --------------------------------------------------------------------------- */

/* The request goes out of here in one send; the same buffer then takes what arrives, and
 * finally holds the resolved redirect URL and the report's "METHOD URL". */
static char io[BH_HTTP_REQ_MAX];
static char host[BH_HOST_MAX];
static size_t err_detail_at;   /* where "step: what" starts in resp->error */

typedef struct {
    const http_request *req;
    http_response *r;
    const char *method;
    const char *body;
    size_t body_len;
    uint32_t start, total, connect;
    bool cross_origin;            /* redirected to another host: credentials stay behind */
} call;

#if defined(__GNUC__)
__attribute__((format(printf, 4, 5)))
#endif
static int fail(call *c, const char *step, int code, const char *fmt, ...)
{
    char what[112];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);

    /* "METHOD URL: step: what", shortening the URL rather than the reason */
    http_response *r = c->r;
    size_t cap = sizeof r->error;
    size_t fixed = strlen(c->method) + 1 + 2 + strlen(step) + 2 + strlen(what);
    size_t ulen = strlen(r->url);
    size_t room = fixed + 1 < cap ? cap - 1 - fixed : 0;
    if (room < 24)
        room = 24;
    sbuf sb = {r->error, cap, 0};
    r->error[0] = 0;
    put_str(&sb, c->method);
    put(&sb, " ", 1);
    if (ulen > room) {
        put(&sb, r->url, room - 3);
        put(&sb, "...", 3);
    } else {
        put(&sb, r->url, ulen);
    }
    put(&sb, ": ", 2);
    err_detail_at = sb.len < cap ? sb.len : cap - 1;
    put_str(&sb, step);
    put(&sb, ": ", 2);
    put_str(&sb, what);
    return code;
}

static uint32_t time_left(const call *c)
{
    uint32_t spent = hal_millis() - c->start;
    return spent < c->total ? c->total - spent : 0;
}

static uint32_t min_u32(uint32_t a, uint32_t b) { return a < b ? a : b; }

static const char *const known_methods[] = {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE",
                                            "OPTIONS"};

static bool has_body_semantics(const char *m)
{
    return strcmp(m, "POST") == 0 || strcmp(m, "PUT") == 0 || strcmp(m, "PATCH") == 0;
}

/* A caller's header: a name that is a token, a value that cannot end the line, and not one
 * the client writes itself. */
static bool header_ok(const char *name, const char *value)
{
    static const char *const ours[] = {"host", "content-length", "transfer-encoding",
                                       "connection"};
    bool ok = name && name[0] && value;
    for (const char *s = name; ok && *s; s++)
        ok = is_tchar(*s);
    for (const char *s = value; ok && *s; s++)
        ok = is_vchar(*s);
    for (size_t i = 0; ok && i < sizeof ours / sizeof ours[0]; i++)
        ok = !eq_nocase(name, ours[i]);
    return ok;
}

static bool sensitive(const char *name)
{
    return eq_nocase(name, "authorization") || eq_nocase(name, "cookie") ||
           eq_nocase(name, "proxy-authorization");
}

/* Writes the whole request into io; returns its length or a negative bh_err. */
static int build_request(call *c, const url_parts *u)
{
    const http_request *req = c->req;
    char num[24];
    sbuf sb = {io, sizeof io, 0};
    bool own_agent = false;
    for (int i = 0; i < req->nheaders; i++) {
        if (!req->headers || !header_ok(req->headers[i].name, req->headers[i].value))
            return fail(c, "request", BH_ERR_ARG, "bad header %d", i);
        own_agent = own_agent || eq_nocase(req->headers[i].name, "user-agent");
    }
    if (req->content_type &&
        (!req->content_type[0] || !header_ok("Content-Type", req->content_type)))
        return fail(c, "request", BH_ERR_ARG, "bad Content-Type");

    put_str(&sb, c->method);
    put(&sb, " ", 1);
    if (u->path.p[0] == '?')
        put(&sb, "/", 1);
    put(&sb, u->path.p, u->path.len);
    put_str(&sb, " HTTP/1.1\r\nHost: ");
    put(&sb, u->host.p, u->host.len);
    if (u->port_explicit && u->port != (u->https ? 443 : 80)) {
        snprintf(num, sizeof num, ":%u", (unsigned)u->port);
        put_str(&sb, num);
    }
    put_str(&sb, "\r\n");
    if (!own_agent)
        put_str(&sb, "User-Agent: buttonhook/0.1\r\n");
    for (int i = 0; i < req->nheaders; i++) {
        if (c->cross_origin && sensitive(req->headers[i].name))
            continue;
        put_str(&sb, req->headers[i].name);
        put_str(&sb, ": ");
        put_str(&sb, req->headers[i].value);
        put_str(&sb, "\r\n");
    }
    if (c->body && req->content_type) {
        put_str(&sb, "Content-Type: ");
        put_str(&sb, req->content_type);
        put_str(&sb, "\r\n");
    }
    if (c->body_len || has_body_semantics(c->method)) {
        snprintf(num, sizeof num, "%lu", (unsigned long)c->body_len);
        put_str(&sb, "Content-Length: ");
        put_str(&sb, num);
        put_str(&sb, "\r\n");
    }
    put_str(&sb, "Connection: close\r\n\r\n");
    if (c->body_len)
        put(&sb, c->body, c->body_len);
    if (sb.len >= sizeof io)
        return fail(c, "request", BH_ERR_TOOBIG, "request of %lu bytes over %d",
                    (unsigned long)sb.len, BH_HTTP_REQ_MAX);
    return (int)sb.len;
}

static int timeout_fail(call *c, const char *step)
{
    return fail(c, step, BH_ERR_TIMEOUT, "total timeout of %lu ms reached",
                (unsigned long)c->total);
}

/* One request and its response, to the URL in c->r->url. */
static int exchange(call *c)
{
    http_response *r = c->r;
    char why[96];
    url_parts u;
    int rc = url_parse(r->url, &u, why, sizeof why);
    if (rc < 0)
        return fail(c, "url", rc, "%s", why);
    if (url_host(&u, host, sizeof host) < 0)
        return fail(c, "url", BH_ERR_TOOBIG, "host name too long");
    int len = build_request(c, &u);
    if (len < 0)
        return len;

    uint32_t ip = u.ip;
    if (!u.is_ip) {
        uint32_t t = min_u32(c->connect, time_left(c));
        if (t == 0)
            return timeout_fail(c, "dns");
        rc = (c->req->resolve ? c->req->resolve : hal_dns_lookup)(host, &ip, t);
        if (rc == BH_ERR_TIMEOUT)
            return fail(c, "dns", rc, "no answer for '%s' within %lu ms", host, (unsigned long)t);
        if (rc < 0)
            return fail(c, "dns", rc, "%s: %s", bh_strerror(rc), host);
    }

    uint32_t t = min_u32(c->connect, time_left(c));
    if (t == 0)
        return timeout_fail(c, "connect");
    int s = hal_tcp_connect(ip, u.port, t);
    if (s == BH_ERR_TIMEOUT)
        return fail(c, "connect", s, "no answer within %lu ms", (unsigned long)t);
    if (s < 0)
        return fail(c, "connect", s, "%s", bh_strerror(s));

    if (u.https) {
        hal_tls_params tp = {host, c->req->ca_file, c->req->tls_resume};
        t = time_left(c);
        rc = t ? hal_tls_start(s, &tp, t) : BH_ERR_TIMEOUT;
        if (rc < 0) {
            hal_tcp_close(s);
            if (rc == BH_ERR_CERT)
                return fail(c, "tls", rc, "certificate not trusted for host %s%s%s", host,
                            c->req->ca_file ? " with CAs of " : "",
                            c->req->ca_file ? c->req->ca_file : "");
            if (rc == BH_ERR_TIMEOUT)
                return timeout_fail(c, "tls");
            if (rc == BH_ERR_TLS)
                return fail(c, "tls", rc, "handshake with %s failed", host);
            return fail(c, "tls", rc, "%s", bh_strerror(rc));
        }
    }

    t = time_left(c);
    rc = t ? hal_tcp_send(s, io, (size_t)len, t) : BH_ERR_TIMEOUT;
    if (rc < 0) {
        hal_tcp_close(s);
        if (rc == BH_ERR_TIMEOUT)
            return timeout_fail(c, "send");
        return fail(c, "send", rc, "%s", bh_strerror(rc));
    }
    r->bytes_sent += (uint32_t)len;

    http_parser p;
    http_parse_init(&p, r, strcmp(c->method, "HEAD") == 0, c->req->status_only);
    p.skip_redirect_body = c->req->max_redirects != HTTP_NO_REDIRECTS;
    for (;;) {
        t = time_left(c);
        int n = t ? hal_tcp_recv(s, io, sizeof io, t) : BH_ERR_TIMEOUT;
        if (n < 0) {
            rc = n;
            break;
        }
        rc = n == 0 ? http_parse_end(&p) : http_parse_feed(&p, io, (size_t)n);
        r->bytes_received += (uint32_t)n;
        if (rc != HTTP_PARSE_MORE)
            break;
    }
    hal_tcp_close(s);
    if (rc == BH_ERR_TIMEOUT)
        return fail(c, "receive", rc, "%s; total timeout of %lu ms reached",
                    r->status ? "response incomplete" : "no response",
                    (unsigned long)c->total);
    if (rc < 0 && p.state == ST_END)
        return fail(c, "receive", rc, "%s", r->error);   /* fail() copies it before writing */
    if (rc < 0)
        return fail(c, "receive", rc, "%s", bh_strerror(rc));
    return 0;
}

/* Follows a redirect: the next URL goes to r->url. 1: follow it, 0: this is the answer. */
static int redirect(call *c, int max)
{
    http_response *r = c->r;
    if (c->req->max_redirects == HTTP_NO_REDIRECTS || !is_redirect(r->status))
        return 0;
    const char *loc = http_header_get(r, "location");
    if (!loc)
        return 0;
    if (r->redirects >= max)
        return fail(c, "redirect", BH_ERR_PROTO, "more than %d redirects", max);
    char why[96], ex[48];
    size_t cap = sizeof io < sizeof r->url ? sizeof io : sizeof r->url;
    int rc = url_resolve(r->url, loc, io, cap, why, sizeof why);
    if (rc < 0)
        return fail(c, "redirect", rc, "bad Location '%s': %s",
                    snip(ex, sizeof ex, loc, strlen(loc)), why);
    url_parts a, b;
    if (url_parse(r->url, &a, NULL, 0) == 0 && url_parse(io, &b, NULL, 0) == 0) {
        bool same = a.https == b.https && a.port == b.port && a.host.len == b.host.len;
        for (size_t i = 0; same && i < a.host.len; i++)
            same = lower(a.host.p[i]) == lower(b.host.p[i]);
        c->cross_origin = c->cross_origin || !same;
    }
    memcpy(r->url, io, strlen(io) + 1);
    /* as browsers and urequests: 303 always, and 301/302 for anything but HEAD, become GET
     * without the body; 307 and 308 repeat the request as it was */
    if (r->status == 303 || r->status == 301 || r->status == 302) {
        if (strcmp(c->method, "HEAD") != 0)
            c->method = "GET";
        c->body = NULL;
        c->body_len = 0;
    }
    r->redirects++;
    return 1;
}

static void report(call *c, int rc)
{
    http_response *r = c->r;
    snprintf(io, sizeof io, "%s %s", c->method, r->url);
    if (rc < 0)
        hal_report("http", io, rc, r->error + err_detail_at);
    else
        hal_report("http", io, r->status, r->reason);
}

int http_do(const http_request *req, http_response *resp)
{
    if (!req || !resp)
        return BH_ERR_ARG;
    memset(resp, 0, sizeof *resp);
    err_detail_at = 0;
    call c = {req, resp, req->method ? req->method : "GET", req->body,
              req->body ? req->body_len : 0, hal_millis(),
              req->total_timeout_ms ? req->total_timeout_ms : BH_HTTP_TOTAL_TIMEOUT_MS,
              req->connect_timeout_ms ? req->connect_timeout_ms : BH_HTTP_CONNECT_TIMEOUT_MS,
              false};
    int max = req->max_redirects > 0 ? req->max_redirects : BH_HTTP_MAX_REDIRECTS;
    int rc = 0;

    size_t ulen = req->url ? strlen(req->url) : 0;
    if (ulen >= sizeof resp->url) {
        memcpy(resp->url, req->url, sizeof resp->url - 1);
        rc = fail(&c, "url", BH_ERR_TOOBIG, "URL over %d characters", BH_URL_MAX - 1);
    } else {
        if (ulen)
            memcpy(resp->url, req->url, ulen + 1);
        bool known = false;
        for (size_t i = 0; i < sizeof known_methods / sizeof known_methods[0]; i++)
            known = known || strcmp(c.method, known_methods[i]) == 0;
        if (!known)
            rc = fail(&c, "request", BH_ERR_ARG, "unsupported method '%.16s'", c.method);
    }
    while (rc == 0) {
        rc = exchange(&c);
        if (rc == 0)
            rc = redirect(&c, max);
        if (rc == 1)
            rc = 0;
        else
            break;
    }
    resp->elapsed_ms = hal_millis() - c.start;
    report(&c, rc);
    return rc;
}
