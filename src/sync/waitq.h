/* The wait-queue: the one primitive every suspension in kobe is built on (join, semaphores,
 * channels, timers, the reactor's fd waiters).
 *
 * A waitq is a lock and a FIFO of waiters. A waiter lives on the waiting side's stack and names a
 * task, or, for a plain thread outside the runtime, carries its own mutex and condition variable.
 * The protocol, with the caller's own condition checked under the lock:
 *
 *     spin_lock_acquire(&q->lock);
 *     while (!condition) {
 *         rc = waitq_wait_locked(q, &w, deadline);  // unlocks, suspends, returns unlocked
 *         spin_lock_acquire(&q->lock);               // re-check
 *         ...
 *     }
 *
 * and on the waking side, under the same lock, waitq_pop_locked + waiter_signal (or
 * waitq_wake_one / waitq_wake_all).
 *
 * WAKE-BEFORE-SUSPEND: a waker may signal a waiter whose task has not finished switching out.
 * The task state machine (sched.h) turns that wake into NOTIFIED, so the park returns at once.
 *
 * LIFETIME: the waiter's signal word goes WAITING -> SIGNALING -> SIGNALED. The waker sets
 * SIGNALING, wakes the task, then stores SIGNALED as its very last touch of the waiter; the waiter
 * never returns before it reads SIGNALED. So neither the waiter (on the task's stack) nor the task
 * can vanish under a waker, without the waiter having to take the lock again.
 *
 * CANCELLATION AND DEADLINES: when the park reports -ECANCELED or -ETIMEDOUT, the waiter takes the
 * lock; if it was signaled meanwhile it reports success (whatever it was handed is not lost),
 * otherwise it unlinks itself and reports the error.
 */
#ifndef KOBE_SYNC_WAITQ_H
#define KOBE_SYNC_WAITQ_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "util/spin.h"

struct kobe_task;

enum { WAITER_WAITING, WAITER_SIGNALING, WAITER_SIGNALED };

typedef struct waiter {
    struct waiter *prev, *next;
    struct kobe_task *task; /* NULL: a foreign thread, parked on m / c */
    _Atomic int signal;
    bool queued;
    uintptr_t data; /* what the waker hands over, defined by the primitive */
    pthread_mutex_t *m;
    pthread_cond_t *c;
} waiter;

typedef struct waitq {
    spin_lock lock;
    waiter *head, *tail;
} waitq;

void waitq_init(waitq *q);

static inline bool waitq_empty(const waitq *q) {
    return q->head == NULL;
}

/* With q->lock held: queues w (for the calling task, or the calling thread when outside the
 * runtime), releases the lock and suspends until signaled, cancelled or past deadline (absolute
 * ms on the runtime clock, TIME_NONE for none). Returns 0 when signaled, else -ECANCELED or
 * -ETIMEDOUT with w unlinked. Returns with the lock released in every case. */
int waitq_wait_locked(waitq *q, waiter *w, uint64_t deadline);

/* As waitq_wait_locked, but neither cancellation nor deadlines interrupt it: for waits that
 * must last until the other side is done with memory the waiter owns. Returns 0. */
int waitq_wait_locked_uninterruptible(waitq *q, waiter *w);

/* With q->lock held: unlinks and returns the first waiter, or NULL. */
waiter *waitq_pop_locked(waitq *q);

/* With q->lock held: unlinks a waiter known to be queued. */
void waitq_remove_locked(waitq *q, waiter *w);

/* With the lock of the queue w was popped from still held: wakes w's task or thread. After this
 * returns w must not be touched. lifo: run the woken task next on this worker (a hand-off of
 * hot data, like a message), rather than at the back of the queue. */
void waiter_signal(waiter *w, bool lifo);

/* Lock, pop and signal one waiter (with data); returns whether there was one. */
bool waitq_wake_one(waitq *q, uintptr_t data);

/* Lock, pop and signal every waiter; returns how many. */
unsigned waitq_wake_all(waitq *q, uintptr_t data);

#endif
