/* The calling thread's worker. Kept in its own translation unit, out of line and opaque to the
 * optimiser: a task may resume on another thread after any switch, and a compiler that cached
 * the address of this thread-local across a switch would read another thread's worker. */
#include "sched/sched.h"

/* initial-exec: the library is built position-independent, and the default model for that would
 * call __tls_get_addr on every access. The cost is a few bytes of static TLS, always there. */
static __thread worker *tls_worker __attribute__((tls_model("initial-exec")));

__attribute__((noinline)) worker *sched_worker(void) {
    __asm__ volatile("" ::: "memory");
    return tls_worker;
}

__attribute__((noinline)) void sched_set_worker(worker *w) {
    __asm__ volatile("" ::: "memory");
    tls_worker = w;
}

kobe_task *sched_current(void) {
    worker *w = sched_worker();
    return w ? w->current : NULL;
}
