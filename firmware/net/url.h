/*
 * url.h - http:// and https:// URLs, parsed in place.
 *
 * url_parse() does not copy: the parts are views (pointer + length) into the caller's string,
 * which must outlive them. Only what an HTTP client can use is accepted; everything else is
 * rejected with a reason naming what and where, e.g. "unsupported scheme 'ftp' (only http and
 * https)". The fragment ("#...") is dropped, as browsers do before sending a request.
 *
 *   url_parts u;
 *   char why[96];
 *   if (url_parse("http://maker.ifttt.com/trigger/x", &u, why, sizeof why) < 0) ...
 *   u.https == false, u.host = "maker.ifttt.com", u.port == 80, u.path = "/trigger/x"
 */
#ifndef BH_NET_URL_H
#define BH_NET_URL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const char *p;   /* not NUL-terminated */
    size_t len;
} url_view;

typedef struct {
    bool https;
    url_view host;       /* a name or a dotted IPv4 address, as written */
    uint16_t port;       /* the default (80, 443) when none is written */
    bool port_explicit;  /* ":port" was written (the Host header then carries it) */
    bool is_ip;          /* host is a dotted IPv4 address: no DNS lookup needed */
    uint32_t ip;         /* that address, host order */
    url_view path;       /* path and query, never empty: "/" when the URL has no path. It
                            starts with '/' or, for "http://h?q", with '?': the request target
                            is then "/" followed by it (see url_target()). */
} url_parts;

/* Parses s (NUL-terminated, shorter than BH_URL_MAX). Returns 0, or:
 *   BH_ERR_UNSUPPORTED  another scheme, user:password@, an IPv6 literal
 *   BH_ERR_TOOBIG       URL or host name over its cap (BH_URL_MAX, BH_HOST_MAX)
 *   BH_ERR_ARG          anything else malformed (no scheme, empty host, bad port, spaces...)
 * with a one-line reason in err (may be NULL). */
int url_parse(const char *s, url_parts *u, char *err, size_t errcap);

/* Copies the host, NUL-terminated, for hal_dns_lookup() and TLS; BH_ERR_TOOBIG if cap is
 * too small. */
int url_host(const url_parts *u, char *out, size_t cap);

/* Writes the request target ("/path?query") NUL-terminated; returns its length or
 * BH_ERR_TOOBIG. */
int url_target(const url_parts *u, char *out, size_t cap);

/* Resolves a redirect's Location against the URL that answered it (RFC 3986 section 5.2):
 * an absolute URL, a scheme-relative "//host/x", an absolute path "/x", a query "?q" or a
 * relative path "x/../y". The result is written NUL-terminated to out and checked with
 * url_parse(), so it is a URL this client can fetch. out must not overlap base or loc.
 * Returns 0 or an error as url_parse() does. */
int url_resolve(const char *base, const char *loc, char *out, size_t cap, char *err,
                size_t errcap);

#endif
