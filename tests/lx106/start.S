/*
 * start.S - reset, exception vectors and start-up for the unit tests on the ESP8266's CPU
 * (Xtensa LX106, call0 ABI) in QEMU's "sim" machine. No SDK, no ROM: QEMU only models the
 * core and its memories, so this file does what the chip's boot ROM and the SDK would.
 */

/* QEMU's lx106 core leaves reset at 0x50000000 (its system ROM), not at the ELF's entry:
 * jump from there to _start. A literal and l32r, because a plain jump cannot reach IRAM. */
        .section .ResetVector.text, "ax"
        .global _ResetVector
_ResetVector:
        j       1f
        .align  4
2:      .word   _start
1:      l32r    a2, 2b
        jx      a2

/* Exception vectors at VECBASE (the ESP8266's offsets). None of them is expected: an
 * exception here (an unaligned load or store, an illegal instruction, a bad address) is a
 * failed test, so each one reports itself and ends the run instead of looping forever. */
        .section .vectors.text, "ax"
        .global _vectors
_vectors:
        .org    0x10            /* debug */
        movi    a2, 0x10
        j       _fault_entry
        .org    0x20            /* NMI */
        movi    a2, 0x20
        j       _fault_entry
        .org    0x30            /* kernel */
        movi    a2, 0x30
        j       _fault_entry
        .org    0x50            /* user */
        movi    a2, 0x50
        j       _fault_entry
        .org    0x70            /* double */
        movi    a2, 0x70
        j       _fault_entry
        .org    0x80

        .section .iram.text, "ax"
        .literal_position
        .align  4
/* a2: the vector's offset. A0 (the return address of the last call) kept in EXCSAVE1 for
 * the report. A stack of its own: the fault may be a stack overflow. */
_fault_entry:
        wsr     a0, excsave1
        movi    a1, _fault_stack_top
        movi    a0, lx106_fault
        callx0  a0
3:      j       3b

        .global _start
        .align  4
_start:
        /* user vector mode, not in an exception, interrupt level 0: no interrupt is enabled
         * (INTENABLE is 0), and a level at or above the debug level (2) would mask the
         * break instruction that __builtin_trap() compiles to */
        movi    a2, 0x20
        wsr     a2, ps
        movi    a2, _vectors
        wsr     a2, vecbase
        rsync
        movi    a1, __stack
        movi    a0, lx106_start
        callx0  a0              /* never returns: it calls exit() */
4:      j       4b

        .section .bss
        .align  16
        .space  1024
_fault_stack_top:
