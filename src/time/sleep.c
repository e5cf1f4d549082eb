/* The public time calls: sleeping, deadlines and intervals, on top of sched_park's deadline. */
#include <errno.h>

#include "kobe/time.h"
#include "sched/sched.h"

uint64_t kobe_now_ms(void) {
    return time_now_ms();
}

int kobe_sleep_until(uint64_t deadline) {
    kobe_task *t = sched_current();
    if (!t) return -EPERM;
    for (;;) {
        int rc = sched_park(deadline);
        if (rc == -ETIMEDOUT) {
            /* Whose deadline was it? The sleep's own (done), or the task's (an error)? */
            return deadline <= t->deadline ? 0 : -ETIMEDOUT;
        }
        if (rc < 0) return rc;
        /* Woken early (a stale wake-up): the deadline still stands; sleep again. */
        if (time_now_ms() >= deadline) return 0;
    }
}

int kobe_sleep_ms(int64_t ms) {
    if (ms < 0) return -EINVAL;
    if (!sched_current()) return -EPERM;
    if (ms == 0) return kobe_yield();
    return kobe_sleep_until(time_deadline_in(ms));
}

int kobe_deadline_push(kobe_deadline *d, int64_t ms) {
    if (!d) return -EINVAL;
    kobe_task *t = sched_current();
    if (!t) return -EPERM;
    d->saved = t->deadline;
    d->active = 1;
    uint64_t mine = time_deadline_in(ms);
    if (mine < t->deadline) t->deadline = mine;
    return 0;
}

int kobe_deadline_pop(kobe_deadline *d) {
    if (!d || !d->active) return -EINVAL;
    kobe_task *t = sched_current();
    if (!t) return -EPERM;
    t->deadline = d->saved;
    d->active = 0;
    return 0;
}

int64_t kobe_deadline_left(void) {
    kobe_task *t = sched_current();
    if (!t || t->deadline == TIME_NONE) return -1;
    uint64_t now = time_now_ms();
    return t->deadline <= now ? 0 : (int64_t)(t->deadline - now);
}

int kobe_interval_init(kobe_interval *iv, int64_t period_ms, int policy) {
    if (!iv || period_ms < 1 || policy < KOBE_MISSED_BURST || policy > KOBE_MISSED_SKIP)
        return -EINVAL;
    iv->period = (uint64_t)period_ms;
    iv->next = time_now_ms();
    iv->policy = policy;
    return 0;
}

int kobe_interval_tick(kobe_interval *iv) {
    if (!iv || iv->period == 0) return -EINVAL;
    int rc = kobe_sleep_until(iv->next);
    if (rc < 0) return rc;
    uint64_t now = time_now_ms();
    uint64_t due = iv->next;
    /* Ticks that had come due by now beyond this one. */
    uint64_t behind = now >= due + iv->period ? (now - due) / iv->period : 0;
    switch (iv->policy) {
    case KOBE_MISSED_BURST: iv->next = due + iv->period; break;
    case KOBE_MISSED_DELAY: iv->next = (behind ? now : due) + iv->period; break;
    default: iv->next = due + (behind + 1) * iv->period; break;
    }
    return behind > (uint64_t)INT32_MAX ? INT32_MAX : (int)behind;
}
