/*
 * app.h - the chapter's application (main.c) and the console printing it uses.
 */
#ifndef BH_APP_H
#define BH_APP_H

#include <stdarg.h>

/* Runs once per boot, like MicroPython running main.py: reads config.py, fires the webhook on
 * a deep-sleep wake, blinks the LEDs on error, then deep-sleeps unless the debug jumper is in.
 * Returns only in debug mode: the board stays awake. */
void app_main(void);

/* print() for the firmware: formats into a static line buffer and writes it to the console.
 * Lines longer than BH_PRINT_MAX are cut with "..." so nothing overflows. */
#if defined(__GNUC__)
__attribute__((format(printf, 1, 2)))
#endif
void bh_printf(const char *fmt, ...);

#endif
