/* Time: the runtime clock, sleeping, intervals, and deadlines.
 *
 * The clock is CLOCK_MONOTONIC in milliseconds; timers have 1 ms resolution and never fire early.
 *
 * Deadlines: a task may set a deadline; every suspending kobe call it makes past that moment
 * returns -ETIMEDOUT (and one already suspended wakes with it). Deadlines nest: the nearest wins,
 * and popping restores the outer one. A timeout on a single operation is a deadline around it:
 *
 *     kobe_deadline d;
 *     kobe_deadline_push(&d, 500);
 *     ssize_t n = kobe_tcp_read(s, buf, sizeof buf);   // -ETIMEDOUT after 500 ms
 *     kobe_deadline_pop(&d);
 */
#ifndef KOBE_TIME_H
#define KOBE_TIME_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Milliseconds on the runtime clock (CLOCK_MONOTONIC). Any thread. */
uint64_t kobe_now_ms(void);

/* Suspends the task for ms milliseconds (0: a yield to the timers' turn). Returns 0, -ETIMEDOUT
 * if the task's deadline comes first, -ECANCELED, -EINVAL (ms < 0), -EPERM outside a task. */
int kobe_sleep_ms(int64_t ms);

/* Suspends until the runtime clock reads at least deadline_ms. Returns as kobe_sleep_ms. */
int kobe_sleep_until(uint64_t deadline_ms);

/* A deadline frame, owned by the caller (usually on its stack). */
typedef struct kobe_deadline {
    uint64_t saved; /* the outer deadline, restored by pop */
    int active;
} kobe_deadline;

/* Sets the calling task's deadline to min(current deadline, now + ms). ms < 0 means no new
 * limit (the frame still pushes, so pop stays balanced). Returns 0, -EINVAL, -EPERM. */
int kobe_deadline_push(kobe_deadline *d, int64_t ms);

/* Restores the deadline in force before the matching push. Returns 0, -EINVAL (NULL, or a frame
 * not pushed), -EPERM. */
int kobe_deadline_pop(kobe_deadline *d);

/* Milliseconds left before the task's deadline: -1 when it has none, 0 when it has passed. */
int64_t kobe_deadline_left(void);

/* What an interval does when ticks were missed (the task was late to call kobe_interval_tick):
 *   BURST: fire the missed ticks back to back until caught up (tokio's default; the schedule
 *          stays aligned to start + k * period);
 *   DELAY: fire once now, then period after now (the schedule shifts);
 *   SKIP:  fire once now, then at the next multiple of period on the original schedule. */
enum kobe_missed_tick { KOBE_MISSED_BURST = 0, KOBE_MISSED_DELAY = 1, KOBE_MISSED_SKIP = 2 };

typedef struct kobe_interval {
    uint64_t period; /* ms */
    uint64_t next;   /* deadline of the next tick on the runtime clock */
    int policy;
} kobe_interval;

/* The first tick is due at once (like tokio's interval). Returns 0 or -EINVAL (NULL, period < 1,
 * unknown policy). */
int kobe_interval_init(kobe_interval *iv, int64_t period_ms, int policy);

/* Suspends until the next tick is due, then returns how many further ticks had already come due
 * by then: 0 when the caller keeps up, N when it is N ticks behind (BURST then delivers those N
 * on the next calls without sleeping; DELAY and SKIP drop them). Negative: -ETIMEDOUT,
 * -ECANCELED, -EINVAL, -EPERM. */
int kobe_interval_tick(kobe_interval *iv);

#ifdef __cplusplus
}
#endif

#endif
