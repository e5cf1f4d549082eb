/* Context switch for x86_64, System V ABI.
 *
 * void coro_switch_asm(void **save_sp, void *load_sp)
 *
 * Saves exactly what the ABI says a callee must preserve: rbx, rbp, r12-r15, the stack pointer,
 * and the FP control state (MXCSR control bits and the x87 control word), then loads the same
 * from the other stack and returns into it. Everything else is caller-saved, so the C compiler
 * already spilled it around this call. Loading MXCSR and the x87 control word is slow, and they
 * almost never differ between two tasks, so they are loaded only when they do.
 * Frame on the saved stack, low to high:
 *   [mxcsr:4][x87cw:2][pad:2] r15 r14 r13 r12 rbx rbp [return address]
 * A new coroutine's frame is built by coro_make() with the same layout, returning into
 * coro_trampoline with the entry function in r12 and its argument in r13.
 */
#if defined(__x86_64__) && !defined(KOBE_CORO_UCONTEXT)
    .text
    .globl coro_switch_asm
    .hidden coro_switch_asm
    .type coro_switch_asm, @function
    .p2align 4
coro_switch_asm:
    .cfi_startproc
#if defined(__CET__)
    endbr64
#endif
    pushq %rbp
    pushq %rbx
    pushq %r12
    pushq %r13
    pushq %r14
    pushq %r15
    subq $8, %rsp
    stmxcsr (%rsp)
    fnstcw 4(%rsp)
    /* Reload each with the width it was stored with, so the loads forward from the stores. */
    movl (%rsp), %eax
    movzwl 4(%rsp), %edx
    movq %rsp, (%rdi)
    movq %rsi, %rsp
    cmpl (%rsp), %eax
    jne 1f
    cmpw 4(%rsp), %dx
    je 2f
1:
    ldmxcsr (%rsp)
    fldcw 4(%rsp)
2:
    addq $8, %rsp
    popq %r15
    popq %r14
    popq %r13
    popq %r12
    popq %rbx
    popq %rbp
    ret
    .cfi_endproc
    .size coro_switch_asm, .-coro_switch_asm

/* First code a new coroutine runs: rsp is 16-byte aligned here, as a call requires. */
    .globl coro_trampoline
    .hidden coro_trampoline
    .type coro_trampoline, @function
    .p2align 4
coro_trampoline:
    .cfi_startproc
    .cfi_undefined rip
#if defined(__CET__)
    endbr64
#endif
    movq %r13, %rdi
    callq *%r12
    ud2 /* the entry function never returns: it switches away for the last time */
    .cfi_endproc
    .size coro_trampoline, .-coro_trampoline
#endif

#if defined(__linux__) && defined(__ELF__)
    .section .note.GNU-stack, "", %progbits
#endif
