/* Context creation and the switch wrapper around the assembly switch, with the sanitizer
 * annotations. The ucontext fallback lives in coro_ucontext.c and replaces this file. */
#if !defined(KOBE_CORO_UCONTEXT)

#include "coro/coro.h"

#include <stdint.h>
#include <string.h>

#include "coro/annotate.h"

void coro_switch_asm(void **save_sp, void *load_sp);
void coro_trampoline(void);

/* Default FP control state of a new coroutine: the values a fresh process starts with (all
 * exceptions masked, round to nearest), so a task never inherits a mode some other task set. */
#define MXCSR_DEFAULT 0x1F80u
#define X87CW_DEFAULT 0x037Fu

void coro_init_thread(coro_ctx *c) {
    memset(c, 0, sizeof *c);
    annotate_thread(c);
}

void coro_make(coro_ctx *c, void *stack_lo, size_t size, void (*entry)(void *), void *arg) {
    memset(c, 0, sizeof *c);
    c->stack_lo = stack_lo;
    c->stack_size = size;
    uintptr_t top = ((uintptr_t)stack_lo + size) & ~(uintptr_t)15;
#if defined(__x86_64__)
    /* 8 words: fp control, r15, r14, r13, r12, rbx, rbp, return address; top stays 16-aligned so
     * that rsp is aligned when the trampoline calls entry. */
    uint64_t *f = (uint64_t *)(top - 8 * sizeof(uint64_t));
    f[0] = MXCSR_DEFAULT | ((uint64_t)X87CW_DEFAULT << 32);
    f[1] = 0;               /* r15 */
    f[2] = 0;               /* r14 */
    f[3] = (uint64_t)arg;   /* r13 */
    f[4] = (uint64_t)entry; /* r12 */
    f[5] = 0;               /* rbx */
    f[6] = 0;               /* rbp: ends frame-pointer backtraces */
    f[7] = (uint64_t)coro_trampoline;
    c->sp = f;
#elif defined(__aarch64__)
    uint64_t *f = (uint64_t *)(top - 176);
    memset(f, 0, 176);
    f[0] = (uint64_t)entry;            /* x19 */
    f[1] = (uint64_t)arg;              /* x20 */
    f[10] = 0;                         /* x29 */
    f[11] = (uint64_t)coro_trampoline; /* x30 */
    f[20] = 0;                         /* fpcr: round to nearest, no flush-to-zero */
    c->sp = f;
#else
#error "no assembly context switch for this architecture: configure with KOBE_CORO_UCONTEXT"
#endif
    annotate_new(c);
}

void coro_release(coro_ctx *c) {
    annotate_release(c);
}

static inline void switch_common(coro_ctx *from, coro_ctx *to, int final) {
    annotate_leave(from, to, final);
    coro_switch_asm(&from->sp, to->sp);
    annotate_arrive(from);
}

void coro_switch(coro_ctx *from, coro_ctx *to) {
    switch_common(from, to, 0);
}

void coro_switch_final(coro_ctx *from, coro_ctx *to) {
    switch_common(from, to, 1);
    __builtin_unreachable();
}

void coro_entered(void) {
    annotate_arrive(NULL);
}

#endif
