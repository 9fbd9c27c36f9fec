/*
 * startup.c - the Cortex-M3's vector table and reset handler for mps2-an385, and the fault
 * handler that turns a crash into a line on the UART and QEMU's exit status 2.
 */
#include <stdint.h>
#include <string.h>

#include "mps2.h"
#include "semihost.h"

extern uint32_t __stack[];
extern uint8_t __data_start[], __data_source[], __data_end[];
extern uint8_t __bss_start[], __bss_end[];
extern uint8_t __tls_base[];
void _set_tls(void *tls);   /* picolibc: where __aeabi_read_tp finds errno and friends */
int main(void);

void Reset_Handler(void);
void Fault_Handler(void);
void SysTick_Handler(void);

/* System exceptions, then AN385's 32 external interrupts (all unused: the board polls) */
__attribute__((section(".vectors"), used)) static void (*const vectors[16 + 32])(void) = {
    [0] = (void (*)(void))__stack,
    [1] = Reset_Handler,
    [2] = Fault_Handler,     /* NMI */
    [3] = Fault_Handler,     /* HardFault */
    [4] = Fault_Handler,     /* MemManage */
    [5] = Fault_Handler,     /* BusFault */
    [6] = Fault_Handler,     /* UsageFault */
    [11] = Fault_Handler,    /* SVCall */
    [12] = Fault_Handler,    /* DebugMonitor */
    [14] = Fault_Handler,    /* PendSV */
    [15] = SysTick_Handler,
    [16 ... 47] = Fault_Handler,
};

void Reset_Handler(void)
{
    memcpy(__data_start, __data_source, (size_t)(__data_end - __data_start));
    memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));
    _set_tls(__tls_base);
    /* UsageFault, BusFault and MemManage each get reported as such, not as a HardFault; and
     * division by zero traps (it would silently give 0) */
    *(volatile uint32_t *)0xE000ED24u |= (7u << 16);   /* SHCSR */
    *(volatile uint32_t *)0xE000ED14u |= (1u << 4);    /* CCR.DIV_0_TRP */
    main();
    /* main() does not return on this board (the app ends a wake by sleeping); if it does,
     * say so and end like a crash so that no test mistakes it for a wake that went well */
    mps2_log("main returned");
    sh_exit(MPS2_EXIT_CRASH);
}

/* The registers the CPU pushed when the fault hit, and which stack they are on. */
struct frame {
    uint32_t r0, r1, r2, r3, r12, lr, pc, xpsr;
};

static const char *fault_name(uint32_t ipsr)
{
    switch (ipsr) {
    case 2: return "NMI";
    case 3: return "HardFault";
    case 4: return "MemManage";
    case 5: return "BusFault";
    case 6: return "UsageFault";
    default: return "unexpected exception";
    }
}

__attribute__((used)) static void fault_report(const struct frame *f, uint32_t ipsr)
{
    uint32_t cfsr = *(volatile uint32_t *)0xE000ED28u;
    uint32_t hfsr = *(volatile uint32_t *)0xE000ED2Cu;
    uint32_t addr = *(volatile uint32_t *)0xE000ED38u;   /* BFAR; MMFAR is 0xE000ED34 */
    mps2_log("crash: %s (%lu) at pc 0x%08lx lr 0x%08lx (CFSR 0x%08lx HFSR 0x%08lx BFAR 0x%08lx)",
             fault_name(ipsr), (unsigned long)ipsr, (unsigned long)f->pc, (unsigned long)f->lr, (unsigned long)cfsr,
             (unsigned long)hfsr, (unsigned long)addr);
    sh_exit(MPS2_EXIT_CRASH);
}

/* Naked: picks the stack the CPU pushed the frame on (bit 2 of EXC_RETURN in lr) before
 * any C code moves the stack pointer. */
__attribute__((naked)) void Fault_Handler(void)
{
    __asm__ volatile("tst lr, #4\n"
                     "ite eq\n"
                     "mrseq r0, msp\n"
                     "mrsne r0, psp\n"
                     "mrs r1, ipsr\n"
                     "b fault_report\n");
}
