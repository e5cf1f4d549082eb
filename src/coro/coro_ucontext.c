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

#if KOBE_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#if KOBE_TSAN
#include <sanitizer/tsan_interface.h>
#endif

void coro_init_thread(coro_ctx *c) {
    memset(c, 0, sizeof *c);
#if KOBE_TSAN
    c->tsan_fiber = __tsan_get_current_fiber();
#endif
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
#if KOBE_TSAN
    c->tsan_fiber = __tsan_create_fiber(0);
    c->tsan_owned = true;
#endif
}

void coro_release(coro_ctx *c) {
#if KOBE_TSAN
    if (c->tsan_owned) __tsan_destroy_fiber(c->tsan_fiber);
    c->tsan_owned = false;
#else
    (void)c;
#endif
}

static void switch_common(coro_ctx *from, coro_ctx *to, int final) {
#if KOBE_ASAN
    __sanitizer_start_switch_fiber(final ? NULL : &from->asan_fake_stack, to->stack_lo,
                                   to->stack_size);
#endif
#if KOBE_TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    (void) final;
    if (swapcontext(&from->uc, &to->uc) != 0) abort(); /* cannot fail with valid contexts */
#if KOBE_ASAN
    __sanitizer_finish_switch_fiber(from->asan_fake_stack, NULL, NULL);
#endif
}

void coro_switch(coro_ctx *from, coro_ctx *to) {
    switch_common(from, to, 0);
}

void coro_switch_final(coro_ctx *from, coro_ctx *to) {
    switch_common(from, to, 1);
    abort();
}

void coro_entered(void) {
#if KOBE_ASAN
    __sanitizer_finish_switch_fiber(NULL, NULL, NULL);
#endif
}

#endif
