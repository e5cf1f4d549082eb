/* A hierarchical timer wheel: O(1) insert and remove, millisecond resolution.
 *
 * Six levels of 64 slots each cover 64^6 ms (about 2,179 years); level L slot width is 64^L ms.
 * A timer lives in the level where its deadline differs from the wheel's current time in the
 * highest 6-bit digit, so advancing time only ever cascades a timer downwards, at most five
 * times over its life. Each level keeps a 64-bit occupancy bitmap so that finding the next
 * deadline and skipping empty slots costs a few bit operations, not a scan.
 *
 * The wheel is a plain data structure: not thread-safe (the caller holds a lock), allocates
 * nothing (the caller owns every wheel_timer), and knows nothing of tasks or clocks.
 */
#ifndef KOBE_TIME_WHEEL_H
#define KOBE_TIME_WHEEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define WHEEL_LEVELS 6
#define WHEEL_SLOTS  64

typedef struct wheel_timer {
    struct wheel_timer *next, *prev; /* slot list, or the expired list after wheel_advance */
    uint64_t deadline;               /* absolute, in ms on the caller's clock */
    int level, slot;                 /* where it is; level < 0 when not in the wheel */
} wheel_timer;

typedef struct wheel {
    uint64_t now; /* ms: every timer with deadline <= now has been handed out */
    size_t count;
    uint64_t occupied[WHEEL_LEVELS];
    wheel_timer *slots[WHEEL_LEVELS][WHEEL_SLOTS];
} wheel;

void wheel_init(wheel *w, uint64_t now_ms);

/* Marks a caller-owned timer as not in any wheel; call once before first use. */
void wheel_timer_init(wheel_timer *t);

/* Inserts t with an absolute deadline. A deadline <= w->now fires at the next wheel_advance.
 * t must not be in a wheel already. */
void wheel_insert(wheel *w, wheel_timer *t, uint64_t deadline_ms);

/* Removes t if it is in the wheel; a no-op otherwise. O(1). */
void wheel_remove(wheel *w, wheel_timer *t);

static inline bool wheel_timer_pending(const wheel_timer *t) {
    return t->level >= 0;
}

/* The earliest deadline of any timer in the wheel, exact, or UINT64_MAX when empty. */
uint64_t wheel_next_deadline(const wheel *w);

/* Advances the wheel's time to now_ms (never backwards) and returns, as a list linked through
 * next (prev undefined), every timer whose deadline <= now_ms, in non-decreasing deadline order.
 * Returned timers are no longer in the wheel. */
wheel_timer *wheel_advance(wheel *w, uint64_t now_ms);

#endif
