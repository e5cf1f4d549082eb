/* The runtime's timers: one timer wheel per runtime (wheel.h) under a lock, driven by the worker
 * that waits in the reactor (its wait timeout is the next deadline).
 *
 * Every timer in kobe is a task's: a task that suspends with a deadline arms its own task_timer
 * (embedded in the task, so arming allocates nothing); expiry marks it fired and wakes the task
 * under the wheel lock (the lifetime rule of sched.h). A task removes its timer, under the same
 * lock, before it returns from the suspension, so a cancelled sleep leaves nothing behind.
 *
 * Clock: CLOCK_MONOTONIC in milliseconds (time_now_ms). A timer fires at the first reactor turn at
 * or after its deadline; never early.
 */
#ifndef KOBE_TIME_TIMER_H
#define KOBE_TIME_TIMER_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "time/wheel.h"
#include "util/spin.h"

#define TIME_NONE UINT64_MAX

typedef struct task_timer {
    wheel_timer wt;
    _Atomic bool fired;
} task_timer;

typedef struct timers {
    spin_lock lock;
    wheel wheel;
    uint64_t driver_deadline; /* what the driver sleeps until (under lock); TIME_NONE: not */
    _Atomic uint64_t fired;
} timers;

struct kobe_task;
struct kobe_runtime;

/* Monotonic milliseconds since an arbitrary start. */
uint64_t time_now_ms(void);

/* Saturating now + ms for ms >= 0; TIME_NONE for ms < 0 (meaning: no deadline). */
uint64_t time_deadline_in(int64_t ms);

int timers_create(timers **out);
void timers_destroy(timers *t);

/* Arms t's timer; wakes the reactor's driver when the new deadline is earlier than the one it
 * sleeps until. */
void timer_arm(struct kobe_runtime *rt, struct kobe_task *t, uint64_t deadline);

/* Removes t's timer if still pending; returns whether it fired. */
bool timer_disarm(struct kobe_runtime *rt, struct kobe_task *t);

/* For the driver: the timeout in ms to wait (-1: none), recording the deadline it will sleep
 * until, so that earlier timers armed meanwhile wake it. */
int timers_before_wait(timers *tm, uint64_t now);

/* For the driver after its wait: fires every due timer; returns how many. */
unsigned timers_after_wait(timers *tm, uint64_t now);

#endif
