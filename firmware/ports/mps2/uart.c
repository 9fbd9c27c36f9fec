/* uart.c - the console on the CMSDK APB UART0 of AN385 (QEMU's -serial stdio), polled. */
#include <stdio.h>
#include <string.h>

#include "lwip_port.h"
#include "mps2.h"

#define UART0 0x40004000u
#define UART_DATA (*(volatile uint32_t *)(UART0 + 0x00))
#define UART_STATE (*(volatile uint32_t *)(UART0 + 0x04))
#define UART_CTRL (*(volatile uint32_t *)(UART0 + 0x08))
#define UART_BAUDDIV (*(volatile uint32_t *)(UART0 + 0x10))
#define STATE_TX_FULL 1u
#define STATE_RX_FULL 2u
#define CTRL_TX_EN 1u
#define CTRL_RX_EN 2u

void mps2_uart_init(void)
{
    /* 25 MHz / 217 = 115200 baud on the real board; QEMU only insists the divider is >= 16 */
    UART_BAUDDIV = MPS2_SYSCLK_HZ / 115200u;
    UART_CTRL = CTRL_TX_EN | CTRL_RX_EN;
}

static void putc_raw(char c)
{
    while (UART_STATE & STATE_TX_FULL)
        ;
    UART_DATA = (uint8_t)c;
}

void mps2_uart_write(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        putc_raw(s[i]);
}

/* Did the console's last write end a line? The board's own lines must not land inside one
 * of the firmware's (the harness reads both). */
static bool at_line_start = true;

void hal_console_write(const char *s, size_t len)
{
    if (len == 0)
        return;
    mps2_uart_write(s, len);
    at_line_start = s[len - 1] == '\n';
}

/* A terminal on the UART shows the echo as it is; this board keeps no log on disk. */
void hal_console_write_secret(const char *s, size_t len)
{
    hal_console_write(s, len);
}

int hal_console_read(char *buf, size_t cap, uint32_t timeout_ms)
{
    if (cap == 0)
        return 0;
    uint32_t start = hal_millis();
    size_t n = 0;
    for (;;) {
        while (n < cap && (UART_STATE & STATE_RX_FULL))
            buf[n++] = (char)(UART_DATA & 0xFF);
        if (n > 0)
            return (int)n;
        if (hal_millis() - start >= timeout_ms)
            return 0;
        bhl_poll();   /* the network and the watchdog go on while a person types */
        port_idle();  /* until the next tick: a typed byte waits at most 1 ms */
    }
}

void mps2_vlog(const char *prefix, const char *fmt, va_list ap)
{
    char line[192];
    int n = snprintf(line, sizeof line, "%s%s%lu ", at_line_start ? "" : "\n", prefix,
                     (unsigned long)mps2_ticks());
    if (n < 0)
        return;
    int m = vsnprintf(line + n, sizeof line - (size_t)n, fmt, ap);
    size_t len = (size_t)n + (m < 0 ? 0 : (size_t)m);
    if (len > sizeof line - 2)
        len = sizeof line - 2;   /* a long line is cut, never lost */
    line[len++] = '\n';
    mps2_uart_write(line, len);
    at_line_start = true;
}

void mps2_log(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    mps2_vlog("[board] ", fmt, ap);
    va_end(ap);
}
