/* The counting semaphore: a count and a wait-queue under the queue's lock. */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "kobe/sync.h"
#include "sched/sched.h"

struct kobe_sem {
    waitq q; /* its lock also guards count */
    int32_t count;
};

int kobe_sem_create(kobe_sem **out, unsigned initial) {
    if (!out || initial > INT32_MAX) return -EINVAL;
    kobe_sem *s = malloc(sizeof *s);
    if (!s) return -ENOMEM;
    waitq_init(&s->q);
    s->count = (int32_t)initial;
    *out = s;
    return 0;
}

int kobe_sem_destroy(kobe_sem *s) {
    if (!s) return -EINVAL;
    spin_lock_acquire(&s->q.lock);
    bool busy = !waitq_empty(&s->q);
    spin_unlock(&s->q.lock);
    if (busy) return -EBUSY;
    free(s);
    return 0;
}

int kobe_sem_wait_timeout(kobe_sem *s, int64_t timeout_ms) {
    if (!s) return -EINVAL;
    kobe_task *t = sched_current();
    if (t && sched_check_cancel(t)) return -ECANCELED;
    spin_lock_acquire(&s->q.lock);
    if (s->count > 0) {
        s->count--;
        spin_unlock(&s->q.lock);
        sched_budget_spend();
        return 0;
    }
    waiter w;
    /* A permit is handed over with the wake-up (never re-counted), so success means we own it. */
    return waitq_wait_locked(&s->q, &w, time_deadline_in(timeout_ms));
}

int kobe_sem_wait(kobe_sem *s) {
    return kobe_sem_wait_timeout(s, -1);
}

int kobe_sem_trywait(kobe_sem *s) {
    if (!s) return -EINVAL;
    spin_lock_acquire(&s->q.lock);
    int rc = -EAGAIN;
    if (s->count > 0) {
        s->count--;
        rc = 0;
    }
    spin_unlock(&s->q.lock);
    if (rc == 0) sched_budget_spend();
    return rc;
}

int kobe_sem_post(kobe_sem *s) {
    if (!s) return -EINVAL;
    spin_lock_acquire(&s->q.lock);
    int rc = 0;
    waiter *w = waitq_pop_locked(&s->q);
    if (w)
        waiter_signal(w, true);
    else if (s->count == INT32_MAX)
        rc = -EOVERFLOW;
    else
        s->count++;
    spin_unlock(&s->q.lock);
    return rc;
}

int kobe_sem_value(kobe_sem *s) {
    if (!s) return -EINVAL;
    spin_lock_acquire(&s->q.lock);
    int v = s->count;
    spin_unlock(&s->q.lock);
    return v;
}
