/*
 * ws.h - the WebSocket frame parser and writer (RFC 6455) for the WebREPL server, and the
 * WebREPL file-protocol request header. Pure functions over caller-owned state: no hal calls,
 * so the fuzzer (fuzz/fuzz_ws.c) drives them alone.
 *
 * The parser takes bytes as they arrive, in pieces of any size, and hands payload bytes on as
 * they come (unmasked in place), so no frame is ever buffered whole. Frames from the client
 * may be masked (browsers) or not (webrepl_cli.py and MicroPython's own websocket module
 * send unmasked frames); both are accepted. A frame over max_frame bytes is BH_ERR_TOOBIG;
 * reserved bits, unknown opcodes, a fragmented or long control frame, or a continuation with
 * no message are BH_ERR_PROTO. After an error the parser keeps returning it.
 */
#ifndef BH_CONSOLE_WS_H
#define BH_CONSOLE_WS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { WS_OP_CONT = 0, WS_OP_TEXT = 1, WS_OP_BIN = 2, WS_OP_CLOSE = 8, WS_OP_PING = 9,
       WS_OP_PONG = 10 };

typedef struct {
    void *ctx;
    /* payload bytes of a text or binary message (continuations carry the message's type) */
    void (*on_data)(void *ctx, int opcode, const uint8_t *data, size_t len);
    /* a whole control frame: close, ping or pong, payload at most 125 bytes */
    void (*on_control)(void *ctx, int opcode, const uint8_t *data, size_t len);
    uint32_t max_frame;       /* payload cap per frame */
    /* state */
    uint8_t state, hdr[14], hlen, hneed;
    uint8_t opcode, msg_op;   /* msg_op: type of the unfinished fragmented message, or 0 */
    bool fin, masked;
    uint8_t mask[4];
    uint64_t left;            /* payload bytes still to come in this frame */
    uint32_t mpos;            /* payload bytes done, for the mask index */
    uint8_t ctl[125];
    uint8_t ctl_len;
    int error;
} ws_parser;

void ws_init(ws_parser *p, uint32_t max_frame, void *ctx,
             void (*on_data)(void *, int, const uint8_t *, size_t),
             void (*on_control)(void *, int, const uint8_t *, size_t));
/* 0, or BH_ERR_PROTO / BH_ERR_TOOBIG (then the connection should be closed). */
int ws_feed(ws_parser *p, uint8_t *data, size_t len);

/* A server frame's header (FIN set, unmasked) for a payload of len bytes: 2, 4 or 10 bytes
 * written to out. */
size_t ws_frame_header(uint8_t out[10], int opcode, uint64_t len);

/* base64 of in (no line breaks); out needs 4 * ((len + 2) / 3) + 1 bytes. */
size_t ws_base64(char *out, const uint8_t *in, size_t len);

/* ---- WebREPL file protocol: the request header, struct "<2sBBQLH64s" = 82 bytes ---------- */
#define WR_HDR_SIZE 82
enum { WR_PUT_FILE = 1, WR_GET_FILE = 2, WR_GET_VER = 3 };
typedef struct {
    uint8_t type, flags;
    uint64_t offset;
    uint32_t size;
    uint16_t name_len;
    char name[65];            /* NUL-terminated; a leading '/' is removed */
} wr_request;

/* 0, or BH_ERR_PROTO: wrong signature, unknown type, name_len over 64, an empty name or one
 * holding NUL, '/' (after the leading one) or "..". */
int wr_parse_header(const uint8_t h[WR_HDR_SIZE], wr_request *out);

#endif
