/* test_console.c - the console and WebREPL on the test board (fake clock, scripted clients). */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "console/console.h"
#include "console/webrepl.h"
#include "console/ws.h"
#include "net/wlan.h"
#include "testboard.h"

static void board(void)
{
    webrepl_stop();
    tb_reset();
    tb_home(TB_CONFIG, TB_IP_HOOK);
    wlan_init();
    if (setjmp(tb_exit) == 0)
        console_init();
}

/* Types a line and runs the console until it is used up; returns what it printed. */
static const char *con(const char *line)
{
    size_t mark = tb_console_len;
    char buf[512];
    snprintf(buf, sizeof buf, "%s\r", line);
    tb_console_input(buf);
    if (setjmp(tb_exit) == 0)
        while (console_poll(10) > 0) {
        }
    return tb_console + mark;
}

static void test_help_and_errors(void)
{
    board();
    CHECK(strstr(tb_console, "buttonhook console; type help\n>>> "));
    const char *o = con("help");
    CHECK(strncmp(o, "help\n", 5) == 0);
    static const char *const words[] = {"wlan sta|ap", "ifconfig", "config KEY", "scan",
        "connect SSID", "isconnected", "status", "http get URL", "http post URL", "reset_cause",
        "deepsleep", "reset", "pin N", "rtc read", "ls", "cat FILE", "rm FILE", "connect_wifi",
        "call_webhook", "run", "webrepl_setup"};
    for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
        CHECK(strstr(o, words[i]));
    CHECK_STR(con("frobnicate 1 2"),
              "frobnicate 1 2\nerror: unknown command or arguments: frobnicate (type help)\n>>> ");
    CHECK_STR(con("wlan"), "wlan\nusage: " "wlan sta|ap [active [on|off] | ifconfig [IP MASK GW "
              "DNS | dhcp] | config KEY | config KEY=VALUE... | scan | connect SSID [PASSWORD] | "
              "disconnect | isconnected | status [rssi]]\n>>> ");
    CHECK_STR(con("cat 'unterminated"), "cat 'unterminated\nerror: unterminated quote\n>>> ");
    /* backspace edits the line; CRLF is one line end */
    tb_console_input("lx\x7fs\r\n");
    while (console_poll(10) > 0) {
    }
    CHECK(strstr(tb_console, ">>> ls\n['config.py']\n>>> "));
    CHECK(strstr(tb_console, "['config.py']\n>>> ") && !strstr(tb_console, ">>> \n>>> "));
    /* a line over the cap is one error, and the session goes on */
    char longl[400];
    memset(longl, 'a', sizeof longl - 1);
    longl[sizeof longl - 1] = 0;
    CHECK(strstr(con(longl), "error: line too long (255 characters max)\n>>> "));
    CHECK(strstr(con("reset_cause"), "reset_cause\n0  # PWRON_RESET\n>>> "));
}

static void test_wlan(void)
{
    board();
    CHECK_STR(con("wlan sta active"), "wlan sta active\nFalse\n>>> ");
    CHECK_STR(con("wlan ap"), "wlan ap\nTrue\n>>> ");
    CHECK_STR(con("wlan sta scan"), "wlan sta scan\nOSError: STA must be active\n>>> ");
    CHECK_STR(con("wlan ap scan"), "wlan ap scan\nOSError: STA required\n>>> ");
    CHECK_STR(con("wlan sta active on"), "wlan sta active on\n>>> ");
    const char *o = con("wlan sta scan");
    CHECK(strstr(o, "[(b'home-net', b'") && strstr(o, "', 6, -58, 3, 0)]\n>>> "));
    CHECK_STR(con("wlan sta isconnected"), "wlan sta isconnected\nFalse\n>>> ");
    CHECK_STR(con("wlan sta connect home-net \"correct horse\""),
              "wlan sta connect home-net \"correct horse\"\n>>> ");
    CHECK_STR(con("wlan sta status"), "wlan sta status\n1\n>>> ");
    for (int i = 0; i < 5; i++)
        console_poll(500);                  /* time passes: the join completes */
    CHECK_STR(con("wlan sta isconnected"), "wlan sta isconnected\nTrue\n>>> ");
    CHECK_STR(con("wlan sta status"), "wlan sta status\n5\n>>> ");
    CHECK_STR(con("wlan sta ifconfig"),
              "wlan sta ifconfig\n('192.168.0.45', '255.255.255.0', '192.168.0.1', '192.168.0.1')\n>>> ");
    CHECK_STR(con("wlan sta config essid"), "wlan sta config essid\n'home-net'\n>>> ");
    CHECK_STR(con("wlan sta config nope"), "wlan sta config nope\nValueError: unknown config param\n>>> ");
    CHECK_STR(con("wlan ap config essid=button-ap password=secret123"),
              "wlan ap config essid=button-ap password=secret123\n>>> ");
    CHECK_STR(con("wlan ap config essid"), "wlan ap config essid\n'button-ap'\n>>> ");
    CHECK_STR(con("wlan ap config essid=12345 password=12345678 channel=11 hidden=True"),
              "wlan ap config essid=12345 password=12345678 channel=11 hidden=True\n>>> ");
    CHECK_STR(con("wlan ap config essid"), "wlan ap config essid\n'12345'\n>>> ");
    CHECK_STR(con("wlan ap config channel"), "wlan ap config channel\n11\n>>> ");
    CHECK_STR(con("wlan ap config hidden"), "wlan ap config hidden\nTrue\n>>> ");
    CHECK_STR(con("wlan ap active off"), "wlan ap active off\n>>> ");
    CHECK_INT(tb_ap_active, 0);
    CHECK_STR(con("wlan ap isconnected"), "wlan ap isconnected\nFalse\n>>> ");
    CHECK_STR(con("wlan ap status"), "wlan ap status\n-1\n>>> ");
    CHECK_STR(con("wlan sta active maybe"), "wlan sta active maybe\nusage: wlan sta|ap active [on|off]\n>>> ");
}

static void test_http_and_app(void)
{
    board();
    tb_peer *p = tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    const char *o = con("connect_wifi");
    CHECK(strstr(o, "Connecting to WiFi...\nNetwork config: ('192.168.0.45', "));
    o = con("http post http://hooks.example/x {\"value1\":\"a b\"}");
    CHECK(strstr(o, "200 OK\nCongratulations! You've fired the button_pressed event\n>>> "));
    CHECK(strstr(p->sent, "POST /x HTTP/1.1\r\n") == p->sent);
    CHECK(strstr(p->sent, "\r\n\r\n{\"value1\":\"a b\"}"));
    o = con("http get http://nowhere.example/");
    CHECK(strstr(o, "OSError: GET http://nowhere.example/: dns: "));
    CHECK(strstr(o, "\n>>> "));
    tb_add_peer(TB_IP_HOOK, 80, TB_OK_REPLY);
    o = con("call_webhook");
    CHECK(strstr(o, "Invoking webhook\nWebhook invoked\n>>> "));
    o = con("call_webhook");                /* nobody answers any more */
    CHECK(strstr(o, "Webhook failed\nTraceback (most recent call last):\n  in run()\n  in call_webhook()\n"));
    CHECK(strstr(o, "\n>>> "));
    /* run with the jumper in: it returns to the console */
    tb_pin_input[14] = 0;
    o = con("run");
    CHECK(strstr(o, "Debug mode detected.\n>>> "));
    tb_pin_input[14] = 1;
    con("run");
    CHECK(tb_slept);
}

static void test_machine_and_files(void)
{
    board();
    CHECK_STR(con("pin D4 0"), "pin D4 0\n>>> ");
    CHECK_INT(tb_pin_out[2], 0);
    CHECK_STR(con("pin 16 1"), "pin 16 1\n>>> ");
    CHECK_INT(tb_pin_out[16], 1);
    CHECK_STR(con("pin 14 in"), "pin 14 in\n>>> ");
    CHECK_STR(con("pin D5"), "pin D5\n1\n>>> ");
    CHECK_STR(con("pin 7 1"), "pin 7 1\nValueError: invalid pin\n>>> ");
    CHECK_STR(con("rtc write 4 hello"), "rtc write 4 hello\n>>> ");
    CHECK_STR(con("rtc read 4 5"), "rtc read 4 5\nb'hello'\n>>> ");
    CHECK_STR(con("rtc read 490 5"), "rtc read 490 5\nusage: rtc read [OFFSET [LEN<=64]] | rtc write OFFSET TEXT   (492 bytes)\n>>> ");
    tb_fs_put("notes.txt", "line one\nline two");
    CHECK_STR(con("ls"), "ls\n['config.py', 'notes.txt']\n>>> ");
    CHECK_STR(con("cat notes.txt"), "cat notes.txt\nline one\nline two\n>>> ");
    CHECK_STR(con("rm notes.txt"), "rm notes.txt\n>>> ");
    CHECK_STR(con("rm notes.txt"), "rm notes.txt\nOSError: [Errno 2] ENOENT\n>>> ");
    CHECK_STR(con("cat notes.txt"), "cat notes.txt\nOSError: [Errno 2] ENOENT\n>>> ");
    con("deepsleep 5000");
    CHECK(tb_slept);
    CHECK_INT(tb_sleep_ms, 5000);
    board();
    con("reset");
    CHECK(tb_soft_reset);
}

static void test_webrepl_setup(void)
{
    board();
    const char *o = con("webrepl_setup");
    CHECK_STR(o, "webrepl_setup\nWebREPL daemon auto-start status: disabled\n\n"
                 "Would you like to (E)nable or (D)isable it running on boot?\n"
                 "(Empty line to quit)\n> ");
    CHECK_STR(con("E"), "E\nTo enable WebREPL, you must set password for it\nNew password (4-9 chars): ");
    CHECK_STR(con("abc"), "abc\nInvalid password length\nNew password (4-9 chars): ");
    CHECK_STR(con("abcdefghij"), "abcdefghij\nInvalid password length\nNew password (4-9 chars): ");
    CHECK_STR(con("secret1"), "secret1\nConfirm password: ");
    CHECK_STR(con("secret2"), "secret2\nPasswords do not match\nNew password (4-9 chars): ");
    CHECK_STR(con("secret1"), "secret1\nConfirm password: ");
    CHECK_STR(con("secret1"), "secret1\nChanges will be activated after reboot\n"
                              "Would you like to reboot now? (y/n) ");
    CHECK_STR(tb_fs_get("webrepl_cfg.py"), "PASS = 'secret1'\nSTART = True\n");
    /* the terminal echoed the passwords (above), marked secret for a log; nothing else was */
    CHECK_STR(tb_secret, "abcabcdefghijsecret1secret2secret1secret1");
    CHECK_STR(con("maybe"), "maybe\nWould you like to reboot now? (y/n) ");
    CHECK_STR(con("n"), "n\n>>> ");
    /* again: enabled now, so E asks about the password and needs nothing else */
    o = con("webrepl_setup");
    CHECK(strstr(o, "auto-start status: enabled\n"));
    CHECK_STR(con("e"), "e\nWould you like to change WebREPL password? (y/n) ");
    CHECK_STR(con("n"), "n\nNo further action required\n>>> ");
    con("webrepl_setup");
    CHECK_STR(con(""), "\nNo further action required\n>>> ");
    con("webrepl_setup");
    con("D");
    CHECK_STR(tb_fs_get("webrepl_cfg.py"), "PASS = 'secret1'\nSTART = False\n");
    con("y");
    CHECK(tb_soft_reset);
    /* a password with quotes survives the file */
    webrepl_cfg c = {.pass = "it's\\\"x", .start = true};
    CHECK_INT(webrepl_cfg_save(&c), 0);
    webrepl_cfg d;
    CHECK_INT(webrepl_cfg_load(&d), 0);
    CHECK_STR(d.pass, "it's\\\"x");
    CHECK(d.start);
    CHECK_INT((int)d.idle_s, 0);
    /* IDLE (seconds) is optional, and kept when the dialog saves */
    tb_fs_put("webrepl_cfg.py", "PASS = 'secret1'\nSTART = False\nIDLE = 12\n");
    CHECK_INT(webrepl_cfg_load(&d), 0);
    CHECK_INT((int)d.idle_s, 12);
    d.start = true;
    CHECK_INT(webrepl_cfg_save(&d), 0);
    CHECK_STR(tb_fs_get("webrepl_cfg.py"), "PASS = 'secret1'\nSTART = True\nIDLE = 12\n");
}

/* ---- WebREPL ---------------------------------------------------------------------------- */

static char cl[TB_IO_MAX];     /* what the scripted client sends */
static size_t cl_len;

static void c_raw(const void *d, size_t n)
{
    memcpy(cl + cl_len, d, n);
    cl_len += n;
}

/* a client frame, masked like a browser's when mask is set */
static void c_frame(int op, const void *data, size_t n, int mask)
{
    uint8_t h[14];
    size_t hl = ws_frame_header(h, op, n);
    if (mask) {
        h[1] |= 0x80;
        memcpy(h + hl, "\x11\x22\x33\x44", 4);
    }
    c_raw(h, hl + (mask ? 4 : 0));
    for (size_t i = 0; i < n; i++)
        cl[cl_len++] = (char)(((const uint8_t *)data)[i] ^ (mask ? h[hl + (i & 3)] : 0));
}

static void c_handshake(void)
{
    cl_len = 0;
    static const char hs[] = "GET / HTTP/1.1\r\nHost: 192.168.4.1:8266\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
                             "Sec-WebSocket-Version: 13\r\n\r\n";
    c_raw(hs, sizeof hs - 1);
}

static void c_header(int type, uint32_t size, const char *name)
{
    uint8_t h[WR_HDR_SIZE] = {'W', 'A', (uint8_t)type, 0};
    h[12] = (uint8_t)size;
    h[13] = (uint8_t)(size >> 8);
    size_t n = strlen(name);
    h[16] = (uint8_t)n;
    memcpy(h + 18, name, n);
    c_frame(WS_OP_BIN, h, 10, 0);      /* split, as webrepl_cli.py does */
    c_frame(WS_OP_BIN, h + 10, WR_HDR_SIZE - 10, 1);
}

/* Server frames in sent, decoded: payloads of each data frame joined, text with 'T<...>',
 * binary as 'B<hex>', close as 'C<code>'. */
static const char *decode(const tb_peer *p)
{
    static char outb[TB_IO_MAX * 2];
    size_t o = 0;
    const char *end = strstr(p->sent, "\r\n\r\n");
    if (!end)
        return "";
    const uint8_t *s = (const uint8_t *)end + 4, *e = (const uint8_t *)p->sent + p->sent_len;
    while (s + 2 <= e && o < sizeof outb - 600) {
        int op = s[0] & 15;
        size_t n = s[1] & 127, hl = 2;
        if (n == 126) {
            n = (size_t)s[2] << 8 | s[3];
            hl = 4;
        }
        const uint8_t *d = s + hl;
        if (op == WS_OP_TEXT) {
            o += (size_t)snprintf(outb + o, sizeof outb - o, "T<%.*s>", (int)n, (const char *)d);
        } else if (op == WS_OP_BIN) {
            outb[o++] = 'B';
            outb[o++] = '<';
            for (size_t i = 0; i < n && o < sizeof outb - 600; i++)
                o += (size_t)snprintf(outb + o, sizeof outb - o, "%02x", d[i]);
            outb[o++] = '>';
        } else if (op == WS_OP_CLOSE) {
            o += (size_t)snprintf(outb + o, sizeof outb - o, "C<%d>", n >= 2 ? d[0] << 8 | d[1] : 0);
        }
        s = d + n;
    }
    outb[o] = 0;
    return outb;
}

static void webrepl_board(void)
{
    board();
    webrepl_cfg c = {.pass = "secret1", .start = true};
    webrepl_cfg_save(&c);
    con("webrepl");
}

static void serve(int turns)
{
    if (setjmp(tb_exit) == 0)
        for (int i = 0; i < turns; i++)
            console_poll(10);
}

/* RFC 6455 section 1.3's example key and answer */
static void test_ws_accept_key(void)
{
    webrepl_board();
    CHECK(strstr(tb_console, "WebREPL daemon started on ws://192.168.4.1:8266\n"));
    c_handshake();
    tb_peer *p = tb_add_client(cl, cl_len);
    serve(2);
    CHECK(strstr(p->sent, "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                          "Connection: Upgrade\r\nSec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n")
          == p->sent);
    CHECK_STR(decode(p), "T<Password: >");
    CHECK(p->closed);                      /* the client went away */
}

static void test_webrepl_session(void)
{
    webrepl_board();
    static char k[1000];
    for (size_t i = 0; i < sizeof k; i++)
        k[i] = (char)('a' + i % 26);
    hal_fs_write("k.bin", 0, k, sizeof k);
    c_handshake();
    c_frame(WS_OP_BIN, "secret1\r", 8, 0);       /* webrepl_cli.py sends binary, unmasked */
    c_frame(WS_OP_TEXT, "wlan ap isconnected\r", 20, 1);
    c_header(WR_GET_VER, 0, "");
    c_header(WR_PUT_FILE, 5, "/hello.txt");
    c_frame(WS_OP_BIN, "he", 2, 1);
    c_frame(WS_OP_BIN, "llo", 3, 0);
    c_header(WR_PUT_FILE, 0, "empty.bin");
    c_header(WR_GET_FILE, 0, "hello.txt");
    c_frame(WS_OP_BIN, "\0", 1, 1);
    c_frame(WS_OP_BIN, "\0", 1, 1);
    c_header(WR_GET_FILE, 0, "missing.txt");
    /* a get of 4 chunks and the end: 5 request bytes, in frames of any size, then the next
     * request is a header again */
    c_header(WR_GET_FILE, 0, "k.bin");
    c_frame(WS_OP_BIN, "\0", 1, 0);
    c_frame(WS_OP_BIN, "\0\0", 2, 1);
    c_frame(WS_OP_BIN, "\0\0", 2, 0);
    c_header(WR_GET_VER, 0, "");
    c_frame(WS_OP_PING, "hi", 2, 1);
    c_frame(WS_OP_TEXT, "cat hello.txt\r", 14, 1);
    c_frame(WS_OP_CLOSE, "\x03\xe8", 2, 1);
    tb_peer *p = tb_add_client(cl, cl_len);
    serve(3);
    const char *d = decode(p);
    CHECK(strstr(d, "T<Password: >T<\r\nWebREPL connected\r\n>>> >") == d);
    CHECK(strstr(d, "T<w>T<l>T<a>T<n>"));      /* echoed, as the REPL does */
    CHECK(strstr(d, "T<\r\n>T<False\r\n>T<>>> >"));
    CHECK(strstr(d, "B<011400>"));           /* version 1.20.0 */
    CHECK(strstr(d, "B<57420000>B<57420000>B<57420000>B<57420000>B<57420000>B<050068656c6c6f>B<0000>B<57420000>B<57420200>"));
    CHECK(strstr(d, "T<\r\nline one") == NULL);
    const char *g = strstr(d, "B<57420200>B<57420000>B<0001616263");   /* 256 bytes, abc... */
    CHECK(g);
    if (g) {
        /* chunks of 256, 256, 256 and 232 bytes, the end, WB 0, then the version */
        CHECK(strstr(g, ">B<0001") && strstr(g, ">B<e800") &&
              strstr(g, ">B<0000>B<57420000>B<011400>"));
        int chunks = 0;
        for (const char *q = g; (q = strstr(q, ">B<0001")) != NULL; q++)
            chunks++;
        CHECK_INT(chunks, 3);
    }
    CHECK(strstr(d, "T<hello>T<\r\n>T<>>> >"));
    CHECK(strstr(d, "C<1000>"));
    CHECK_STR(tb_fs_get("hello.txt"), "hello");
    CHECK_STR(tb_fs_get("empty.bin"), "");
    CHECK(p->closed);
    /* the serial side saw the WebREPL command's output too */
    CHECK(strstr(tb_console, "wlan ap isconnected\nFalse\n"));
}

static void test_webrepl_wrong_passwords(void)
{
    webrepl_board();
    for (int i = 0; i < 4; i++) {
        c_handshake();
        c_frame(WS_OP_TEXT, "nope\r", 5, 1);
        tb_peer *p = tb_add_client(cl, cl_len);
        p->stall = 1;
        uint32_t t0 = tb_now_ms;
        serve(1);
        if (i < 3) {
            CHECK_STR(decode(p), "T<Password: >T<\r\nAccess denied\r\n>C<1000>");
            CHECK(p->closed);
            CHECK(tb_now_ms - t0 < 1000);
        } else {
            /* the fourth attempt waits for the delay before it is answered */
            CHECK_STR(decode(p), "T<Password: >");
            CHECK(!p->closed);
            serve(100);
            CHECK_STR(decode(p), "T<Password: >T<\r\nAccess denied\r\n>C<1000>");
            CHECK(p->closed);
        }
    }
    /* the right one still works, after its delay, and clears the count; webrepl_cli.py's
     * version request, sent at once after the password, is answered after the delay too */
    c_handshake();
    c_frame(WS_OP_BIN, "secret1\r", 8, 0);
    c_header(WR_GET_VER, 0, "");
    tb_peer *p = tb_add_client(cl, cl_len);
    p->stall = 1;
    uint32_t t0 = tb_now_ms;
    serve(1);
    CHECK_STR(decode(p), "T<Password: >");
    serve(400);
    CHECK_STR(decode(p), "T<Password: >T<\r\nWebREPL connected\r\n>>> >B<011400>");
    CHECK(tb_now_ms - t0 >= 2000);          /* the fifth attempt in a row waits 2 s */
    CHECK(strstr(tb_reports, "password attempt held 2000 ms"));
}

/* IDLE = 1 in webrepl_cfg.py: a session logged in after a 2 s password delay still gets its
 * second of silence, counted from the login */
static void test_webrepl_idle_setting(void)
{
    webrepl_board();
    tb_fs_put("webrepl_cfg.py", "PASS = 'secret1'\nSTART = True\nIDLE = 1\n");
    for (int i = 0; i < 4; i++) {
        c_handshake();
        c_frame(WS_OP_TEXT, "nope\r", 5, 1);
        tb_peer *p = tb_add_client(cl, cl_len);
        p->stall = 1;
        serve(150);
        CHECK(p->closed);
    }
    c_handshake();
    c_frame(WS_OP_TEXT, "secret1\r", 8, 1);
    tb_peer *p = tb_add_client(cl, cl_len);
    p->stall = 1;
    uint32_t t0 = tb_now_ms;
    while (!strstr(decode(p), "WebREPL connected") && tb_now_ms - t0 < 5000)
        serve(1);
    uint32_t t1 = tb_now_ms;
    CHECK(t1 - t0 >= 2000);                 /* held 2 s */
    CHECK(!p->closed);
    while (!p->closed && tb_now_ms - t1 < 5000)
        serve(1);
    CHECK(p->closed);
    CHECK(tb_now_ms - t1 >= 1000 && tb_now_ms - t1 < 1500);
    CHECK(strstr(decode(p), "C<1000>"));
    CHECK(strstr(tb_reports, "idle session closed"));
}

static void test_webrepl_limits(void)
{
    webrepl_board();
    /* malformed: reserved bits set */
    c_handshake();
    c_frame(WS_OP_TEXT, "secret1\r", 8, 1);
    c_raw("\xf1\x80\0\0\0\0", 6);
    tb_peer *p = tb_add_client(cl, cl_len);
    p->stall = 1;
    serve(1);
    CHECK(strstr(decode(p), "C<1002>"));
    CHECK(p->closed);
    /* over the frame cap */
    c_handshake();
    c_raw("\x82\x7f\0\0\0\0\0\x01\0\0", 10);
    p = tb_add_client(cl, cl_len);
    p->stall = 1;
    serve(1);
    CHECK_STR(decode(p), "T<Password: >C<1009>");
    /* one session at a time; the second one is told and closed */
    c_handshake();
    c_frame(WS_OP_TEXT, "secret1\r", 8, 1);
    tb_peer *first = tb_add_client(cl, cl_len);
    first->stall = 1;
    serve(1);
    c_handshake();
    tb_peer *second = tb_add_client(cl, cl_len);
    serve(1);
    CHECK(strstr(second->sent, "HTTP/1.1 503 Service Unavailable\r\n") == second->sent);
    CHECK(strstr(second->sent, "WebREPL: another session is active"));
    CHECK(second->closed);
    CHECK(!first->closed);
    /* the idle session is closed after BH_WEBREPL_IDLE_MS */
    uint32_t t0 = tb_now_ms;
    while (!first->closed && tb_now_ms - t0 < BH_WEBREPL_IDLE_MS + 5000)
        console_poll(1000);
    CHECK(first->closed);
    CHECK(tb_now_ms - t0 >= BH_WEBREPL_IDLE_MS - 1000);
    /* a connection that never finishes its handshake goes after BH_WEBREPL_LOGIN_MS */
    p = tb_add_client("GET / HTTP/1.1\r\n", 16);
    p->stall = 1;
    t0 = tb_now_ms;
    while (!p->closed && tb_now_ms - t0 < BH_WEBREPL_LOGIN_MS + 5000)
        console_poll(1000);
    CHECK(p->closed);
    /* a plain GET gets a page */
    p = tb_add_client("GET / HTTP/1.1\r\nHost: x\r\n\r\n", 27);
    serve(1);
    CHECK(strstr(p->sent, "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n") == p->sent);
    CHECK(strstr(p->sent, "<title>buttonhook WebREPL</title>"));
    CHECK(p->sent_len == (size_t)(strstr(p->sent, "\r\n\r\n") + 4 - p->sent) + webrepl_page_len);
    p = tb_add_client("POST / HTTP/1.1\r\nHost: x\r\n\r\n", 28);
    serve(1);
    CHECK(strstr(p->sent, "HTTP/1.1 405 Method Not Allowed\r\n") == p->sent);
}

static void test_webrepl_full_flash(void)
{
    webrepl_board();
    tb_fs_capacity = 600;
    c_handshake();
    c_frame(WS_OP_TEXT, "secret1\r", 8, 1);
    c_header(WR_PUT_FILE, 1000, "big.bin");
    static char data[1000];
    memset(data, 'x', sizeof data);
    c_frame(WS_OP_BIN, data, 1000, 1);
    c_header(WR_PUT_FILE, 3, "../x");       /* a bad name */
    c_frame(WS_OP_TEXT, "ls\r", 3, 1);
    tb_peer *p = tb_add_client(cl, cl_len);
    p->stall = 1;
    serve(2);
    const char *d = decode(p);
    CHECK(strstr(d, "B<57420000>B<57421c00>"));   /* ENOSPC = 28, and the session goes on */
    CHECK(strstr(d, "B<57421600>"));              /* EINVAL = 22 */
    CHECK(strstr(d, "T<'config.py'>T<, >T<'webrepl_cfg.py'>T<]\r\n>"));
    CHECK(!tb_fs_get("big.bin"));
    CHECK(!p->closed);
}

int main(void)
{
    test_help_and_errors();
    test_wlan();
    test_http_and_app();
    test_machine_and_files();
    test_webrepl_setup();
    test_ws_accept_key();
    test_webrepl_session();
    test_webrepl_wrong_passwords();
    test_webrepl_idle_setting();
    test_webrepl_limits();
    test_webrepl_full_flash();
    return tb_done("test_console");
}
