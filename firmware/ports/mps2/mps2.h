/*
 * mps2.h - the board's own interface between its files (ports/mps2): QEMU's mps2-an385, a
 * Cortex-M3 at 25 MHz with a CMSDK UART, SysTick and a LAN9118 Ethernet controller.
 * The firmware sees only hal.h and lwip_port.h; the smoke program and main.c see this too.
 */
#ifndef BH_MPS2_H
#define BH_MPS2_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bootargs.h"
#include "flash.h"
#include "hal/hal.h"

#define MPS2_SYSCLK_HZ 25000000u   /* AN385's CPU and SysTick clock (mps2.c: SYSCLK_FRQ) */

/* Process exit statuses of QEMU, one per way a wake ends (README.md). */
enum {
    MPS2_EXIT_CRASH = 2,      /* a fault (HardFault and friends); the next boot: EXCEPTION */
    MPS2_EXIT_SLEEP = 3,      /* hal_deep_sleep(); the file "sleep" holds the ms */
    MPS2_EXIT_RESET = 4,      /* hal_reset() */
    MPS2_EXIT_WDT = 5,        /* the software watchdog was not fed in time */
    MPS2_EXIT_BADARGS = 6,    /* the boot parameters could not be parsed */
};

/* ---- boot: mps2_board_init() first thing in main(); parses the semihosting command line,
 * loads RTC memory and flash, starts the clock and the console. ---------------------------- */
void mps2_board_init(void);
const mps2_boot *mps2_boot_params(void);

/* ---- clock.c ------------------------------------------------------------------------- */
void mps2_clock_init(void);
void mps2_wdt_start(uint32_t ms);   /* arms the software watchdog (0: off) */
uint32_t mps2_ticks(void);          /* hal_millis() without showing the LEDs */
void mps2_leds_show(void);          /* logs the LEDs that changed since the last call */

/* ---- uart.c: the console, and the board's own log lines --------------------------------- */
void mps2_uart_init(void);
void mps2_uart_write(const char *s, size_t len);
/* One line "[board] <ms> <text>\n" (the harness reads LED writes and events from these). */
void mps2_log(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void mps2_vlog(const char *prefix, const char *fmt, va_list ap);

/* ---- flash: the 256 KB region the file system lives in (flash.bin on the host) ---------- */
#define MPS2_FLASH_SIZE (256u * 1024u)
#define MPS2_FLASH_SECTOR 4096u
const bh_flash *mps2_flash(void);
void mps2_flash_load(void);

/* ---- the end of a wake: LEDs shown, then QEMU exits with status ------------------------- */
_Noreturn void mps2_exit(int status);

#endif
