/*
 * portal.c - the set-up page (portal.h, docs/portal.md): the board's own access point, one
 * browser request at a time on port 80, a form to fill in, and on save the chapter's steps for
 * real (join the network, POST the webhook as a press would) before config.py is written. The
 * person sees what failed and why, in words; nothing is written until a test press succeeded,
 * unless they ask for it.
 *
 * No heap: the request, the text of config.py, the test's response and a scan never live at
 * the same time, so they share one buffer, and it is the core's (app/scratch.h: the press
 * path's answer, free while the set-up page runs inside run(), before any press is sent; the
 * console's, which runs only after app_main() returns): 2 KB of static RAM that a board linking
 * the set-up page does not pay twice (the ESP8266's 16 KB of data RAM, docs/esp8266.md).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "app/config.h"
#include "app/payload.h"
#include "app/scratch.h"
#include "bh_opts.h"
#include "hal/hal.h"
#include "net/http.h"
#include "net/url.h"
#include "net/wlan.h"
#include "portal/portal.h"

/* the scratch buffer (app/scratch.h) as the set-up page uses it, one at a time */
#define REQ app_scratch.text       /* while a request is read, BH_PORTAL_REQ_MAX bytes */
#define TXT app_scratch.text       /* config.py being checked, then written, BH_CFG_FILE_MAX */
#define RESP app_scratch.resp      /* the test press's answer */
_Static_assert(BH_PORTAL_REQ_MAX <= sizeof app_scratch.text &&
               BH_CFG_FILE_MAX <= sizeof app_scratch.text, "the scratch buffer holds a request");
static bh_config cfg;              /* the settings, as config.c reads them back */
static struct {
    char ssid[33], pw[65], url[BH_URL_MAX], id[BH_CFG_STR_MAX];
} F;                               /* what the form holds */
/* the networks the page lists, strongest first: the scan's results, sorted in place */
static const hal_ap_info *const aps = app_scratch.aps;
static int naps;
static char msg[BH_HTTP_ERR_MAX + 128];
static bool msg_ok;

/* ---- the answer, sent in pieces through a small buffer -------------------------------------- */
static char obuf[256];
static size_t olen;
static int osock, oerr;

static void flush(void)
{
    if (olen && !oerr && hal_tcp_send(osock, obuf, olen, 5000) < 0)
        oerr = 1;   /* the browser went away: the rest is dropped */
    olen = 0;
}

static void out(const char *s, size_t n)
{
    while (n) {
        size_t k = sizeof obuf - olen < n ? sizeof obuf - olen : n;
        memcpy(obuf + olen, s, k);
        olen += k, s += k, n -= k;
        if (olen == sizeof obuf)
            flush();
    }
}

static void outs(const char *s) { out(s, strlen(s)); }

/* text into HTML, as element content or a quoted attribute */
static void oesc(const char *s)
{
    for (; *s; s++) {
        const char *e = *s == '&' ? "&amp;" : *s == '<' ? "&lt;" : *s == '>' ? "&gt;"
                      : *s == '"' ? "&quot;" : *s == '\'' ? "&#39;" : NULL;
        if (e)
            outs(e);
        else
            out(s, 1);
    }
}

static void answer(int s, const char *status, const char *text)
{
    osock = s, oerr = 0, olen = 0;
    outs("HTTP/1.1 ");
    outs(status);
    outs("\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\n");
    outs(text);
    outs("\n");
    flush();
}

/* ---- the page ------------------------------------------------------------------------------ */
static const char head[] =
    "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\nCache-Control: no-store\r\n"
    "Connection: close\r\n\r\n<!DOCTYPE html><meta charset=utf-8><meta name=viewport "
    "content=\"width=device-width\"><title>buttonhook set-up</title><style>body{font:16px "
    "sans-serif;max-width:30em;margin:1em auto;padding:0 .5em}label{display:block;margin:.7em 0}"
    "input,select{display:block;width:100%}.bad{color:#b00}.ok{color:#070}</style>"
    "<h1>buttonhook set-up</h1>";

static void page(int s, bool form)
{
    osock = s, oerr = 0, olen = 0;
    outs(head);
    if (msg[0]) {
        outs(msg_ok ? "<p id=msg class=ok>" : "<p id=msg class=bad>");
        oesc(msg);
        outs("</p>");
    }
    if (form) {
        outs("<form method=post action=/save><label>Wi-Fi network<select name=ssid>");
        for (int i = 0; i < naps; i++) {
            outs("<option value=\"");
            oesc(aps[i].ssid);
            outs(strcmp(aps[i].ssid, F.ssid) ? "\">" : "\" selected>");
            oesc(aps[i].ssid);
            char dbm[16];
            snprintf(dbm, sizeof dbm, " (%d dBm)", aps[i].rssi);
            outs(dbm);
            outs("</option>");
        }
        outs("</select></label><label>or a network not listed<input name=other></label>"
             "<label>Password<input name=pw type=password></label><label>Webhook URL<input "
             "name=url placeholder=\"http://hookd:8080/trigger/EVENT/with/key/KEY\" value=\"");
        oesc(F.url);
        outs("\"></label><fieldset><legend>or hookd's</legend><label>address<input name=hookd "
             "placeholder=192.168.0.2:8080></label><label>event<input name=event "
             "placeholder=button_pressed></label><label>key<input name=key></label></fieldset>"
             "<label>Button id<input name=id value=\"");
        oesc(F.id);
        outs("\"></label><label><input name=force type=checkbox style=\"display:inline;"
             "width:auto\">save even if the test press fails</label><button>Test and save"
             "</button></form><p><a href=/>Scan again</a>");
    }
    flush();
}

/* the networks in range, strongest first, each name once at its strongest AP (hidden ones
 * have none), the BH_PORTAL_APS strongest; sorted in place in the scratch buffer, which is
 * free: the request was read, the test is over, and the page is sent from the list before
 * anything else uses it */
static void scan(void)
{
    hal_ap_info *a = app_scratch.aps;
    int n = wlan_scan(WLAN_STA, a, BH_SCAN_MAX);
    naps = 0;
    for (int i = 0; i < n; i++) {
        hal_ap_info ap = a[i];   /* the list is a[0..naps), naps <= i: a[i] may be moved over */
        int j = 0;
        while (j < naps && strcmp(a[j].ssid, ap.ssid))
            j++;
        if (!ap.ssid[0] || (j < naps && a[j].rssi >= ap.rssi))
            continue;   /* hidden, or its name is listed as strong already */
        if (j == naps && naps == BH_PORTAL_APS) {
            if (a[naps - 1].rssi >= ap.rssi)
                continue;   /* the list is full of stronger ones */
            j = naps - 1;   /* the weakest gives up its place */
        } else if (j == naps) {
            naps++;
        }
        /* a[j] is free (a new place, the same name's weaker AP, the weakest): ap moves up */
        for (; j > 0 && a[j - 1].rssi < ap.rssi; j--)
            a[j] = a[j - 1];
        a[j] = ap;
    }
}

/* ---- save: check, join, test, write ---------------------------------------------------------- */
#if defined(__GNUC__)
__attribute__((format(printf, 2, 3)))
#endif
static int say(bool ok, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    msg_ok = ok;
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return ok ? BH_OK : BH_ERR_ARG;
}

static int field(const char *body, size_t len, const char *name, const char *label, char *o,
                 size_t cap)
{
    int rc = form_get(body, len, name, o, cap);
    if (rc == BH_ERR_TOOBIG)
        return say(false, "%s is too long (%d bytes at most).", label, (int)cap - 1);
    if (rc == BH_ERR_PROTO)
        return say(false, "%s: the form's data is malformed (a bad %%-escape).", label);
    return BH_OK;   /* absent is empty */
}

static void config_diag(void *ctx, int is_error, const char *m)
{
    (void)ctx;
    if (is_error && !msg[0])
        say(false, "These settings would not read back from config.py: %s", m);
}

/* no URL typed: hookd's trigger URL from its address, the event and the key, if given */
static int hookd_url(const char *body, size_t len)
{
    char host[BH_HOST_MAX + 6], event[33], key[65];
    if (field(body, len, "hookd", "hookd's address", host, sizeof host) ||
        field(body, len, "event", "The event", event, sizeof event) ||
        field(body, len, "key", "The key", key, sizeof key))
        return BH_ERR_ARG;
    if (!host[0])
        return BH_OK;
    if (!key[0])
        return say(false, "Type hookd's key (`hookd key` prints it).");
    if (event[strcspn(event, "/?#")] || key[strcspn(key, "/?#")])
        return say(false, "The event and the key may not hold / ? or #.");
    snprintf(F.url, sizeof F.url, "http://%s/trigger/%s/with/key/%s", host,
             event[0] ? event : "button_pressed", key);
    return BH_OK;
}

static int check(const char *body, size_t len, bool *force)
{
    char other[33], box[8];
    if (field(body, len, "ssid", "The network name", F.ssid, sizeof F.ssid) ||
        field(body, len, "other", "The network name", other, sizeof other) ||
        field(body, len, "pw", "The password", F.pw, sizeof F.pw) ||
        field(body, len, "url", "The webhook URL", F.url, sizeof F.url) ||
        field(body, len, "id", "The button id", F.id, sizeof F.id) ||
        field(body, len, "force", "The check box", box, sizeof box))
        return BH_ERR_ARG;
    *force = box[0] != 0;
    if (other[0])
        memcpy(F.ssid, other, sizeof other);
    if (!F.ssid[0])
        return say(false, "Pick a Wi-Fi network, or type the name of one not listed.");
    char why[96];
    url_parts u;
    if (!F.url[0] && hookd_url(body, len) < 0)
        return BH_ERR_ARG;
    if (!F.url[0])
        return say(false, "Type the webhook URL, or hookd's address and key.");
    if (url_parse(F.url, &u, why, sizeof why) < 0)
        return say(false, "The webhook URL is not usable: %s.", why);
    if (!F.id[0])
        return say(false, "Type the button id (sent as value1).");
    portal_settings ps = {F.ssid, F.pw, F.url, F.id};
    int n = portal_config_text(&ps, TXT, BH_CFG_FILE_MAX);
    if (n < 0)
        return say(false, "These settings are too long for config.py (%d bytes at most).",
                   BH_CFG_FILE_MAX);
    /* what the board will read at the next press, read now */
    if (cfg_parse("config.py", TXT, (size_t)n, &cfg, config_diag, NULL) < 0)
        return BH_ERR_ARG;
    if (strcmp(cfg.wifi_ssid, F.ssid) || strcmp(cfg.wifi_password, F.pw) ||
        strcmp(cfg.webhook_url, F.url) || strcmp(cfg.button_id, F.id))
        return say(false, "These settings would not read back the same from config.py.");
    return BH_OK;
}

/* the chapter's connect_wifi() and call_webhook(), once, saying what went wrong */
static int test_press(void)
{
    wlan_set_active(WLAN_STA, true);
    wlan_connect(WLAN_STA, F.ssid, F.pw, NULL);
    uint32_t t0 = hal_millis(), limit = (uint32_t)cfg.wifi_timeout * 1000u;
    int st = wlan_status(WLAN_STA);
    while ((st == HAL_LINK_CONNECTING || st == HAL_LINK_IDLE) && hal_millis() - t0 < limit) {
        hal_delay_ms(100);
        st = wlan_status(WLAN_STA);
    }
    if (st != HAL_LINK_GOT_IP) {
        wlan_disconnect(WLAN_STA);
        if (st == HAL_LINK_WRONG_PASSWORD)
            return say(false, "Wrong password for the network '%s'.", F.ssid);
        if (st == HAL_LINK_NO_AP_FOUND)
            return say(false, "No network called '%s' answered: check its name, or bring the "
                       "board closer.", F.ssid);
        if (st == HAL_LINK_CONNECT_FAIL)
            return say(false, "Joining '%s' failed (the access point refused the board).",
                       F.ssid);
        return say(false, "'%s' gave the board no address within %d s (no DHCP answer).",
                   F.ssid, cfg.wifi_timeout);
    }
    const char *body;
    int n = payload_json(&cfg, &body);
    http_request q = {.method = "POST", .url = cfg.webhook_url, .body = body,
                      .body_len = n > 0 ? (size_t)n : 0, .content_type = "application/json",
                      .total_timeout_ms = (uint32_t)cfg.http_timeout * 1000u,
                      .status_only = true};
    int err = n < 0 ? n : http_do(&q, &RESP);
    if (err < 0) {
        say(false, "The webhook URL did not answer: %s.", n < 0 ? bh_strerror(n) : RESP.error);
        return err;
    }
    int code = RESP.status;
    if (code >= 400) {
        say(false, "The webhook URL answered %d %s%s.", code, RESP.reason,
            code == 401 || code == 403 ? ": the key in it is wrong" : "");
        return BH_ERR_PROTO;
    }
    return say(true, "Joined '%s'; the test press was answered %d %s.", F.ssid, code,
               RESP.reason);
}

static bool save(const char *body, size_t len)
{
    bool force = false;
    msg[0] = 0;
    if (check(body, len, &force) < 0)
        return false;
    int err = test_press();
    if (err < 0 && !force)
        return false;
    char was[sizeof msg];
    memcpy(was, msg, sizeof was);
    portal_settings ps = {F.ssid, F.pw, F.url, F.id};
    int n = portal_config_text(&ps, TXT, BH_CFG_FILE_MAX);   /* it held the test's answer */
    int rc = n < 0 ? n : hal_fs_write("config.py", 0, TXT, (size_t)n);
    if (rc < 0) {
        say(false, "config.py could not be written: %s.", bh_strerror(rc));
        return false;
    }
    say(err == BH_OK, "%s %sconfig.py is written: the board sleeps now; press its button to "
        "fire the webhook.", was, err < 0 ? "Saved anyway, as asked: " : "");
    bh_printf("Set-up: config.py written\n");
    return true;
}

/* Origin is "http://" and the Host the browser asked for: the form is the board's own */
static bool same_origin(const preq *r)
{
    return r->host && r->origin_len == 7 + r->host_len && !memcmp(r->origin, "http://", 7) &&
           !memcmp(r->origin + 7, r->host, r->host_len);
}

/* One request on socket s. true once config.py is written. */
static bool serve(int s)
{
    size_t n = 0;
    preq r;
    int hl = 0;
    uint32_t t0 = hal_millis();
    while (hl == 0 || n < (size_t)hl + r.body_len) {
        if (n == BH_PORTAL_REQ_MAX) {
            answer(s, hl ? "413 Content Too Large" : "431 Request Header Fields Too Large",
                   "request too large");
            return false;
        }
        int got = hal_tcp_recv(s, REQ + n, BH_PORTAL_REQ_MAX - n, 5000);
        if (got <= 0 || hal_millis() - t0 > 10000)
            return false;   /* gone, or too slow: nobody to answer */
        n += (size_t)got;
        if (hl == 0)
            hl = preq_parse(REQ, n, BH_PORTAL_REQ_MAX, &r);
        if (hl < 0) {
            answer(s, hl == BH_ERR_TOOBIG ? "413 Content Too Large"
                      : hl == BH_ERR_UNSUPPORTED ? "501 Not Implemented" : "400 Bad Request", r.why);
            return false;
        }
    }
    bool root = r.path_len == 1, save_path = r.path_len == 5 && !memcmp(r.path, "/save", 5);
    if (r.method == PREQ_GET && root) {
        msg[0] = 0;
        scan();
        page(s, true);
    } else if (r.method == PREQ_POST && save_path && r.origin && !same_origin(&r)) {
        /* a page from elsewhere, open in the same browser, posting to the board */
        answer(s, "403 Forbidden", "a form from another site is refused");
    } else if (r.method == PREQ_POST && save_path && r.form) {
        bool done = save(REQ + hl, r.body_len);
        if (!done)
            scan();
        page(s, !done);
        return done;
    } else if (root || save_path) {
        answer(s, "405 Method Not Allowed", "GET / or POST /save (a form)");
    } else {
        answer(s, "404 Not Found", "the set-up page is at /");
    }
    return false;
}

int portal_run(int cfg_err)
{
    memset(&F, 0, sizeof F);
    if (cfg_err == BH_OK && cfg_load("config.py", &cfg, NULL, NULL) == BH_OK) {
        /* the jumper in: start from what is there (the password is never shown) */
        memcpy(F.ssid, cfg.wifi_ssid, sizeof F.ssid);
        memcpy(F.url, cfg.webhook_url, sizeof F.url);
        memcpy(F.id, cfg.button_id, sizeof F.id);
    }
    wlan_set_active(WLAN_STA, true);   /* to scan */
    wlan_set_active(WLAN_AP, true);
    int ls = hal_tcp_listen(BH_PORTAL_PORT);
    if (ls < 0) {
        bh_printf("Set-up page: cannot listen on port %d: %s\n", BH_PORTAL_PORT, bh_strerror(ls));
        wlan_set_active(WLAN_AP, false);
        return cfg_err;
    }
    wlan_value v = {0};
    wlan_config_get(WLAN_AP, "essid", &v);
    bh_printf("Set-up: join the Wi-Fi network '%.*s' and open http://192.168.4.1/\n",
              (int)v.len, v.s ? v.s : "");
    hal_report("info", "portal", BH_PORTAL_PORT, "set-up page up");
    bool done = false;
    uint32_t last = hal_millis();
    while (!done && hal_millis() - last < BH_PORTAL_IDLE_MS) {
        int s = hal_tcp_accept(ls, 1000);
        if (s < 0) {
            if (s != BH_ERR_TIMEOUT)
                hal_delay_ms(100);
            continue;
        }
        done = serve(s);
        /* what the browser sent past an answered error is read first: a socket closed with
         * unread bytes is reset, and the reset can destroy the answer before it is read */
        for (int k = 0; k < 4 && hal_tcp_recv(s, REQ, BH_PORTAL_REQ_MAX, 50) > 0; k++)
            ;
        hal_tcp_close(s);
        last = hal_millis();
    }
    hal_tcp_close(ls);
    wlan_set_active(WLAN_AP, false);
    if (!done)
        bh_printf("Set-up page: no request for %u s, giving up\n", BH_PORTAL_IDLE_MS / 1000u);
    return done ? BH_OK : cfg_err;
}
