/* framing.c - see framing.h. */
#include "framing.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

static bool is_tchar(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("!#$%&'*+-.^_`|~", c));
}

static bool named(const hk_header *h, const char *name)
{
    return h->name_len == strlen(name) && strncasecmp(h->name, name, h->name_len) == 0;
}

/* what the client sent, quoted into a message: printable ASCII, others as '?', cut at 40 */
static void excerpt(const char *s, size_t n, char *out, size_t cap)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 4 < cap && i < 40; i++)
        out[o++] = s[i] >= 0x20 && s[i] < 0x7f && s[i] != '"' && s[i] != '\\' ? s[i] : '?';
    if (n > 40 && o + 4 < cap)
        out[o++] = '.', out[o++] = '.', out[o++] = '.';
    out[o] = '\0';
}

static int refuse(hk_reject *rej, int status, const char *fmt, const char *arg)
{
    rej->status = status;
    snprintf(rej->message, sizeof rej->message, fmt, arg ? arg : "");
    return status;
}

static bool is_ows(char c)
{
    return c == ' ' || c == '\t';
}

int hk_framing_check(const hk_header *h, size_t n, const char *version, hk_reject *rej)
{
    char ex[48];
    unsigned host = 0, cl = 0, te = 0;
    const hk_header *clh = NULL, *teh = NULL;
    bool v10 = version && strcmp(version, "HTTP/1.0") == 0;

    for (size_t i = 0; i < n; i++) {
        /* A name with a space ("Transfer-Encoding : chunked") is one hookd would not see as
         * Transfer-Encoding, while a lenient proxy might. */
        bool ok = h[i].name_len > 0;
        for (size_t k = 0; ok && k < h[i].name_len; k++)
            ok = is_tchar((unsigned char)h[i].name[k]);
        if (!ok) {
            excerpt(h[i].name, h[i].name_len, ex, sizeof ex);
            return refuse(rej, 400, "header name \"%s\" is not a token (RFC 9110 5.1)", ex);
        }
        for (size_t k = 0; k < h[i].value_len; k++) {
            unsigned char c = (unsigned char)h[i].value[k];
            if ((c < 0x20 && c != '\t') || c == 0x7f) {
                excerpt(h[i].name, h[i].name_len, ex, sizeof ex);
                return refuse(rej, 400, "header %s: a control character in its value", ex);
            }
        }
        if (named(&h[i], "Host"))
            host++;
        else if (named(&h[i], "Content-Length"))
            cl++, clh = &h[i];
        else if (named(&h[i], "Transfer-Encoding"))
            te++, teh = &h[i];
    }
    if (host > 1)
        return refuse(rej, 400, "more than one Host header (RFC 9112 3.2)%s", NULL);
    if (host == 0 && !v10)
        return refuse(rej, 400, "an HTTP/1.1 request must have a Host header (RFC 9112 3.2)%s",
                      NULL);
    if (te) {
        if (v10)
            return refuse(rej, 400,
                          "Transfer-Encoding in an HTTP/1.0 request: its framing cannot be "
                          "trusted (RFC 9112 6.1)%s", NULL);
        if (cl)
            return refuse(rej, 400,
                          "both Content-Length and Transfer-Encoding: the body's length is "
                          "ambiguous (RFC 9112 6.3)%s", NULL);
        /* every coding named, in every Transfer-Encoding line: one not implemented is a 501
         * whatever else is wrong */
        unsigned chunked = 0;
        for (size_t i = 0; i < n; i++) {
            if (!named(&h[i], "Transfer-Encoding"))
                continue;
            const char *p = h[i].value, *end = p + h[i].value_len;
            while (p < end) {
                while (p < end && (is_ows(*p) || *p == ','))
                    p++;
                const char *s = p;
                while (p < end && *p != ',' && *p != ';' && !is_ows(*p))
                    p++;
                if (p == s) {
                    /* parameters with no coding, e.g. ";q=1": skip to the next element */
                    while (p < end && *p != ',')
                        p++;
                    continue;
                }
                if ((size_t)(p - s) == 7 && strncasecmp(s, "chunked", 7) == 0) {
                    chunked++;
                } else {
                    excerpt(s, (size_t)(p - s), ex, sizeof ex);
                    return refuse(rej, 501,
                                  "Transfer-Encoding \"%s\" is not implemented: send the body "
                                  "as it is, with Content-Length, or chunked", ex);
                }
                while (p < end && *p != ',')
                    p++;   /* a coding's parameters */
            }
        }
        if (chunked > 1)
            return refuse(rej, 400, "Transfer-Encoding: chunked more than once (RFC 9112 7)%s",
                          NULL);
        /* what libmicrohttpd reads as chunked: the one line's value, exactly */
        if (te > 1 || chunked == 0 || teh->value_len != 7 ||
            strncasecmp(teh->value, "chunked", 7) != 0)
            return refuse(rej, 400, "Transfer-Encoding: must be exactly \"chunked\"%s", NULL);
        return 0;
    }
    if (cl > 1)
        return refuse(rej, 400, "more than one Content-Length: the body's length is ambiguous "
                      "(RFC 9112 6.3)%s", NULL);
    if (cl) {
        bool digits = clh->value_len > 0 && clh->value_len <= 18;
        for (size_t k = 0; digits && k < clh->value_len; k++)
            digits = clh->value[k] >= '0' && clh->value[k] <= '9';
        if (!digits) {
            excerpt(clh->value, clh->value_len, ex, sizeof ex);
            return refuse(rej, 400, "Content-Length \"%s\": must be a number of bytes", ex);
        }
    }
    return 0;
}
