/* wake.c - one wake of the firmware (press, connect, POST, sleep) on the test board, for
 * `make bench`: callgrind counts the instructions of app_main() alone, massif its memory. The
 * peer answers as IFTTT does; the board's clock is fake, so the run is deterministic. */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "testboard.h"

int main(void)
{
    tb_reset();
    tb_reset_cause = HAL_RESET_DEEPSLEEP;
    tb_fs_put("config.py",
              "WIFI_SSID = 'home-net'\nWIFI_PASSWORD = 'correct horse'\n"
              "WEBHOOK_URL = 'http://maker.ifttt.com/trigger/button_pressed/with/key/"
              "b7xKq2W9-fLm_4TzR8vYpA'\nBUTTON_ID = 'micropython1'\nLED_PIN = 2  # D4\n"
              "LED2_PIN = 16  # D0\nDEBUG_PIN = 14  # D5\n");
    tb_add_ap("home-net", "correct horse", 6, -58, HAL_AUTH_WPA2_PSK, 0);
    tb_dns_add("maker.ifttt.com", 0x0A000005u);
    tb_peer *p = tb_add_peer(0x0A000005u, 80,
                             "HTTP/1.1 200 OK\r\nContent-Type: text/html; charset=utf-8\r\n"
                             "Content-Length: 54\r\n\r\n"
                             "Congratulations! You've fired the button_pressed event");
    if (setjmp(tb_exit) == 0)
        app_main();
    int ok = tb_slept && strstr(tb_console, "Webhook invoked") != NULL;
    printf("wake: %s, %zu bytes sent, slept=%d, fake time %u ms\n", ok ? "ok" : "FAILED",
           p->sent_len, tb_slept, (unsigned)tb_now_ms);
    return ok ? 0 : 1;
}
