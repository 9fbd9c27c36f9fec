/* ws.c - WebSocket frames and the WebREPL file header (see ws.h). */
#include <string.h>

#include "console/ws.h"
#include "hal/hal.h"

enum { S_HDR = 0, S_PAYLOAD = 1, S_ERROR = 2 };

void ws_init(ws_parser *p, uint32_t max_frame, void *ctx,
             void (*on_data)(void *, int, const uint8_t *, size_t),
             void (*on_control)(void *, int, const uint8_t *, size_t))
{
    memset(p, 0, sizeof *p);
    p->max_frame = max_frame;
    p->ctx = ctx;
    p->on_data = on_data;
    p->on_control = on_control;
    p->hneed = 2;
}

static int fail(ws_parser *p, int err)
{
    p->state = S_ERROR;
    p->error = err;
    return err;
}

static void frame_done(ws_parser *p)
{
    if (p->opcode >= WS_OP_CLOSE) {
        if (p->on_control)
            p->on_control(p->ctx, p->opcode, p->ctl, p->ctl_len);
    } else if (p->fin) {
        p->msg_op = 0;
    }
    p->state = S_HDR;
    p->hlen = 0;
    p->hneed = 2;
}

/* The header is complete: check it and start the payload. */
static int header_done(ws_parser *p)
{
    const uint8_t *h = p->hdr;
    p->fin = (h[0] & 0x80) != 0;
    p->opcode = h[0] & 0x0f;
    if (h[0] & 0x70)
        return fail(p, BH_ERR_PROTO);           /* no extension was negotiated */
    uint64_t len = h[1] & 0x7f;
    size_t at = 2;
    if (len == 126) {
        len = (uint64_t)h[2] << 8 | h[3];
        at = 4;
    } else if (len == 127) {
        len = 0;
        for (int i = 0; i < 8; i++)
            len = len << 8 | h[2 + i];
        if (len >> 63)
            return fail(p, BH_ERR_PROTO);
        at = 10;
    }
    if (p->masked)
        memcpy(p->mask, h + at, 4);
    switch (p->opcode) {
    case WS_OP_CONT:
        if (!p->msg_op)
            return fail(p, BH_ERR_PROTO);
        break;
    case WS_OP_TEXT:
    case WS_OP_BIN:
        if (p->msg_op)
            return fail(p, BH_ERR_PROTO);       /* a new message inside a fragmented one */
        p->msg_op = p->opcode;
        break;
    case WS_OP_CLOSE:
    case WS_OP_PING:
    case WS_OP_PONG:
        if (!p->fin || len > 125)
            return fail(p, BH_ERR_PROTO);
        break;
    default:
        return fail(p, BH_ERR_PROTO);
    }
    if (len > p->max_frame)
        return fail(p, BH_ERR_TOOBIG);
    p->left = len;
    p->mpos = 0;
    p->ctl_len = 0;
    p->state = S_PAYLOAD;
    if (len == 0)
        frame_done(p);
    return 0;
}

int ws_feed(ws_parser *p, uint8_t *data, size_t len)
{
    size_t i = 0;
    while (i < len) {
        if (p->state == S_ERROR)
            return p->error;
        if (p->state == S_HDR) {
            p->hdr[p->hlen++] = data[i++];
            if (p->hlen == 2) {
                uint8_t l7 = p->hdr[1] & 0x7f;
                p->masked = (p->hdr[1] & 0x80) != 0;
                p->hneed = (uint8_t)(2 + (l7 == 126 ? 2 : l7 == 127 ? 8 : 0) + (p->masked ? 4 : 0));
            }
            if (p->hlen == p->hneed) {
                int rc = header_done(p);
                if (rc < 0)
                    return rc;
            }
            continue;
        }
        size_t n = len - i;
        if (n > p->left)
            n = (size_t)p->left;
        uint8_t *d = data + i;
        if (p->masked)
            for (size_t k = 0; k < n; k++)
                d[k] ^= p->mask[(p->mpos + k) & 3];
        if (p->opcode >= WS_OP_CLOSE) {
            memcpy(p->ctl + p->ctl_len, d, n);   /* left <= 125 - ctl_len */
            p->ctl_len = (uint8_t)(p->ctl_len + n);
        } else if (n && p->on_data) {
            p->on_data(p->ctx, p->msg_op, d, n);
        }
        p->mpos += (uint32_t)n;
        p->left -= n;
        i += n;
        if (p->left == 0)
            frame_done(p);
    }
    return p->state == S_ERROR ? p->error : 0;
}

size_t ws_frame_header(uint8_t out[10], int opcode, uint64_t len)
{
    out[0] = (uint8_t)(0x80 | (opcode & 0x0f));
    if (len < 126) {
        out[1] = (uint8_t)len;
        return 2;
    }
    if (len <= 0xffff) {
        out[1] = 126;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
        return 4;
    }
    out[1] = 127;
    for (int i = 0; i < 8; i++)
        out[2 + i] = (uint8_t)(len >> (56 - 8 * i));
    return 10;
}

size_t ws_base64(char *out, const uint8_t *in, size_t len)
{
    static const char tab[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < len) v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < len) v |= in[i + 2];
        out[o++] = tab[v >> 18 & 63];
        out[o++] = tab[v >> 12 & 63];
        out[o++] = i + 1 < len ? tab[v >> 6 & 63] : '=';
        out[o++] = i + 2 < len ? tab[v & 63] : '=';
    }
    out[o] = 0;
    return o;
}

static uint32_t le32(const uint8_t *b)
{
    return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

int wr_parse_header(const uint8_t h[WR_HDR_SIZE], wr_request *out)
{
    memset(out, 0, sizeof *out);
    if (h[0] != 'W' || h[1] != 'A')
        return BH_ERR_PROTO;
    out->type = h[2];
    out->flags = h[3];
    out->offset = (uint64_t)le32(h + 8) << 32 | le32(h + 4);
    out->size = le32(h + 12);
    out->name_len = (uint16_t)(h[16] | h[17] << 8);
    if (out->type < WR_PUT_FILE || out->type > WR_GET_VER)
        return BH_ERR_PROTO;
    if (out->type == WR_GET_VER)
        return 0;
    if (out->name_len == 0 || out->name_len > 64)
        return BH_ERR_PROTO;
    const char *name = (const char *)h + 18;
    size_t n = out->name_len;
    if (name[0] == '/') {
        name++;
        n--;
    }
    if (n == 0 || memchr(name, 0, n) || memchr(name, '/', n) ||
        (n == 1 && name[0] == '.') || (n == 2 && name[0] == '.' && name[1] == '.'))
        return BH_ERR_PROTO;
    memcpy(out->name, name, n);
    out->name[n] = 0;
    return 0;
}
