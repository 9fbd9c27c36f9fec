/* fuzz_framing.c - the request framing check (framing.c) on arbitrary header lines.
 *
 * Input: the request line's version, then header lines "name:value", each ended by a newline
 * (a line without a colon is a name with an empty value). Besides the sanitizers it checks
 * what http.c relies on: an accepted request has at most one Host (one exactly unless
 * HTTP/1.0), not both Content-Length and Transfer-Encoding, at most one Content-Length, of
 * digits, and Transfer-Encoding only as one line "chunked"; a refused one gets 400 or
 * 501 with a message of printable ASCII (it goes into a JSON reply and the log).
 */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "framing.h"

#define MAX_HEADERS 64

static size_t count(const hk_header *h, size_t n, const char *name, const hk_header **last)
{
    size_t c = 0;
    for (size_t i = 0; i < n; i++)
        if (h[i].name_len == strlen(name) && strncasecmp(h[i].name, name, h[i].name_len) == 0)
            c++, *last = &h[i];
    return c;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *buf = malloc(size + 1);
    if (!buf)
        return 0;
    memcpy(buf, data, size);
    buf[size] = '\0';
    char *p = buf, *end = buf + size;
    char *nl = memchr(p, '\n', (size_t)(end - p));
    const char *version = p;
    if (nl) {
        *nl = '\0';
        p = nl + 1;
    } else {
        p = end;
    }
    hk_header h[MAX_HEADERS];
    size_t n = 0;
    while (p < end && n < MAX_HEADERS) {
        nl = memchr(p, '\n', (size_t)(end - p));
        char *line_end = nl ? nl : end;
        char *colon = memchr(p, ':', (size_t)(line_end - p));
        if (colon)
            h[n] = (hk_header){p, (size_t)(colon - p), colon + 1, (size_t)(line_end - colon - 1)};
        else
            h[n] = (hk_header){p, (size_t)(line_end - p), "", 0};
        n++;
        p = nl ? nl + 1 : end;
    }
    hk_reject rej;
    memset(&rej, 0, sizeof rej);
    int rc = hk_framing_check(h, n, version, &rej);
    if (rc == 0) {
        const hk_header *host = NULL, *cl = NULL, *te = NULL;
        size_t hosts = count(h, n, "Host", &host);
        size_t cls = count(h, n, "Content-Length", &cl);
        size_t tes = count(h, n, "Transfer-Encoding", &te);
        if (hosts > 1 || (hosts == 0 && strcmp(version, "HTTP/1.0") != 0))
            __builtin_trap();
        if ((cls && tes) || cls > 1 || tes > 1)
            __builtin_trap();
        if (te && (te->value_len != 7 || strncasecmp(te->value, "chunked", 7) != 0))
            __builtin_trap();
        for (size_t i = 0; cl && i < cl->value_len; i++)
            if (cl->value[i] < '0' || cl->value[i] > '9')
                __builtin_trap();
    } else {
        if (rc != rej.status || (rc != 400 && rc != 501) || !rej.message[0])
            __builtin_trap();
        for (const char *m = rej.message; *m; m++)
            if (*m < 0x20 || *m > 0x7e)
                __builtin_trap();
    }
    free(buf);
    return 0;
}
