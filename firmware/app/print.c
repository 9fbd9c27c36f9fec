/* print.c - formatted console output with a fixed buffer (no heap, no stdio). */
#include <stdio.h>
#include <string.h>

#include "app/app.h"
#include "bh_opts.h"
#include "hal/hal.h"

void (*bh_print_hook)(const char *s, size_t len);
int (*app_setup)(int cfg_err);   /* app.h: set by a port that links firmware/portal/ */

void bh_printf(const char *fmt, ...)
{
    static char line[BH_PRINT_MAX];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n >= sizeof line) {
        /* keep the end of line so the console stays line-oriented */
        memcpy(line + sizeof line - 5, "...\n", 5);
        n = (int)sizeof line - 1;
    }
    if (bh_print_hook)
        bh_print_hook(line, (size_t)n);
    else
        hal_console_write(line, (size_t)n);
}
