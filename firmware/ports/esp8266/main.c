/*
 * main.c - the ESP8266 port's entry and its one wait loop.
 *
 * The NONOS SDK owns the CPU: user_init() must return, and Wi-Fi, timers and lwIP make
 * progress only while the SDK's task queue runs. The firmware, like the chapter's Python, is
 * a straight line that blocks (join, resolve, connect, sleep). The two meet as in
 * MicroPython's esp8266 port (ets_alt_task.c): this file replaces the ROM's task scheduler
 * (ets_task, ets_post, ets_run: the ROM linker script only PROVIDEs them, so a definition here
 * wins; taskq.c), the SDK's tasks post their events into its queues, and esp_loop_iter() runs
 * them. The application runs inside the init-done callback and never returns; every wait of
 * the board contract (bhl_wait_step in sock.c/dns.c, hal_delay_ms, hal_console_read) calls
 * esp_loop_iter(), so the SDK runs exactly while the firmware waits. Nothing here has run
 * on a chip (docs/esp8266.md).
 */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "console/console.h"
#include "esp.h"
#include "fs/fs.h"
#include "portal/portal.h"
#include "ports/lwip/bhl.h"
#include "ports/lwip/lwip_port.h"
#include "taskq.h"

#include "ets_sys.h"
#include "osapi.h"
#include "user_interface.h"

/* ROM functions the SDK headers do not declare */
extern void uart_div_modify(uint8_t uart_no, uint32_t div);

/* The SDK calls this after user_init(); the firmware's start (init done) arrives as one of
 * the events it runs, and from then on the firmware's waits run the queue. */
void ets_run(void)
{
    for (;;)
        if (!esp_loop_iter())
            port_idle();
}

/* ---- the wait loop of the lwIP glue (lwip_port.h, bhl.h) -------------------------------- */

void bhl_init(void)
{
    /* the SDK started lwIP before user_init() */
}

void bhl_poll(void)
{
    esp_loop_iter();
}

void port_idle(void)
{
    __asm__ volatile("waiti 0");   /* until the next interrupt (the SDK's timers tick) */
}

void bhl_wait_step(void)
{
    if (!esp_loop_iter())
        port_idle();
}

void bhl_dns_override(uint32_t ip, uint16_t port);   /* dns.c; unused on this board */

/* system_get_time() counts microseconds in 32 bits (wraps every 71 minutes); the waits read
 * the clock far more often than that, so the wraps are counted here. */
uint32_t hal_millis(void)
{
    static uint32_t last_us;
    static uint64_t high;
    uint32_t now = system_get_time();
    if (now < last_us)
        high += 1ull << 32;
    last_us = now;
    return (uint32_t)((high | now) / 1000u);
}

void hal_wdt_feed(void)
{
    system_soft_wdt_feed();
}

/* ---- the console: UART0 at 115200 8N1, polled ----------------------------------------- */

#define UART0_FIFO (*(volatile uint32_t *)0x60000000u)
#define UART0_STATUS (*(volatile uint32_t *)0x6000001Cu)   /* RX count 7:0, TX count 23:16 */
#define UART_CLK_HZ 80000000u

void esp_console_init(void)
{
    uart_div_modify(0, UART_CLK_HZ / 115200u);
}

void hal_console_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        while (((UART0_STATUS >> 16) & 0xFF) >= 126)
            ;   /* the 128-byte FIFO drains at 11.5 bytes/ms */
        UART0_FIFO = (uint8_t)s[i];
    }
}

void hal_console_write_secret(const char *s, size_t len)
{
    hal_console_write(s, len);   /* a terminal shows the echo; this board keeps no log */
}

int hal_console_read(char *buf, size_t cap, uint32_t timeout_ms)
{
    uint32_t start = hal_millis();
    size_t n = 0;
    for (;;) {
        while (n < cap && (UART0_STATUS & 0xFF))
            buf[n++] = (char)(UART0_FIFO & 0xFF);
        if (n || bhl_expired(start, timeout_ms))
            return (int)n;
        bhl_wait_step();
    }
}

void hal_report(const char *kind, const char *where, int code, const char *text)
{
    char line[160];
    int n = snprintf(line, sizeof line, "[report] %s %s %d %s\r\n", kind && kind[0] ? kind : "info",
                     where && where[0] ? where : "-", code, text ? text : "");
    if (n > 0)
        hal_console_write(line, (size_t)n < sizeof line ? (size_t)n : sizeof line - 1);
}

/* ---- start-up ---------------------------------------------------------------------------- */

/* SDK 3.0 asks the application for its flash partitions before user_init(): a v1 image on a
 * 4 MB (32 Mbit) NodeMCU, the SDK's RF calibration, PHY data and parameter sectors at the
 * top, as Espressif's documents give them for this map. Not const: the project's read-only
 * data is in flash, and the SDK may keep this pointer and read the table while a flash
 * write has the cache off (36 bytes of RAM). */
static partition_item_t partitions[] = {
    {SYSTEM_PARTITION_RF_CAL, 0x3FB000, 0x1000},
    {SYSTEM_PARTITION_PHY_DATA, 0x3FC000, 0x1000},
    {SYSTEM_PARTITION_SYSTEM_PARAMETER, 0x3FD000, 0x3000},
};

void user_pre_init(void)
{
    /* before anything of the project's reads its read-only data, which is in flash */
    esp_loadfix_install();
    if (!system_partition_table_regist(partitions, sizeof partitions / sizeof partitions[0],
                                       FLASH_SIZE_32M_MAP_512_512)) {
        os_printf("buttonhook: the partition table does not fit this flash (4 MB expected)\n");
        for (;;)
            ;
    }
}

/* Flash with no file system (a new board) is formatted, as MicroPython does on its first
 * boot: config.py is then missing and the application says so (as ports/mps2/main.c). */
static void mount(void)
{
    int rc = fs_mount(esp_flash());
    if (rc == BH_ERR_PROTO) {
        hal_report("error", "flash", rc, "no file system in flash: formatting it empty");
        rc = fs_format();
    }
    if (rc != BH_OK)
        hal_report("error", "flash", rc, "the file system cannot be used");
}

static void start(void)
{
    mount();
    /* the set-up page at power-on when config.py is missing or the jumper is in, as on the
     * simulated board (docs/portal.md): the board's AP, http://192.168.4.1/ */
    app_setup = portal_run;
    app_main();
    console_main();
}

void user_init(void)
{
    esp_console_init();
    /* the first thing to read at bring-up: the heap the SDK left (docs/esp8266.md's budget
     * is only an upper bound from the link map), and whether byte loads from flash work */
    char line[136], probe[40];
    snprintf(line, sizeof line, "SDK %s, reset cause %d, heap free %u B at user_init, %s",
             system_get_sdk_version(), (int)hal_reset_cause(),
             (unsigned)system_get_free_heap_size(), esp_loadprobe(probe, sizeof probe));
    hal_report("info", "boot", 0, line);
    esp_board_init();
    esp_wifi_init();
    system_init_done_cb(start);
}
