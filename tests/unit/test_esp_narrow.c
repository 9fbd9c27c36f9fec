/* test_esp_narrow.c - the ESP8266 port's byte and halfword loads from flash, completed in
 * software (firmware/ports/esp8266/narrow.c): the logic of the LoadStoreError handler that
 * lets the project's strings and tables live in flash. What a user would notice if this
 * were wrong: text from flash printed with wrong or shifted bytes, a negative halfword read
 * as a large positive one, a register other than the load's changed under the firmware's
 * feet, or the board rebooting at the first byte it reads from flash.
 *
 * On the host and on the lx106 in QEMU this runs the decoding and extraction against a
 * stand-in memory that answers aligned 32-bit loads only, as the chip's flash does; QEMU
 * does not raise the trap itself, so the handler's entry (loadfix.c) is not exercised. */
#include <stdint.h>
#include <string.h>

#include "../../firmware/ports/esp8266/narrow.c"
#include "testboard.h"

/* the code: 12 bytes in IRAM holding the instruction under test at some alignment */
#define CODE 0x40100100u
static uint8_t code[12];
static int misaligned, reads_outside;

/* the data: every aligned word of the windows has a value made from its address, so any
 * byte's expected value is known without storing 1 MB */
static uint32_t pattern(uint32_t addr)
{
    return (addr * 2654435761u) ^ 0x9E3779B9u;
}

static uint32_t read32(uint32_t addr)
{
    if (addr % 4)
        misaligned++;
    if (addr >= CODE && addr < CODE + sizeof code) {
        uint32_t w;
        memcpy(&w, code + (addr - CODE), 4);   /* the host and the lx106: little-endian */
        return w;
    }
    if (!in_window(addr))
        reads_outside++;
    return pattern(addr);
}

static uint8_t byte_at(uint32_t addr)
{
    return (uint8_t)(pattern(addr & ~3u) >> ((addr & 3u) * 8u));
}

enum { L8UI = 0, L16UI = 1, L32I = 2, S8I = 4, S16I = 5, S32I = 6, L16SI = 9 };

static uint32_t enc(unsigned r, unsigned t, unsigned s, unsigned imm8)
{
    return 2u | t << 4 | s << 8 | r << 12 | imm8 << 16;
}

/* the instruction's 3 bytes at CODE + lane, filler around it */
static uint32_t place(uint32_t insn, unsigned lane)
{
    memset(code, 0xA5, sizeof code);
    code[lane] = (uint8_t)insn;
    code[lane + 1] = (uint8_t)(insn >> 8);
    code[lane + 2] = (uint8_t)(insn >> 16);
    return CODE + lane;
}

static void fill_regs(uint32_t regs[16])
{
    for (int i = 0; i < 16; i++)
        regs[i] = 0xC0DE0000u + (uint32_t)i;
}

/* the register file a0..a15 as the exception frame saves it (a0, a2..a15) and back; a1 is
 * not in the frame and keeps its value */
static void to_frame(const uint32_t regs[16], uint32_t frame[ESP_NARROW_REGS])
{
    frame[0] = regs[0];
    for (int i = 2; i < 16; i++)
        frame[i - 1] = regs[i];
}

static void from_frame(const uint32_t frame[ESP_NARROW_REGS], uint32_t regs[16])
{
    regs[0] = frame[0];
    for (int i = 2; i < 16; i++)
        regs[i] = frame[i - 1];
}

static esp_narrow_result fix(uint32_t regs[16], uint32_t *pc)
{
    uint32_t frame[ESP_NARROW_REGS];
    to_frame(regs, frame);
    esp_narrow_result r = esp_narrow_fix(frame, pc, read32);
    from_frame(frame, regs);
    return r;
}

/* one load run through esp_narrow_fix: the target gets want, pc moves by 3, nothing else
 * changes */
static void loads(unsigned r, unsigned t, unsigned s, unsigned imm8, uint32_t base_value,
                  unsigned lane, uint32_t want)
{
    uint32_t regs[16], before[16];
    fill_regs(regs);
    regs[s] = base_value;
    memcpy(before, regs, sizeof regs);
    uint32_t pc = place(enc(r, t, s, imm8), lane);
    CHECK_INT(fix(regs, &pc), ESP_NARROW_DONE);
    CHECK(pc == CODE + lane + 3);
    CHECK(regs[t] == want);
    for (unsigned i = 0; i < 16; i++)
        CHECK(i == t || regs[i] == before[i]);
}

/* what the CPU would have loaded from addr */
static uint32_t expect(unsigned r, uint32_t addr)
{
    uint32_t v = byte_at(addr);
    if (r == L8UI)
        return v;
    v |= (uint32_t)byte_at(addr + 1) << 8;
    return r == L16SI && (v & 0x8000u) ? v | 0xFFFF0000u : v;
}

/* every opcode into every register but a1, from every base register but a1 */
static void every_register(void)
{
    const unsigned ops[] = {L8UI, L16UI, L16SI};
    for (unsigned o = 0; o < 3; o++)
        for (unsigned t = 0; t < 16; t++)
            for (unsigned s = 0; s < 16; s++) {
                if (t == 1 || s == 1)
                    continue;
                uint32_t base = 0x40210000u + 0x40u * s + 4u * t;
                unsigned imm8 = 3u * t + s;
                uint32_t addr = base + imm8 * (ops[o] == L8UI ? 1u : 2u);
                loads(ops[o], t, s, imm8, base, (t + s) % 4, expect(ops[o], addr));
            }
}

/* the decoder alone: each field where the ISA puts it (the three words are what
 * xtensa-lx106-elf-as assembles for the instructions in the comments) */
static void decoding(void)
{
    esp_narrow_load ld = {0};
    CHECK(esp_narrow_decode(0x2A0302u, &ld));   /* l8ui a0, a3, 42 */
    CHECK(ld.target == 0 && ld.base == 3 && ld.bytes == 1 && !ld.sign && ld.offset == 42);
    CHECK(esp_narrow_decode(0xFF1F52u, &ld));   /* l16ui a5, a15, 510 */
    CHECK(ld.target == 5 && ld.base == 15 && ld.bytes == 2 && !ld.sign && ld.offset == 510);
    CHECK(esp_narrow_decode(0x0192E2u, &ld));   /* l16si a14, a2, 2 */
    CHECK(ld.target == 14 && ld.base == 2 && ld.bytes == 2 && ld.sign && ld.offset == 2);
    /* the other load/store kinds and another op0 are not narrow loads */
    const unsigned others[] = {L32I, S8I, S16I, S32I, 3, 7, 10, 11, 12, 13, 14, 15};
    for (unsigned i = 0; i < sizeof others / sizeof others[0]; i++)
        CHECK(!esp_narrow_decode(enc(others[i], 4, 5, 6), &ld));
    CHECK(!esp_narrow_decode(0x004322u, &ld));   /* s8i a2, a3, 0 */
    CHECK(!esp_narrow_decode(0x2A3308u, &ld));   /* op0 8: l32i.n */
    CHECK(!esp_narrow_decode(0x2A3300u, &ld));   /* op0 0 */
    CHECK(!esp_narrow_decode(0x2A3303u, &ld));   /* op0 3 */
}

/* extraction: each byte lane, each halfword lane, signs and zeros */
static void extraction(void)
{
    esp_narrow_load b = {.bytes = 1}, h = {.bytes = 2}, hs = {.bytes = 2, .sign = true};
    const uint32_t w = 0x80FF7F01u;
    CHECK(esp_narrow_extract(w, 0x40200000u, &b) == 0x01u);
    CHECK(esp_narrow_extract(w, 0x40200001u, &b) == 0x7Fu);
    CHECK(esp_narrow_extract(w, 0x40200002u, &b) == 0xFFu);   /* never sign-extended */
    CHECK(esp_narrow_extract(w, 0x40200003u, &b) == 0x80u);
    CHECK(esp_narrow_extract(w, 0x40200000u, &h) == 0x7F01u);
    CHECK(esp_narrow_extract(w, 0x40200002u, &h) == 0x80FFu);
    CHECK(esp_narrow_extract(w, 0x40200000u, &hs) == 0x00007F01u);
    CHECK(esp_narrow_extract(w, 0x40200002u, &hs) == 0xFFFF80FFu);
    const uint16_t edge[] = {0x0000, 0x0001, 0x7FFF, 0x8000, 0x8001, 0xFFFF};
    for (unsigned i = 0; i < sizeof edge / sizeof edge[0]; i++) {
        uint32_t hi = (uint32_t)edge[i] << 16;
        uint32_t sx = edge[i] & 0x8000u ? 0xFFFF0000u | edge[i] : edge[i];
        CHECK(esp_narrow_extract(hi, 0x40200002u, &hs) == sx);
        CHECK(esp_narrow_extract(hi, 0x40200002u, &h) == edge[i]);
        CHECK(esp_narrow_extract(edge[i], 0x40200000u, &hs) == sx);
    }
}

/* the instruction fetched from any alignment, across the word boundary included */
static void fetching(void)
{
    for (unsigned lane = 0; lane < 4; lane++) {
        uint32_t insn = enc(L16SI, 7, 9, 0xC3);
        uint32_t pc = place(insn, lane), lo, hi;
        memcpy(&lo, code, 4);
        memcpy(&hi, code + 4, 4);
        CHECK(esp_narrow_insn(lo, hi, pc) == insn);
    }
}

/* offsets: the smallest and largest imm8, scaled by 2 for halfwords, every lane */
static void offsets(void)
{
    const unsigned imms[] = {0, 1, 2, 3, 127, 128, 254, 255};
    for (unsigned i = 0; i < sizeof imms / sizeof imms[0]; i++)
        for (uint32_t lane = 0; lane < 4; lane++) {
            uint32_t base = 0x40234560u + lane;
            loads(L8UI, 2, 3, imms[i], base, lane, expect(L8UI, base + imms[i]));
            uint32_t hbase = 0x40234560u + (lane & 2u);
            loads(L16UI, 4, 5, imms[i], hbase, lane, expect(L16UI, hbase + 2u * imms[i]));
            loads(L16SI, 6, 7, imms[i], hbase, lane, expect(L16SI, hbase + 2u * imms[i]));
        }
    /* the target is also the base: the address comes from its old value */
    loads(L8UI, 9, 9, 5, 0x40200100u, 1, expect(L8UI, 0x40200105u));
    loads(L16SI, 0, 0, 7, 0x40200100u, 2, expect(L16SI, 0x4020010Eu));
    /* the windows' first and last bytes (IRAM: code copied to RAM, read as data) */
    loads(L8UI, 2, 3, 0, ESP_NARROW_FLASH_LO, 0, expect(L8UI, ESP_NARROW_FLASH_LO));
    loads(L8UI, 2, 3, 255, ESP_NARROW_FLASH_HI - 256u, 0, expect(L8UI, ESP_NARROW_FLASH_HI - 1u));
    loads(L16UI, 2, 3, 255, ESP_NARROW_FLASH_HI - 512u, 0, expect(L16UI, ESP_NARROW_FLASH_HI - 2u));
    loads(L8UI, 2, 3, 0, ESP_NARROW_IRAM_LO, 0, expect(L8UI, ESP_NARROW_IRAM_LO));
    loads(L16SI, 2, 3, 0, ESP_NARROW_IRAM_HI - 2u, 0, expect(L16SI, ESP_NARROW_IRAM_HI - 2u));
}

/* what is not this handler's to complete: refused, with regs and pc untouched */
static void refused(uint32_t insn, uint32_t base_reg_value, esp_narrow_result want)
{
    uint32_t regs[16], before[16];
    fill_regs(regs);
    regs[(insn >> 8) & 0xFu] = base_reg_value;
    memcpy(before, regs, sizeof regs);
    uint32_t pc = place(insn, 2), pc0 = pc;
    CHECK_INT(fix(regs, &pc), want);
    CHECK(pc == pc0);
    CHECK(memcmp(regs, before, sizeof regs) == 0);
}

static void refusals(void)
{
    refused(enc(L8UI, 1, 3, 0), 0x40200000u, ESP_NARROW_TARGET_A1);
    refused(enc(L16SI, 1, 3, 0), 0x40200000u, ESP_NARROW_TARGET_A1);
    refused(enc(L8UI, 2, 1, 4), 0x40200000u, ESP_NARROW_BASE_A1);
    refused(enc(S8I, 2, 3, 0), 0x40200000u, ESP_NARROW_NOT_LOAD);
    refused(enc(S16I, 2, 3, 0), 0x40200000u, ESP_NARROW_NOT_LOAD);
    refused(enc(L32I, 2, 3, 0), 0x40200000u, ESP_NARROW_NOT_LOAD);
    refused(0x2A3308u, 0x40200000u, ESP_NARROW_NOT_LOAD);
    refused(enc(L16UI, 2, 3, 0), 0x40200001u, ESP_NARROW_UNALIGNED);
    refused(enc(L16SI, 2, 3, 1), 0x40200003u, ESP_NARROW_UNALIGNED);
    /* data RAM, the ROM, the space between IRAM and flash, past the flash window, and an
     * address that wraps around 4 GB */
    refused(enc(L8UI, 2, 3, 0), 0x3FFE8000u, ESP_NARROW_OUTSIDE);
    refused(enc(L8UI, 2, 3, 0), 0x40000000u, ESP_NARROW_OUTSIDE);
    refused(enc(L8UI, 2, 3, 0), ESP_NARROW_IRAM_LO - 1u, ESP_NARROW_OUTSIDE);
    refused(enc(L8UI, 2, 3, 0), ESP_NARROW_IRAM_HI, ESP_NARROW_OUTSIDE);
    refused(enc(L8UI, 2, 3, 1), ESP_NARROW_FLASH_LO - 2u, ESP_NARROW_OUTSIDE);
    refused(enc(L8UI, 2, 3, 255), ESP_NARROW_FLASH_HI - 255u, ESP_NARROW_OUTSIDE);
    refused(enc(L16UI, 2, 3, 255), 0xFFFFFFF0u, ESP_NARROW_OUTSIDE);
}

int main(void)
{
    tb_reset();
    decoding();
    extraction();
    fetching();
    every_register();
    offsets();
    refusals();
    CHECK_INT(misaligned, 0);      /* only aligned words were ever read */
    CHECK_INT(reads_outside, 0);   /* and only from the windows and the code */
    return tb_done("test_esp_narrow");
}
