/*
 * webrepl.c - MicroPython's WebREPL server (see webrepl.h): one session at a time, served from
 * the console's loop without threads. Wire format: the WebREPL part of docs/console.md.
 */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "console/console.h"
#include "console/webrepl.h"
#include "console/ws.h"
#include "hal/hal.h"
#include "net/wlan.h"

#define SEND_TIMEOUT_MS 5000
/* A get answers each request byte with the next chunk, and keeps this many chunks ahead of the
 * requests: webrepl_cli.py sends each request as a 2-byte frame header and a 1-byte payload in
 * two writes, so Nagle holds the payload until the header is ACKed, and a receiver that delays
 * its ACK (Linux 40 ms, lwIP up to 250 ms) would stall every 256 bytes. Chunks already on
 * their way keep ACKs flowing; the client still reads one chunk per request, in order. 8
 * chunks (2 KB) fit lwIP's default send buffer. */
#define GET_AHEAD 8
#define WR_VERSION_MAJOR 1
#define WR_VERSION_MINOR 20
#define WR_VERSION_MICRO 0

/* WB status codes: errno numbers, as MicroPython's OSError would carry them */
enum { WB_OK = 0, WB_EIO = 5, WB_ENOENT = 2, WB_EINVAL = 22, WB_ENOSPC = 28 };

typedef enum { P_NONE, P_HTTP, P_LOGIN, P_LOCKED, P_ACTIVE } phase_t;
typedef enum { F_HDR, F_PUT, F_GET } fstate_t;

static int listener = -1, client = -1;
static phase_t phase;
static bool closing, in_poll, stop_pending;
static uint32_t last_rx, since, idle_ms;

/* handshake: one header line at a time */
static char hline[128];
static size_t hline_len, hs_total;
static bool hline_over, have_key, first_line, is_get;
static char key[64];

/* login */
static char pw[10];
static size_t pw_len;
static bool pw_over;
static int fails;
static uint32_t answer_at;          /* a held password attempt is answered at this time */

static ws_parser wsp;

/* file protocol */
static fstate_t fstate;
static uint8_t fhdr[WR_HDR_SIZE];
static size_t fhdr_len;
static wr_request req;
static uint32_t put_left, put_off, get_off;
static uint32_t get_sent, get_asked;   /* chunk frames sent (the last one empty), requests read */
static bool get_done;
static int put_err;

static uint8_t rx[512];          /* what arrives */
static uint8_t tx[4 + 2 + 256];  /* one frame to send: header + a GET chunk */

/* ---- settings: webrepl_cfg.py ------------------------------------------------------------- */

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 :
           c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* A Python string literal at s (quotes ' or ", escapes \\ \' \" \n \r \t \xNN) into out. */
static bool parse_pystr(const char *s, const char *end, char *out, size_t cap)
{
    if (s >= end || (*s != '\'' && *s != '"'))
        return false;
    char q = *s++;
    size_t n = 0;
    while (s < end && *s != q) {
        char c = *s++;
        if (c == '\\') {
            if (s >= end)
                return false;
            c = *s++;
            if (c == 'n') c = '\n';
            else if (c == 'r') c = '\r';
            else if (c == 't') c = '\t';
            else if (c == 'x') {
                if (end - s < 2 || hexval(s[0]) < 0 || hexval(s[1]) < 0)
                    return false;
                c = (char)(hexval(s[0]) * 16 + hexval(s[1]));
                s += 2;
            }
        }
        if (n + 1 >= cap)
            return false;
        out[n++] = c;
    }
    if (s >= end)
        return false;
    out[n] = 0;
    return true;
}

int webrepl_cfg_load(webrepl_cfg *c)
{
    char text[128];
    memset(c, 0, sizeof *c);
    int n = hal_fs_read(BH_WEBREPL_FILE, 0, text, sizeof text - 1);
    if (n < 0)
        return n;
    text[n] = 0;
    for (const char *l = text; *l;) {
        const char *e = strchr(l, '\n');
        if (!e)
            e = l + strlen(l);
        if (!strncmp(l, "PASS = ", 7)) {
            char p[sizeof c->pass];
            if (parse_pystr(l + 7, e, p, sizeof p) && strlen(p) >= 4)
                memcpy(c->pass, p, sizeof p);
        } else if (!strncmp(l, "START = True", 12)) {
            c->start = true;
        } else if (!strncmp(l, "IDLE = ", 7)) {
            unsigned long v = 0;
            for (const char *d = l + 7; d < e && *d >= '0' && *d <= '9' && v < 86400; d++)
                v = v * 10 + (unsigned long)(*d - '0');
            c->idle_s = (uint32_t)v;
        }
        l = *e ? e + 1 : e;
    }
    return 0;
}

int webrepl_cfg_save(const webrepl_cfg *c)
{
    char text[112], lit[48];
    wlan_repr_str(lit, sizeof lit, c->pass, strlen(c->pass));
    int n = snprintf(text, sizeof text, "PASS = %s\nSTART = %s\n", lit, c->start ? "True" : "False");
    if (c->idle_s)
        n += snprintf(text + n, sizeof text - (size_t)n, "IDLE = %u\n", (unsigned)c->idle_s);
    return hal_fs_write(BH_WEBREPL_FILE, 0, text, (size_t)n);
}

/* ---- sending ------------------------------------------------------------------------------- */

static void send_raw(const void *b, size_t n)
{
    if (client < 0 || closing)
        return;
    if (hal_tcp_send(client, b, n, SEND_TIMEOUT_MS) < 0)
        closing = true;
}

static void send_frame(int op, const void *data, size_t n)
{
    uint8_t h[10];
    size_t hl = ws_frame_header(h, op, n);
    if (hl + n <= sizeof tx) {
        memcpy(tx, h, hl);
        memcpy(tx + hl, data, n);
        send_raw(tx, hl + n);
    } else {
        send_raw(h, hl);
        send_raw(data, n);
    }
}

static void send_text(const char *s)
{
    send_frame(WS_OP_TEXT, s, strlen(s));
}

static void send_status(int code)
{
    uint8_t wb[4] = {'W', 'B', (uint8_t)code, (uint8_t)(code >> 8)};
    send_frame(WS_OP_BIN, wb, 4);
}

static void send_close(int code)
{
    uint8_t b[2] = {(uint8_t)(code >> 8), (uint8_t)code};
    send_frame(WS_OP_CLOSE, b, 2);
    closing = true;
}

/* A frame built in place in tx: payload at tx + 4 (2-byte length field, up to 264 bytes). */
#define TX_PAYLOAD (sizeof tx - 4)

static void send_tx(int op, size_t n)
{
    uint8_t h[10];
    size_t hl = ws_frame_header(h, op, n);     /* 2 or 4 bytes for n < 65536 */
    memcpy(tx + 4 - hl, h, hl);
    send_raw(tx + 4 - hl, hl + n);
}

void webrepl_write(const char *s, size_t len)
{
    if (phase != P_ACTIVE || client < 0 || closing)
        return;
    /* console lines end in \n; a terminal wants \r\n */
    uint8_t *buf = tx + 4;
    size_t n = 0;
    for (size_t i = 0; i < len; i++) {
        if (n + 2 > TX_PAYLOAD) {
            send_tx(WS_OP_TEXT, n);
            n = 0;
        }
        if (s[i] == '\n' && (i == 0 || s[i - 1] != '\r'))
            buf[n++] = '\r';
        buf[n++] = (uint8_t)s[i];
    }
    if (n)
        send_tx(WS_OP_TEXT, n);
}

/* ---- the session ---------------------------------------------------------------------------- */

static void end_session(void)
{
    if (client >= 0)
        hal_tcp_close(client);
    if (fstate == F_PUT && put_err == 0 && put_left)
        hal_fs_remove(req.name);              /* an upload cut short leaves no half file */
    client = -1;
    phase = P_NONE;
    closing = false;
}

static void on_control(void *ctx, int op, const uint8_t *d, size_t n)
{
    (void)ctx;
    if (op == WS_OP_PING) {
        send_frame(WS_OP_PONG, d, n);
    } else if (op == WS_OP_CLOSE) {
        send_frame(WS_OP_CLOSE, d, n >= 2 ? 2 : 0);
        closing = true;
    }
}

static void handle_header(void);

static void check_password(void)
{
    webrepl_cfg c;
    bool ok = webrepl_cfg_load(&c) == 0 && c.pass[0] && !pw_over;
    size_t plen = strlen(c.pass);
    unsigned diff = plen != pw_len;
    for (size_t i = 0; i < sizeof pw; i++)
        diff |= (unsigned)((i < plen ? c.pass[i] : 0) ^ (i < pw_len ? pw[i] : 0));
    memset(pw, 0, sizeof pw);
    if (ok && diff == 0) {
        fails = 0;
        phase = P_ACTIVE;
        fstate = F_HDR;
        last_rx = hal_millis();               /* the idle time starts now, not before a delay */
        send_text("\r\nWebREPL connected\r\n>>> ");
        hal_report("info", "webrepl", 0, "session logged in");
        if (fhdr_len == WR_HDR_SIZE)
            handle_header();                  /* a request that came during the delay */
        return;
    }
    fails++;
    send_text("\r\nAccess denied\r\n");
    hal_report("info", "webrepl", BH_ERR_STATE, "wrong password");
    send_close(1000);
}

static void login_byte(char c)
{
    if (c == '\r' || c == '\n') {
        if (fails >= 3) {
            /* after 3 wrong ones in a row, each attempt is answered 1 s, 2 s, ... 64 s later */
            uint32_t ms = 1000u << (fails - 3 < 6 ? fails - 3 : 6);
            answer_at = hal_millis() + ms;
            phase = P_LOCKED;
            char t[48];
            snprintf(t, sizeof t, "password attempt held %u ms", (unsigned)ms);
            hal_report("info", "webrepl", BH_ERR_STATE, t);
        } else {
            check_password();
        }
        return;
    }
    if (pw_len < sizeof pw - 1)
        pw[pw_len++] = c;
    else
        pw_over = true;
}

static void finish_put(void)
{
    if (put_err == 0)
        send_status(WB_OK);
    else {
        hal_fs_remove(req.name);
        send_status(put_err == BH_ERR_FULL ? WB_ENOSPC : put_err == BH_ERR_ARG ? WB_EINVAL : WB_EIO);
    }
    fstate = F_HDR;
    fhdr_len = 0;
}

static void handle_header(void)
{
    fhdr_len = 0;
    if (wr_parse_header(fhdr, &req) < 0) {
        send_status(WB_EINVAL);
        return;
    }
    if (req.type == WR_GET_VER) {
        uint8_t v[3] = {WR_VERSION_MAJOR, WR_VERSION_MINOR, WR_VERSION_MICRO};
        send_frame(WS_OP_BIN, v, 3);
    } else if (req.type == WR_PUT_FILE) {
        send_status(WB_OK);
        put_left = req.size;
        put_off = 0;
        put_err = hal_fs_write(req.name, 0, "", 0);  /* create or truncate */
        if (put_err > 0)
            put_err = 0;
        fstate = F_PUT;
        if (put_left == 0)
            finish_put();
    } else {
        int size = hal_fs_size(req.name);
        if (size < 0) {
            send_status(size == BH_ERR_NOENT ? WB_ENOENT : WB_EIO);
            return;
        }
        send_status(WB_OK);
        get_off = get_sent = get_asked = 0;
        get_done = false;
        fstate = F_GET;
    }
}

static void file_bytes(const uint8_t *d, size_t n)
{
    while (n && !closing) {
        size_t take;
        if (fstate == F_HDR) {
            take = WR_HDR_SIZE - fhdr_len;
            if (take > n)
                take = n;
            memcpy(fhdr + fhdr_len, d, take);
            fhdr_len += take;
            if (fhdr_len == WR_HDR_SIZE)
                handle_header();
        } else if (fstate == F_PUT) {
            take = n < put_left ? n : put_left;
            if (put_err == 0) {
                int rc = hal_fs_write(req.name, put_off, d, take);
                if (rc < 0)
                    put_err = rc;
            }
            put_off += (uint32_t)take;
            put_left -= (uint32_t)take;
            if (put_left == 0)
                finish_put();
        } else {
            /* each byte from the client asks for the next chunk: u16 length + up to 256 bytes */
            take = 1;
            if (get_done && *d != 0) {
                fstate = F_HDR;               /* not a request: the next header begins */
                continue;
            }
            get_asked++;
            while (!get_done && get_sent < get_asked + GET_AHEAD - 1 && !closing) {
                uint8_t *chunk = tx + 4;
                int got = hal_fs_read(req.name, get_off, chunk + 2, 256);
                if (got < 0)
                    got = 0;
                chunk[0] = (uint8_t)got;
                chunk[1] = (uint8_t)(got >> 8);
                send_tx(WS_OP_BIN, 2 + (size_t)got);
                get_off += (uint32_t)got;
                get_sent++;
                if (got == 0) {
                    send_status(WB_OK);
                    get_done = true;
                }
            }
            /* the requests for chunks sent ahead are read and dropped */
            if (get_done && get_asked >= get_sent)
                fstate = F_HDR;
        }
        d += take;
        n -= take;
    }
}

static void on_data(void *ctx, int op, const uint8_t *d, size_t n)
{
    (void)ctx;
    for (size_t i = 0; i < n && !closing; i++) {
        if (phase == P_LOGIN) {
            login_byte((char)d[i]);
        } else if (phase == P_ACTIVE) {
            if (op == WS_OP_TEXT) {
                console_feed((const char *)d + i, n - i);
            } else {
                file_bytes(d + i, n - i);
            }
            return;
        }
        /* P_LOCKED: webrepl_cli.py does not wait for "WebREPL connected": its version
         * request follows the password at once, and is kept for after the delay (fhdr is
         * unused until then); typed text is dropped */
        else if (op == WS_OP_BIN && fhdr_len < WR_HDR_SIZE)
            fhdr[fhdr_len++] = d[i];
    }
}

static void handshake_done(void)
{
    if (!have_key) {
        /* a plain GET: the self-contained client page */
        char head[128];
        int n = snprintf(head, sizeof head,
                         "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                         "Content-Length: %u\r\nConnection: close\r\n\r\n", webrepl_page_len);
        if (is_get) {
            send_raw(head, (size_t)n);
            send_raw(webrepl_page, webrepl_page_len);
        } else {
            static const char no[] = "HTTP/1.1 405 Method Not Allowed\r\nAllow: GET\r\n"
                                     "Content-Length: 0\r\nConnection: close\r\n\r\n";
            send_raw(no, sizeof no - 1);
        }
        closing = true;
        return;
    }
    static const char guid[] = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11";
    char both[64 + sizeof guid];
    uint8_t digest[20];
    char accept[32];
    size_t kl = strlen(key);
    memcpy(both, key, kl);
    memcpy(both + kl, guid, sizeof guid);
    if (hal_sha1(both, kl + sizeof guid - 1, digest) < 0) {
        closing = true;
        return;
    }
    ws_base64(accept, digest, sizeof digest);
    char resp[160];
    int n = snprintf(resp, sizeof resp,
                     "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                     "Connection: Upgrade\r\nSec-WebSocket-Accept: %s\r\n\r\n", accept);
    send_raw(resp, (size_t)n);
    ws_init(&wsp, BH_WS_FRAME_MAX, NULL, on_data, on_control);
    phase = P_LOGIN;
    pw_len = 0;
    pw_over = false;
    send_text("Password: ");
}

static bool prefix_ci(const char *s, const char *p)
{
    for (; *p; s++, p++) {
        char a = *s >= 'A' && *s <= 'Z' ? (char)(*s + 32) : *s;
        if (a != *p)
            return false;
    }
    return true;
}

/* Handshake bytes; returns how many were used (the rest are WebSocket frames). */
static size_t handshake_bytes(const uint8_t *d, size_t n)
{
    size_t i = 0;
    while (i < n && phase == P_HTTP && !closing) {
        char c = (char)d[i++];
        if (++hs_total > BH_WS_HANDSHAKE_MAX) {
            closing = true;
            break;
        }
        if (c == '\r')
            continue;
        if (c != '\n') {
            if (hline_len < sizeof hline - 1)
                hline[hline_len++] = c;
            else
                hline_over = true;
            continue;
        }
        hline[hline_len] = 0;
        if (first_line) {
            is_get = !strncmp(hline, "GET ", 4);
            first_line = false;
        }
        if (hline_len == 0) {
            handshake_done();
        } else if (!hline_over && prefix_ci(hline, "sec-websocket-key:")) {
            const char *v = hline + 18;
            while (*v == ' ' || *v == '\t')
                v++;
            size_t vl = strlen(v);
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t'))
                vl--;
            if (vl > 0 && vl < sizeof key) {
                memcpy(key, v, vl);
                key[vl] = 0;
                have_key = true;
            }
        }
        hline_len = 0;
        hline_over = false;
    }
    return i;
}

static void session_bytes(uint8_t *d, size_t n)
{
    last_rx = hal_millis();
    if (phase == P_HTTP) {
        size_t used = handshake_bytes(d, n);
        d += used;
        n -= used;
    }
    if (n && !closing && phase >= P_LOGIN) {
        int rc = ws_feed(&wsp, d, n);
        if (rc < 0 && !closing)
            send_close(rc == BH_ERR_TOOBIG ? 1009 : 1002);
    }
}

/* A second client while a session is open: told so, and closed. */
static void reject(int s)
{
    static const char busy[] =
        "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: 35\r\n"
        "Connection: close\r\n\r\nWebREPL: another session is active\n";
    uint8_t junk[64];
    hal_tcp_recv(s, junk, sizeof junk, 200);
    hal_tcp_send(s, busy, sizeof busy - 1, 1000);
    hal_tcp_close(s);
    hal_report("info", "webrepl", BH_ERR_STATE, "concurrent connection rejected");
}

/* "WebREPL daemon started on ws://192.168.4.1:8266", for each interface with an address */
static void announce(void)
{
    char ip[16];
    hal_ipcfg c;
    for (int ifc = WLAN_STA; ifc <= WLAN_AP; ifc++)
        if (wlan_active(ifc) == 1 && wlan_isconnected(WLAN_STA) + ifc > 0 &&
            wlan_ifconfig(ifc, &c) >= 0 && c.ip) {
            wlan_fmt_ip(ip, sizeof ip, c.ip);
            bh_printf("WebREPL daemon started on ws://%s:%d\n", ip, BH_WEBREPL_PORT);
        }
}

static bool wanted;
static uint32_t last_try;

static int try_listen(void)
{
    last_try = hal_millis();
    int s = hal_tcp_listen(BH_WEBREPL_PORT);
    if (s < 0)
        return s;
    listener = s;
    announce();
    return 0;
}

int webrepl_start(void)
{
    webrepl_cfg c;
    if (webrepl_cfg_load(&c) < 0 || !c.pass[0])
        return BH_ERR_STATE;
    if (listener >= 0)
        return 0;
    /* without an address yet (the station still joining), it starts once there is one */
    wanted = true;
    return try_listen();
}

void webrepl_stop(void)
{
    if (in_poll) {
        stop_pending = true;
        closing = true;
        return;
    }
    if (client >= 0)
        end_session();
    if (listener >= 0)
        hal_tcp_close(listener);
    listener = -1;
    wanted = false;
    stop_pending = false;
}

void webrepl_boot(void)
{
    listener = client = -1;
    phase = P_NONE;
    closing = in_poll = stop_pending = wanted = false;
    fails = 0;
}

bool webrepl_running(void)
{
    return listener >= 0;
}

/* The connection's traffic: what has arrived (a bounded amount per turn), the held password
 * attempt, the timeouts. */
static void serve_client(void)
{
    if (phase == P_LOCKED && (int32_t)(hal_millis() - answer_at) >= 0)
        check_password();
    for (int turn = 0; client >= 0 && !closing && turn < 64; turn++) {
        int n = hal_tcp_recv(client, rx, sizeof rx, 0);
        if (n == BH_ERR_TIMEOUT)
            break;
        if (n <= 0) {
            closing = true;
            break;
        }
        session_bytes(rx, (size_t)n);
    }
    if (!closing) {
        uint32_t now = hal_millis();
        uint32_t login = idle_ms < BH_WEBREPL_LOGIN_MS ? idle_ms : BH_WEBREPL_LOGIN_MS;
        if (phase == P_ACTIVE ? now - last_rx >= idle_ms
                              : now - since >= login && phase != P_LOCKED) {
            if (phase >= P_LOGIN)
                send_close(1000);
            hal_report("info", "webrepl", BH_ERR_TIMEOUT, "idle session closed");
            closing = true;
        }
    }
    if (closing)
        end_session();
}

void webrepl_poll(uint32_t wait_ms)
{
    if (listener < 0 && wanted && hal_millis() - last_try >= 1000)
        try_listen();
    if (listener < 0)
        return;
    in_poll = true;
    /* the open connection first: a client that closed and at once connects again (a script
     * copying files one after another) finds its old session ended, not a busy answer */
    if (client >= 0)
        serve_client();
    int s = hal_tcp_accept(listener, client >= 0 ? 0 : wait_ms);
    if (s >= 0) {
        if (client >= 0)
            serve_client();                   /* its end may have come with the new one */
        if (client >= 0) {
            reject(s);
        } else {
            webrepl_cfg c;
            client = s;
            phase = P_HTTP;
            fstate = F_HDR;
            fhdr_len = 0;
            closing = false;
            hline_len = hs_total = 0;
            hline_over = have_key = false;
            first_line = true;
            since = last_rx = hal_millis();
            idle_ms = webrepl_cfg_load(&c) == 0 && c.idle_s ? c.idle_s * 1000u : BH_WEBREPL_IDLE_MS;
            serve_client();
        }
    }
    in_poll = false;
    if (stop_pending)
        webrepl_stop();
}
