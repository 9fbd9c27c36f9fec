/*
 * narrow.c - byte and halfword loads from flash completed in software (narrow.h).
 *
 * The encoding (Xtensa ISA, RRI8 format, little-endian, 3 bytes): bits 3..0 op0, 7..4 t
 * (the target register), 11..8 s (the base register), 15..12 r (the load/store kind),
 * 23..16 imm8. op0 = 2 is the load/store group; r = 0 is l8ui, 1 l16ui, 9 l16si (the
 * stores s8i and s16i are r = 4 and 5; l32i is 2 and never traps on flash).
 */
#include "narrow.h"

#define OP0_LSAI 2u
#define R_L8UI 0u
#define R_L16UI 1u
#define R_L16SI 9u

BH_IRAM uint32_t esp_narrow_insn(uint32_t lo, uint32_t hi, uint32_t pc)
{
    uint32_t shift = (pc & 3u) * 8u;
    uint32_t v = lo >> shift;
    if (shift)   /* (a shift by 32 is undefined in C, and the lx106's ssr gives 0 bits) */
        v |= hi << (32u - shift);
    return v & 0xFFFFFFu;
}

BH_IRAM bool esp_narrow_decode(uint32_t insn, esp_narrow_load *ld)
{
    uint32_t r = (insn >> 12) & 0xFu;
    if ((insn & 0xFu) != OP0_LSAI || (r != R_L8UI && r != R_L16UI && r != R_L16SI))
        return false;
    ld->target = (uint8_t)((insn >> 4) & 0xFu);
    ld->base = (uint8_t)((insn >> 8) & 0xFu);
    ld->bytes = r == R_L8UI ? 1 : 2;
    ld->sign = r == R_L16SI;
    ld->offset = (uint16_t)(((insn >> 16) & 0xFFu) * ld->bytes);
    return true;
}

BH_IRAM uint32_t esp_narrow_extract(uint32_t word, uint32_t addr, const esp_narrow_load *ld)
{
    uint32_t v = word >> ((addr & 3u) * 8u);
    if (ld->bytes == 1)
        return v & 0xFFu;
    v &= 0xFFFFu;
    if (ld->sign && (v & 0x8000u))
        v |= 0xFFFF0000u;
    return v;
}

static BH_IRAM bool in_window(uint32_t addr)
{
    return (addr >= ESP_NARROW_IRAM_LO && addr < ESP_NARROW_IRAM_HI) ||
           (addr >= ESP_NARROW_FLASH_LO && addr < ESP_NARROW_FLASH_HI);
}

/* register n's slot in the frame's a0, a2..a15 (n != 1) */
static BH_IRAM uint32_t *slot(uint32_t *regs, unsigned n)
{
    return &regs[n ? n - 1u : 0u];
}

BH_IRAM esp_narrow_result esp_narrow_fix(uint32_t regs[ESP_NARROW_REGS], uint32_t *pc,
                                         esp_read32_fn read32)
{
    uint32_t at = *pc & ~3u;
    /* the instruction is in IRAM or flash itself: fetched with 32-bit loads, the second
     * word only when the instruction crosses into it */
    uint32_t lo = read32(at), hi = (*pc & 3u) >= 2u ? read32(at + 4u) : 0u;
    esp_narrow_load ld;
    if (!esp_narrow_decode(esp_narrow_insn(lo, hi, *pc), &ld))
        return ESP_NARROW_NOT_LOAD;
    if (ld.target == 1)
        return ESP_NARROW_TARGET_A1;
    if (ld.base == 1)
        return ESP_NARROW_BASE_A1;
    uint32_t addr = *slot(regs, ld.base) + ld.offset;
    if (addr & (ld.bytes - 1u))   /* (no %: the lx106 has no divide, a ROM call) */
        return ESP_NARROW_UNALIGNED;
    if (!in_window(addr))
        return ESP_NARROW_OUTSIDE;
    *slot(regs, ld.target) = esp_narrow_extract(read32(addr & ~3u), addr, &ld);
    *pc += 3u;
    return ESP_NARROW_DONE;
}
