/* The mps2 board's boot parameters (firmware/ports/mps2/bootargs.c): any command line parses
 * or is refused with a message, and what it fills stays within its fields' ranges. */
#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ports/mps2/bootargs.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *line = malloc(size + 1);
    if (!line)
        return 0;
    memcpy(line, data, size);
    line[size] = '\0';   /* the board NUL-terminates what semihosting gives it */
    mps2_boot b = {.wdt_ms = 8000};
    char err[96];
    err[0] = '\0';
    if (mps2_parse_cmdline(line, &b, err, sizeof err) == 0) {
        assert((unsigned)b.cause <= HAL_RESET_HARD);
        assert(b.seed_len <= sizeof b.seed);
        assert(!b.mac_set || (b.mac[0] & 1) == 0);
        assert(!b.hold_ms || hal_pin_valid((int)b.hold_gpio));
    } else {
        assert(err[0] != '\0' && memchr(err, '\0', sizeof err));
    }
    free(line);
    return 0;
}
