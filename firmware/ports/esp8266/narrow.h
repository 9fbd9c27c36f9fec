/*
 * narrow.h - byte and halfword loads from the ESP8266's flash window, completed in software.
 *
 * The chip's flash (mapped at 0x40200000 by its cache) and its IRAM answer 32-bit aligned
 * loads only: an l8ui, l16ui or l16si there raises LoadStoreErrorCause (EXCCAUSE 3). The
 * port keeps the project's read-only data (strings, tables, the WebREPL page) in flash to
 * save data RAM, so every such load from it traps, and the port's cause-3 handler
 * (loadfix.c) finishes it here: it decodes the faulting instruction, reads the aligned word
 * holding the wanted byte or halfword, extracts it (sign-extended for l16si), writes the
 * target register and moves the PC past the 3-byte instruction.
 *
 * No SDK call and no chip access is made here: the caller passes the saved registers and a
 * 32-bit word reader, so the same code is built and tested on the host and on the lx106 in
 * QEMU (tests/unit/test_esp_narrow.c). QEMU's lx106 does not enforce the 32-bit rule, so
 * the trap itself is never taken there (docs/esp8266.md).
 */
#ifndef BH_ESP_NARROW_H
#define BH_ESP_NARROW_H

#include <stdbool.h>
#include <stdint.h>

/* The exception handler and what it calls sit in IRAM, and their read-only data stays in
 * data RAM (scripts/esp8266-build.sh): a handler must not trap inside itself. */
#ifndef BH_IRAM
#ifdef __ets__
#define BH_IRAM __attribute__((section(".iram.text")))
#else
#define BH_IRAM
#endif
#endif

/* Where only 32-bit loads work and a narrow load is completed: IRAM and the flash window
 * the cache maps (1 MB from 0x40200000). Anything else is not this handler's to finish. */
#define ESP_NARROW_IRAM_LO 0x40100000u
#define ESP_NARROW_IRAM_HI 0x40108000u
#define ESP_NARROW_FLASH_LO 0x40200000u
#define ESP_NARROW_FLASH_HI 0x40300000u

/* A decoded l8ui / l16ui / l16si (Xtensa RRI8 format: op0 = 2, r = 0, 1 or 9). */
typedef struct {
    uint8_t target;   /* at: the register loaded, 0..15 */
    uint8_t base;     /* as: the register holding the base address, 0..15 */
    uint8_t bytes;    /* 1 or 2 */
    bool sign;        /* l16si: sign-extended from bit 15 */
    uint16_t offset;  /* imm8, scaled by the size: 0..255 or 0..510 */
} esp_narrow_load;

/* the 24-bit instruction at pc, from the aligned words at pc & ~3 (lo) and the next (hi) */
uint32_t esp_narrow_insn(uint32_t lo, uint32_t hi, uint32_t pc);
/* true if insn is l8ui, l16ui or l16si; *ld then says what it loads */
bool esp_narrow_decode(uint32_t insn, esp_narrow_load *ld);
/* the byte or halfword at addr out of word (the aligned word holding it), zero- or
 * sign-extended to 32 bits as the instruction would */
uint32_t esp_narrow_extract(uint32_t word, uint32_t addr, const esp_narrow_load *ld);

/* A 32-bit load at an aligned address (on the chip, a plain l32i). */
typedef uint32_t (*esp_read32_fn)(uint32_t addr);

typedef enum {
    ESP_NARROW_DONE,        /* the target register loaded, *pc moved past the instruction */
    ESP_NARROW_NOT_LOAD,    /* not l8ui/l16ui/l16si (a store, or another instruction) */
    ESP_NARROW_TARGET_A1,   /* a load into the stack pointer: never compiled, refused */
    ESP_NARROW_BASE_A1,     /* a load relative to the stack pointer: never from flash */
    ESP_NARROW_UNALIGNED,   /* a halfword at an odd address (the CPU's cause 9, not 3) */
    ESP_NARROW_OUTSIDE,     /* the address is in neither IRAM nor the flash window */
} esp_narrow_result;

/* Completes the narrow load at *pc on the saved registers regs, laid out as the ROM's
 * exception frame holds them: a0, then a2..a15 (15 words; a1, the stack pointer, is not
 * saved there, and a load into or relative to it is refused). The address is computed as
 * the CPU did (base register + offset), not taken from EXCVADDR, which an interrupt taken
 * before the handler runs may overwrite. Anything but ESP_NARROW_DONE leaves regs and *pc
 * as they were. */
#define ESP_NARROW_REGS 15
esp_narrow_result esp_narrow_fix(uint32_t regs[ESP_NARROW_REGS], uint32_t *pc,
                                 esp_read32_fn read32);

#endif
