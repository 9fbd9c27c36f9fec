/* test_http.c - the HTTP client against the test board's scripted peers, and the response
 * parser fed in every possible split. */
#include <stdio.h>
#include <string.h>

#include "bh_opts.h"
#include "net/http.h"
#include "net/json.h"
#include "testboard.h"

#define IP(a, b, c, d) ((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | (uint32_t)(c) << 8 | (d))
#define LOCAL IP(127, 0, 0, 1)

static http_response resp;

/* A fresh board whose station has an address, so DNS and connects work. */
static void link_up(void)
{
    tb_reset();
    tb_add_ap("net", "password", 6, -50, HAL_AUTH_WPA2_PSK, 0);
    hal_radio_sta_active(true);
    hal_join_params jp = {.ssid = "net", .password = "password"};
    hal_radio_join(&jp);
    tb_now_ms += tb_join_ms;
    CHECK_INT(hal_radio_link(), HAL_LINK_GOT_IP);
}

#define CHECK_HAS(hay, needle) do { const char *h_ = (hay), *n_ = (needle); \
    if (!strstr(h_, n_)) tb_fail_str(__FILE__, __LINE__, #hay " contains", h_, n_); } while (0)

static const char *OK_REPLY = "HTTP/1.1 200 OK\r\nContent-Length: 30\r\n\r\n"
                              "Congratulations! You've fired!";

static void post_json_webhook(void)
{
    link_up();
    tb_peer *p = tb_add_peer(LOCAL, 8080, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n"
                                           "Content-Type: text/plain\r\n\r\nfired");
    char body[64];
    json_writer w;
    json_begin(&w, body, sizeof body);
    json_str(&w, "value1", "micropython1");
    int n = json_end(&w);
    CHECK(n > 0);
    http_request req = {.method = "POST", .url = "http://127.0.0.1:8080/trigger/x/with/key/k",
                        .body = body, .body_len = (size_t)n, .content_type = "application/json"};
    CHECK_INT(http_do(&req, &resp), 0);
    CHECK_STR(p->sent, "POST /trigger/x/with/key/k HTTP/1.1\r\n"
                       "Host: 127.0.0.1:8080\r\n"
                       "User-Agent: buttonhook/0.1\r\n"
                       "Content-Type: application/json\r\n"
                       "Content-Length: 26\r\n"
                       "Connection: close\r\n"
                       "\r\n"
                       "{\"value1\": \"micropython1\"}");
    CHECK_INT(resp.status, 200);
    CHECK_STR(resp.reason, "OK");
    CHECK_STR(resp.body, "fired");
    CHECK_INT(resp.body_len, 5);
    CHECK_STR(http_header_get(&resp, "content-type"), "text/plain");
    CHECK_STR(http_header_get(&resp, "CONTENT-LENGTH"), "5");
    CHECK(http_header_get(&resp, "location") == NULL);
    CHECK_STR(resp.url, "http://127.0.0.1:8080/trigger/x/with/key/k");
    CHECK_INT(resp.redirects, 0);
    CHECK_INT(resp.bytes_sent, p->sent_len);
    CHECK_INT(resp.bytes_received, strlen(p->reply));
    CHECK(p->closed);
    CHECK(!p->tls);
    CHECK_INT(tb_dns_lookups, 0);   /* an address needs no lookup */
    CHECK_STR(tb_reports, "http POST http://127.0.0.1:8080/trigger/x/with/key/k 200 OK\n");
    CHECK_STR(resp.error, "");
}

static void methods(void)
{
    static const struct {
        const char *method, *line;
        int has_length;
    } cases[] = {
        {NULL, "GET / HTTP/1.1\r\n", 0},          {"GET", "GET / HTTP/1.1\r\n", 0},
        {"POST", "POST / HTTP/1.1\r\n", 1},       {"PUT", "PUT / HTTP/1.1\r\n", 1},
        {"PATCH", "PATCH / HTTP/1.1\r\n", 1},     {"DELETE", "DELETE / HTTP/1.1\r\n", 0},
        {"OPTIONS", "OPTIONS / HTTP/1.1\r\n", 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        link_up();
        tb_dns_add("example.com", IP(93, 184, 216, 34));
        tb_peer *p = tb_add_peer(IP(93, 184, 216, 34), 80, OK_REPLY);
        http_request req = {.method = cases[i].method, .url = "http://example.com"};
        CHECK_INT(http_do(&req, &resp), 0);
        CHECK(strncmp(p->sent, cases[i].line, strlen(cases[i].line)) == 0);
        CHECK_HAS(p->sent, "\r\nHost: example.com\r\n");
        if (cases[i].has_length)
            CHECK_HAS(p->sent, "\r\nContent-Length: 0\r\n");
        else
            CHECK(strstr(p->sent, "Content-Length") == NULL);
        CHECK(strstr(p->sent, "Content-Type") == NULL);
        CHECK_INT(tb_dns_lookups, 1);
        CHECK_INT(resp.status, 200);
    }

    /* a body with DELETE still gets its length */
    link_up();
    tb_peer *p = tb_add_peer(LOCAL, 80, OK_REPLY);
    http_request del = {.method = "DELETE", .url = "http://127.0.0.1/x", .body = "id=1",
                        .body_len = 4, .content_type = "application/x-www-form-urlencoded"};
    CHECK_INT(http_do(&del, &resp), 0);
    CHECK_HAS(p->sent, "Content-Type: application/x-www-form-urlencoded\r\n"
                       "Content-Length: 4\r\nConnection: close\r\n\r\nid=1");

    /* an unknown method is refused before anything is sent */
    link_up();
    http_request bad = {.method = "BREW", .url = "http://127.0.0.1/"};
    CHECK_INT(http_do(&bad, &resp), BH_ERR_ARG);
    CHECK_STR(resp.error, "BREW http://127.0.0.1/: request: unsupported method 'BREW'");
    CHECK_INT(tb_connects, 0);
}

static void head_has_no_body(void)
{
    link_up();
    /* HEAD announces the length of the body it does not send; the peer then stalls, so
     * waiting for the body would time out */
    tb_peer *p = tb_add_peer(LOCAL, 80, "HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
    p->stall = 1;
    http_request req = {.method = "HEAD", .url = "http://127.0.0.1/"};
    uint32_t t0 = tb_now_ms;
    CHECK_INT(http_do(&req, &resp), 0);
    CHECK_INT(resp.status, 200);
    CHECK_INT(resp.body_len, 0);
    CHECK_STR(http_header_get(&resp, "content-length"), "1000");
    CHECK(tb_now_ms - t0 < 100);
}

static void extra_headers(void)
{
    link_up();
    tb_peer *p = tb_add_peer(LOCAL, 80, OK_REPLY);
    http_header h[] = {{"Authorization", "Bearer t0k"}, {"X-Button", "kitchen"}};
    http_request req = {.url = "http://127.0.0.1:80/", .headers = h, .nheaders = 2};
    CHECK_INT(http_do(&req, &resp), 0);
    CHECK_STR(p->sent, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUser-Agent: buttonhook/0.1\r\n"
                       "Authorization: Bearer t0k\r\nX-Button: kitchen\r\n"
                       "Connection: close\r\n\r\n");

    /* the caller's User-Agent replaces ours */
    link_up();
    p = tb_add_peer(LOCAL, 80, OK_REPLY);
    http_header ua[] = {{"user-agent", "curl/8"}};
    http_request req2 = {.url = "http://127.0.0.1/", .headers = ua, .nheaders = 1};
    CHECK_INT(http_do(&req2, &resp), 0);
    CHECK(strstr(p->sent, "buttonhook") == NULL);
    CHECK_HAS(p->sent, "\r\nuser-agent: curl/8\r\n");

    /* no header injection, no second Host */
    static const struct { http_header h; const char *why; } bad[] = {
        {{"X-A", "1\r\nHost: evil"}, "bad header 0"},
        {{"X A", "1"}, "bad header 0"},
        {{"", "1"}, "bad header 0"},
        {{"X-A", NULL}, "bad header 0"},
        {{"Host", "evil"}, "bad header 0"},
        {{"content-length", "9"}, "bad header 0"},
        {{"Transfer-Encoding", "chunked"}, "bad header 0"},
        {{"Connection", "keep-alive"}, "bad header 0"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        link_up();
        http_request r = {.method = "POST", .url = "http://127.0.0.1/x", .headers = &bad[i].h,
                          .nheaders = 1};
        CHECK_INT(http_do(&r, &resp), BH_ERR_ARG);
        CHECK_HAS(resp.error, "POST http://127.0.0.1/x: request: ");
        CHECK_HAS(resp.error, bad[i].why);
        CHECK_INT(tb_connects, 0);
    }
    link_up();
    http_request ct = {.method = "POST", .url = "http://127.0.0.1/x", .body = "",
                       .content_type = "text/plain\nX: y"};
    CHECK_INT(http_do(&ct, &resp), BH_ERR_ARG);
    CHECK_HAS(resp.error, "request: bad Content-Type");
}

static void host_header(void)
{
    static const struct { const char *url, *host; uint16_t port; int tls; } cases[] = {
        {"http://h.test/", "Host: h.test\r\n", 80, 0},
        {"http://h.test:80/", "Host: h.test\r\n", 80, 0},
        {"http://h.test:8266/", "Host: h.test:8266\r\n", 8266, 0},
        {"https://h.test/", "Host: h.test\r\n", 443, 1},
        {"https://h.test:8443/", "Host: h.test:8443\r\n", 8443, 1},
        {"http://h.test:443/", "Host: h.test:443\r\n", 443, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        link_up();
        tb_dns_add("h.test", IP(10, 0, 0, 7));
        tb_peer *p = tb_add_peer(IP(10, 0, 0, 7), cases[i].port, OK_REPLY);
        http_request req = {.url = cases[i].url};
        CHECK_INT(http_do(&req, &resp), 0);
        CHECK_HAS(p->sent, cases[i].host);
        CHECK_INT(p->tls, cases[i].tls);
    }
}

static void response_parsing(void)
{
    link_up();
    tb_add_peer(LOCAL, 80,
                "HTTP/1.1 201 Created Just Now\r\n"
                "X-Odd:    lots of space   \r\n"
                "X-Folded: first\r\n"
                "   second\r\n"
                "\tthird\r\n"
                "x-empty:\r\n"
                "Set-Cookie: a=1\r\n"
                "Set-Cookie: b=2\n"      /* a bare LF ends a line too */
                "Content-Length: 2\r\n"
                "\r\n"
                "hi and more bytes the server should not have sent");
    http_request req = {.url = "http://127.0.0.1/"};
    CHECK_INT(http_do(&req, &resp), 0);
    CHECK_INT(resp.status, 201);
    CHECK_STR(resp.reason, "Created Just Now");
    CHECK_STR(http_header_get(&resp, "x-odd"), "lots of space");
    CHECK_STR(http_header_get(&resp, "X-FOLDED"), "first second third");
    CHECK_STR(http_header_get(&resp, "X-Empty"), "");
    CHECK_STR(http_header_get(&resp, "set-cookie"), "a=1");
    CHECK_STR(resp.body, "hi");
    size_t pos = 0;
    const char *n, *v;
    int cookies = 0, count = 0;
    while (http_header_next(&resp, &pos, &n, &v)) {
        count++;
        cookies += strcmp(n, "Set-Cookie") == 0;
    }
    CHECK_INT(count, 6);
    CHECK_INT(cookies, 2);

    /* no reason phrase at all, and a 1xx before the answer */
    link_up();
    tb_add_peer(LOCAL, 80, "HTTP/1.1 100 Continue\r\n\r\n"
                           "HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\n"
                           "HTTP/1.0 204\r\nX-A: 1\r\n\r\n");
    CHECK_INT(http_do(&req, &resp), 0);
    CHECK_INT(resp.status, 204);
    CHECK_STR(resp.reason, "");
    CHECK(http_header_get(&resp, "link") == NULL);
    CHECK_STR(http_header_get(&resp, "x-a"), "1");

    /* 304 has no body whatever it announces */
    link_up();
    tb_peer *p = tb_add_peer(LOCAL, 80, "HTTP/1.1 304 Not Modified\r\nContent-Length: 50\r\n\r\n");
    p->stall = 1;
    CHECK_INT(http_do(&req, &resp), 0);
    CHECK_INT(resp.status, 304);
    CHECK_INT(resp.body_len, 0);

    /* a long reason phrase is cut, not an error */
    link_up();
    static char longreason[200];
    snprintf(longreason, sizeof longreason, "HTTP/1.1 200 %0120d\r\nContent-Length: 0\r\n\r\n", 0);
    tb_add_peer(LOCAL, 80, longreason);
    CHECK_INT(http_do(&req, &resp), 0);
    CHECK_INT(strlen(resp.reason), sizeof resp.reason - 1);
}

static void chunked(void)
{
    static const char *reply =
        "HTTP/1.1 200 OK\r\n"
        "Transfer-Encoding: gzip, chunked\r\n"   /* only the last coding frames the body */
        "Content-Length: 3\r\n"                  /* ignored: chunked wins */
        "\r\n"
        "5\r\nHello\r\n"
        "1;name=value;x=\"q\"\r\n,\r\n"
        "0007 \r\n world!\r\n"
        "0\r\n"
        "X-Trailer: yes\r\n"
        "\r\n";
    for (size_t chunk = 0; chunk <= 7; chunk++) {
        link_up();
        tb_peer *p = tb_add_peer(LOCAL, 80, reply);
        p->chunk = chunk;
        p->stall = 1;   /* finishing must not depend on the server closing */
        http_request req = {.url = "http://127.0.0.1/"};
        CHECK_INT(http_do(&req, &resp), 0);
        CHECK_STR(resp.body, "Hello, world!");
        CHECK_INT(resp.body_len, 13);
        CHECK(http_header_get(&resp, "x-trailer") == NULL);
    }
    /* bare LF line ends and upper-case hex */
    link_up();
    tb_peer *p = tb_add_peer(LOCAL, 80, "HTTP/1.1 200 OK\nTransfer-Encoding: Chunked\n\n"
                                        "A\n0123456789\n0\n\n");
    p->chunk = 1;
    http_request req = {.url = "http://127.0.0.1/"};
    CHECK_INT(http_do(&req, &resp), 0);
    CHECK_STR(resp.body, "0123456789");

    /* malformed chunks */
    static const struct { const char *body; int rc; const char *why; } bad[] = {
        {"x\r\n", BH_ERR_PROTO, "bad chunk size"},
        {"\r\n", BH_ERR_PROTO, "bad chunk size"},
        {"5x\r\n", BH_ERR_PROTO, "bad chunk size"},
        {"2\r\nabX\r\n", BH_ERR_PROTO, "no CRLF after chunk data"},
        {"2\r\nab\rX", BH_ERR_PROTO, "no CRLF after chunk data"},
        {"2;a\x01\r\n", BH_ERR_PROTO, "control character in a chunk"},
        {"FFFFFFFFFF\r\n", BH_ERR_TOOBIG, "body over 512 bytes"},
        {"3\r\nabc\r\n", BH_ERR_RESET, "connection closed in the chunked body after 3 bytes"},
        {"0\r\nX: y\r\n", BH_ERR_RESET, "connection closed in the chunked body"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        static char buf[256];
        snprintf(buf, sizeof buf, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n%s",
                 bad[i].body);
        link_up();
        tb_add_peer(LOCAL, 80, buf);
        CHECK_INT(http_do(&req, &resp), bad[i].rc);
        CHECK_HAS(resp.error, "GET http://127.0.0.1/: receive: ");
        CHECK_HAS(resp.error, bad[i].why);
        CHECK_INT(resp.status, 200);
    }
}

static void read_to_close(void)
{
    link_up();
    tb_peer *p = tb_add_peer(LOCAL, 80, "HTTP/1.0 200 OK\r\nServer: old\r\n\r\nuntil the end");
    p->chunk = 3;
    http_request req = {.url = "http://127.0.0.1/"};
    CHECK_INT(http_do(&req, &resp), 0);
    CHECK_STR(resp.body, "until the end");

    /* a coding other than chunked also runs to the close */
    link_up();
    tb_add_peer(LOCAL, 80, "HTTP/1.1 200 OK\r\nTransfer-Encoding: identity\r\n"
                           "Content-Length: 2\r\n\r\nabcdef");
    CHECK_INT(http_do(&req, &resp), 0);
    CHECK_STR(resp.body, "abcdef");

    /* Content-Length: the server closing early is an error, with what arrived */
    link_up();
    tb_add_peer(LOCAL, 80, "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc");
    CHECK_INT(http_do(&req, &resp), BH_ERR_RESET);
    CHECK_STR(resp.error, "GET http://127.0.0.1/: receive: connection closed after 3 of 10 "
                          "body bytes");
    CHECK_INT(resp.status, 200);
    CHECK_STR(resp.body, "abc");

    link_up();
    tb_add_peer(LOCAL, 80, "");
    CHECK_INT(http_do(&req, &resp), BH_ERR_RESET);
    CHECK_STR(resp.error, "GET http://127.0.0.1/: receive: connection closed before any response");
    CHECK_INT(resp.status, 0);

    link_up();
    tb_add_peer(LOCAL, 80, "HTTP/1.1 200 OK\r\nA: b\r\n");
    CHECK_INT(http_do(&req, &resp), BH_ERR_RESET);
    CHECK_HAS(resp.error, "connection closed in the headers");
}

/* A redirect chain: the first peer answers with status/location, the second with OK. */
static tb_peer *redirect_to(int status, const char *location, uint16_t port2)
{
    static char reply[256];
    snprintf(reply, sizeof reply, "HTTP/1.1 %d Moved\r\nLocation: %s\r\n"
             "Content-Length: 100000\r\n\r\n", status, location);   /* body never read */
    tb_add_peer(LOCAL, 80, reply)->stall = 1;
    return tb_add_peer(LOCAL, port2, OK_REPLY);
}

static void redirects(void)
{
    static const struct { int status; const char *method; int keeps_body; } kinds[] = {
        {301, "GET", 0}, {302, "GET", 0}, {303, "GET", 0}, {307, "POST", 1}, {308, "POST", 1},
    };
    for (size_t i = 0; i < sizeof kinds / sizeof kinds[0]; i++) {
        link_up();
        tb_peer *p2 = redirect_to(kinds[i].status, "http://127.0.0.1:81/new?x=1", 81);
        http_request req = {.method = "POST", .url = "http://127.0.0.1/old", .body = "{}",
                            .body_len = 2, .content_type = "application/json"};
        CHECK_INT(http_do(&req, &resp), 0);
        CHECK_INT(resp.status, 200);
        CHECK_INT(resp.redirects, 1);
        CHECK_STR(resp.url, "http://127.0.0.1:81/new?x=1");
        CHECK_STR(resp.body, "Congratulations! You've fired!");
        CHECK(strncmp(p2->sent, kinds[i].method, strlen(kinds[i].method)) == 0);
        CHECK_HAS(p2->sent, " /new?x=1 HTTP/1.1\r\nHost: 127.0.0.1:81\r\n");
        if (kinds[i].keeps_body) {
            CHECK_HAS(p2->sent, "Content-Type: application/json\r\nContent-Length: 2\r\n");
            CHECK_HAS(p2->sent, "\r\n\r\n{}");
        } else {
            CHECK(strstr(p2->sent, "Content-Length") == NULL);
            CHECK(strstr(p2->sent, "Content-Type") == NULL);
            CHECK(strstr(p2->sent, "{}") == NULL);
        }
        CHECK(tb_peers[0].closed);
        CHECK_INT(tb_now_ms < 2000, 1);   /* the 3xx body was not waited for */
    }

    /* relative Location, HEAD stays HEAD through a 302 */
    link_up();
    tb_add_peer(LOCAL, 80, "HTTP/1.1 302 Found\r\nLocation: ../c/./d?q\r\n\r\n");
    tb_peer *p = tb_add_peer(LOCAL, 80, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\n");
    http_request head = {.method = "HEAD", .url = "http://127.0.0.1/a/b/x"};
    CHECK_INT(http_do(&head, &resp), 0);
    CHECK_STR(resp.url, "http://127.0.0.1/a/c/d?q");
    CHECK(strncmp(p->sent, "HEAD /a/c/d?q HTTP/1.1\r\n", 24) == 0);
    CHECK_STR(tb_reports, "http HEAD http://127.0.0.1/a/c/d?q 200 OK\n");

    /* limit: 6 redirects with the default of 5 */
    link_up();
    for (int i = 0; i < 7; i++)
        tb_add_peer(LOCAL, 80, "HTTP/1.1 302 Found\r\nLocation: /again\r\n\r\n");
    http_request loop = {.url = "http://127.0.0.1/"};
    CHECK_INT(http_do(&loop, &resp), BH_ERR_PROTO);
    CHECK_STR(resp.error, "GET http://127.0.0.1/again: redirect: more than 5 redirects");
    CHECK_INT(resp.redirects, 5);
    CHECK_INT(tb_connects, 6);

    link_up();
    for (int i = 0; i < 3; i++)
        tb_add_peer(LOCAL, 80, "HTTP/1.1 302 Found\r\nLocation: /again\r\n\r\n");
    loop.max_redirects = 2;
    CHECK_INT(http_do(&loop, &resp), BH_ERR_PROTO);
    CHECK_HAS(resp.error, "more than 2 redirects");

    /* not following: the 3xx is the answer, body and all */
    link_up();
    tb_add_peer(LOCAL, 80, "HTTP/1.1 302 Found\r\nLocation: /x\r\nContent-Length: 3\r\n\r\nabc");
    loop.max_redirects = HTTP_NO_REDIRECTS;
    CHECK_INT(http_do(&loop, &resp), 0);
    CHECK_INT(resp.status, 302);
    CHECK_STR(resp.body, "abc");
    CHECK_INT(tb_connects, 1);

    /* a 3xx without Location, or one that is not a redirect, is the answer */
    link_up();
    tb_add_peer(LOCAL, 80, "HTTP/1.1 300 Multiple Choices\r\nLocation: /x\r\nContent-Length: 0\r\n\r\n");
    loop.max_redirects = 0;
    CHECK_INT(http_do(&loop, &resp), 0);
    CHECK_INT(resp.status, 300);
    link_up();
    tb_add_peer(LOCAL, 80, "HTTP/1.1 302 Found\r\nContent-Length: 0\r\n\r\n");
    CHECK_INT(http_do(&loop, &resp), 0);
    CHECK_INT(resp.status, 302);

    /* a Location we cannot follow */
    link_up();
    tb_add_peer(LOCAL, 80, "HTTP/1.1 301 Moved\r\nLocation: ftp://files/x\r\n\r\n");
    CHECK_INT(http_do(&loop, &resp), BH_ERR_UNSUPPORTED);
    CHECK_STR(resp.error, "GET http://127.0.0.1/: redirect: bad Location 'ftp://files/x': "
                          "unsupported scheme 'ftp' (only http and https)");

    /* credentials do not follow a redirect to another host, other headers do */
    link_up();
    tb_dns_add("other.test", IP(10, 1, 1, 1));
    tb_add_peer(LOCAL, 80, "HTTP/1.1 307 Temporary\r\nLocation: /same\r\n\r\n");
    tb_add_peer(LOCAL, 80, "HTTP/1.1 308 Permanent\r\nLocation: http://other.test/\r\n\r\n");
    p = tb_add_peer(IP(10, 1, 1, 1), 80, OK_REPLY);
    http_header h[] = {{"Authorization", "Bearer secret"}, {"X-Id", "7"}};
    http_request cred = {.url = "http://127.0.0.1/", .headers = h, .nheaders = 2};
    CHECK_INT(http_do(&cred, &resp), 0);
    CHECK_HAS(tb_peers[1].sent, "Authorization: Bearer secret\r\n");
    CHECK(strstr(p->sent, "Authorization") == NULL);
    CHECK_HAS(p->sent, "X-Id: 7\r\n");
    CHECK_INT(resp.redirects, 2);
}

static void network_errors(void)
{
    http_request req = {.method = "POST", .url = "http://nowhere.test/x", .body = "{}",
                        .body_len = 2, .content_type = "application/json"};

    link_up();
    CHECK_INT(http_do(&req, &resp), BH_ERR_DNS);
    CHECK_STR(resp.error, "POST http://nowhere.test/x: dns: host name not found: nowhere.test");
    CHECK_STR(tb_reports, "http POST http://nowhere.test/x -6 dns: host name not found: "
                          "nowhere.test\n");

    req.url = "http://127.0.0.1:9/x";
    link_up();   /* nobody listens */
    CHECK_INT(http_do(&req, &resp), BH_ERR_REFUSED);
    CHECK_STR(resp.error, "POST http://127.0.0.1:9/x: connect: connection refused");

    link_up();
    tb_add_peer(LOCAL, 9, NULL)->connect_err = BH_ERR_UNREACH;
    CHECK_INT(http_do(&req, &resp), BH_ERR_UNREACH);
    CHECK_STR(resp.error, "POST http://127.0.0.1:9/x: connect: network unreachable");

    link_up();
    tb_add_peer(LOCAL, 9, NULL)->connect_err = BH_ERR_TIMEOUT;
    req.connect_timeout_ms = 1234;
    uint32_t t0 = tb_now_ms;
    CHECK_INT(http_do(&req, &resp), BH_ERR_TIMEOUT);
    CHECK_INT(tb_now_ms - t0, 1234);
    CHECK_INT(resp.elapsed_ms, 1234);
    CHECK_STR(resp.error, "POST http://127.0.0.1:9/x: connect: no answer within 1234 ms");
    req.connect_timeout_ms = 0;

    /* the connect timeout never outlasts the total one */
    link_up();
    tb_add_peer(LOCAL, 9, NULL)->connect_err = BH_ERR_TIMEOUT;
    req.total_timeout_ms = 700;
    t0 = tb_now_ms;
    CHECK_INT(http_do(&req, &resp), BH_ERR_TIMEOUT);
    CHECK_INT(tb_now_ms - t0, 700);

    /* total timeout: the server sends half the headers, then nothing */
    link_up();
    tb_peer *p = tb_add_peer(LOCAL, 9, "HTTP/1.1 200 OK\r\nContent-");
    p->stall = 1;
    req.total_timeout_ms = 3000;
    t0 = tb_now_ms;
    CHECK_INT(http_do(&req, &resp), BH_ERR_TIMEOUT);
    CHECK_INT(tb_now_ms - t0, 3000);
    CHECK_STR(resp.error, "POST http://127.0.0.1:9/x: receive: response incomplete; total "
                          "timeout of 3000 ms reached");
    CHECK_INT(resp.status, 200);

    /* the default total timeout, server silent */
    link_up();
    tb_add_peer(LOCAL, 9, NULL)->stall = 1;
    req.total_timeout_ms = 0;
    t0 = tb_now_ms;
    CHECK_INT(http_do(&req, &resp), BH_ERR_TIMEOUT);
    CHECK_INT(tb_now_ms - t0, BH_HTTP_TOTAL_TIMEOUT_MS);
    CHECK_HAS(resp.error, "receive: no response; total timeout of");

    /* no Wi-Fi */
    tb_reset();
    CHECK_INT(http_do(&req, &resp), BH_ERR_NOLINK);
    CHECK_STR(resp.error, "POST http://127.0.0.1:9/x: connect: Wi-Fi not connected");

    /* bad URLs never reach the network */
    link_up();
    http_request bad = {.url = "htp://x/"};
    CHECK_INT(http_do(&bad, &resp), BH_ERR_UNSUPPORTED);
    CHECK_STR(resp.error, "GET htp://x/: url: unsupported scheme 'htp' (only http and https)");
    bad.url = NULL;
    CHECK_INT(http_do(&bad, &resp), BH_ERR_ARG);
    CHECK_HAS(resp.error, "url: empty URL");
    static char longurl[BH_URL_MAX + 10];
    memset(longurl, 'a', sizeof longurl - 1);
    memcpy(longurl, "http://h/", 9);
    bad.url = longurl;
    CHECK_INT(http_do(&bad, &resp), BH_ERR_TOOBIG);
    CHECK_HAS(resp.error, "...: url: URL over 255 characters");
    CHECK(strlen(resp.error) < sizeof resp.error);
    CHECK_INT(tb_connects, 0);
    CHECK_INT(tb_dns_lookups, 0);
}

static void caps(void)
{
    http_request req = {.url = "http://127.0.0.1/"};

    /* body over the cap, announced: error at once, status still known */
    link_up();
    static char reply[BH_HTTP_BODY_MAX + 200];
    snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n",
             BH_HTTP_BODY_MAX + 1);
    tb_add_peer(LOCAL, 80, reply);
    CHECK_INT(http_do(&req, &resp), BH_ERR_TOOBIG);
    CHECK_INT(resp.status, 200);
    char want[96];
    snprintf(want, sizeof want, "receive: body of %d bytes over %d",
             BH_HTTP_BODY_MAX + 1, BH_HTTP_BODY_MAX);
    CHECK_HAS(resp.error, want);

    /* exactly the cap fits; one more byte read to the close does not */
    for (int extra = 0; extra <= 1; extra++) {
        link_up();
        int n = snprintf(reply, sizeof reply, "HTTP/1.1 200 OK\r\n\r\n");
        memset(reply + n, 'b', BH_HTTP_BODY_MAX + (size_t)extra);
        reply[n + BH_HTTP_BODY_MAX + extra] = 0;
        tb_add_peer(LOCAL, 80, reply)->chunk = 100;
        int rc = http_do(&req, &resp);
        CHECK_INT(rc, extra ? BH_ERR_TOOBIG : 0);
        if (!extra) {
            CHECK_INT(resp.body_len, BH_HTTP_BODY_MAX);
            CHECK_INT(resp.body[BH_HTTP_BODY_MAX], 0);
        } else {
            snprintf(want, sizeof want, "receive: body over %d bytes",
                     BH_HTTP_BODY_MAX);
            CHECK_HAS(resp.error, want);
        }
    }

    /* headers over the cap */
    link_up();
    static char hdrs[BH_HTTP_HDR_MAX + 100];
    strcpy(hdrs, "HTTP/1.1 200 OK\r\nX-Big: ");
    size_t n = strlen(hdrs);
    memset(hdrs + n, 'h', BH_HTTP_HDR_MAX);
    strcpy(hdrs + n + BH_HTTP_HDR_MAX, "\r\n\r\n");
    tb_add_peer(LOCAL, 80, hdrs);
    CHECK_INT(http_do(&req, &resp), BH_ERR_TOOBIG);
    snprintf(want, sizeof want, "receive: headers over %d bytes",
             BH_HTTP_HDR_MAX);
    CHECK_HAS(resp.error, want);

    /* many small headers just under the cap are all kept */
    link_up();
    strcpy(hdrs, "HTTP/1.1 200 OK\r\n");
    int lines = 0;
    while (strlen(hdrs) + 11 + 21 <= BH_HTTP_HDR_MAX) {
        char line[16];
        snprintf(line, sizeof line, "X-%05d: v\r\n", lines++ % 100000);
        strcat(hdrs, line);
    }
    strcat(hdrs, "Content-Length: 0\r\n\r\n");
    CHECK(strlen(hdrs) <= BH_HTTP_HDR_MAX);
    CHECK(strlen(hdrs) > BH_HTTP_HDR_MAX - 11);
    tb_add_peer(LOCAL, 80, hdrs);
    CHECK_INT(http_do(&req, &resp), 0);
    CHECK_STR(http_header_get(&resp, "content-length"), "0");
    CHECK_STR(http_header_get(&resp, "x-00000"), "v");

    /* a request over BH_HTTP_REQ_MAX is refused before connecting */
    link_up();
    static char big[BH_HTTP_REQ_MAX];
    memset(big, 'x', sizeof big);
    http_request post = {.method = "POST", .url = "http://127.0.0.1/", .body = big,
                         .body_len = sizeof big};
    CHECK_INT(http_do(&post, &resp), BH_ERR_TOOBIG);
    CHECK_HAS(resp.error, "POST http://127.0.0.1/: request: request of ");
    snprintf(want, sizeof want, "bytes over %d", BH_HTTP_REQ_MAX);
    CHECK_HAS(resp.error, want);
    CHECK_INT(tb_connects, 0);
}

static void malformed(void)
{
    static const struct { const char *reply; const char *why; } bad[] = {
        {"SSH-2.0-OpenSSH_9.2\r\n", "receive: not an HTTP response"},
        {"HTTP/1.1 2000 OK\r\n\r\n", "bad status line 'HTTP/1.1 2000 OK'"},
        {"HTTP/1.1 20 OK\r\n\r\n", "bad status line"},
        {"HTTP/1.1 099 Low\r\n\r\n", "bad status line"},
        {"HTTP/1.1  200 OK\r\n\r\n", "bad status line"},
        {"HTTP/1.1 200OK\r\n\r\n", "bad status line"},
        {"HTTP/11 200 OK\r\n\r\n", "bad status line"},
        {"HTTP/2.0 200 OK\r\n\r\n", "bad status line 'HTTP/2.0 200 OK'"},
        {"HTTP/1.1 200 O\x01K\r\n\r\n", "control character in the reason"},
        {"HTTP/1.1 200 OK\rX\r\n\r\n", "CR without LF"},
        {"HTTP/1.1 200 OK\r\nNoColon\r\n\r\n", "bad header line 'NoColon'"},
        {"HTTP/1.1 200 OK\r\nName : v\r\n\r\n", "bad header line 'Name : v'"},
        {"HTTP/1.1 200 OK\r\n: v\r\n\r\n", "bad header line"},
        {"HTTP/1.1 200 OK\r\nA: 1\x01\r\n\r\n", "control character in a header"},
        {"HTTP/1.1 200 OK\r\nA: 1\r\n \x7f\r\n\r\n", "control character in a header"},
        {"HTTP/1.1 200 OK\r\n folded\r\n\r\n", "fold before any header"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n", "bad Content-Length '1x'"},
        {"HTTP/1.1 200 OK\r\nContent-Length:\r\n\r\n", "bad Content-Length ''"},
        {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "bad Content-Length '-1'"},
        {"HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n",
         "two Content-Lengths"},
    };
    http_request req = {.url = "http://127.0.0.1/"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        link_up();
        tb_add_peer(LOCAL, 80, bad[i].reply);
        int rc = http_do(&req, &resp);
        CHECK_INT(rc, BH_ERR_PROTO);
        CHECK_HAS(resp.error, "GET http://127.0.0.1/: receive: ");
        CHECK_HAS(resp.error, bad[i].why);
    }
    /* binary garbage comes out printable */
    link_up();
    tb_add_peer(LOCAL, 80, "HTTP/1.1 2\x01\x02\xff\r\n\r\n");
    CHECK_INT(http_do(&req, &resp), BH_ERR_PROTO);
    CHECK_HAS(resp.error, "bad status line 'HTTP/1.1 2?" "?" "?'");

    /* same Content-Length twice is fine */
    link_up();
    tb_add_peer(LOCAL, 80, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\ncontent-length: 2\r\n\r\nok");
    CHECK_INT(http_do(&req, &resp), 0);
    CHECK_STR(resp.body, "ok");

    /* endless 100 Continue */
    link_up();
    static char many[512];
    many[0] = 0;
    for (int i = 0; i < 10; i++)
        strcat(many, "HTTP/1.1 100 Continue\r\n\r\n");
    tb_add_peer(LOCAL, 80, many);
    CHECK_INT(http_do(&req, &resp), BH_ERR_PROTO);
    CHECK_HAS(resp.error, "over 8 1xx responses");
}

static void https(void)
{
    link_up();
    tb_dns_add("maker.ifttt.com", IP(3, 3, 3, 3));
    tb_peer *p = tb_add_peer(IP(3, 3, 3, 3), 443, OK_REPLY);
    http_request req = {.method = "POST", .url = "https://maker.ifttt.com/trigger/t/with/key/k",
                        .body = "{}", .body_len = 2, .content_type = "application/json",
                        .ca_file = "ca.pem"};
    CHECK_INT(http_do(&req, &resp), 0);
    CHECK(p->tls);
    CHECK_STR(p->tls_host, "maker.ifttt.com");
    CHECK_HAS(p->sent, "Host: maker.ifttt.com\r\n");
    CHECK_INT(resp.status, 200);

    link_up();
    tb_dns_add("maker.ifttt.com", IP(3, 3, 3, 3));
    tb_add_peer(IP(3, 3, 3, 3), 443, OK_REPLY)->tls_err = BH_ERR_CERT;
    req.ca_file = NULL;
    CHECK_INT(http_do(&req, &resp), BH_ERR_CERT);
    CHECK_STR(resp.error, "POST https://maker.ifttt.com/trigger/t/with/key/k: tls: certificate "
                          "not trusted for host maker.ifttt.com");
    CHECK(tb_peers[0].closed);
    CHECK_INT(tb_peers[0].sent_len, 0);   /* nothing goes out over an untrusted link */

    link_up();
    tb_dns_add("maker.ifttt.com", IP(3, 3, 3, 3));
    tb_add_peer(IP(3, 3, 3, 3), 443, OK_REPLY)->tls_err = BH_ERR_CERT;
    req.ca_file = "my-ca.pem";
    CHECK_INT(http_do(&req, &resp), BH_ERR_CERT);
    CHECK_HAS(resp.error, "tls: certificate not trusted for host maker.ifttt.com with CAs of "
                          "my-ca.pem");

    link_up();
    tb_dns_add("maker.ifttt.com", IP(3, 3, 3, 3));
    tb_add_peer(IP(3, 3, 3, 3), 443, OK_REPLY)->tls_err = BH_ERR_TLS;
    CHECK_INT(http_do(&req, &resp), BH_ERR_TLS);
    CHECK_HAS(resp.error, ": tls: handshake with maker.ifttt.com failed");

    /* a redirect from http to https starts TLS for the new host */
    link_up();
    tb_dns_add("secure.test", IP(4, 4, 4, 4));
    tb_add_peer(LOCAL, 80, "HTTP/1.1 301 Moved\r\nLocation: https://secure.test/x\r\n\r\n");
    p = tb_add_peer(IP(4, 4, 4, 4), 443, OK_REPLY);
    http_request up = {.url = "http://127.0.0.1/"};
    CHECK_INT(http_do(&up, &resp), 0);
    CHECK(!tb_peers[0].tls);
    CHECK(p->tls);
    CHECK_STR(p->tls_host, "secure.test");
}

static void status_only(void)
{
    link_up();
    tb_peer *p = tb_add_peer(LOCAL, 80, "HTTP/1.1 200 OK\r\nContent-Length: 900\r\n\r\nab");
    p->stall = 1;
    http_request req = {.method = "POST", .url = "http://127.0.0.1/", .status_only = true};
    uint32_t t0 = tb_now_ms;
    CHECK_INT(http_do(&req, &resp), 0);
    CHECK_INT(resp.status, 200);
    CHECK(tb_now_ms - t0 < 100);
    CHECK(p->closed);
}

/* ---- the parser alone: every split of a response gives the same result ----------------- */

static int parse_split(const char *s, size_t n, size_t cut1, size_t cut2, bool head)
{
    static http_parser p;
    http_parse_init(&p, &resp, head, false);
    int rc = http_parse_feed(&p, s, cut1);
    if (rc == HTTP_PARSE_MORE)
        rc = http_parse_feed(&p, s + cut1, cut2 - cut1);
    if (rc == HTTP_PARSE_MORE)
        rc = http_parse_feed(&p, s + cut2, n - cut2);
    if (rc == HTTP_PARSE_MORE)
        rc = http_parse_end(&p);
    return rc;
}

static void parser_splits(void)
{
    static const char *responses[] = {
        ("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nX: a\r\n b\r\n\r\n"
         "4;e=1\r\nWiki\r\n5\r\npedia\r\n0\r\nT: 1\r\n\r\n"),
        ("\r\nHTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\nContent-Length: 3\n\nabc"),
        "HTTP/1.0 404 Not Found\r\n\r\nread to the close",
    };
    static const char *bodies[] = {"Wikipedia", "abc", "read to the close"};
    for (size_t k = 0; k < 3; k++) {
        const char *s = responses[k];
        size_t n = strlen(s);
        for (size_t a = 0; a <= n; a++) {
            for (size_t b = a; b <= n; b++) {
                int rc = parse_split(s, n, a, b, false);
                if (rc != HTTP_PARSE_DONE || strcmp(resp.body, bodies[k]) != 0) {
                    fprintf(stderr, "response %zu split at %zu,%zu: rc %d body '%s' error '%s'\n",
                            k, a, b, rc, resp.body, resp.error);
                    tb_failures++;
                    return;
                }
            }
        }
    }

    /* once finished, more input changes nothing */
    static http_parser p;
    http_parse_init(&p, &resp, false, false);
    CHECK_INT(http_parse_feed(&p, "HTTP/1.1 204 No\r\n\r\nHTTP/1.1 500", 30), HTTP_PARSE_DONE);
    CHECK_INT(http_parse_feed(&p, "garbage", 7), HTTP_PARSE_DONE);
    CHECK_INT(http_parse_end(&p), HTTP_PARSE_DONE);
    CHECK_INT(resp.status, 204);
    http_parse_init(&p, &resp, false, false);
    CHECK_INT(http_parse_feed(&p, "nope", 4), BH_ERR_PROTO);
    CHECK_INT(http_parse_feed(&p, "HTTP/1.1 200 OK\r\n\r\n", 19), BH_ERR_PROTO);
    CHECK_INT(http_parse_end(&p), BH_ERR_PROTO);

    /* HEAD: done at the empty line */
    http_parse_init(&p, &resp, true, false);
    CHECK_INT(http_parse_feed(&p, "HTTP/1.1 200 OK\r\nContent-Length: 9\r\n\r\n", 39),
              HTTP_PARSE_DONE);
}

int main(void)
{
    post_json_webhook();
    methods();
    head_has_no_body();
    extra_headers();
    host_header();
    response_parsing();
    chunked();
    read_to_close();
    redirects();
    network_errors();
    caps();
    malformed();
    https();
    status_only();
    parser_splits();
    return tb_done("test_http");
}
