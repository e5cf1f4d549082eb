/* The runtime's timers: a timer wheel under a spin lock, armed by tasks that suspend with a
 * deadline, fired by the reactor's driver (design in timer.h). */
#include "time/timer.h"

#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>

#include "io/reactor.h"
#include "sched/sched.h"

uint64_t time_now_ms(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts); /* cannot fail: the clock exists and ts is valid */
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t time_deadline_in(int64_t ms) {
    if (ms < 0) return TIME_NONE;
    uint64_t now = time_now_ms();
    return (uint64_t)ms >= TIME_NONE - now ? TIME_NONE - 1 : now + (uint64_t)ms;
}

int timers_create(timers **out) {
    timers *tm = calloc(1, sizeof *tm);
    if (!tm) return -ENOMEM;
    tm->lock = (spin_lock)SPIN_LOCK_INIT;
    wheel_init(&tm->wheel, time_now_ms());
    tm->driver_deadline = 0;
    *out = tm;
    return 0;
}

void timers_destroy(timers *tm) {
    free(tm);
}

void timer_arm(kobe_runtime *rt, kobe_task *t, uint64_t deadline) {
    timers *tm = rt->timers;
    atomic_store_explicit(&t->timer.fired, false, memory_order_relaxed);
    spin_lock_acquire(&tm->lock);
    wheel_insert(&tm->wheel, &t->timer.wt, deadline);
    bool wake = deadline < tm->driver_deadline;
    spin_unlock(&tm->lock);
    /* The driver sleeps past this deadline: make it recompute its timeout. */
    if (wake) reactor_wake(rt->reactor);
}

bool timer_disarm(kobe_runtime *rt, kobe_task *t) {
    timers *tm = rt->timers;
    spin_lock_acquire(&tm->lock);
    wheel_remove(&tm->wheel, &t->timer.wt);
    spin_unlock(&tm->lock);
    return atomic_load_explicit(&t->timer.fired, memory_order_acquire);
}

int timers_before_wait(timers *tm, uint64_t now) {
    spin_lock_acquire(&tm->lock);
    uint64_t next = wheel_next_deadline(&tm->wheel);
    tm->driver_deadline = next;
    spin_unlock(&tm->lock);
    if (next == TIME_NONE) return -1;
    if (next <= now) return 0;
    uint64_t d = next - now;
    return d > 1000000000u ? 1000000000 : (int)d;
}

unsigned timers_after_wait(timers *tm, uint64_t now) {
    unsigned n = 0;
    spin_lock_acquire(&tm->lock);
    tm->driver_deadline = 0; /* nobody sleeps on the wheel now: arming needs no wake */
    wheel_timer *wt = wheel_advance(&tm->wheel, now);
    while (wt) {
        wheel_timer *next = wt->next;
        kobe_task *t = (kobe_task *)((char *)wt - offsetof(kobe_task, timer.wt));
        atomic_store_explicit(&t->timer.fired, true, memory_order_release);
        sched_wake_ex(t, false); /* under the lock: the task disarms under it before it leaves */
        wt = next;
        n++;
    }
    spin_unlock(&tm->lock);
    if (n) atomic_fetch_add_explicit(&tm->fired, n, memory_order_relaxed);
    return n;
}
