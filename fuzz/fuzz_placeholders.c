/* fuzz_placeholders.c - the VALUE2/VALUE3 placeholder syntax (app/placeholders.c) on any
 * text: the check and the expansion agree on what is valid, a message is printable ASCII, an
 * expansion fits its buffer and is what a second reading of the text says it is. The input:
 * one byte choosing the buffer's size, then the text (cut at its first NUL, as config.py's
 * strings hold none). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "app/placeholders.h"
#include "hal/hal.h"

/* placeholder i's value: i + 1 bytes of 'a' + i, or 0..15 bytes of it (sel) */
static unsigned sel;
static int value(int i, char *out, size_t cap)
{
    size_t n = (sel + (unsigned)i) % PH_VALUE_MAX;
    if (n >= cap)
        n = cap - 1;
    memset(out, 'a' + i, n);
    out[n] = 0;
    return (int)n;
}

static int empty(int i, char *out, size_t cap)
{
    (void)i, (void)cap;
    out[0] = 0;
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static char text[512], out[1200], why[128];
    if (size < 1)
        return 0;
    size_t cap = data[0] * 4u + 1u;   /* 1 .. 1021 */
    sel = data[0];
    size_t n = size - 1 > sizeof text - 1 ? sizeof text - 1 : size - 1;
    memcpy(text, data + 1, n);
    text[n] = 0;
    n = strlen(text);

    why[0] = 0;
    int checked = ph_scan(text, NULL, 0, NULL, why, sizeof why);
    if (checked < 0) {
        if (checked != BH_ERR_ARG || why[0] == 0)
            abort();
        for (const char *p = why; *p; p++)
            if ((unsigned char)*p < 0x20 || (unsigned char)*p > 0x7E)
                abort();
    } else if ((size_t)checked > n) {
        abort();   /* without values, only braces go: never longer than the text */
    }

    memset(out, 0x55, sizeof out);
    int got = ph_scan(text, out, cap, value, why, sizeof why);
    if (checked < 0) {
        if (got != checked && got != BH_ERR_TOOBIG)
            abort();   /* refused alike, unless the buffer filled up before the fault */
        return 0;
    }
    if (got == BH_ERR_TOOBIG)
        return 0;
    if (got < 0 || (size_t)got >= cap || strlen(out) != (size_t)got || out[cap] != 0x55)
        abort();
    /* a larger buffer gives the same result; with every value empty, the check's length */
    static char again[1200];
    int big = ph_scan(text, again, sizeof again, value, why, sizeof why);
    if (big != got || memcmp(out, again, (size_t)got + 1) != 0)
        abort();
    if (ph_scan(text, again, sizeof again, empty, why, sizeof why) != checked)
        abort();
    return 0;
}
