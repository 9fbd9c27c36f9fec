/* fuzz_http_client.c - http_do() end to end on the test board: the input is what up to three
 * servers answer (separated by a NUL byte), so redirects, Location resolution, framing and
 * error paths run with the fake clock. The first byte picks the method and delivery size. */
#include <stdint.h>
#include <string.h>

#include "hal/hal.h"
#include "net/http.h"
#include "testboard.h"

static http_response resp;
static char replies[3][4096];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const methods[] = {"GET", "POST", "HEAD", "PUT"};
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;

    tb_reset();
    tb_add_ap("net", "", 1, -40, HAL_AUTH_OPEN, 0);
    hal_radio_sta_active(true);
    hal_join_params jp = {.ssid = "net", .password = ""};
    hal_radio_join(&jp);
    tb_now_ms += tb_join_ms;
    tb_dns_add("a.test", 0x0A000001);

    for (int i = 0; i < 3; i++) {
        const uint8_t *end = memchr(data, 0, size);
        size_t n = end ? (size_t)(end - data) : size;
        size_t keep = n < sizeof replies[i] ? n : sizeof replies[i];
        memcpy(replies[i], data, keep);
        /* every server on one address: redirects to "/x" or "http://a.test/" reach them */
        tb_peer *p = tb_add_peer(0x0A000001, 80, replies[i]);
        p->reply_len = keep;
        if (keep == 0)
            p->reply = "";
        p->chunk = (size_t)(mode >> 4);
        p->stall = (mode >> 3) & 1;
        data += end ? n + 1 : n;
        size -= end ? n + 1 : n;
    }
    http_header h[] = {{"Authorization", "x"}};
    http_request req = {.method = methods[mode & 3], .url = "http://a.test/start",
                        .body = "{\"value1\": \"b\"}", .body_len = 15,
                        .content_type = "application/json", .headers = h, .nheaders = 1,
                        .max_redirects = (mode & 4) ? 2 : 0, .total_timeout_ms = 5000};
    int rc = http_do(&req, &resp);
    if (rc > 0 || (rc < 0 && !resp.error[0]) || resp.body_len > BH_HTTP_BODY_MAX)
        __builtin_trap();
    if (rc == 0 && (resp.status < 100 || resp.status > 999))
        __builtin_trap();
    return 0;
}
