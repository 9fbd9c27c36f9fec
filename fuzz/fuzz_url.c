/* fuzz_url.c - url_parse() and url_resolve() on arbitrary bytes. The input is a URL, or
 * "base\0location" to resolve a redirect. Besides the sanitizers, it checks what the client
 * relies on: a parsed URL has a host and a path, and a resolved URL resolves to itself. */
#include <stdint.h>
#include <string.h>

#include "bh_opts.h"
#include "hal/hal.h"
#include "net/url.h"

#define CAP 600   /* longer than BH_URL_MAX, so the length cap is exercised too */

static void check_parts(const url_parts *u)
{
    if (u->host.len == 0 || u->host.len >= BH_HOST_MAX || u->path.len == 0 || u->port == 0)
        __builtin_trap();
    if (u->path.p[0] != '/' && u->path.p[0] != '?')
        __builtin_trap();
    if (!u->port_explicit && u->port != (u->https ? 443 : 80))
        __builtin_trap();
    char host[BH_HOST_MAX], target[BH_URL_MAX + 1];
    if (url_host(u, host, sizeof host) != 0 || strlen(host) != u->host.len)
        __builtin_trap();
    if (url_target(u, target, sizeof target) < 1 || target[0] != '/')
        __builtin_trap();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char a[CAP + 1], b[CAP + 1], out[BH_URL_MAX], again[BH_URL_MAX], why[128];
    const uint8_t *nul = memchr(data, 0, size);
    size_t full = nul ? (size_t)(nul - data) : size;
    size_t alen = full > CAP ? CAP : full;
    memcpy(a, data, alen);
    a[alen] = 0;

    url_parts u;
    if (url_parse(a, &u, why, sizeof why) == 0)
        check_parts(&u);
    else if (!why[0])
        __builtin_trap();   /* every rejection says why */

    const char *base = "http://a.example:8080/b/c/d;p?q";
    const char *loc = a;
    if (nul) {
        size_t blen = size - full - 1;
        if (blen > CAP)
            blen = CAP;
        memcpy(b, nul + 1, blen);
        b[blen] = 0;
        base = a;
        loc = b;
    }
    size_t cap = (size_t)(size % 7 == 0 ? 16 : BH_URL_MAX);   /* small outputs too */
    if (url_resolve(base, loc, out, cap, why, sizeof why) == 0) {
        if (url_parse(out, &u, NULL, 0) != 0)
            __builtin_trap();
        check_parts(&u);
        if (url_resolve(out, out, again, sizeof again, NULL, 0) != 0 || strcmp(again, out) != 0)
            __builtin_trap();
    }
    return 0;
}
