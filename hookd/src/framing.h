/*
 * framing.h - is a request's framing unambiguous? Decided from its header lines alone, before
 * hookd reads a byte of its body, so that hookd and a balancer or proxy in front of it can
 * never disagree on where one request ends and the next begins (request smuggling; RFC 9112
 * sections 3.2, 6.1 and 6.3). A pure function: http.c feeds it what libmicrohttpd parsed.
 */
#ifndef HOOKD_FRAMING_H
#define HOOKD_FRAMING_H

#include <stddef.h>

#include "trigger.h"   /* hk_reject */

typedef struct {
    const char *name;
    size_t name_len;
    const char *value;
    size_t value_len;
} hk_header;

/* 0 when the request may be read: at most one Host (one exactly on HTTP/1.1), and either no
 * body framing, one Content-Length of digits, or Transfer-Encoding exactly "chunked" (one
 * header, HTTP/1.1, no Content-Length). Otherwise the status in rej: 501 for a transfer coding
 * hookd does not implement (anything but chunked), 400 for the rest. Either way the caller
 * must close the connection after the reply, as the body's end is unknown. version is the
 * request line's, e.g. "HTTP/1.1". rej->message names the header and what is wrong, in
 * printable ASCII only. */
int hk_framing_check(const hk_header *h, size_t n, const char *version, hk_reject *rej);

#endif
