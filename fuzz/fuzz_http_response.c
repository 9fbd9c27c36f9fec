/* fuzz_http_response.c - the response parser on arbitrary bytes, fed whole and then in
 * random pieces: both must give the same answer, and nothing may be read or written past a
 * buffer. The first byte picks HEAD / status-only and seeds the split points. */
#include <stdint.h>
#include <string.h>

#include "hal/hal.h"
#include "net/http.h"

static http_response whole, split;

static int run(http_response *r, const uint8_t *d, size_t n, uint8_t mode, int pieces)
{
    http_parser p;
    http_parse_init(&p, r, mode & 1, (mode & 2) != 0);
    p.skip_redirect_body = (mode & 4) != 0;
    uint32_t rnd = 0x9e3779b9u * (uint32_t)(mode | 1);
    size_t i = 0;
    int rc = HTTP_PARSE_MORE;
    while (i < n && rc == HTTP_PARSE_MORE) {
        size_t k = n - i;
        if (pieces) {
            rnd = rnd * 1103515245u + 12345u;
            k = 1 + (rnd >> 16) % (mode & 8 ? 3 : 64);
            if (k > n - i)
                k = n - i;
        }
        rc = http_parse_feed(&p, (const char *)d + i, k);
        i += k;
    }
    if (rc == HTTP_PARSE_MORE)
        rc = http_parse_end(&p);
    if (rc != HTTP_PARSE_DONE && (rc >= 0 || !r->error[0]))
        __builtin_trap();   /* an error always comes with a message */
    if (r->body_len > BH_HTTP_BODY_MAX || r->body[r->body_len] != 0 ||
        r->headers_len > sizeof r->headers || strlen(r->reason) >= sizeof r->reason)
        __builtin_trap();
    size_t pos = 0;
    const char *name, *value;
    while (http_header_next(r, &pos, &name, &value))
        if (!name[0] || pos > r->headers_len)
            __builtin_trap();
    return rc;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    int a = run(&whole, data + 1, size - 1, mode, 0);
    int b = run(&split, data + 1, size - 1, mode, 1);
    if (a != b || whole.status != split.status || whole.body_len != split.body_len ||
        memcmp(whole.body, split.body, whole.body_len) != 0 ||
        whole.headers_len != split.headers_len ||
        memcmp(whole.headers, split.headers, whole.headers_len) != 0 ||
        strcmp(whole.reason, split.reason) != 0 ||
        (a < 0 && strcmp(whole.error, split.error) != 0))
        __builtin_trap();
    return 0;
}
