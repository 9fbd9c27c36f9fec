/*
 * console.c - the command console: one command a line, output shaped like MicroPython's REPL
 * where the chapter shows it. Grammar and examples: docs/console.md.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/scratch.h"
#include "console/console.h"
#include "console/webrepl.h"
#include "hal/hal.h"
#include "net/http.h"
#include "net/wlan.h"

#define MAX_ARGS 12

static char line[BH_CON_LINE_MAX];
static size_t line_len;
static bool line_over, last_cr;

/* the webrepl_setup dialog */
typedef enum { M_CMD, M_SETUP_CHOICE, M_SETUP_CHANGE, M_SETUP_PASS1, M_SETUP_PASS2,
               M_SETUP_REBOOT } con_mode;
static con_mode mode;
static webrepl_cfg setup;
static bool setup_status;
static char pass1[10];

/* The big buffers (an HTTP command's answer, a scan, a repr or a file's bytes), never needed at
 * the same time: the core's scratch buffer (app/scratch.h), free while the console runs (the
 * app's run and call_webhook, run from a command, use it only while the command holds none of
 * it). Reprs and reads of a file take TEXT_MAX bytes at a time, as with a buffer of their own. */
#define TEXT_MAX (4 * 64 + 8)
_Static_assert(TEXT_MAX <= sizeof app_scratch.text, "the scratch buffer holds a repr");

void console_write(const char *s, size_t len)
{
    hal_console_write(s, len);
    webrepl_write(s, len);
}

static void out(const char *s)
{
    console_write(s, strlen(s));
}

#define outf bh_printf

static void prompt(void)
{
    switch (mode) {
    case M_CMD: out(">>> "); break;
    case M_SETUP_CHOICE: out("> "); break;
    case M_SETUP_CHANGE: out("Would you like to change WebREPL password? (y/n) "); break;
    case M_SETUP_PASS1: out("New password (4-9 chars): "); break;
    case M_SETUP_PASS2: out("Confirm password: "); break;
    case M_SETUP_REBOOT: out("Would you like to reboot now? (y/n) "); break;
    }
}

/* One clear line for a failure: MicroPython's exception and message where it has one. */
static void oserror(int err)
{
    if (err == BH_ERR_NOENT)
        out("OSError: [Errno 2] ENOENT\n");
    else
        outf("OSError: %s (%d)\n", bh_strerror(err), err);
}

static void wlan_error(int err)
{
    const char *msg = wlan_errmsg();
    if (msg[0])
        outf("%s: %s\n", wlan_errtype(), msg);
    else
        oserror(err);
}

static void usage(const char *u)
{
    outf("usage: %s\n", u);
}

/* Splits s in place into words; "double" or 'single' quotes keep spaces. */
static int split(char *s, char **argv, int max)
{
    int n = 0;
    while (*s) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        if (n == max)
            return -1;
        char q = (*s == '"' || *s == '\'') ? *s++ : 0;
        argv[n++] = s;
        char *w = s;
        while (*s && (q ? *s != q : (*s != ' ' && *s != '\t')))
            *w++ = *s++;
        if (q && *s != q)
            return -2;
        if (*s)
            s++;
        *w = 0;
    }
    return n;
}

static bool parse_int(const char *s, long *v)
{
    char *end;
    if (!s || !*s)
        return false;
    *v = strtol(s, &end, 0);
    return *end == 0;
}

/* "on" / "True" / "1" and "off" / "False" / "0" */
static int parse_bool(const char *s)
{
    if (!strcmp(s, "on") || !strcmp(s, "True") || !strcmp(s, "true") || !strcmp(s, "1"))
        return 1;
    if (!strcmp(s, "off") || !strcmp(s, "False") || !strcmp(s, "false") || !strcmp(s, "0"))
        return 0;
    return -1;
}

static void out_bool(int v)
{
    out(v ? "True\n" : "False\n");
}

/* ---- wlan ---------------------------------------------------------------------------------- */

#define WLAN_USAGE "wlan sta|ap [active [on|off] | ifconfig [IP MASK GW DNS | dhcp] | " \
                   "config KEY | config KEY=VALUE... | scan | connect SSID [PASSWORD] | " \
                   "disconnect | isconnected | status [rssi]]"

static void cmd_wlan(int argc, char **argv)
{
    int ifc;
    if (argc < 2 || (ifc = !strcmp(argv[1], "sta") || !strcmp(argv[1], "0") ? WLAN_STA :
                           !strcmp(argv[1], "ap") || !strcmp(argv[1], "1") ? WLAN_AP : -1) < 0) {
        usage(WLAN_USAGE);
        return;
    }
    const char *sub = argc > 2 ? argv[2] : "active";
    int rc;
    if (!strcmp(sub, "active")) {
        if (argc > 4) {
            usage("wlan sta|ap active [on|off]");
            return;
        }
        if (argc == 4) {
            int on = parse_bool(argv[3]);
            if (on < 0) {
                usage("wlan sta|ap active [on|off]");
                return;
            }
            rc = wlan_set_active(ifc, on != 0);
        } else {
            rc = wlan_active(ifc);
            if (rc >= 0)
                out_bool(rc);
        }
    } else if (!strcmp(sub, "ifconfig")) {
        hal_ipcfg c;
        if (argc == 3) {
            rc = wlan_ifconfig(ifc, &c);
            if (rc >= 0) {
                wlan_repr_ifconfig(app_scratch.text, TEXT_MAX, &c);
                outf("%s\n", app_scratch.text);
            }
        } else if (argc == 4 && !strcmp(argv[3], "dhcp")) {
            rc = wlan_ifconfig_dhcp(ifc);
        } else if (argc == 7) {
            memset(&c, 0, sizeof c);
            uint32_t *f[4] = {&c.ip, &c.netmask, &c.gw, &c.dns};
            rc = 0;
            for (int i = 0; i < 4 && rc >= 0; i++)
                rc = wlan_parse_ip(argv[3 + i], strlen(argv[3 + i]), f[i]);
            if (rc >= 0)
                rc = wlan_set_ifconfig(ifc, &c);
        } else {
            usage("wlan sta|ap ifconfig [IP MASK GW DNS | dhcp]");
            return;
        }
    } else if (!strcmp(sub, "config")) {
        if (argc < 4) {
            usage("wlan sta|ap config KEY | config KEY=VALUE...");
            return;
        }
        if (!strchr(argv[3], '=')) {
            wlan_value v;
            rc = wlan_config_get(ifc, argv[3], &v);
            if (rc >= 0) {
                wlan_repr_value(app_scratch.text, TEXT_MAX, &v);
                outf("%s\n", app_scratch.text);
            }
        } else {
            wlan_kw kw[MAX_ARGS];
            size_t n = 0;
            for (int i = 3; i < argc; i++) {
                char *eq = strchr(argv[i], '=');
                if (!eq || eq == argv[i]) {
                    usage("wlan sta|ap config KEY=VALUE...");
                    return;
                }
                *eq = 0;
                const char *val = eq + 1;
                long num;
                kw[n].key = argv[i];
                /* names and passwords stay strings even when they look like numbers */
                bool text = !strcmp(argv[i], "essid") || !strcmp(argv[i], "ssid") ||
                            !strcmp(argv[i], "password") || !strcmp(argv[i], "key") ||
                            !strcmp(argv[i], "dhcp_hostname") || !strcmp(argv[i], "hostname");
                if (text) {
                    kw[n].val = (wlan_value){.type = WLAN_V_STR, .s = val, .len = strlen(val)};
                } else if (parse_int(val, &num)) {
                    kw[n].val = (wlan_value){.type = WLAN_V_INT, .i = (int32_t)num};
                } else if (!strcmp(val, "True") || !strcmp(val, "False")) {
                    kw[n].val = (wlan_value){.type = WLAN_V_BOOL, .i = val[0] == 'T'};
                } else {
                    kw[n].val = (wlan_value){.type = WLAN_V_STR, .s = val, .len = strlen(val)};
                }
                n++;
            }
            rc = wlan_config_set(ifc, kw, n);
        }
    } else if (!strcmp(sub, "scan")) {
        rc = wlan_scan(ifc, app_scratch.aps, BH_SCAN_MAX);
        if (rc >= 0) {
            int n = rc;
            char entry[4 * 32 + 80];
            out("[");
            for (int i = 0; i < n; i++) {
                wlan_repr_scan_entry(entry, sizeof entry, &app_scratch.aps[i]);
                if (i)
                    out(", ");
                out(entry);
            }
            out("]\n");
        }
    } else if (!strcmp(sub, "connect")) {
        if (argc > 5) {
            usage("wlan sta connect [SSID [PASSWORD]]");
            return;
        }
        rc = wlan_connect(ifc, argc > 3 ? argv[3] : NULL, argc > 4 ? argv[4] : (argc > 3 ? "" : NULL),
                          NULL);
    } else if (!strcmp(sub, "disconnect")) {
        rc = wlan_disconnect(ifc);
    } else if (!strcmp(sub, "isconnected")) {
        rc = wlan_isconnected(ifc);
        if (rc >= 0)
            out_bool(rc);
    } else if (!strcmp(sub, "status")) {
        if (argc > 3) {
            int v;
            rc = wlan_status_param(ifc, argv[3], &v);
            if (rc >= 0)
                outf("%d\n", v);
        } else {
            rc = wlan_status(ifc);
            outf("%d\n", rc);
            rc = 0;
        }
    } else {
        usage(WLAN_USAGE);
        return;
    }
    if (rc < 0)
        wlan_error(rc);
}

/* ---- http ----------------------------------------------------------------------------------- */

/* http get URL | http post URL [JSON]: the JSON is the rest of the line, as typed. */
static void cmd_http(char *s)
{
    char *argv[3];
    int argc = 0;
    const char *body = NULL;
    while (argc < 3) {
        while (*s == ' ' || *s == '\t')
            s++;
        if (!*s)
            break;
        argv[argc++] = s;
        while (*s && *s != ' ' && *s != '\t')
            s++;
        if (*s)
            *s++ = 0;
    }
    while (*s == ' ' || *s == '\t')
        s++;
    if (*s)
        body = s;
    bool get = argc == 3 && !strcmp(argv[1], "get") && !body;
    bool post = argc == 3 && !strcmp(argv[1], "post");
    if (!get && !post) {
        usage("http get URL | http post URL [JSON]");
        return;
    }
    http_request req = {
        .method = get ? "GET" : "POST",
        .url = argv[2],
        .body = body,
        .body_len = body ? strlen(body) : 0,
        .content_type = body ? "application/json" : NULL,
    };
    int rc = http_do(&req, &app_scratch.resp);
    if (rc < 0) {
        outf("OSError: %s\n", app_scratch.resp.error);
        return;
    }
    outf("%d %s\n", app_scratch.resp.status, app_scratch.resp.reason);
    console_write(app_scratch.resp.body, app_scratch.resp.body_len);
    if (app_scratch.resp.body_len && app_scratch.resp.body[app_scratch.resp.body_len - 1] != '\n')
        out("\n");
}

/* ---- machine -------------------------------------------------------------------------------- */

static const char *const cause_names[] = {"PWRON_RESET", "WDT_RESET", "EXCEPTION_RESET",
                                          "SOFT_WDT_RESET", "SOFT_RESET", "DEEPSLEEP_RESET",
                                          "HARD_RESET"};

static void cmd_reset_cause(void)
{
    int c = (int)hal_reset_cause();
    outf("%d  # %s\n", c, c >= 0 && c <= 6 ? cause_names[c] : "?");
}

/* "14", "D5" (NodeMCU names) */
static int pin_number(const char *s)
{
    static const int dmap[9] = {16, 5, 4, 0, 2, 14, 12, 13, 15};
    long v;
    if ((s[0] == 'D' || s[0] == 'd') && s[1] >= '0' && s[1] <= '8' && !s[2])
        return dmap[s[1] - '0'];
    if (parse_int(s, &v) && v >= 0 && v < 64)
        return (int)v;
    return -1;
}

static void cmd_pin(int argc, char **argv)
{
    int gpio = argc >= 2 ? pin_number(argv[1]) : -1;
    if (argc < 2 || argc > 3 || gpio < 0) {
        usage("pin N|Dn [0|1|in]");
        return;
    }
    if (!hal_pin_valid(gpio)) {
        outf("ValueError: invalid pin\n");
        return;
    }
    int rc;
    if (argc == 2) {
        rc = hal_pin_read(gpio);
        if (rc >= 0)
            outf("%d\n", rc);
    } else if (!strcmp(argv[2], "in")) {
        rc = hal_pin_mode(gpio, HAL_PIN_IN, gpio == 16 ? HAL_PULL_NONE : HAL_PULL_UP);
    } else {
        int v = parse_bool(argv[2]);
        if (v < 0) {
            usage("pin N|Dn [0|1|in]");
            return;
        }
        rc = hal_pin_mode(gpio, HAL_PIN_OUT, HAL_PULL_NONE);
        if (rc >= 0)
            rc = hal_pin_write(gpio, v);
    }
    if (rc < 0)
        oserror(rc);
}

static void cmd_rtc(int argc, char **argv)
{
    long off = 0, len = 32;
    if (argc >= 2 && !strcmp(argv[1], "read") && argc <= 4 &&
        (argc < 3 || parse_int(argv[2], &off)) && (argc < 4 || parse_int(argv[3], &len)) &&
        off >= 0 && len >= 0 && len <= 64 && off + len <= HAL_RTC_SIZE) {
        uint8_t b[64];
        int rc = hal_rtc_read((size_t)off, b, (size_t)len);
        if (rc < 0) {
            oserror(rc);
            return;
        }
        wlan_repr_bytes(app_scratch.text, TEXT_MAX, b, (size_t)len);
        outf("%s\n", app_scratch.text);
    } else if (argc == 4 && !strcmp(argv[1], "write") && parse_int(argv[2], &off) && off >= 0 &&
               (size_t)off + strlen(argv[3]) <= HAL_RTC_SIZE) {
        int rc = hal_rtc_write((size_t)off, argv[3], strlen(argv[3]));
        if (rc < 0)
            oserror(rc);
    } else {
        usage("rtc read [OFFSET [LEN<=64]] | rtc write OFFSET TEXT   (492 bytes)");
    }
}

/* ---- files ---------------------------------------------------------------------------------- */

static void cmd_ls(void)
{
    char name[72];
    out("[");
    for (int i = 0; hal_fs_list(i, name, sizeof name) >= 0; i++) {
        wlan_repr_str(app_scratch.text, TEXT_MAX, name, strlen(name));
        if (i)
            out(", ");
        out(app_scratch.text);
    }
    out("]\n");
}

static void cmd_cat(const char *name)
{
    int size = hal_fs_size(name);
    if (size < 0) {
        oserror(size);
        return;
    }
    char last = '\n';
    for (uint32_t off = 0; off < (uint32_t)size;) {
        int n = hal_fs_read(name, off, app_scratch.text, TEXT_MAX);
        if (n <= 0) {
            if (n < 0)
                oserror(n);
            break;
        }
        console_write(app_scratch.text, (size_t)n);
        last = app_scratch.text[n - 1];
        off += (uint32_t)n;
    }
    if (last != '\n')
        out("\n");
}

/* ---- webrepl -------------------------------------------------------------------------------- */

static void cmd_webrepl(int argc, char **argv)
{
    if (argc == 1 || (argc == 2 && !strcmp(argv[1], "start"))) {
        webrepl_cfg c;
        if (webrepl_cfg_load(&c) < 0 || !c.pass[0]) {
            out("WebREPL is not configured, run 'webrepl_setup'\n");
            return;
        }
        int rc = webrepl_running() ? 0 : webrepl_start();
        if (rc == BH_ERR_NOLINK)
            out("WebREPL starts once the board has an address\n");
        else if (rc < 0)
            oserror(rc);
    } else if (argc == 2 && !strcmp(argv[1], "stop")) {
        webrepl_stop();
    } else {
        usage("webrepl [start|stop]");
    }
}

static void setup_begin(void)
{
    if (webrepl_cfg_load(&setup) < 0)
        memset(&setup, 0, sizeof setup);
    setup_status = setup.start;
    outf("WebREPL daemon auto-start status: %s\n", setup_status ? "enabled" : "disabled");
    out("\nWould you like to (E)nable or (D)isable it running on boot?\n(Empty line to quit)\n");
    mode = M_SETUP_CHOICE;
}

static void setup_finish(char resp)
{
    if ((resp != 'D' && resp != 'E') || (resp == 'D' && !setup_status) ||
        (resp == 'E' && setup_status)) {
        out("No further action required\n");
        mode = M_CMD;
        return;
    }
    setup.start = resp == 'E';
    int rc = webrepl_cfg_save(&setup);
    if (rc < 0) {
        oserror(rc);
        mode = M_CMD;
        return;
    }
    out("Changes will be activated after reboot\n");
    mode = M_SETUP_REBOOT;
}

static void setup_line(const char *s)
{
    switch (mode) {
    case M_SETUP_CHOICE: {
        char r = (char)((s[0] >= 'a' && s[0] <= 'z') ? s[0] - 32 : s[0]);
        if (s[0] && s[1])
            r = '?';
        if (r == 'E') {
            if (setup.pass[0]) {
                mode = M_SETUP_CHANGE;
            } else {
                out("To enable WebREPL, you must set password for it\n");
                mode = M_SETUP_PASS1;
            }
        } else {
            setup_finish(r);
        }
        break;
    }
    case M_SETUP_CHANGE:
        if (!strcmp(s, "y"))
            mode = M_SETUP_PASS1;
        else if (!strcmp(s, "n") || !s[0])
            setup_finish('E');
        break;
    case M_SETUP_PASS1:
        if (strlen(s) < 4 || strlen(s) > 9) {
            out("Invalid password length\n");
        } else {
            strcpy(pass1, s);
            mode = M_SETUP_PASS2;
        }
        break;
    case M_SETUP_PASS2:
        if (strcmp(s, pass1) != 0) {
            out("Passwords do not match\n");
            mode = M_SETUP_PASS1;
        } else {
            strcpy(setup.pass, pass1);
            int rc = webrepl_cfg_save(&setup);
            if (rc < 0) {
                oserror(rc);
                mode = M_CMD;
            } else {
                setup_finish('E');
            }
        }
        memset(pass1, 0, sizeof pass1);
        break;
    case M_SETUP_REBOOT:
        if (!strcmp(s, "y"))
            hal_reset();
        if (!strcmp(s, "n") || !s[0])
            mode = M_CMD;
        break;
    case M_CMD:
        break;
    }
}

/* ---- help and dispatch ---------------------------------------------------------------------- */

static const char help_text[] =
    "Commands (one a line; quote words with spaces: \"correct horse\"):\n"
    "  wlan sta|ap [active [on|off]]      network.WLAN(...).active()\n"
    "  wlan sta|ap ifconfig [IP MASK GW DNS | dhcp]\n"
    "  wlan sta|ap config KEY | KEY=VALUE...   e.g. config essid=button password=secret123\n"
    "  wlan sta scan | connect SSID [PASSWORD] | disconnect\n"
    "  wlan sta|ap isconnected | status [rssi]\n"
    "  http get URL | http post URL [JSON]   status, reason, body\n"
    "  reset_cause | deepsleep [MS] | reset\n"
    "  pin N|Dn [0|1|in]                  read, write (as output) or make an input\n"
    "  rtc read [OFFSET [LEN]] | rtc write OFFSET TEXT\n"
    "  ls | cat FILE | rm FILE            files in flash\n"
    "  connect_wifi | call_webhook | run  the application's steps (run may deep-sleep)\n"
    "  webrepl_setup | webrepl [start|stop]\n"
    "  help\n";

static void run_command(char *s)
{
    while (*s == ' ')
        s++;
    if (!strncmp(s, "http", 4) && (s[4] == ' ' || !s[4])) {
        cmd_http(s);
        return;
    }
    char *argv[MAX_ARGS];
    int argc = split(s, argv, MAX_ARGS);
    if (argc == -1) {
        outf("error: more than %d words\n", MAX_ARGS);
        return;
    }
    if (argc == -2) {
        out("error: unterminated quote\n");
        return;
    }
    if (argc == 0)
        return;
    const char *c = argv[0];
    if (!strcmp(c, "help")) {
        out(help_text);
    } else if (!strcmp(c, "wlan")) {
        cmd_wlan(argc, argv);
    } else if (!strcmp(c, "reset_cause") && argc == 1) {
        cmd_reset_cause();
    } else if (!strcmp(c, "deepsleep") && argc <= 2) {
        long ms = 0;
        if (argc == 2 && (!parse_int(argv[1], &ms) || ms < 0)) {
            usage("deepsleep [MS]");
            return;
        }
        hal_deep_sleep((uint32_t)ms);
    } else if (!strcmp(c, "reset") && argc == 1) {
        hal_reset();
    } else if (!strcmp(c, "pin")) {
        cmd_pin(argc, argv);
    } else if (!strcmp(c, "rtc")) {
        cmd_rtc(argc, argv);
    } else if (!strcmp(c, "ls") && argc == 1) {
        cmd_ls();
    } else if (!strcmp(c, "cat") && argc == 2) {
        cmd_cat(argv[1]);
    } else if (!strcmp(c, "rm") && argc == 2) {
        int rc = hal_fs_remove(argv[1]);
        if (rc < 0)
            oserror(rc);
    } else if (!strcmp(c, "connect_wifi") && argc == 1) {
        app_connect_wifi();
    } else if (!strcmp(c, "call_webhook") && argc == 1) {
        app_call_webhook();
    } else if (!strcmp(c, "run") && argc == 1) {
        app_run();
    } else if (!strcmp(c, "webrepl_setup") && argc == 1) {
        setup_begin();
    } else if (!strcmp(c, "webrepl")) {
        cmd_webrepl(argc, argv);
    } else {
        outf("error: unknown command or arguments: %s (type help)\n", c);
    }
}

/* The serial echo; a password being set is echoed as MicroPython's input() does, but marked
 * secret so that a log kept on disk does not hold it. */
static void serial_echo(const char *s, size_t n)
{
    if (mode == M_SETUP_PASS1 || mode == M_SETUP_PASS2)
        hal_console_write_secret(s, n);
    else
        hal_console_write(s, n);
}

/* Echo of what is typed: per character to WebREPL (its terminal shows only what comes back);
 * on the serial port per character too with BH_CON_ECHO_CHARS, else the whole line when it
 * ends, which suits the simulated board's line-based log. */
static void echo(const char *s, size_t n)
{
    webrepl_write(s, n);
    if (BH_CON_ECHO_CHARS)
        serial_echo(s, n);
}

static void end_line(void)
{
    if (!BH_CON_ECHO_CHARS)
        serial_echo(line, line_len);
    out("\n");
    line[line_len] = 0;
    if (line_over) {
        outf("error: line too long (%d characters max)\n", BH_CON_LINE_MAX - 1);
    } else if (mode == M_CMD) {
        run_command(line);
    } else {
        setup_line(line);
    }
    line_len = 0;
    line_over = false;
    prompt();
}

void console_feed(const char *data, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        char ch = data[i];
        bool cr = last_cr;
        last_cr = ch == '\r';
        if (ch == '\n' && cr)
            continue;
        if (ch == '\r' || ch == '\n') {
            end_line();
        } else if (ch == 0x08 || ch == 0x7f) {
            if (line_len > 0) {
                line_len--;
                echo("\b \b", 3);
            }
        } else if (ch == 0x03) {             /* Ctrl-C: drop the line */
            line_len = 0;
            line_over = false;
            if (mode != M_CMD)
                mode = M_CMD;
            out("\n");
            prompt();
        } else if ((unsigned char)ch >= 0x20 || ch == '\t') {
            if (line_len < sizeof line - 1) {
                line[line_len++] = ch;
                echo(&ch, 1);
            } else {
                line_over = true;
            }
        }
    }
}

void console_init(void)
{
    bh_print_hook = console_write;
    line_len = 0;
    line_over = last_cr = false;
    mode = M_CMD;
    webrepl_cfg c;
    if (webrepl_cfg_load(&c) == 0 && c.start && c.pass[0] && !webrepl_running())
        webrepl_start();
    out("\nbuttonhook console; type help\n");
    prompt();
}

int console_poll(uint32_t timeout_ms)
{
    char buf[64];
    int n = hal_console_read(buf, sizeof buf, webrepl_running() ? (timeout_ms < 20 ? timeout_ms : 20)
                                                                 : timeout_ms);
    if (n > 0)
        console_feed(buf, (size_t)n);
    webrepl_poll(0);
    return n > 0 ? n : 0;
}

_Noreturn void console_main(void)
{
    console_init();
    for (;;)
        console_poll(200);
}
