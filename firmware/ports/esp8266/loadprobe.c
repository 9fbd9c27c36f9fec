/*
 * loadprobe.c - the check, at each boot, that byte and halfword loads from flash work on
 * this chip (loadfix.c): the one part of the mechanism no emulator here can run.
 *
 * A word of this file's read-only data, which the build places in flash like all of the
 * project's, is read with l8ui, l16ui and l16si into each of a2..a15 (a0 is the return
 * address; the unit test covers it), and each result compared with what the instruction
 * means. Each load traps and is completed by the handler; a wrong register, a lost sign or
 * a shifted byte shows in the boot line (`flash loads ok (N cycles each)`, or the first load
 * that failed, `flash loads FAIL (l16si into a12)`). The cycles, from the CPU's CCOUNT
 * around the 42 loads, are what every byte the firmware reads from flash costs: the figure
 * docs/esp8266.md can only estimate. 42 traps: well under a millisecond at each boot.
 */
#include <stdint.h>
#include <stdio.h>

#include "esp.h"

/* bytes 0x81 0xFE 0xA5 0x80: an unsigned byte above 0x7F, and a negative halfword */
static const uint32_t probe_word = 0x80A5FE81u;

/* the three loads into register r (the n-th probed), each copied out before the next; the
 * first wrong one is kept as a number, named once at the end (42 strings would cost 1.4 KB
 * of flash) */
#define PROBE(n, r)                                                                          \
    do {                                                                                     \
        uint32_t b, h, s;                                                                    \
        __asm__ volatile("l8ui " r ", %3, 1\n\tmov %0, " r "\n\t"                            \
                         "l16ui " r ", %3, 2\n\tmov %1, " r "\n\t"                           \
                         "l16si " r ", %3, 2\n\tmov %2, " r                                  \
                         : "=&r"(b), "=&r"(h), "=&r"(s)                                      \
                         : "r"(p)                                                            \
                         : r, "memory");                                                     \
        if (!bad && b != 0xFEu)                                                              \
            bad = 3 * (n) + 1;                                                               \
        if (!bad && h != 0x80A5u)                                                            \
            bad = 3 * (n) + 2;                                                               \
        if (!bad && s != 0xFFFF80A5u)                                                        \
            bad = 3 * (n) + 3;                                                               \
    } while (0)

const char *esp_loadprobe(char *buf, size_t cap)
{
    const volatile uint32_t *p = &probe_word;
    if ((uintptr_t)p < 0x40200000u)
        return "flash loads not checked (read-only data in RAM)";
    unsigned bad = 0;
    uint32_t t0, t1;
    __asm__ volatile("rsr %0, ccount" : "=r"(t0));   /* CPU cycles (80 MHz) */
    PROBE(2, "a2");
    PROBE(3, "a3");
    PROBE(4, "a4");
    PROBE(5, "a5");
    PROBE(6, "a6");
    PROBE(7, "a7");
    PROBE(8, "a8");
    PROBE(9, "a9");
    PROBE(10, "a10");
    PROBE(11, "a11");
    PROBE(12, "a12");
    PROBE(13, "a13");
    PROBE(14, "a14");
    PROBE(15, "a15");
    __asm__ volatile("rsr %0, ccount" : "=r"(t1));
    static const char *const insn[] = {"l8ui", "l16ui", "l16si"};
    if (bad)
        snprintf(buf, cap, "flash loads FAIL (%s into a%u)", insn[(bad - 1) % 3], (bad - 1) / 3);
    else   /* what each byte read from flash costs: the figure docs/esp8266.md estimates */
        snprintf(buf, cap, "flash loads ok (%u cycles each)", (unsigned)((t1 - t0) / 42u));
    return buf;
}
