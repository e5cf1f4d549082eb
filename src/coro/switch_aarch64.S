/* Context switch for aarch64, AAPCS64.
 *
 * void coro_switch_asm(void **save_sp, void *load_sp)
 *
 * Saves exactly the callee-saved state: x19-x28, the frame pointer x29, the link register x30,
 * the low halves d8-d15 of v8-v15, the stack pointer, and FPCR (rounding mode, flush-to-zero).
 * FPCR is written back only when it differs, because writing it can stall the pipeline.
 * Frame on the saved stack, low to high (176 bytes, keeping sp 16-byte aligned):
 *   x19 x20 | x21 x22 | x23 x24 | x25 x26 | x27 x28 | x29 x30 | d8 d9 | d10 d11 | d12 d13 |
 *   d14 d15 | fpcr pad
 * A new coroutine's frame is built by coro_make() with x30 = coro_trampoline, x19 = entry
 * function, x20 = its argument.
 */
#if defined(__aarch64__) && !defined(KOBE_CORO_UCONTEXT)
    .text
    .globl coro_switch_asm
    .hidden coro_switch_asm
    .type coro_switch_asm, %function
    .p2align 4
coro_switch_asm:
    .cfi_startproc
    sub sp, sp, #176
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mrs x9, fpcr
    str x9, [sp, #160]
    mov x10, sp
    str x10, [x0]
    mov sp, x1
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    ldr x10, [sp, #160]
    cmp x9, x10
    b.eq 1f
    msr fpcr, x10
1:
    add sp, sp, #176
    ret
    .cfi_endproc
    .size coro_switch_asm, .-coro_switch_asm

    .globl coro_trampoline
    .hidden coro_trampoline
    .type coro_trampoline, %function
    .p2align 4
coro_trampoline:
    .cfi_startproc
    .cfi_undefined x30
    mov x0, x20
    blr x19
    brk #0 /* the entry function never returns: it switches away for the last time */
    .cfi_endproc
    .size coro_trampoline, .-coro_trampoline
#endif

#if defined(__linux__) && defined(__ELF__)
    .section .note.GNU-stack, "", %progbits
#endif
