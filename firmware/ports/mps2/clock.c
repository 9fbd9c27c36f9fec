/* clock.c - hal_millis() from SysTick at 1 kHz, the idle wait, and a software watchdog. */
#include "lwip_port.h"
#include "mps2.h"

#define SYST_CSR (*(volatile uint32_t *)0xE000E010u)
#define SYST_RVR (*(volatile uint32_t *)0xE000E014u)
#define SYST_CVR (*(volatile uint32_t *)0xE000E018u)
#define CSR_ENABLE 1u
#define CSR_TICKINT 2u
#define CSR_CLKSOURCE 4u   /* the processor clock, not the external reference */

static volatile uint32_t ticks;       /* ms since boot */
static volatile uint32_t wdt_fed_at;  /* ticks at the last feed */
static volatile uint32_t wdt_ms;      /* 0: watchdog off */

void mps2_clock_init(void)
{
    SYST_RVR = MPS2_SYSCLK_HZ / 1000u - 1u;
    SYST_CVR = 0;
    SYST_CSR = CSR_ENABLE | CSR_TICKINT | CSR_CLKSOURCE;
}

/* The ESP8266 resets itself when the firmware goes seconds without yielding; this board
 * ends the wake with MPS2_EXIT_WDT instead, so a stuck loop fails a test rather than hanging
 * it. Checked in the tick interrupt, which a busy loop cannot hold off (interrupts stay on). */
void mps2_wdt_start(uint32_t ms)
{
    wdt_fed_at = ticks;
    wdt_ms = ms;
}

void hal_wdt_feed(void)
{
    wdt_fed_at = ticks;
}

void SysTick_Handler(void)
{
    uint32_t now = ticks + 1;
    ticks = now;
    if (wdt_ms != 0 && now - wdt_fed_at > wdt_ms) {
        wdt_ms = 0;   /* report once */
        mps2_log("watchdog: not fed for %lu ms", (unsigned long)(now - wdt_fed_at));
        mps2_exit(MPS2_EXIT_WDT);
    }
}

uint32_t mps2_ticks(void)
{
    return ticks;
}

/* Reading the clock is where the firmware lets time pass: the LEDs show then (board.c). */
uint32_t hal_millis(void)
{
    mps2_leds_show();
    return ticks;
}

/* Sleeps until the next interrupt: the 1 ms tick at the latest (QEMU wakes WFI on it), so a
 * frame that arrived meanwhile waits at most 1 ms in the controller's FIFO. */
void port_idle(void)
{
    mps2_leds_show();
    __asm__ volatile("wfi");
}
