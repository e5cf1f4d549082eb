/* The portable context switch: swapcontext(). Chosen at configure time (KOBE_CORO_UCONTEXT) for
 * targets without an assembly switch. Slower, because swapcontext saves and restores the signal
 * mask with a system call, but needs nothing beyond POSIX (ucontext is obsolescent in POSIX 2008,
 * yet still present in every libc we care about). */
#if defined(KOBE_CORO_UCONTEXT)

#include "coro/coro.h"

#include <fenv.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "coro/annotate.h"

void coro_init_thread(coro_ctx *c) {
    memset(c, 0, sizeof *c);
    annotate_thread(c);
}

/* makecontext passes int arguments only: split the pointers into two 32-bit halves. */
static void ucontext_entry(unsigned fhi, unsigned flo, unsigned ahi, unsigned alo) {
    void (*entry)(void *) = (void (*)(void *))(((uintptr_t)fhi << 32) | flo);
    void *arg = (void *)(((uintptr_t)ahi << 32) | alo);
    entry(arg);
    abort();
}

void coro_make(coro_ctx *c, void *stack_lo, size_t size, void (*entry)(void *), void *arg) {
    memset(c, 0, sizeof *c);
    c->stack_lo = stack_lo;
    c->stack_size = size;
    /* getcontext captures the FP environment too: capture the default one, so a new coroutine
     * never inherits a rounding mode its creator set (as with the assembly switch). */
    fenv_t mine;
    fegetenv(&mine);
    fesetenv(FE_DFL_ENV);
    int rc = getcontext(&c->uc);
    fesetenv(&mine);
    if (rc != 0) abort(); /* cannot fail with a valid pointer */
    c->uc.uc_stack.ss_sp = stack_lo;
    c->uc.uc_stack.ss_size = size;
    c->uc.uc_link = NULL;
    uintptr_t f = (uintptr_t)entry, a = (uintptr_t)arg;
    makecontext(&c->uc, (void (*)(void))ucontext_entry, 4, (unsigned)(f >> 32), (unsigned)f,
                (unsigned)(a >> 32), (unsigned)a);
    annotate_new(c);
}

void coro_release(coro_ctx *c) {
    annotate_release(c);
}

static void switch_common(coro_ctx *from, coro_ctx *to, int final) {
    annotate_leave(from, to, final);
    if (swapcontext(&from->uc, &to->uc) != 0) abort(); /* cannot fail with valid contexts */
    annotate_arrive(from);
}

void coro_switch(coro_ctx *from, coro_ctx *to) {
    switch_common(from, to, 0);
}

void coro_switch_final(coro_ctx *from, coro_ctx *to) {
    switch_common(from, to, 1);
    abort();
}

void coro_entered(void) {
    annotate_arrive(NULL);
}

#endif
