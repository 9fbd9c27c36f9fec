/* wake.c - one wake of the firmware (press, connect, POST, sleep) on the test board, for
 * `make bench`: callgrind counts the instructions of measured_wake() alone, massif its memory.
 * The peer answers as IFTTT does; the board's clock is fake, so the run is deterministic.
 *
 *   bench_wake [chapter|fast]
 * chapter (the default): FAST_WAKE = 0, the chapter's full connect. fast: FAST_WAKE = 1, a
 * first press (not measured) leaves its record in RTC memory, then the measured press a
 * minute later joins without scan, DHCP or DNS look-up (docs/fast-wake.md). */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "testboard.h"

static tb_peer *board(int fast, int64_t slept_ms)
{
    static uint8_t rtc[HAL_RTC_SIZE];
    memcpy(rtc, tb_rtc, sizeof rtc);
    tb_reset();
    memcpy(tb_rtc, rtc, sizeof rtc);
    tb_reset_cause = HAL_RESET_DEEPSLEEP;
    tb_slept_for_ms = slept_ms;
    tb_fs_put("config.py",
              fast ? "WIFI_SSID = 'home-net'\nWIFI_PASSWORD = 'correct horse'\n"
                     "WEBHOOK_URL = 'http://maker.ifttt.com/trigger/button_pressed/with/key/"
                     "b7xKq2W9-fLm_4TzR8vYpA'\nBUTTON_ID = 'micropython1'\nLED_PIN = 2  # D4\n"
                     "LED2_PIN = 16  # D0\nDEBUG_PIN = 14  # D5\nFAST_WAKE = 1\n"
                   : "WIFI_SSID = 'home-net'\nWIFI_PASSWORD = 'correct horse'\n"
                     "WEBHOOK_URL = 'http://maker.ifttt.com/trigger/button_pressed/with/key/"
                     "b7xKq2W9-fLm_4TzR8vYpA'\nBUTTON_ID = 'micropython1'\nLED_PIN = 2  # D4\n"
                     "LED2_PIN = 16  # D0\nDEBUG_PIN = 14  # D5\nFAST_WAKE = 0\n");
    tb_add_ap("home-net", "correct horse", 6, -58, HAL_AUTH_WPA2_PSK, 0);
    tb_dns_add("maker.ifttt.com", 0x0A000005u);
    return tb_add_peer(0x0A000005u, 80,
                       "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                       "Content-Length: 54\r\n\r\n"
                       "Congratulations! You've fired the button_pressed event");
}

static void __attribute__((noinline)) wake(void)
{
    if (setjmp(tb_exit) == 0)
        app_main();
}

/* the press that callgrind measures (--toggle-collect=measured_wake) */
void __attribute__((noinline)) measured_wake(void)
{
    wake();
}

int main(int argc, char **argv)
{
    int fast = argc > 1 && strcmp(argv[1], "fast") == 0;
    tb_peer *p;
    if (fast) {
        board(1, -1);
        wake();                        /* the first press: the full path, RTC record written */
        p = board(1, 60000);
    } else {
        p = board(0, -1);
    }
    measured_wake();
    int ok = tb_slept && strstr(tb_console, "Webhook invoked") != NULL &&
             (!fast || (tb_join_static && tb_dns_lookups == 0));
    printf("wake (%s): %s, %zu bytes sent, slept=%d, fake time %u ms\n",
           fast ? "fast" : "chapter", ok ? "ok" : "FAILED", p->sent_len, tb_slept,
           (unsigned)tb_now_ms);
    return ok ? 0 : 1;
}
