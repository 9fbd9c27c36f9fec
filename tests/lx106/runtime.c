/*
 * runtime.c - what a unit test needs around it on the bare ESP8266 CPU in QEMU: stdout and
 * stderr, the exit code, start-up (bss, stack) and a report of any CPU exception. Output
 * and exit go to the host through QEMU's Xtensa semihosting (the SIMCALL instruction,
 * enabled by -semihosting), so a test's "file:line: CHECK failed" lines and its exit code
 * reach CTest as they do on x86. Debian's picolibc for lx106 has no semihosting library of
 * its own (only libdummyhost), hence these few calls.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* QEMU's Xtensa semihosting calls (target/xtensa/xtensa-semi.c): number in a2, arguments in
 * a3..a5, result back in a2 */
enum { SYS_EXIT = 1, SYS_WRITE = 4 };

static long simcall(long nr, long a, long b, long c)
{
    register long a2 __asm__("a2") = nr;
    register long a3 __asm__("a3") = a;
    register long a4 __asm__("a4") = b;
    register long a5 __asm__("a5") = c;
    __asm__ volatile("simcall" : "+r"(a2), "+r"(a3) : "r"(a4), "r"(a5) : "memory");
    return a2;
}

/* One line buffer for both streams, written out at each newline and whenever the other
 * stream writes, so that a failure on stderr lands between the stdout lines around it. */
static char line[256];
static size_t line_len;
static int line_fd = 1;

static void flush_line(void)
{
    size_t off = 0;
    while (off < line_len) {
        long n = simcall(SYS_WRITE, line_fd, (long)(uintptr_t)(line + off), (long)(line_len - off));
        if (n <= 0)
            break;
        off += (size_t)n;
    }
    line_len = 0;
}

static int put(char c, int fd)
{
    if (fd != line_fd) {
        flush_line();
        line_fd = fd;
    }
    line[line_len++] = c;
    if (c == '\n' || line_len == sizeof line)
        flush_line();
    return (unsigned char)c;
}
static int put_out(char c, FILE *f) { (void)f; return put(c, 1); }
static int put_err(char c, FILE *f) { (void)f; return put(c, 2); }
static int flush_any(FILE *f) { (void)f; flush_line(); return 0; }

static FILE out = FDEV_SETUP_STREAM(put_out, NULL, flush_any, _FDEV_SETUP_WRITE);
static FILE err = FDEV_SETUP_STREAM(put_err, NULL, flush_any, _FDEV_SETUP_WRITE);
FILE *const stdout = &out;
FILE *const stderr = &err;
FILE *const stdin = NULL;

/* ---- the stack: painted at start, measured at exit ---- */
extern uint32_t __bss_start[], __bss_end[], __stack_limit[], __stack[];
#define PAINT 0xA5A5A5A5u

static uint32_t stack_peak(void)
{
    const uint32_t *p = __stack_limit;
    while (p < __stack && *p == PAINT)
        p++;
    return (uint32_t)((uintptr_t)__stack - (uintptr_t)p);
}

/* picolibc's exit() ends here. The last line gives run.sh the stack high-water mark, the
 * deepest the firmware and the test went, for comparison with the few KB an SDK leaves. */
void _exit(int code)
{
    uint32_t peak = stack_peak();
    printf("lx106: stack peak %lu bytes\n", (unsigned long)peak);
    /* no guard below the stack: paint gone at its very limit means it ran into .bss */
    if (peak >= (uintptr_t)__stack - (uintptr_t)__stack_limit) {
        fprintf(stderr, "lx106: the stack overflowed into static data\n");
        code = code ? code : 3;
    }
    flush_line();
    for (;;)
        simcall(SYS_EXIT, code, 0, 0);
}

int main(void);

void lx106_start(void);
void lx106_start(void)
{
    memset(__bss_start, 0, (size_t)((uintptr_t)__bss_end - (uintptr_t)__bss_start));
    /* paint from the stack's limit to just below this frame */
    uintptr_t sp;
    __asm__ volatile("mov %0, a1" : "=r"(sp));
    for (uint32_t *p = __stack_limit; (uintptr_t)p < sp - 64; p++)
        *p = PAINT;
    exit(main());
}

/* ---- CPU exceptions: one line saying what and where, then exit code 3 ---- */
static const char *cause_name(uint32_t cause)
{
    switch (cause) {
    case 0: return "illegal instruction";
    case 2: return "instruction fetch error";
    case 3: return "load/store error";
    case 6: return "integer divide by zero";
    case 9: return "unaligned load or store";
    case 12: case 14: return "instruction fetch from no memory";
    case 13: case 15: return "load or store to no memory";
    case 20: return "instruction fetch prohibited";
    case 28: return "load prohibited";
    case 29: return "store prohibited";
    default: return "exception";
    }
}

void lx106_fault(uint32_t vector);
void lx106_fault(uint32_t vector)
{
    uint32_t cause, epc, vaddr, depc, epc2, a0;
    __asm__ volatile("rsr %0, exccause" : "=r"(cause));
    __asm__ volatile("rsr %0, epc1" : "=r"(epc));
    __asm__ volatile("rsr %0, excvaddr" : "=r"(vaddr));
    __asm__ volatile("rsr %0, depc" : "=r"(depc));
    __asm__ volatile("rsr %0, epc2" : "=r"(epc2));
    __asm__ volatile("rsr %0, excsave1" : "=r"(a0));
    line_len = 0;
    if (vector == 0x10) {   /* a break instruction (__builtin_trap); the PC is in EPC2 */
        fprintf(stderr, "lx106: CPU exception at vector 0x10: break instruction (a trap: "
                "a division by zero, __builtin_trap), PC 0x%08lx, A0 0x%08lx\n",
                (unsigned long)epc2, (unsigned long)a0);
        _exit(3);
    }
    if (vector == 0x70)   /* a double exception: the PC is in DEPC */
        epc = depc;
    fprintf(stderr, "lx106: CPU exception at vector 0x%lx: EXCCAUSE %lu (%s), PC 0x%08lx, "
            "address 0x%08lx, A0 0x%08lx\n", (unsigned long)vector, (unsigned long)cause,
            cause_name(cause), (unsigned long)epc, (unsigned long)vaddr, (unsigned long)a0);
    _exit(3);
}
