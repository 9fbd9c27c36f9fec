/* test_framing.c - the request framing check (framing.c): which header lines a request may
 * have before hookd reads its body, and the status and message of each refusal. */
#include <stdio.h>
#include <string.h>

#include "check.h"
#include "framing.h"

/* "Name: value" lines, NULL-ended, into h; returns the count */
static size_t headers(hk_header *h, const char *const *lines)
{
    size_t n = 0;
    for (; lines[n]; n++) {
        const char *colon = strchr(lines[n], ':');
        const char *v = colon + 1;
        while (*v == ' ')
            v++;   /* as libmicrohttpd gives values: leading spaces gone */
        h[n] = (hk_header){lines[n], (size_t)(colon - lines[n]), v, strlen(v)};
    }
    return n;
}

static void expect(const char *version, const char *const *lines, int status,
                   const char *message_part)
{
    hk_header h[16];
    size_t n = headers(h, lines);
    hk_reject rej = {0, ""};
    int rc = hk_framing_check(h, n, version, &rej);
    CHECK(rc == status, "%s %s...: got %d (%s), want %d", version, lines[0] ? lines[0] : "",
          rc, rej.message, status);
    if (status)
        CHECK(rej.status == status && strstr(rej.message, message_part), "message \"%s\"",
              rej.message);
}

#define L(...) ((const char *const[]){__VA_ARGS__, NULL})

int main(void)
{
    /* well framed */
    expect("HTTP/1.1", L("Host: h", "Content-Length: 12"), 0, NULL);
    expect("HTTP/1.1", L("Host: h", "Transfer-Encoding: chunked"), 0, NULL);
    expect("HTTP/1.1", L("Host: h", "transfer-encoding: Chunked"), 0, NULL);
    expect("HTTP/1.1", L("Host: h"), 0, NULL);
    expect("HTTP/1.0", L("Content-Length: 0"), 0, NULL);

    /* ambiguous lengths */
    expect("HTTP/1.1", L("Host: h", "Content-Length: 5", "Transfer-Encoding: chunked"), 400,
           "both Content-Length and Transfer-Encoding");
    expect("HTTP/1.1", L("Host: h", "Content-Length: 5", "Content-Length: 50"), 400,
           "more than one Content-Length");
    expect("HTTP/1.1", L("Host: h", "Content-Length: 5", "content-length: 5"), 400,
           "more than one Content-Length");
    expect("HTTP/1.1", L("Host: h", "Content-Length: 5, 5"), 400, "Content-Length \"5, 5\"");
    expect("HTTP/1.1", L("Host: h", "Content-Length: -1"), 400, "must be a number");
    expect("HTTP/1.1", L("Host: h", "Transfer-Encoding: chunked", "Transfer-Encoding: chunked"),
           400, "chunked more than once");
    expect("HTTP/1.1", L("Host: h", "Transfer-Encoding: chunked, chunked"), 400,
           "chunked more than once");
    expect("HTTP/1.1", L("Host: h", "Transfer-Encoding: chunked "), 400, "exactly \"chunked\"");
    expect("HTTP/1.1", L("Host: h", "Transfer-Encoding: chunked;x=1"), 400,
           "exactly \"chunked\"");
    expect("HTTP/1.0", L("Transfer-Encoding: chunked"), 400, "HTTP/1.0");

    /* not implemented: 501 whatever else is wrong */
    expect("HTTP/1.1", L("Host: h", "Transfer-Encoding: gzip, chunked"), 501,
           "\"gzip\" is not implemented");
    expect("HTTP/1.1", L("Host: h", "Transfer-Encoding: identity"), 501, "\"identity\"");
    expect("HTTP/1.1", L("Host: h", "Transfer-Encoding: chunked", "Transfer-Encoding: br"),
           501, "\"br\"");

    /* Host */
    expect("HTTP/1.1", L("Content-Length: 0"), 400, "must have a Host header");
    expect("HTTP/1.1", L("Host: a", "host: b"), 400, "more than one Host");

    /* names and values */
    expect("HTTP/1.1", L("Host: h", "Transfer-Encoding : chunked"), 400,
           "header name \"Transfer-Encoding \" is not a token");
    expect("HTTP/1.1", L("Host: h", "X-A: a\rb"), 400, "X-A: a control character");
    /* what the client sent is quoted cut short, with '"' and '\\' as '?' */
    expect("HTTP/1.1", L("Host: h", "Transfer-Encoding: a\"b"), 501, "\"a?b\"");
    expect("HTTP/1.1",
           L("Host: h", "Transfer-Encoding: zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz"),
           501, "\"zzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzzz...\"");

    printf("%d checks, %d failures\n", checks, failures);
    return failures != 0;
}
