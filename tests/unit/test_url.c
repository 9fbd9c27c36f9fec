/* test_url.c - URL parsing, redirect resolution and the JSON writer. */
#include <stdio.h>
#include <string.h>

#include "bh_opts.h"
#include "net/json.h"
#include "net/url.h"
#include "testboard.h"

static char why[128];

static const char *view(url_view v)
{
    static char buf[BH_URL_MAX];
    snprintf(buf, sizeof buf, "%.*s", (int)v.len, v.p);
    return buf;
}

static void parses(void)
{
    url_parts u;
    CHECK_INT(url_parse("http://maker.ifttt.com/trigger/button_pressed/with/key/abc", &u, why,
                        sizeof why), 0);
    CHECK(!u.https);
    CHECK_STR(view(u.host), "maker.ifttt.com");
    CHECK_INT(u.port, 80);
    CHECK(!u.port_explicit);
    CHECK(!u.is_ip);
    CHECK_STR(view(u.path), "/trigger/button_pressed/with/key/abc");

    CHECK_INT(url_parse("HTTPS://Example.com", &u, why, sizeof why), 0);
    CHECK(u.https);
    CHECK_INT(u.port, 443);
    CHECK_STR(view(u.host), "Example.com");
    CHECK_STR(view(u.path), "/");

    CHECK_INT(url_parse("http://127.0.0.1:8080/x?a=1&b=2#frag", &u, why, sizeof why), 0);
    CHECK(u.is_ip);
    CHECK_INT(u.ip, 0x7F000001);
    CHECK_INT(u.port, 8080);
    CHECK(u.port_explicit);
    CHECK_STR(view(u.path), "/x?a=1&b=2");

    CHECK_INT(url_parse("http://h:65535?q=1", &u, why, sizeof why), 0);
    CHECK_INT(u.port, 65535);
    CHECK_STR(view(u.path), "?q=1");
    char target[64];
    CHECK_INT(url_target(&u, target, sizeof target), 5);
    CHECK_STR(target, "/?q=1");
    CHECK_INT(url_target(&u, target, 5), BH_ERR_TOOBIG);

    CHECK_INT(url_parse("http://h#only-fragment", &u, why, sizeof why), 0);
    CHECK_STR(view(u.path), "/");

    CHECK_INT(url_parse("http://my_host-1.local./", &u, why, sizeof why), 0);
    char host[BH_HOST_MAX];
    CHECK_INT(url_host(&u, host, sizeof host), 0);
    CHECK_STR(host, "my_host-1.local.");
    CHECK_INT(url_host(&u, host, 4), BH_ERR_TOOBIG);

    CHECK_INT(url_parse("http://255.255.255.255:1/", &u, why, sizeof why), 0);
    CHECK_INT(u.ip, 0xFFFFFFFF);
    CHECK_INT(u.port, 1);
}

static void rejects(const char *url, int code, const char *reason)
{
    url_parts u;
    why[0] = 0;
    int rc = url_parse(url, &u, why, sizeof why);
    if (rc != code || strstr(why, reason) == NULL)
        fprintf(stderr, "url_parse(\"%s\") = %d \"%s\"\n", url, rc, why);
    CHECK_INT(rc, code);
    CHECK(strstr(why, reason) != NULL);
}

static void errors(void)
{
    rejects("", BH_ERR_ARG, "empty URL");
    rejects("maker.ifttt.com/x", BH_ERR_ARG, "missing scheme");
    rejects("localhost:8080/x", BH_ERR_ARG, "missing scheme");
    rejects("ftp://h/x", BH_ERR_UNSUPPORTED, "unsupported scheme 'ftp'");
    rejects("ws://h/x", BH_ERR_UNSUPPORTED, "only http and https");
    rejects("http:/h/x", BH_ERR_ARG, "expected '//'");
    rejects("http://", BH_ERR_ARG, "empty host");
    rejects("http:///x", BH_ERR_ARG, "empty host");
    rejects("http://:80/x", BH_ERR_ARG, "empty host");
    rejects("http://user:pw@h/x", BH_ERR_UNSUPPORTED, "user:password@");
    rejects("http://[::1]/", BH_ERR_UNSUPPORTED, "IPv6");
    rejects("http://h:/x", BH_ERR_ARG, "empty port");
    rejects("http://h:0/x", BH_ERR_ARG, "bad port '0'");
    rejects("http://h:65536/x", BH_ERR_ARG, "bad port '65536'");
    rejects("http://h:123456/x", BH_ERR_ARG, "bad port");
    rejects("http://h:8a/x", BH_ERR_ARG, "bad port '8a'");
    rejects("http://h:80:81/x", BH_ERR_ARG, "bad port");
    rejects("http://a b/x", BH_ERR_ARG, "space or control character at offset 8");
    rejects("http://h/a b", BH_ERR_ARG, "offset 10");
    rejects("http://h/a\tb", BH_ERR_ARG, "control character");
    rejects("http://h/a\x7f", BH_ERR_ARG, "control character");
    rejects("http://h/caf\xc3\xa9", BH_ERR_ARG, "non-ASCII byte at offset 12");
    rejects("http://h!x/", BH_ERR_ARG, "bad character '!' in host");
    rejects("http://h%41/", BH_ERR_ARG, "bad character '%'");
    rejects("http://.h/", BH_ERR_ARG, "empty label");
    rejects("http://a..b/", BH_ERR_ARG, "empty label");
    rejects("http://1.2.3/", BH_ERR_ARG, "bad IPv4 address '1.2.3'");
    rejects("http://1.2.3.256/", BH_ERR_ARG, "bad IPv4");
    rejects("http://1.2.3.4.5/", BH_ERR_ARG, "bad IPv4");
    rejects("http://0001.2.3.4/", BH_ERR_ARG, "bad IPv4");

    char longurl[BH_URL_MAX + 8];
    memset(longurl, 'a', sizeof longurl);
    memcpy(longurl, "http://h/", 9);
    longurl[BH_URL_MAX] = 0;       /* one too long for BH_URL_MAX with its NUL */
    rejects(longurl, BH_ERR_TOOBIG, "URL longer than");
    longurl[BH_URL_MAX - 1] = 0;   /* just fits */
    url_parts u;
    CHECK_INT(url_parse(longurl, &u, why, sizeof why), 0);

    char longhost[BH_HOST_MAX + 16];
    memset(longhost, 'h', sizeof longhost);
    memcpy(longhost, "http://", 7);
    longhost[7 + BH_HOST_MAX] = 0;
    rejects(longhost, BH_ERR_TOOBIG, "host name longer than");

    CHECK_INT(url_parse("http://h/", &u, NULL, 0), 0);   /* no error buffer is fine */
    CHECK_INT(url_parse("nope", &u, NULL, 0), BH_ERR_ARG);
}

static void resolves(const char *base, const char *loc, const char *want)
{
    char out[BH_URL_MAX];
    why[0] = 0;
    int rc = url_resolve(base, loc, out, sizeof out, why, sizeof why);
    if (rc != 0)
        fprintf(stderr, "url_resolve(\"%s\", \"%s\"): %d %s\n", base, loc, rc, why);
    CHECK_INT(rc, 0);
    CHECK_STR(out, want);
}

static void redirects(void)
{
    const char *b = "http://a.com:8080/b/c/d;p?q";
    resolves(b, "https://other.org/x", "https://other.org/x");
    resolves(b, "//other.org/x", "http://other.org/x");
    resolves("https://a/b", "//c/d", "https://c/d");
    resolves(b, "/x/y", "http://a.com:8080/x/y");
    resolves(b, "/x/../y/./z", "http://a.com:8080/y/z");
    resolves(b, "g", "http://a.com:8080/b/c/g");
    resolves(b, "./g", "http://a.com:8080/b/c/g");
    resolves(b, "g/", "http://a.com:8080/b/c/g/");
    resolves(b, "../g", "http://a.com:8080/b/g");
    resolves(b, "../..", "http://a.com:8080/");
    resolves(b, "../../../../g", "http://a.com:8080/g");
    resolves(b, ".", "http://a.com:8080/b/c/");
    resolves(b, "..", "http://a.com:8080/b/");
    resolves(b, "g?y=1", "http://a.com:8080/b/c/g?y=1");
    resolves(b, "g?y/../x", "http://a.com:8080/b/c/g?y/../x");
    resolves(b, "?y", "http://a.com:8080/b/c/d;p?y");
    resolves(b, "#s", "http://a.com:8080/b/c/d;p?q#s");
    resolves("http://h", "x", "http://h/x");
    resolves("http://h?q", "x", "http://h/x");
    resolves("http://h", "?q", "http://h/?q");
    resolves("http://h/dir/", "x", "http://h/dir/x");

    char out[BH_URL_MAX];
    CHECK_INT(url_resolve(b, "", out, sizeof out, why, sizeof why), BH_ERR_ARG);
    CHECK(strstr(why, "empty Location") != NULL);
    CHECK_INT(url_resolve(b, "ftp://x/", out, sizeof out, why, sizeof why),
              BH_ERR_UNSUPPORTED);
    CHECK_INT(url_resolve(b, "/a b", out, sizeof out, why, sizeof why), BH_ERR_ARG);
    CHECK_INT(url_resolve("bad", "/x", out, sizeof out, why, sizeof why), BH_ERR_ARG);
    CHECK_INT(url_resolve(b, "/xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx", out, 24, why,
                          sizeof why), BH_ERR_TOOBIG);
    CHECK(strstr(why, "redirect URL longer than 23") != NULL);
    CHECK_STR(out, "");
}

static void json(void)
{
    char buf[128];
    json_writer w;
    json_begin(&w, buf, sizeof buf);
    json_str(&w, "value1", "micropython1");
    CHECK_INT(json_end(&w), 26);
    CHECK_STR(buf, "{\"value1\": \"micropython1\"}");

    json_begin(&w, buf, sizeof buf);
    json_str(&w, "value1", "kitchen");
    json_str(&w, "value3", "quote \" and \\ slash\n\x01");
    json_int(&w, "n", -42);
    json_bool(&w, "ok", true);
    json_str(&w, "none", NULL);
    CHECK(json_end(&w) > 0);
    CHECK_STR(buf, "{\"value1\": \"kitchen\", \"value3\": \"quote \\\" and \\\\ slash\\n\\u0001\", "
                   "\"n\": -42, \"ok\": true, \"none\": null}");

    json_begin(&w, buf, sizeof buf);
    CHECK_INT(json_end(&w), 2);
    CHECK_STR(buf, "{}");

    json_begin(&w, buf, 12);
    json_str(&w, "value1", "x");   /* {"value1": "x"} is 15 bytes */
    CHECK_INT(json_end(&w), BH_ERR_TOOBIG);
    CHECK_STR(buf, "");
    json_begin(&w, buf, 16);
    json_str(&w, "value1", "x");
    CHECK_INT(json_end(&w), 15);

    CHECK_INT(json_quote(buf, sizeof buf, "caf\xc3\xa9"), 7);
    CHECK_STR(buf, "\"caf\xc3\xa9\"");
    CHECK_INT(json_quote(buf, 3, "ab"), BH_ERR_TOOBIG);
}

int main(void)
{
    tb_reset();
    parses();
    errors();
    redirects();
    json();
    return tb_done("test_url");
}
