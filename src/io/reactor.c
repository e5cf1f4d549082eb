/* The reactor: fd registrations, the driver's wait and dispatch (design in reactor.h). */
#include "io/reactor.h"

#include <errno.h>
#include <stdlib.h>
#include <unistd.h>

#include "sched/sched.h"

#define CHUNK_SHIFT 8
#define CHUNK_SIZE  (1u << CHUNK_SHIFT)
#define MAX_CHUNKS  4096 /* a million registered fds */
#define EVENTS_MAX  256

struct reactor {
    poller poller;
    unsigned poller_flags;
    pthread_mutex_t lock;                    /* guards the chunk table and the free list */
    _Atomic(io_source *) chunks[MAX_CHUNKS]; /* written once each, read by the driver unlocked */
    _Atomic unsigned nchunks;
    io_source *free;
    poller_event events[EVENTS_MAX]; /* the driver's; only one worker drives at a time */
    _Atomic uint64_t polls, nevents;
};

int reactor_create(reactor **out, const poller_ops *ops) {
    reactor *r = calloc(1, sizeof *r);
    if (!r) return -ENOMEM;
    int rc = poller_open(&r->poller, ops);
    if (rc < 0) {
        free(r);
        return rc;
    }
    r->poller_flags = ops->flags;
    pthread_mutex_init(&r->lock, NULL);
    *out = r;
    return 0;
}

void reactor_destroy(reactor *r) {
    for (unsigned i = 0; i < r->nchunks; i++) free(atomic_load(&r->chunks[i]));
    poller_close(&r->poller);
    pthread_mutex_destroy(&r->lock);
    free(r);
}

const char *reactor_backend(reactor *r) {
    return r->poller.ops->name;
}

void reactor_wake(reactor *r) {
    r->poller.ops->wake(r->poller.state);
}

void reactor_counters(reactor *r, uint64_t *polls, uint64_t *events) {
    *polls = atomic_load_explicit(&r->polls, memory_order_relaxed);
    *events = atomic_load_explicit(&r->nevents, memory_order_relaxed);
}

static uint64_t token_of(io_source *s) {
    return ((uint64_t)atomic_load_explicit(&s->gen, memory_order_relaxed) << 32) | s->index;
}

/* Changes the generation with both directions locked, so dispatch sees old or new, whole. */
static void bump_gen(io_source *s) {
    for (int d = 0; d < 2; d++) spin_lock_acquire(&s->dir[d].q.lock);
    atomic_fetch_add_explicit(&s->gen, 1, memory_order_relaxed);
    for (int d = 1; d >= 0; d--) spin_unlock(&s->dir[d].q.lock);
}

static io_source *source_alloc(reactor *r) {
    pthread_mutex_lock(&r->lock);
    io_source *s = r->free;
    if (s) {
        r->free = s->free_next;
    } else if (r->nchunks < MAX_CHUNKS) {
        /* Zeroed memory is an unlocked lock and an empty wait-queue: sources are never
         * re-initialised, because a stale event may be touching one while it is reused. */
        io_source *c = calloc(CHUNK_SIZE, sizeof *c);
        if (c) {
            unsigned n = atomic_load_explicit(&r->nchunks, memory_order_relaxed);
            unsigned base = n << CHUNK_SHIFT;
            atomic_store_explicit(&r->chunks[n], c, memory_order_release);
            atomic_store_explicit(&r->nchunks, n + 1, memory_order_release);
            for (unsigned i = CHUNK_SIZE; i-- > 1;) {
                c[i].index = base + i;
                c[i].free_next = r->free;
                r->free = &c[i];
            }
            s = &c[0];
            s->index = base;
        }
    }
    pthread_mutex_unlock(&r->lock);
    return s;
}

static void source_free(reactor *r, io_source *s) {
    pthread_mutex_lock(&r->lock);
    s->free_next = r->free;
    r->free = s;
    pthread_mutex_unlock(&r->lock);
}

int reactor_register(reactor *r, int fd, io_source **out) {
    if (fd < 0) return -EBADF;
    io_source *s = source_alloc(r);
    if (!s) return -ENOMEM;
    s->r = r;
    s->fd = fd;
    bump_gen(s); /* a fresh generation: events of the slot's previous life are stale */
    atomic_store_explicit(&s->refs, 1, memory_order_relaxed);
    for (int d = 0; d < 2; d++) atomic_store_explicit(&s->dir[d].drained, 0, memory_order_relaxed);
    atomic_store_explicit(&s->closed, false, memory_order_release);
    spin_lock_acquire(&s->arm_lock);
    s->armed = (r->poller_flags & POLLER_EDGE) ? (POLLER_READ | POLLER_WRITE) : 0;
    unsigned interest = s->armed;
    spin_unlock(&s->arm_lock);
    int rc = r->poller.ops->add(r->poller.state, fd, token_of(s), interest);
    if (rc < 0) {
        source_free(r, s);
        return rc;
    }
    *out = s;
    return 0;
}

static void source_final(io_source *s) {
    reactor *r = s->r;
    r->poller.ops->remove(r->poller.state, s->fd);
    close(s->fd); /* the fd number may be reused from here on: nobody can use it any more */
    s->fd = -1;
    bump_gen(s); /* in-flight events for it are now stale */
    source_free(r, s);
}

bool io_source_enter(io_source *s) {
    if (atomic_load_explicit(&s->closed, memory_order_acquire)) return false;
    atomic_fetch_add_explicit(&s->refs, 1, memory_order_relaxed);
    if (atomic_load_explicit(&s->closed, memory_order_acquire)) {
        io_source_leave(s);
        return false;
    }
    return true;
}

void io_source_leave(io_source *s) {
    if (atomic_fetch_sub_explicit(&s->refs, 1, memory_order_acq_rel) == 1) source_final(s);
}

void reactor_close(io_source *s) {
    for (int d = 0; d < 2; d++) {
        spin_lock_acquire(&s->dir[d].q.lock);
        atomic_store_explicit(&s->closed, true, memory_order_release);
        waiter *w;
        while ((w = waitq_pop_locked(&s->dir[d].q))) waiter_signal(w, false);
        spin_unlock(&s->dir[d].q.lock);
    }
    io_source_leave(s);
}

/* Level-triggered backends report a direction once, then need it re-armed. */
static int rearm(io_source *s, enum io_dir d) {
    unsigned bit = d == IO_READ ? POLLER_READ : POLLER_WRITE;
    int rc = 0;
    spin_lock_acquire(&s->arm_lock);
    if (!(s->armed & bit)) {
        s->armed |= bit;
        rc = s->r->poller.ops->modify(s->r->poller.state, s->fd, token_of(s), s->armed);
    }
    spin_unlock(&s->arm_lock);
    return rc;
}

int reactor_await(io_source *s, enum io_dir d, uint32_t seq, uint64_t deadline) {
    if (!sched_current()) return -EPERM;
    waitq *q = &s->dir[d].q;
    spin_lock_acquire(&q->lock);
    if (atomic_load_explicit(&s->closed, memory_order_relaxed)) {
        spin_unlock(&q->lock);
        return -EBADF;
    }
    if (atomic_load_explicit(&s->dir[d].seq, memory_order_relaxed) != seq) {
        spin_unlock(&q->lock); /* an event came after the caller's snapshot: just retry */
        return 0;
    }
    if (!(s->r->poller_flags & POLLER_EDGE)) {
        int rc = rearm(s, d);
        if (rc < 0) {
            spin_unlock(&q->lock);
            return rc;
        }
    }
    waiter w;
    int rc = waitq_wait_locked(q, &w, deadline);
    if (rc == 0 && atomic_load_explicit(&s->closed, memory_order_acquire)) return -EBADF;
    return rc;
}

int reactor_wait(reactor *r, int timeout_ms) {
    atomic_fetch_add_explicit(&r->polls, 1, memory_order_relaxed);
    int n = r->poller.ops->wait(r->poller.state, r->events, EVENTS_MAX, timeout_ms);
    return n < 0 ? 0 : n;
}

static void dispatch_dir(io_source *s, uint32_t gen, enum io_dir d) {
    waitq *q = &s->dir[d].q;
    spin_lock_acquire(&q->lock);
    if (atomic_load_explicit(&s->gen, memory_order_relaxed) == gen) {
        /* Every writer of seq holds this lock: a plain increment, published with release. */
        uint32_t seq = atomic_load_explicit(&s->dir[d].seq, memory_order_relaxed);
        atomic_store_explicit(&s->dir[d].seq, seq + 1, memory_order_release);
        waiter *w;
        while ((w = waitq_pop_locked(q))) waiter_signal(w, false);
    }
    spin_unlock(&q->lock);
}

void reactor_dispatch(reactor *r, int n) {
    for (int i = 0; i < n; i++) {
        uint64_t tok = r->events[i].token;
        unsigned index = (unsigned)(tok & 0xffffffffu), gen = (unsigned)(tok >> 32);
        unsigned ready = r->events[i].ready;
        unsigned chunk = index >> CHUNK_SHIFT;
        if (chunk >= atomic_load_explicit(&r->nchunks, memory_order_acquire)) continue;
        io_source *s = &atomic_load_explicit(&r->chunks[chunk],
                                             memory_order_acquire)[index & (CHUNK_SIZE - 1)];
        if (!(r->poller_flags & POLLER_EDGE)) {
            spin_lock_acquire(&s->arm_lock);
            if (ready & POLLER_READ) s->armed &= ~(unsigned)POLLER_READ;
            if (ready & POLLER_WRITE) s->armed &= ~(unsigned)POLLER_WRITE;
            spin_unlock(&s->arm_lock);
        }
        if (ready & POLLER_READ) dispatch_dir(s, gen, IO_READ);
        if (ready & POLLER_WRITE) dispatch_dir(s, gen, IO_WRITE);
    }
    if (n > 0) atomic_fetch_add_explicit(&r->nevents, (uint64_t)n, memory_order_relaxed);
}
