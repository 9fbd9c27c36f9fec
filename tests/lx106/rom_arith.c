/*
 * rom_arith.c - the integer helpers that the ESP8266's boot ROM gives every program: GCC
 * calls them for what the lx106 has no instruction for (it divides in software and its
 * multiplier gives only the low 32 bits). The chip's ROM holds them at fixed addresses (the
 * SDK's ld/eagle.rom.addr.v6.ld: __udivsi3 = 0x4000e21c, ...), so Debian's libgcc for lx106
 * leaves them out, as the SDK's own libgcc does (its lib/strip_libgcc_funcs.txt). QEMU has no
 * ROM; these stand in for it, for the unit tests only. Only the ones the tests link, written
 * with shifts, adds and 32-bit multiplies so GCC cannot compile them into calls to themselves;
 * tests/lx106/selftest.c checks them against known results.
 */
#include <stdint.h>

uint32_t __udivsi3(uint32_t n, uint32_t d);
uint32_t __umodsi3(uint32_t n, uint32_t d);
int32_t __divsi3(int32_t n, int32_t d);
uint64_t __muldi3(uint64_t a, uint64_t b);

/* schoolbook binary division, one quotient bit a step */
static uint32_t udivmod(uint32_t n, uint32_t d, uint32_t *rem)
{
    if (d == 0)
        __builtin_trap();   /* as libgcc's lx106 code does: an illegal instruction */
    uint32_t q = 0, r = 0;
    for (int i = 31; i >= 0; i--) {
        uint32_t carry = r >> 31;   /* r << 1 does not fit: it is then certainly >= d */
        r = (r << 1) | ((n >> i) & 1u);
        if (carry || r >= d) {
            r -= d;
            q |= 1u << i;
        }
    }
    *rem = r;
    return q;
}

uint32_t __udivsi3(uint32_t n, uint32_t d)
{
    uint32_t r;
    return udivmod(n, d, &r);
}

uint32_t __umodsi3(uint32_t n, uint32_t d)
{
    uint32_t r;
    udivmod(n, d, &r);
    return r;
}

int32_t __divsi3(int32_t n, int32_t d)
{
    uint32_t un = n < 0 ? 0u - (uint32_t)n : (uint32_t)n;
    uint32_t ud = d < 0 ? 0u - (uint32_t)d : (uint32_t)d;
    uint32_t r, q = udivmod(un, ud, &r);
    return (int32_t)((n < 0) != (d < 0) ? 0u - q : q);
}

/* the low 64 bits of a 64 x 64 product: a 32 x 32 -> 64 product from 16-bit halves, plus
 * the cross terms, which only reach the high word */
static uint64_t umul32x32(uint32_t a, uint32_t b)
{
    uint32_t a0 = a & 0xFFFFu, a1 = a >> 16, b0 = b & 0xFFFFu, b1 = b >> 16;
    uint32_t p00 = a0 * b0, p01 = a0 * b1, p10 = a1 * b0, p11 = a1 * b1;
    uint32_t mid = (p00 >> 16) + (p01 & 0xFFFFu) + (p10 & 0xFFFFu);
    uint32_t lo = (p00 & 0xFFFFu) | (mid << 16);
    uint32_t hi = p11 + (p01 >> 16) + (p10 >> 16) + (mid >> 16);
    return ((uint64_t)hi << 32) | lo;
}

uint64_t __muldi3(uint64_t a, uint64_t b)
{
    uint32_t al = (uint32_t)a, ah = (uint32_t)(a >> 32);
    uint32_t bl = (uint32_t)b, bh = (uint32_t)(b >> 32);
    uint64_t p = umul32x32(al, bl);
    return p + ((uint64_t)(al * bh + ah * bl) << 32);
}
