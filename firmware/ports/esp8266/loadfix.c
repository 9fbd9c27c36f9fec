/*
 * loadfix.c - the port's LoadStoreError (EXCCAUSE 3) handler: byte and halfword loads from
 * flash completed in software, so that the project's read-only data can live in flash.
 *
 * scripts/esp8266-build.sh places the project's .rodata (strings, tables, the WebREPL
 * page) in flash, mapped at 0x40210000, instead of the data RAM the SDK's linker script
 * puts it in: 13 KB of RAM go back to the heap. The chip's flash answers aligned 32-bit
 * loads only; an l8ui, l16ui or l16si there traps with cause 3. The ROM's exception
 * dispatch (_xtos_set_exception_handler, its C wrapper) saves the interrupted registers in
 * a frame and calls the handler below, which decodes the instruction and does the load
 * with a 32-bit read (narrow.c, tested on the host and on the lx106 in QEMU), writes the
 * target register into the frame and moves the saved PC past the instruction; the wrapper
 * restores the registers and returns to the next instruction.
 *
 * The SDK v3.0.6 installs a handler of its own for cause 3 (libmain's
 * load_non_32_wide_handler, from user_start before user_pre_init): the port's replaces it
 * at the start of user_pre_init and hands it whatever it does not complete itself (stores
 * into IRAM, which the SDK's also completes, and real faults, which it stops with
 * `break 1, 1` and the SDK's fatal-exception report). The port's reads the address the way
 * the CPU computed it (base register + offset) rather than EXCVADDR, which the ROM wrapper
 * exposes to interrupts before the handler runs; and it is tested.
 *
 * Everything here runs inside the exception, possibly from an interrupt's code: it sits in
 * IRAM and uses no read-only data (the build keeps this file's and narrow.c's .rodata in
 * data RAM anyway). Nothing here has run on a chip: QEMU's lx106 does not enforce the
 * 32-bit rule, so the trap is never taken there (docs/esp8266.md, bring-up checklist).
 */
#include <stdint.h>

#include "esp.h"
#include "narrow.h"

/* The frame the ROM's C wrapper saves on the interrupted stack: the PC, PS, SAR and a
 * vpri word, then a0 and a2..a15 (a1 is the stack the frame is on). The SDK's own cause-3
 * handler reads and writes the same layout (checked against its disassembly: the PC at
 * word 0, register n at word 4 + n - (n > 0)). */
typedef struct {
    uint32_t epc, ps, sar, vpri;
    uint32_t regs[ESP_NARROW_REGS];   /* a0, a2..a15 */
} esp_exc_frame;

typedef void (*esp_exc_fn)(esp_exc_frame *ef, uint32_t cause);
/* the ROM's (eagle.rom.addr.v6.ld); the SDK's headers do not declare it */
extern void _xtos_set_exception_handler(uint32_t cause, esp_exc_fn fn);
/* the SDK's cause-3 handler (libmain, user_exceptions.o): linked whatever the port does,
 * since the SDK's start-up installs it */
extern void load_non_32_wide_handler(esp_exc_frame *ef, uint32_t cause);

#define EXCCAUSE_LOAD_STORE_ERROR 3u

static BH_IRAM uint32_t read32(uint32_t addr)
{
    return *(const volatile uint32_t *)(uintptr_t)addr;
}

/* the registers are completed in the frame itself, which the wrapper restores */
static BH_IRAM void on_load_store_error(esp_exc_frame *ef, uint32_t cause)
{
    if (esp_narrow_fix(ef->regs, &ef->epc, read32) != ESP_NARROW_DONE)
        load_non_32_wide_handler(ef, cause);
}

void esp_loadfix_install(void)
{
    _xtos_set_exception_handler(EXCCAUSE_LOAD_STORE_ERROR, on_load_store_error);
}
