/* fuzz_ws.c - the WebSocket frame parser and the WebREPL file header (console/ws.c).
 * The first byte picks a piece size, so frames arrive split at every possible place; the
 * payload seen must never exceed what the frames declared, control payloads never 125 bytes,
 * and once the parser failed it must keep failing. Every 82-byte window is also parsed as a
 * file-protocol header, whose name must come out short, NUL-free and without '/'. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "console/ws.h"

static size_t seen;

static void on_data(void *ctx, int op, const uint8_t *d, size_t n)
{
    (void)ctx;
    (void)d;
    if (op != WS_OP_TEXT && op != WS_OP_BIN)
        abort();
    seen += n;
}

static void on_control(void *ctx, int op, const uint8_t *d, size_t n)
{
    (void)ctx;
    (void)d;
    if (n > 125 || (op != WS_OP_CLOSE && op != WS_OP_PING && op != WS_OP_PONG))
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1 || size > 65536)
        return 0;
    size_t piece = (size_t)data[0] % 17 + 1;
    data++;
    size--;
    uint8_t *buf = malloc(size ? size : 1);
    memcpy(buf, data, size);
    ws_parser p;
    seen = 0;
    ws_init(&p, 300, NULL, on_data, on_control);
    int err = 0;
    for (size_t i = 0; i < size; i += piece) {
        size_t n = size - i < piece ? size - i : piece;
        int rc = ws_feed(&p, buf + i, n);
        if (err && rc != err)
            abort();
        if (rc < 0)
            err = rc;
    }
    if (seen > size)
        abort();
    for (size_t i = 0; i + WR_HDR_SIZE <= size && i < 64; i++) {
        wr_request r;
        if (wr_parse_header(data + i, &r) == 0 && r.type != WR_GET_VER) {
            size_t n = strlen(r.name);
            if (n == 0 || n > 64 || strchr(r.name, '/') || !strcmp(r.name, ".."))
                abort();
        }
    }
    uint8_t h[10];
    char b64[64];
    if (ws_frame_header(h, WS_OP_BIN, size) > 10 || ws_base64(b64, data, size < 20 ? size : 20) > 28)
        abort();
    free(buf);
    return 0;
}
