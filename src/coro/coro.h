/* coro: the machine layer of a task. A coro_ctx is a suspended flow of control (a saved stack
 * pointer); coro_switch() saves the running one and resumes another. Nothing here knows about
 * tasks, workers or queues.
 *
 * Three implementations, chosen at configure time:
 *   - switch_x86_64.S and switch_aarch64.S: hand-written switches that save exactly the
 *     callee-saved registers, the stack pointer and the FP control state. The default.
 *   - coro_ucontext.c: swapcontext(), for any other POSIX target (KOBE_CORO_UCONTEXT). It is
 *     correct but slow (it saves the signal mask with a system call on every switch).
 *
 * Sanitizers: AddressSanitizer and ThreadSanitizer must be told about every stack switch, or they
 * report false errors (ASan's fake stacks, TSan's shadow call stack). coro_switch() does that
 * when built with either; the annotations cost nothing otherwise.
 *
 * Invariant: a coro_ctx is resumed at most once per suspension, and only after the thread that
 * suspended it has returned from coro_switch (the scheduler guarantees this with its task state
 * machine, see src/sched/sched.h).
 */
#ifndef KOBE_CORO_H
#define KOBE_CORO_H

#include <stdbool.h>
#include <stddef.h>

#include "util/sanitizer.h"

#if defined(KOBE_CORO_UCONTEXT)
#include <ucontext.h>
#endif

typedef struct coro_ctx {
#if defined(KOBE_CORO_UCONTEXT)
    ucontext_t uc;
#else
    void *sp;
#endif
    /* The stack this context runs on, for the sanitizers and for the overflow checks. */
    void *stack_lo;
    size_t stack_size;
#if KOBE_ASAN
    void *asan_fake_stack;
#endif
#if KOBE_TSAN
    void *tsan_fiber;
    bool tsan_owned; /* created by coro_make, destroyed by coro_release */
#endif
} coro_ctx;

/* The context of the calling thread's own stack, to switch from and back to. */
void coro_init_thread(coro_ctx *c);

/* Prepares c to run entry(arg) on [stack_lo, stack_lo + size) at its first resume. entry must
 * never return: it ends by switching away with coro_switch_final. */
void coro_make(coro_ctx *c, void *stack_lo, size_t size, void (*entry)(void *), void *arg);

/* Frees what coro_make acquired for the sanitizers; call after the last switch out of c. */
void coro_release(coro_ctx *c);

/* Saves the running context into from and resumes to. Returns when something resumes from. */
void coro_switch(coro_ctx *from, coro_ctx *to);

/* The last switch out of a context that will never be resumed (its stack may be reused). */
void coro_switch_final(coro_ctx *from, coro_ctx *to);

/* A new context's entry calls this first: it completes the sanitizers' view of the switch. */
void coro_entered(void);

#endif
