/*
 * console.h - the board's command console (the chapter's REPL session, as commands), on the
 * serial port and, when enabled, over WebREPL (webrepl.h). The grammar is in docs/console.md;
 * `help` lists every command.
 *
 * Runs when the application returns (debug jumper in: the board stays awake), as MicroPython's
 * REPL runs after main.py. A port calls console_main() there; tests call console_init() and
 * then console_poll() until their input is used up.
 */
#ifndef BH_CONSOLE_H
#define BH_CONSOLE_H

#include <stddef.h>
#include <stdint.h>

#include "bh_opts.h"

/* Prints the banner and the first prompt, starts WebREPL if it is enabled on boot. */
void console_init(void);
/* One turn: waits up to timeout_ms for serial input, runs the lines it completes, serves
 * WebREPL. Returns the number of serial bytes read. */
int console_poll(uint32_t timeout_ms);
/* console_init(), then console_poll() forever. */
_Noreturn void console_main(void);

/* Input from any side (serial or a WebREPL text frame): echoed, edited (backspace), run line
 * by line (CR, LF or CRLF ends a line). */
void console_feed(const char *data, size_t len);

/* Output to every side: the serial port, and the WebREPL session once logged in. */
void console_write(const char *s, size_t len);

#endif
