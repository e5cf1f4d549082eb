/* The TCP handle structures, shared by tcp.c and the tests that need to see a task actually
 * waiting in one (instead of guessing with sleeps). */
#ifndef KOBE_NET_TCP_INTERNAL_H
#define KOBE_NET_TCP_INTERNAL_H

#include <stdatomic.h>

#include "io/reactor.h"

struct kobe_tcp_stream {
    io_source *src;
};

struct kobe_tcp_listener {
    io_source *src;
    _Atomic unsigned backoff_ms; /* after EMFILE and friends; 0 when accepting fine */
};

/* Whether some task waits on direction d of src now. */
static inline bool io_source_has_waiter(io_source *src, enum io_dir d) {
    spin_lock_acquire(&src->dir[d].q.lock);
    bool r = !waitq_empty(&src->dir[d].q);
    spin_unlock(&src->dir[d].q.lock);
    return r;
}

#endif
