/* fuzz_webrepl_session.c - the whole WebREPL server (console/webrepl.c with ws.c and the
 * console behind it) driven through the test board's sockets: handshake, frames, login, the
 * console, the file protocol, timeouts, one connection after another.
 *
 * Input: byte 0 is the most a client's bytes arrive per recv (0: all at once), byte 1's low
 * bit leaves the connections open at the end (else each closes once its bytes are sent); the
 * rest is what up to 5 clients send, in turn, separated by "\n~~\n" (each is served 1.2 s
 * of the fake clock: enough for the first delayed password answer, after 3 wrong ones).
 *
 * Checked for every connection: what the board sent begins with an HTTP status line; after a
 * 101 it is well-formed server frames (unmasked, final, known opcodes); and "WebREPL connected"
 * only ever follows a client whose first WebSocket payload bytes are the password. */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "console/console.h"
#include "console/webrepl.h"
#include "console/ws.h"
#include "net/wlan.h"
#include "testboard.h"

#define PASSWORD "secret1"
#define MAX_CLIENTS 5

static uint8_t payload[TB_IO_MAX];
static size_t payload_len;
static int frame_err;

static void keep_payload(void *ctx, int op, const uint8_t *d, size_t n)
{
    (void)ctx;
    (void)op;
    if (n > sizeof payload - payload_len)
        n = sizeof payload - payload_len;
    memcpy(payload + payload_len, d, n);
    payload_len += n;
}

static void any_control(void *ctx, int op, const uint8_t *d, size_t n)
{
    (void)ctx;
    (void)op;
    (void)d;
    (void)n;
}

/* Where the server's handshake reader ends the request: at the first line that is empty once
 * '\r' is ignored (webrepl.c's handshake_bytes); 0 if it does not end within its cap. */
static size_t handshake_end(const uint8_t *d, size_t n)
{
    size_t line = 0;
    for (size_t i = 0; i < n && i < BH_WS_HANDSHAKE_MAX; i++) {
        if (d[i] == '\r')
            continue;
        if (d[i] != '\n')
            line++;
        else if (line == 0)
            return i + 1;
        else
            line = 0;
    }
    return 0;
}

/* The server's frames after its 101: all final, unmasked, of known types; returns whether a
 * text frame said "WebREPL connected". */
static int check_server_frames(const uint8_t *s, size_t n)
{
    int connected = 0;
    while (n) {
        if (n < 2)
            abort();
        int op = s[0] & 15;
        if ((s[0] & 0xf0) != 0x80 || (s[1] & 0x80))
            abort();
        if (op != WS_OP_TEXT && op != WS_OP_BIN && op != WS_OP_CLOSE && op != WS_OP_PONG)
            abort();
        size_t len = s[1] & 127, hl = 2;
        if (len == 126) {
            if (n < 4)
                abort();
            len = (size_t)s[2] << 8 | s[3];
            hl = 4;
        } else if (len == 127) {
            abort();                             /* never more than 64 KB a frame */
        }
        if (n < hl + len)
            abort();
        static const char msg[] = "WebREPL connected";
        if (op == WS_OP_TEXT && len >= sizeof msg - 1)
            for (size_t i = 0; i + sizeof msg - 1 <= len; i++)
                if (memcmp(s + hl + i, msg, sizeof msg - 1) == 0)
                    connected = 1;
        s += hl + len;
        n -= hl + len;
    }
    return connected;
}

static void check_client(const tb_peer *p, const uint8_t *in, size_t in_len)
{
    if (p->sent_len == 0)
        return;
    if (p->sent_len < 9 || memcmp(p->sent, "HTTP/1.1 ", 9) != 0)
        abort();
    static const char up[] = "HTTP/1.1 101 ";
    if (memcmp(p->sent, up, sizeof up - 1) != 0)
        return;
    const char *end = strstr(p->sent, "\r\n\r\n");
    if (!end)
        abort();
    size_t at = (size_t)(end + 4 - p->sent);
    if (!check_server_frames((const uint8_t *)p->sent + at, p->sent_len - at))
        return;
    /* logged in: the client's first payload bytes must be the password and a line end */
    size_t hs = handshake_end(in, in_len);
    if (hs == 0)
        abort();
    static uint8_t copy[TB_IO_MAX];
    memcpy(copy, in + hs, in_len - hs);
    ws_parser wp;
    payload_len = 0;
    ws_init(&wp, 1u << 20, NULL, keep_payload, any_control);
    frame_err = ws_feed(&wp, copy, in_len - hs);
    (void)frame_err;
    if (payload_len < sizeof PASSWORD || memcmp(payload, PASSWORD, sizeof PASSWORD - 1) != 0 ||
        (payload[sizeof PASSWORD - 1] != '\r' && payload[sizeof PASSWORD - 1] != '\n'))
        abort();
}

static uint8_t in[MAX_CLIENTS][TB_IO_MAX + 1];   /* + NUL: the test board takes strlen of "" */
static size_t in_len[MAX_CLIENTS];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 3 * 4096)
        return 0;
    size_t chunk = data[0] % 65;
    int stall = data[1] & 1;
    data += 2;
    size -= 2;

    /* split into clients */
    int nc = 0;
    size_t pos = 0;
    while (nc < MAX_CLIENTS) {
        size_t end = size;
        for (size_t i = pos; nc < MAX_CLIENTS - 1 && i + 4 <= size; i++)
            if (memcmp(data + i, "\n~~\n", 4) == 0) {
                end = i;
                break;
            }
        size_t n = end - pos < TB_IO_MAX ? end - pos : TB_IO_MAX;
        memcpy(in[nc], data + pos, n);
        in[nc][n] = 0;
        in_len[nc++] = n;
        if (end == size)
            break;
        pos = end + 4;
    }

    webrepl_boot();
    tb_reset();
    tb_fs_capacity = 8 * 1024;               /* a full flash is part of the game */
    tb_fs_put("config.py", "WIFI_SSID = 'home-net'\nWIFI_PASSWORD = 'correct horse'\n");
    tb_fs_put(BH_WEBREPL_FILE, "PASS = '" PASSWORD "'\nSTART = True\n");
    tb_fs_put("a.txt", "the quick brown fox jumps over the lazy dog\n");
    wlan_init();
    if (setjmp(tb_exit) == 0) {
        console_init();
        for (int c = 0; c < nc; c++) {
            tb_peer *p = tb_add_client((const char *)in[c], in_len[c]);
            if (!p)
                break;
            p->chunk = chunk;
            p->stall = stall;
            for (int turn = 0; turn < 120; turn++)
                console_poll(10);
        }
    }
    /* a reset or deep sleep typed into the console ends the run where it was */
    for (int c = 0; c < tb_npeers && c < nc; c++)
        check_client(&tb_peers[c], in[c], in_len[c]);
    webrepl_boot();
    return 0;
}
