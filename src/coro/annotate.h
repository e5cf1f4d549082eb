/* What both switch implementations tell the sanitizers around a stack switch. AddressSanitizer
 * needs the target stack's bounds (and frees a dying coroutine's fake stack when its save slot
 * is NULL); ThreadSanitizer needs a fiber per coroutine. All of it compiles to nothing without
 * the sanitizers. */
#ifndef KOBE_CORO_ANNOTATE_H
#define KOBE_CORO_ANNOTATE_H

#include <pthread.h>

#include "coro/coro.h"

#if KOBE_ASAN
#include <sanitizer/common_interface_defs.h>
#endif
#if KOBE_TSAN
#include <sanitizer/tsan_interface.h>
#endif

/* A thread's own stack: ASan wants its bounds whenever a coroutine switches back to it. */
static inline void annotate_thread(coro_ctx *c) {
#if KOBE_ASAN
    pthread_attr_t a;
    if (pthread_getattr_np(pthread_self(), &a) == 0) {
        void *lo;
        size_t size;
        if (pthread_attr_getstack(&a, &lo, &size) == 0) {
            c->stack_lo = lo;
            c->stack_size = size;
        }
        pthread_attr_destroy(&a);
    }
#endif
#if KOBE_TSAN
    c->tsan_fiber = __tsan_get_current_fiber();
#endif
    (void)c;
}

static inline void annotate_new(coro_ctx *c) {
#if KOBE_TSAN
    c->tsan_fiber = __tsan_create_fiber(0);
    c->tsan_owned = true;
#else
    (void)c;
#endif
}

static inline void annotate_release(coro_ctx *c) {
#if KOBE_TSAN
    if (c->tsan_owned) __tsan_destroy_fiber(c->tsan_fiber);
    c->tsan_fiber = NULL;
    c->tsan_owned = false;
#else
    (void)c;
#endif
}

/* Right before the switch; final: from will never run again. */
static inline void annotate_leave(coro_ctx *from, coro_ctx *to, int final) {
#if KOBE_ASAN
    __sanitizer_start_switch_fiber(final ? NULL : &from->asan_fake_stack, to->stack_lo,
                                   to->stack_size);
#endif
#if KOBE_TSAN
    __tsan_switch_to_fiber(to->tsan_fiber, 0);
#endif
    (void)from, (void)to, (void) final;
}

/* Right after control came back to from (or, with NULL, first entered a new context). */
static inline void annotate_arrive(coro_ctx *from) {
#if KOBE_ASAN
    __sanitizer_finish_switch_fiber(from ? from->asan_fake_stack : NULL, NULL, NULL);
#endif
    (void)from;
}

#endif
