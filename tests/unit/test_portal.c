/* test_portal.c - the set-up page's parsers (firmware/portal/): the HTTP request head, the
 * form a browser posts, and config.py as the page writes it, read back by config.c. */
#include <stdio.h>
#include <string.h>

#include "app/config.h"
#include "bh_opts.h"
#include "portal/portal.h"
#include "testboard.h"

/* what Chromium sends when the form is saved (headers as it writes them) */
static const char chromium[] =
    "POST /save HTTP/1.1\r\n"
    "Host: 127.0.0.1:40823\r\n"
    "Connection: keep-alive\r\n"
    "Content-Length: 97\r\n"
    "Cache-Control: max-age=0\r\n"
    "Origin: http://127.0.0.1:40823\r\n"
    "Content-Type: application/x-www-form-urlencoded\r\n"
    "Upgrade-Insecure-Requests: 1\r\n"
    "User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "HeadlessChrome/120.0.0.0 Safari/537.36\r\n"
    "Accept: text/html,application/xhtml+xml,application/xml;q=0.9,image/avif,image/webp,*/*;q=0.8\r\n"
    "Referer: http://127.0.0.1:40823/\r\n"
    "Accept-Encoding: gzip, deflate, br\r\n"
    "\r\n"
    "ssid=home-net&other=&pw=correct+horse&url=http%3A%2F%2F127.0.0.1%3A8080%2Ftrigger%2Fx&id=b1";

static int parse(const char *s, size_t max_body, preq *r)
{
    return preq_parse(s, strlen(s), max_body, r);
}

static void request_head(void)
{
    preq r;
    size_t n = strlen(chromium);
    int hl = preq_parse(chromium, n, 2048, &r);
    CHECK(hl > 0);
    CHECK_INT(r.method, PREQ_POST);
    CHECK_INT(r.path_len, 5);
    CHECK(!memcmp(r.path, "/save", 5));
    CHECK(r.form);
    CHECK_INT(r.body_len, 97);
    CHECK_INT(n - (size_t)hl, 91);   /* the body that arrived so far */
    CHECK_INT(r.host_len, 15);
    CHECK(!memcmp(r.host, "127.0.0.1:40823", 15));
    CHECK_INT(r.origin_len, 22);
    CHECK(!memcmp(r.origin, "http://127.0.0.1:40823", 22));
    /* every cut before the empty line: not complete yet, and not an error */
    for (int cut = 0; cut < hl; cut++)
        CHECK_INT(preq_parse(chromium, (size_t)cut, 2048, &r), 0);

    CHECK_INT(parse("GET /?scan=1 HTTP/1.1\r\n\r\n", 0, &r), 25);
    CHECK_INT(r.method, PREQ_GET);
    CHECK_INT(r.path_len, 1);
    CHECK_INT(r.body_len, 0);
    CHECK(!r.form);
    CHECK(!r.host && !r.origin);
    /* bare LF line ends, a charset after the type, any case in names */
    CHECK_INT(parse("POST /save HTTP/1.0\ncontent-TYPE: Application/X-WWW-Form-Urlencoded; "
                    "charset=UTF-8\nCONTENT-LENGTH:  12 \n\n", 100, &r), 105);
    CHECK(r.form);
    CHECK_INT(r.body_len, 12);
    CHECK_INT(parse("PUT /save HTTP/1.1\r\nContent-Type: text/plain\r\n\r\n", 0, &r), 48);
    CHECK_INT(r.method, PREQ_OTHER);
    CHECK(!r.form);
    /* the same Content-Length twice is harmless */
    CHECK(parse("POST / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 3\r\n\r\n", 10, &r) > 0);

    /* refusals, each saying why */
    CHECK_INT(parse("GET / HTTP/1.1\r\nContent-Length: 3\r\nContent-Length: 4\r\n\r\n", 10, &r),
              BH_ERR_PROTO);
    CHECK_STR(r.why, "two different Content-Lengths");
    CHECK_INT(parse("POST / HTTP/1.1\r\nContent-Length: 2049\r\n\r\n", 2048, &r), BH_ERR_TOOBIG);
    CHECK_STR(r.why, "body too large");
    CHECK_INT(parse("POST / HTTP/1.1\r\nContent-Length: 99999999999999999999999\r\n\r\n", 2048,
                    &r), BH_ERR_TOOBIG);
    CHECK_INT(parse("POST / HTTP/1.1\r\nContent-Length: -1\r\n\r\n", 2048, &r), BH_ERR_PROTO);
    CHECK_STR(r.why, "Content-Length is not a number");
    CHECK_INT(parse("POST / HTTP/1.1\r\nContent-Length:\r\n\r\n", 2048, &r), BH_ERR_PROTO);
    CHECK_INT(parse("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n", 2048, &r),
              BH_ERR_UNSUPPORTED);
    CHECK_INT(parse("GET / HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n", 0, &r), BH_ERR_PROTO);
    CHECK_STR(r.why, "two Host headers");
    CHECK_INT(parse("POST / HTTP/1.1\r\nOrigin: a\r\nOrigin: a\r\n\r\n", 0, &r), BH_ERR_PROTO);
    CHECK_STR(r.why, "two Origin headers");
    CHECK_INT(parse("GET / HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 0, &r), BH_ERR_PROTO);
    CHECK_STR(r.why, "folded header line");
    CHECK_INT(parse("GET / HTTP/1.1\r\nNo colon here\r\n\r\n", 0, &r), BH_ERR_PROTO);
    CHECK_STR(r.why, "bad header line");
    CHECK_INT(parse("GET / HTTP/1.1\r\nX: a\x01" "b\r\n\r\n", 0, &r), BH_ERR_PROTO);
    const char *bad_lines[] = {"GET\r\n", "GET  / HTTP/1.1\r\n", "GET / HTTP/2\r\n",
                               "GET http://x/ HTTP/1.1\r\n", "GET / HTTP/1.1 \r\n",
                               "GET / / HTTP/1.1\r\n", " GET / HTTP/1.1\r\n", "\r\n",
                               "G(T / HTTP/1.1\r\n", "GET /\x7f HTTP/1.1\r\n"};
    for (size_t i = 0; i < sizeof bad_lines / sizeof *bad_lines; i++) {
        CHECK_INT(parse(bad_lines[i], 0, &r), BH_ERR_PROTO);
        CHECK_STR(r.why, "bad request line");
    }
    /* a bad request line is told at once, before the headers are in */
    CHECK_INT(parse("HELLO\n", 0, &r), BH_ERR_PROTO);
}

static void form(void)
{
    const char *body = strstr(chromium, "\r\n\r\n") + 4;
    size_t n = strlen(body);
    char v[64];
    CHECK_INT(form_get(body, n, "ssid", v, sizeof v), 8);
    CHECK_STR(v, "home-net");
    CHECK_INT(form_get(body, n, "pw", v, sizeof v), 13);
    CHECK_STR(v, "correct horse");
    CHECK_INT(form_get(body, n, "url", v, sizeof v), 31);
    CHECK_STR(v, "http://127.0.0.1:8080/trigger/x");
    CHECK_INT(form_get(body, n, "other", v, sizeof v), 0);
    CHECK_STR(v, "");
    CHECK_INT(form_get(body, n, "force", v, sizeof v), BH_ERR_NOENT);
    CHECK_STR(v, "");
    CHECK_INT(form_get(body, n, "i", v, sizeof v), BH_ERR_NOENT);   /* a prefix is not a name */

    /* %XX in any case, any byte (UTF-8 too), in names as well; the first field of a name wins */
    const char *f = "a=1&%70w=%c3%A9t%C3%a9+%26%3D%2B&pw=second&flag&x=%25";
    CHECK_INT(form_get(f, strlen(f), "pw", v, sizeof v), 9);
    CHECK_STR(v, "\xc3\xa9t\xc3\xa9 &=+");
    CHECK_INT(form_get(f, strlen(f), "flag", v, sizeof v), 0);
    CHECK_INT(form_get(f, strlen(f), "x", v, sizeof v), 1);
    CHECK_STR(v, "%");
    /* only len bytes are read */
    CHECK_INT(form_get("a=12345", 4, "a", v, sizeof v), 2);
    CHECK_STR(v, "12");

    /* malformed escapes and NUL are errors, not passed through */
    const char *bad[] = {"pw=%", "pw=%4", "pw=%G1", "pw=ab%2", "pw=%00", "pw=a%zzb"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_INT(form_get(bad[i], strlen(bad[i]), "pw", v, sizeof v), BH_ERR_PROTO);
    CHECK_INT(form_get("p%w=1", 5, "pw", v, sizeof v), BH_ERR_PROTO);
    /* a value that does not fit: refused, not cut */
    CHECK_INT(form_get("pw=12345", 8, "pw", v, 5), BH_ERR_TOOBIG);
    CHECK_INT(form_get("pw=12345", 8, "pw", v, 6), 5);
    CHECK_INT(form_get("", 0, "pw", v, sizeof v), BH_ERR_NOENT);
}

static char diag_text[256];
static void diag(void *ctx, int is_error, const char *msg)
{
    (void)ctx;
    if (is_error && !diag_text[0])
        snprintf(diag_text, sizeof diag_text, "%s", msg);
}

/* the settings written, then read back by config.c: the same values */
static void round_trip(const char *ssid, const char *pw, const char *url, const char *id)
{
    static char txt[BH_CFG_FILE_MAX];
    static bh_config c;
    portal_settings s = {ssid, pw, url, id};
    int n = portal_config_text(&s, txt, sizeof txt);
    CHECK(n > 0);
    diag_text[0] = 0;
    CHECK_INT(cfg_parse("config.py", txt, (size_t)n, &c, diag, NULL), 0);
    CHECK_STR(diag_text, "");
    CHECK_STR(c.wifi_ssid, ssid);
    CHECK_STR(c.wifi_password, pw);
    CHECK_STR(c.webhook_url, url);
    CHECK_STR(c.button_id, id);
    CHECK_INT(c.led_pin, 2);
    CHECK_INT(c.led2_pin, 16);
    CHECK_INT(c.debug_pin, 14);
}

static void config_text(void)
{
    char txt[BH_CFG_FILE_MAX];
    portal_settings s = {"home-net", "correct horse",
                         "http://127.0.0.1:8080/trigger/button_pressed/with/key/k", "micropython1"};
    int n = portal_config_text(&s, txt, sizeof txt);
    /* the chapter's layout (examples/config.py) */
    CHECK_STR(txt, "# written by the set-up page (docs/portal.md); edit freely\n"
                   "WIFI_SSID = 'home-net'\n"
                   "WIFI_PASSWORD = 'correct horse'\n"
                   "WEBHOOK_URL = 'http://127.0.0.1:8080/trigger/button_pressed/with/key/k'\n"
                   "BUTTON_ID = 'micropython1'\n"
                   "LED_PIN = 2  # D4\nLED2_PIN = 16  # D0\nDEBUG_PIN = 14  # D5\n");
    CHECK_INT(n, (long)strlen(txt));
    round_trip(s.ssid, s.password, s.url, s.button_id);
    /* quotes, backslashes, control characters, a '#', UTF-8, an empty password */
    round_trip("it's \"home\"", "back\\slash\\'", "https://h.example/a?b='c'#d", "caf\xc3\xa9 #1");
    round_trip("tab\there", "new\nline\r\x7f\x01", "http://h/", "\xe2\x82\xac");
    round_trip("x", "", "http://h:1/", "");
    /* the longest of each */
    char ssid[33], pw[65], url[BH_URL_MAX], id[BH_CFG_STR_MAX];
    memset(ssid, '\'', 32), ssid[32] = 0;
    memset(pw, '\\', 64), pw[64] = 0;
    memcpy(url, "http://h/", 9), memset(url + 9, 'u', sizeof url - 10), url[sizeof url - 1] = 0;
    memset(id, '"', sizeof id - 1), id[sizeof id - 1] = 0;
    round_trip(ssid, pw, url, id);
    /* too long for the buffer: refused whole */
    CHECK_INT(portal_config_text(&s, txt, 100), BH_ERR_TOOBIG);
    CHECK_STR(txt, "");
    CHECK_INT(portal_config_text(&s, txt, (size_t)n), BH_ERR_TOOBIG);
    CHECK_INT(portal_config_text(&s, txt, (size_t)n + 1), n);
}

int main(void)
{
    tb_reset();
    request_head();
    form();
    config_text();
    return tb_done("test_portal");
}
