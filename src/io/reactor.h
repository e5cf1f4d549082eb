/* The reactor: one per runtime, over one poller (the process's OS event queue, src/sys/), shared
 * by every worker. Whichever worker would otherwise sleep waits in it (the driver, see
 * src/sched/sched.h); any thread interrupts that wait with reactor_wake().
 *
 * Each registered fd has an io_source with, per direction (read, write), a wait-queue of tasks
 * and a readiness sequence number. An operation never asks the reactor first: it snapshots the
 * sequence, tries the syscall, and only on EAGAIN calls reactor_await with the snapshot. Events
 * bump the sequence under the direction's wait-queue lock and wake every waiter of that
 * direction; reactor_await checks the sequence under the same lock before it suspends. So an
 * event that lands anywhere between the snapshot and the suspension makes the task retry instead
 * of sleeping: no wake-up is lost, whether the backend is edge- or level-triggered.
 *
 *     uint32_t seq = io_source_seq(src, IO_READ);
 *     n = read(...);                     // -EAGAIN?
 *     rc = reactor_await(src, IO_READ, seq, deadline);   // 0: retry; <0: give up
 *
 * Lifetime: an io_source is referenced by its owner (the stream object) and by every operation
 * in flight (io_source_enter/leave). reactor_close marks it closed and wakes every waiter (their
 * await returns -EBADF); the last reference deregisters the fd from the poller and closes it, so
 * an fd number is never reused while an operation may still issue a syscall on it. Sources live
 * in chunks that are never freed while the reactor lives, and a token carries a generation, so a
 * stale event for a recycled source is recognised and dropped.
 */
#ifndef KOBE_IO_REACTOR_H
#define KOBE_IO_REACTOR_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "sync/waitq.h"
#include "sys/poller.h"
#include "util/spin.h"

enum io_dir { IO_READ = 0, IO_WRITE = 1 };

typedef struct reactor reactor;

typedef struct io_source {
    reactor *r;
    int fd;
    uint32_t index;
    _Atomic uint32_t gen; /* bumped at register and at release, under both dir locks */
    _Atomic int refs;
    _Atomic bool closed;
    struct {
        waitq q;              /* its lock guards seq's changes and the waiters */
        _Atomic uint32_t seq; /* bumped by every readiness event for this direction */
        /* seq + 1 at the last short transfer (0: none): while seq has not moved since, the
         * direction is known to be drained and a retry would only say EAGAIN. */
        _Atomic uint32_t drained;
    } dir[2];
    spin_lock arm_lock; /* level-triggered backends: serialises re-arming */
    unsigned armed;     /* under arm_lock: directions the backend will report */
    struct io_source *free_next;
} io_source;

int reactor_create(reactor **out, const poller_ops *ops);
void reactor_destroy(reactor *r);

/* The driver's two halves: wait (fills the reactor's event buffer; returns the count), then,
 * once the driver has arranged for wake-ups to reach other workers, dispatch. */
int reactor_wait(reactor *r, int timeout_ms);
void reactor_dispatch(reactor *r, int n);

/* Interrupts the driver's wait, from any thread. */
void reactor_wake(reactor *r);

void reactor_counters(reactor *r, uint64_t *polls, uint64_t *events);

/* The poller backend's name, for messages and tests. */
const char *reactor_backend(reactor *r);

/* Registers a non-blocking fd. On success the source owns the fd (closed by the last
 * reference). On failure the fd is left open for the caller. Returns 0 or -errno. */
int reactor_register(reactor *r, int fd, io_source **out);

/* Marks s closed, wakes its waiters, drops the owner's reference. */
void reactor_close(io_source *s);

/* An operation's reference: false (and no reference) when s is already closed. */
bool io_source_enter(io_source *s);
void io_source_leave(io_source *s);

static inline uint32_t io_source_seq(io_source *s, enum io_dir d) {
    return atomic_load_explicit(&s->dir[d].seq, memory_order_acquire);
}

/* A transfer on a stream socket moved fewer bytes than asked: the kernel buffer was drained (or
 * filled, for a write) at sequence seq. Any later data, or space, comes with a new event. */
static inline void io_source_mark_drained(io_source *s, enum io_dir d, uint32_t seq) {
    atomic_store_explicit(&s->dir[d].drained, seq + 1, memory_order_relaxed);
}

/* Whether direction d is known to be drained since no event came after sequence seq. Only a
 * hint that saves a system call: an event that lands meanwhile bumps seq and the wait returns. */
static inline bool io_source_drained(io_source *s, enum io_dir d, uint32_t seq) {
    return atomic_load_explicit(&s->dir[d].drained, memory_order_relaxed) == seq + 1;
}

/* Suspends the current task until direction d of s has an event newer than seq, or the deadline
 * (absolute ms, TIME_NONE) passes. Returns 0 (retry the syscall), -EBADF if s was closed,
 * -ECANCELED, -ETIMEDOUT, or -EPERM outside a task. */
int reactor_await(io_source *s, enum io_dir d, uint32_t seq, uint64_t deadline);

#endif
