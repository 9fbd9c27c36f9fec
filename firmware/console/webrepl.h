/*
 * webrepl.h - MicroPython's WebREPL over the board's TCP sockets: a WebSocket server (on
 * BH_WEBREPL_PORT, 8266), a password login, text frames to and from the console, binary
 * frames for the file protocol (put, get, version). One session at a time. See
 * docs/console.md for what it does better than the original.
 *
 * Settings live in the flash file BH_WEBREPL_FILE (webrepl_cfg.py, as MicroPython's):
 *   PASS = 'secret'
 *   START = True         (start on boot; MicroPython keeps this in boot.py)
 *   IDLE = 300           (optional: seconds a silent connection stays open; 0 or none:
 *                         BH_WEBREPL_IDLE_MS, and BH_WEBREPL_LOGIN_MS before the login)
 */
#ifndef BH_CONSOLE_WEBREPL_H
#define BH_CONSOLE_WEBREPL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bh_opts.h"

typedef struct {
    char pass[10];            /* 4 to 9 characters, NUL-terminated; "" if none is set */
    bool start;               /* start on boot */
    uint32_t idle_s;          /* IDLE: 0 for the built-in timeouts */
} webrepl_cfg;

int webrepl_cfg_load(webrepl_cfg *c);      /* BH_ERR_NOENT if there is no file */
int webrepl_cfg_save(const webrepl_cfg *c);

/* Listen; 0 or a negative bh_err. BH_ERR_NOLINK: no address yet; it keeps trying (in
 * webrepl_poll) until it has one. Prints "WebREPL daemon started on ws://IP:PORT". */
int webrepl_start(void);
void webrepl_stop(void);
/* Forgets the server's state as a reboot does (a real board's RAM starts afresh; the test
 * board and the fuzzer, whose hal_reset() and hal_deep_sleep() jump back, call it instead). */
void webrepl_boot(void);
bool webrepl_running(void);                /* listening */
/* Serves the listener and the session without waiting long (at most wait_ms). */
void webrepl_poll(uint32_t wait_ms);
/* The client page a plain HTTP GET on the port gets (webrepl_page.c). */
extern const char webrepl_page[];
extern const unsigned webrepl_page_len;

/* Console output for the logged-in session (a no-op without one). */
void webrepl_write(const char *s, size_t len);

#endif
