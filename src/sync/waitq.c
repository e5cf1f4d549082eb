/* The wait-queue (protocol and lifetime rules in waitq.h). */
#include "sync/waitq.h"

#include <errno.h>
#include <time.h>

#include "sched/sched.h"

void waitq_init(waitq *q) {
    q->lock = (spin_lock)SPIN_LOCK_INIT;
    q->head = q->tail = NULL;
}

static void link_tail(waitq *q, waiter *w) {
    w->next = NULL;
    w->prev = q->tail;
    if (q->tail)
        q->tail->next = w;
    else
        q->head = w;
    q->tail = w;
    w->queued = true;
}

void waitq_remove_locked(waitq *q, waiter *w) {
    if (w->prev)
        w->prev->next = w->next;
    else
        q->head = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->tail = w->prev;
    w->queued = false;
}

waiter *waitq_pop_locked(waitq *q) {
    waiter *w = q->head;
    if (w) waitq_remove_locked(q, w);
    return w;
}

void waiter_signal(waiter *w, bool lifo) {
    atomic_store_explicit(&w->signal, WAITER_SIGNALING, memory_order_relaxed);
    if (w->task) {
        sched_wake_ex(w->task, lifo);
    } else {
        pthread_mutex_lock(w->m);
        pthread_cond_signal(w->c);
        pthread_mutex_unlock(w->m);
    }
    /* The last touch of w: after this store its owner may return and pop its stack frame. */
    atomic_store_explicit(&w->signal, WAITER_SIGNALED, memory_order_release);
}

/* Waits until the waker's last touch of w (see LIFETIME in waitq.h). The window is a few
 * instructions long, so spinning is right. */
static void wait_signaled(waiter *w) {
    while (atomic_load_explicit(&w->signal, memory_order_acquire) != WAITER_SIGNALED) spin_pause();
}

/* A thread outside the runtime blocks on a condition variable, honouring the deadline. */
static int wait_thread(waitq *q, waiter *w, uint64_t deadline) {
    pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
    pthread_condattr_t ca;
    pthread_cond_t c;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&c, &ca);
    pthread_condattr_destroy(&ca);
    w->m = &m;
    w->c = &c;
    int rc = 0;
    pthread_mutex_lock(&m);
    spin_unlock(&q->lock);
    while (atomic_load_explicit(&w->signal, memory_order_acquire) == WAITER_WAITING) {
        if (deadline == TIME_NONE) {
            pthread_cond_wait(&c, &m);
            continue;
        }
        struct timespec ts = {.tv_sec = (time_t)(deadline / 1000),
                              .tv_nsec = (long)(deadline % 1000) * 1000000};
        if (pthread_cond_timedwait(&c, &m, &ts) == ETIMEDOUT) {
            rc = -ETIMEDOUT;
            break;
        }
    }
    pthread_mutex_unlock(&m);
    if (rc < 0) {
        spin_lock_acquire(&q->lock);
        if (w->queued) {
            waitq_remove_locked(q, w);
        } else {
            rc = 0; /* signaled in the meantime: take what was handed over */
        }
        spin_unlock(&q->lock);
    }
    if (rc == 0) wait_signaled(w);
    pthread_cond_destroy(&c);
    pthread_mutex_destroy(&m);
    return rc;
}

int waitq_wait_locked_uninterruptible(waitq *q, waiter *w) {
    kobe_task *t = sched_current();
    w->task = t;
    w->data = 0;
    atomic_store_explicit(&w->signal, WAITER_WAITING, memory_order_relaxed);
    link_tail(q, w);
    if (!t) return wait_thread(q, w, TIME_NONE);
    spin_unlock(&q->lock);
    while (atomic_load_explicit(&w->signal, memory_order_acquire) == WAITER_WAITING)
        sched_park_uninterruptible();
    wait_signaled(w);
    return 0;
}

int waitq_wait_locked(waitq *q, waiter *w, uint64_t deadline) {
    kobe_task *t = sched_current();
    w->task = t;
    w->data = 0;
    atomic_store_explicit(&w->signal, WAITER_WAITING, memory_order_relaxed);
    link_tail(q, w);
    if (!t) return wait_thread(q, w, deadline);
    spin_unlock(&q->lock);
    for (;;) {
        int rc = sched_park(deadline);
        if (atomic_load_explicit(&w->signal, memory_order_acquire) != WAITER_WAITING) break;
        if (rc < 0) {
            spin_lock_acquire(&q->lock);
            if (w->queued) {
                waitq_remove_locked(q, w);
                spin_unlock(&q->lock);
                return rc;
            }
            spin_unlock(&q->lock); /* popped by a waker: the signal is on its way */
            break;
        }
    }
    wait_signaled(w);
    return 0;
}

bool waitq_wake_one(waitq *q, uintptr_t data) {
    spin_lock_acquire(&q->lock);
    waiter *w = waitq_pop_locked(q);
    if (w) {
        w->data = data;
        waiter_signal(w, true);
    }
    spin_unlock(&q->lock);
    return w != NULL;
}

unsigned waitq_wake_all(waitq *q, uintptr_t data) {
    unsigned n = 0;
    spin_lock_acquire(&q->lock);
    waiter *w;
    while ((w = waitq_pop_locked(q))) {
        w->data = data;
        waiter_signal(w, false);
        n++;
    }
    spin_unlock(&q->lock);
    return n;
}
