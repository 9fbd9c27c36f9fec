/* fuzz_rtc.c - what a wake reads back from RTC memory (app/rtc_state.c, app/main.c): any bytes
 * there, after power glitches or another firmware, must be ignored or used safely. The first
 * input byte chooses how: odd, the bytes go in as they are (a corrupt record must be ignored);
 * even, the fast-wake record and the press queue get a valid CRC over the fuzzed contents
 * (what a valid CRC over nonsense would do). Then a whole wake runs on the test board: a press
 * sent to a server that answers 200, or a timer wake, or RESET pressed while awake (a
 * HARD_RESET: a double press, or none, by what the queue's wake marker says), the button on
 * BUTTON_PIN held or not, with the queue's invariants checked after it. */
#include <setjmp.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "app/app.h"
#include "app/rtc_state.h"
#include "testboard.h"

static const char *CONFIG =
    "WIFI_SSID = 'home-net'\n"
    "WIFI_PASSWORD = 'correct horse'\n"
    "WEBHOOK_URL = 'http://hooks.example/trigger/button_pressed/with/key/abc'\n"
    "BUTTON_ID = 'micropython1'\n"
    "BUTTON_PIN = 12\nDOUBLE_EVENT = 'button_double'\nLONG_EVENT = 'button_long'\n";

static void fix_crc(size_t off, size_t size)
{
    uint32_t crc = rtc_crc32(tb_rtc + off, (uint32_t)size - 4);
    memcpy(tb_rtc + off + size - 4, &crc, 4);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2)
        return 0;
    uint8_t mode = data[0];
    data++;
    size--;
    tb_reset();
    memcpy(tb_rtc, data, size < HAL_RTC_SIZE ? size : HAL_RTC_SIZE);
    if (!(mode & 1)) {
        rtc_state st = {.magic = RTC_STATE_MAGIC, .version = RTC_STATE_VERSION,
                        .size = sizeof st};
        press_queue q = {.magic = PQ_MAGIC, .version = PQ_VERSION, .size = sizeof q};
        memcpy(tb_rtc, &st, 8);
        memcpy(tb_rtc + PQ_OFFSET, &q, 8);
        fix_crc(0, sizeof st);
        fix_crc(PQ_OFFSET, sizeof q);
    }
    press_queue q;
    int rc = pq_load(&q);
    if (rc != BH_OK && rc != BH_ERR_NOENT && rc != BH_ERR_PROTO)
        abort();
    if (q.count > PQ_MAX || (rc != BH_OK && q.count))
        abort();

    /* a wake: a press (or the timer, by the sleep's length) with a server that says 200 */
    uint8_t tls_tail[HAL_RTC_TLS_SIZE];
    memcpy(tls_tail, tb_rtc + HAL_RTC_TLS_OFF, sizeof tls_tail);
    tb_reset_cause = mode >> 7 ? HAL_RESET_HARD : HAL_RESET_DEEPSLEEP;
    tb_slept_for_ms = mode >> 7 ? -1 : (mode >> 1) & 1 ? 60000 : ((mode >> 2) & 15) * 1000;
    tb_pin_input[12] = (mode >> 6) & 1;   /* 0: the button held through the wake: long */
    tb_fs_put("config.py", CONFIG);
    tb_add_ap("home-net", "correct horse", 6, -58, HAL_AUTH_WPA2_PSK, 0);
    tb_dns_add("hooks.example", 0x0A000005u);
    for (int i = 0; i < TB_MAX_PEERS; i++)
        tb_add_peer(0x0A000005u, 80, "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
    if (setjmp(tb_exit) == 0)
        app_main();
    if (!tb_slept)
        abort();
    /* the TLS session's bytes are not ours: never written */
    if (memcmp(tls_tail, tb_rtc + HAL_RTC_TLS_OFF, sizeof tls_tail) != 0)
        abort();
    /* asleep, marked so: a RESET now is told from one while awake */
    if (pq_load(&q) != BH_OK || q.count > PQ_MAX || q.wake != PQ_WAKE_ASLEEP)
        abort();
    return 0;
}
