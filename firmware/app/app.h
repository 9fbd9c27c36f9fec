/*
 * app.h - the chapter's application (main.c) and the console printing it uses.
 */
#ifndef BH_APP_H
#define BH_APP_H

#include <stdarg.h>
#include <stddef.h>

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

/* Where bh_printf() output goes instead of the serial port when set: the console sets it so
 * that a WebREPL session sees the application's output too. */
extern void (*bh_print_hook)(const char *s, size_t len);

/* The set-up page (firmware/portal/: portal_run), where the port links it; NULL: none. run()
 * calls it at power-on when config.py is missing (cfg_err BH_ERR_NOENT) or the debug jumper is
 * in; it returns BH_OK once it wrote config.py, else cfg_err. Only at power-on: a press (a
 * deep-sleep wake) with the jumper in is the chapter's debug session, unchanged. */
extern int (*app_setup)(int cfg_err);

/* The chapter's functions, for the console (firmware/console/): each loads config.py afresh,
 * runs the step and prints the traceback on failure as run() does. app_run() is run(): it
 * deep-sleeps unless the debug jumper is in. Return 0 or the step's negative bh_err. */
int app_connect_wifi(void);
int app_call_webhook(void);
void app_run(void);

#endif
