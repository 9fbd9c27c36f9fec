/*
 * selftest.c - checks what the lx106 unit tests stand on and the host does not share: the
 * ROM's arithmetic that rom_arith.c stands in for, picolibc's number formatting (built on
 * it), setjmp/longjmp (the test board's tb_exit) and the semihosted exit code. Run as
 * lx106.selftest before trusting the others' results.
 */
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

static int failures;
#define CHECK(cond) do { if (!(cond)) { \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); failures++; } \
    } while (0)

/* volatile: the operations must happen on the CPU, not in the compiler */
static volatile uint32_t vn, vd;
static volatile int32_t sn, sd;
static volatile uint64_t va, vb;

static void unsigned_division(void)
{
    static const struct { uint32_t n, d, q, r; } cases[] = {
        {0, 1, 0, 0}, {1, 1, 1, 0}, {7, 2, 3, 1}, {1000000007u, 10, 100000000u, 7},
        {4000000000u, 7, 571428571u, 3}, {0xFFFFFFFFu, 1, 0xFFFFFFFFu, 0},
        {0xFFFFFFFFu, 0xFFFFFFFFu, 1, 0}, {0xFFFFFFFFu, 0x80000000u, 1, 0x7FFFFFFFu},
        {0x80000000u, 0x80000001u, 0, 0x80000000u}, {5, 0xFFFFFFFFu, 0, 5},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        vn = cases[i].n;
        vd = cases[i].d;
        CHECK(vn / vd == cases[i].q);
        CHECK(vn % vd == cases[i].r);
    }
    /* and q * d + r == n, r < d over a spread of operands (the multiply is an instruction) */
    uint32_t x = 12345;
    for (int i = 0; i < 2000; i++) {
        x = x * 1103515245u + 12345u;
        vn = x;
        vd = (x >> (i % 31)) | 1u;
        uint32_t q = vn / vd, r = vn % vd;
        CHECK(q * vd + r == vn && r < vd);
    }
}

static void signed_division(void)
{
    static const struct { int32_t n, d, q; } cases[] = {
        {-7, 2, -3}, {7, -2, -3}, {-7, -2, 3}, {7, 2, 3}, {INT32_MIN, 1, INT32_MIN},
        {INT32_MIN, 2, INT32_MIN / 2}, {INT32_MAX, -1, -INT32_MAX},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        sn = cases[i].n;
        sd = cases[i].d;
        CHECK(sn / sd == cases[i].q);
    }
}

static void multiply64(void)
{
    static const struct { uint64_t a, b, p; } cases[] = {
        {0x0123456789ABCDEFull, 0x0FEDCBA987654321ull, 0x22236D88FE5618CFull},
        {0xFFFFFFFFull, 0xFFFFFFFFull, 0xFFFFFFFE00000001ull},
        {0xDEADBEEF12345678ull, 0x1000000000000001ull, 0x5EADBEEF12345678ull},
        {0xFFFFFFFFFFFFFFFFull, 0xFFFFFFFFFFFFFFFFull, 1}, {1ull << 32, 1ull << 32, 0},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        va = cases[i].a;
        vb = cases[i].b;
        CHECK(va * vb == cases[i].p);
    }
}

static void formatting(void)
{
    char buf[96];
    snprintf(buf, sizeof buf, "%lu %ld %x %08lX %u", 4294967295ul, -2147483647l - 1, 0xbeefu,
             0x1234ABCDul, 1000000007u);
    CHECK(strcmp(buf, "4294967295 -2147483648 beef 1234ABCD 1000000007") == 0);
    unsigned a = 0, b = 0, c = 0, d = 0;
    CHECK(sscanf("10.0.0.5", "%u.%u.%u.%u", &a, &b, &c, &d) == 4);
    CHECK(a == 10 && b == 0 && c == 0 && d == 5);
}

static jmp_buf jb;
static volatile int jumped;
static void jump(void) { jumped++; longjmp(jb, 7); }

static void set_long_jump(void)
{
    int rc = setjmp(jb);
    if (rc == 0)
        jump();
    CHECK(rc == 7 && jumped == 1);
}

int main(void)
{
    unsigned_division();
    signed_division();
    multiply64();
    formatting();
    set_long_jump();
    printf("selftest: %d failure%s\n", failures, failures == 1 ? "" : "s");
    return failures ? 1 : 0;
}
