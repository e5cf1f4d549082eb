/* A small lock for short critical sections (wait-queues, registry shards, the timer wheel).
 *
 * Test-and-test-and-set with a pause, falling back to sched_yield after a while: a preempted
 * holder on a 2-core machine must not make its waiter burn a whole time slice. Critical sections
 * under it never block and never switch tasks. */
#ifndef KOBE_UTIL_SPIN_H
#define KOBE_UTIL_SPIN_H

#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>

typedef struct spin_lock {
    _Atomic bool held;
} spin_lock;

#define SPIN_LOCK_INIT                                                                             \
    { false }

static inline void spin_pause(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static inline bool spin_trylock(spin_lock *l) {
    return !atomic_load_explicit(&l->held, memory_order_relaxed) &&
           !atomic_exchange_explicit(&l->held, true, memory_order_acquire);
}

static inline void spin_lock_acquire(spin_lock *l) {
    unsigned n = 0;
    while (!spin_trylock(l)) {
        if (++n < 64)
            spin_pause();
        else
            sched_yield();
    }
}

static inline void spin_unlock(spin_lock *l) {
    atomic_store_explicit(&l->held, false, memory_order_release);
}

#endif
