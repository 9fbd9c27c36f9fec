/*
 * http.h - an HTTP/1.1 client for the board (what MicroPython's urequests does, plus chunked
 * bodies, timeouts, distinct errors and certificate checks), and its response parser.
 *
 * One request at a time, no heap: the request is built in a static buffer of BH_HTTP_REQ_MAX
 * bytes and sent with one hal_tcp_send(); the response lands in the caller's http_response,
 * whose header and body buffers are capped by bh_opts.h.
 *
 *   static http_response resp;
 *   http_request req = {.method = "POST", .url = url, .body = json, .body_len = n,
 *                       .content_type = "application/json"};
 *   if (http_do(&req, &resp) < 0)
 *       print resp.error      e.g. "POST http://127.0.0.1:9/x: connect: connection refused"
 *   else if (resp.status >= 400)
 *       print resp.status, resp.reason
 *
 * http_do() returns 0 whenever a response arrived, whatever its status: a 500 is the server's
 * answer, not a failure of the client. On failure it returns a negative bh_err:
 *   BH_ERR_ARG, _UNSUPPORTED, _TOOBIG  the URL or request is unusable (nothing was sent)
 *   BH_ERR_DNS      the host name could not be resolved
 *   BH_ERR_REFUSED, BH_ERR_UNREACH, BH_ERR_NOLINK   no connection
 *   BH_ERR_TIMEOUT  connect_timeout_ms for one connection, or total_timeout_ms overall
 *   BH_ERR_TLS, BH_ERR_CERT   https handshake; the certificate must be valid for the host
 *   BH_ERR_RESET    the server closed the connection before the response was complete
 *   BH_ERR_PROTO    the response is malformed, or more redirects than allowed
 *   BH_ERR_TOOBIG   response headers over BH_HTTP_HDR_MAX or body over BH_HTTP_BODY_MAX
 *                   (resp.status is still set when the status line was read)
 * and resp.error says which step failed and why: "METHOD URL: step: what", step being one of
 * url, request, dns, connect, tls, send, receive, redirect.
 * Every call leaves one hal_report("http", "METHOD URL", status or error, reason or error).
 */
#ifndef BH_NET_HTTP_H
#define BH_NET_HTTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bh_opts.h"

#define HTTP_NO_REDIRECTS (-1)   /* for http_request.max_redirects */

typedef struct {
    const char *name, *value;
} http_header;

typedef struct {
    const char *method;          /* GET POST PUT PATCH DELETE HEAD; NULL: GET */
    const char *url;             /* http://... or https://... */
    const char *body;            /* may hold any bytes; NULL: none */
    size_t body_len;
    const char *content_type;    /* e.g. "application/json"; NULL: no Content-Type */
    const http_header *headers;  /* extra headers; a User-Agent here replaces ours */
    int nheaders;
    const char *ca_file;         /* https: flash file of PEM CAs; NULL: the board's bundle */
    uint32_t connect_timeout_ms; /* 0: BH_HTTP_CONNECT_TIMEOUT_MS, for each connection */
    uint32_t total_timeout_ms;   /* 0: BH_HTTP_TOTAL_TIMEOUT_MS, for everything */
    int max_redirects;           /* 0: BH_HTTP_MAX_REDIRECTS; HTTP_NO_REDIRECTS: a 3xx is
                                    returned as the response */
    /* resolves host names; NULL: hal_dns_lookup (the app passes one with a cache) */
    int (*resolve)(const char *host, uint32_t *ip, uint32_t timeout_ms);
    bool status_only;            /* stop after the status line and headers: the body is
                                    neither read nor waited for (saves radio time) */
    bool tls_resume;             /* https: keep and resume the TLS session (hal_tls_params) */
} http_request;

typedef struct {
    int status;                  /* 0 until a status line was read */
    char reason[64];             /* "OK", "Not Found"; cut to fit */
    char headers[BH_HTTP_HDR_MAX]; /* "name\0value\0" pairs: use http_header_get/next */
    size_t headers_len;
    char body[BH_HTTP_BODY_MAX + 1]; /* NUL-terminated for convenience */
    size_t body_len;
    char url[BH_URL_MAX];        /* the URL that answered, after redirects */
    int redirects;               /* redirects followed */
    char error[BH_HTTP_ERR_MAX]; /* on failure: "METHOD URL: step: what" */
    uint32_t bytes_sent, bytes_received, elapsed_ms;   /* over all redirects */
} http_response;

/* Sends req and reads the answer into resp (which it clears first). See above. */
int http_do(const http_request *req, http_response *resp);

/* A response header's value (first one with that name, any case), or NULL. */
const char *http_header_get(const http_response *resp, const char *name);

/* Walks the headers in order: size_t pos = 0; while (http_header_next(r, &pos, &n, &v)) */
bool http_header_next(const http_response *resp, size_t *pos, const char **name,
                      const char **value);

/* ---- The response parser, usable on its own (the fuzzer drives it without a network) ----
 * Feed it whatever arrives, in pieces of any size; it never reads or writes past its
 * buffers. Line ends may be CRLF or LF; obsolete folded header lines are joined with a space.
 * 1xx interim responses (100 Continue) are skipped; HEAD responses and 204 / 304 have no
 * body; Transfer-Encoding: chunked (extensions and trailers skipped) wins over
 * Content-Length; with neither, the body runs to the end of the connection. */
enum { HTTP_PARSE_MORE = 0, HTTP_PARSE_DONE = 1 };

typedef struct {
    http_response *r;
    bool head, status_only, chunked;
    uint8_t state;
    uint8_t interim;             /* 1xx responses skipped so far */
    size_t line_len;             /* current line, held in r->headers after the stored ones */
    size_t raw_len;              /* bytes of status line and headers (cap BH_HTTP_HDR_MAX) */
    size_t aux;                  /* chunk-size digits, or trailer bytes */
    uint32_t left;               /* body or chunk bytes still to come */
    int result;                  /* once finished: HTTP_PARSE_DONE or a negative bh_err */
    bool cr;                     /* a CR was seen; a LF must follow */
    bool skip_redirect_body;     /* done at the headers of a 3xx with a Location */
} http_parser;

/* Starts a response. head_request: the request was HEAD (no body follows). status_only: stop
 * after the headers. */
void http_parse_init(http_parser *p, http_response *r, bool head_request, bool status_only);

/* HTTP_PARSE_MORE, HTTP_PARSE_DONE (bytes after the response are ignored), or a negative
 * bh_err (BH_ERR_PROTO, BH_ERR_TOOBIG) with the reason in r->error. Once it returned DONE or
 * an error, it keeps returning that. */
int http_parse_feed(http_parser *p, const char *data, size_t len);

/* The server closed the connection: DONE if that ends the response (a body read to the end),
 * BH_ERR_RESET if it came too early. */
int http_parse_end(http_parser *p);

#endif
