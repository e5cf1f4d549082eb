/* Timers on the runtime: sleeps never fire early and fire in deadline order, cancelling a sleeper
 * removes its timer at once, deadlines nest (the nearest wins), intervals follow their
 * missed-tick policy on the runtime clock, and bad durations are errors. */
#include <errno.h>
#include <kobe.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>

#include "sched/sched.h"
#include "test.h"

static int run_with(unsigned workers, void *(*fn)(void *)) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    cfg.workers = workers;
    return kobe_run(&cfg, fn, NULL, NULL);
}

static size_t timers_pending(void) {
    timers *tm = kobe_runtime_current()->timers;
    spin_lock_acquire(&tm->lock);
    size_t n = tm->wheel.count;
    spin_unlock(&tm->lock);
    return n;
}

/* ---- sleeping ------------------------------------------------------------------------------ */

static void *sleep_main(void *arg) {
    (void)arg;
    for (int ms = 1; ms <= 64; ms *= 4) {
        uint64_t t0 = kobe_now_ms();
        CHECK_EQ(kobe_sleep_ms(ms), 0);
        uint64_t dt = kobe_now_ms() - t0;
        CHECK(dt >= (uint64_t)ms); /* never early */
        CHECK(dt < 5000);          /* and not lost */
    }
    CHECK_EQ(kobe_sleep_ms(0), 0);
    CHECK_EQ(kobe_sleep_ms(-1), -EINVAL);
    CHECK_EQ(kobe_sleep_until(kobe_now_ms() - 5), 0); /* already due */
    CHECK_EQ(timers_pending(), 0);
    return NULL;
}

static void test_sleep(void) {
    CHECK_EQ(run_with(1, sleep_main), 0);
    CHECK_EQ(run_with(2, sleep_main), 0);
    CHECK_EQ(kobe_sleep_ms(1), -EPERM);
}

/* ---- many sleepers wake in deadline order (one worker: the wake order is the run order) ----
 * Fewer sleepers than a worker's ring holds: if the driver is held up (a loaded machine) and more
 * than RUNQ_SIZE come due in one turn, the ring overflows and moves its older half to the global
 * queue, as tokio's and Go's do, so tasks due together may then run in another order. The order
 * in which timers fire is exact regardless, and test_wheel checks it for 100k timers. */

#define SLEEPERS 200
_Static_assert(SLEEPERS < RUNQ_SIZE, "a burst of wake-ups must fit a worker's ring");
static atomic_int wake_seq;
static uint64_t deadline_of[SLEEPERS];
static int woke_at[SLEEPERS];

static void *sleeper(void *arg) {
    uintptr_t i = (uintptr_t)arg;
    CHECK_EQ(kobe_sleep_until(deadline_of[i]), 0);
    CHECK(kobe_now_ms() >= deadline_of[i]);
    woke_at[i] = atomic_fetch_add(&wake_seq, 1);
    return NULL;
}

static void *order_main(void *arg) {
    (void)arg;
    srand(7);
    /* Every sleeper must be asleep before the first deadline, or one that starts late would
     * legitimately wake after later deadlines: the setup checks that it was quick enough. */
    uint64_t base = kobe_now_ms() + 500;
    kobe_task *t[SLEEPERS];
    for (uintptr_t i = 0; i < SLEEPERS; i++) {
        deadline_of[i] = base + (uint64_t)(rand() % 300);
        CHECK_EQ(kobe_spawn(&t[i], sleeper, (void *)i), 0);
    }
    while (timers_pending() < SLEEPERS) CHECK_EQ(kobe_yield(), 0);
    CHECK(kobe_now_ms() < base);
    for (int i = 0; i < SLEEPERS; i++) CHECK_EQ(kobe_join(t[i], NULL), 0);
    for (int i = 0; i < SLEEPERS; i++)
        for (int j = 0; j < SLEEPERS; j++)
            if (deadline_of[i] < deadline_of[j]) CHECK(woke_at[i] < woke_at[j]);
    CHECK_EQ(timers_pending(), 0);
    return NULL;
}

static void test_sleepers_wake_in_deadline_order(void) {
    CHECK_EQ(run_with(1, order_main), 0);
}

/* ---- cancellation removes timers at once ---------------------------------------------------- */

static void *long_sleep(void *arg) {
    (void)arg;
    return (void *)(intptr_t)kobe_sleep_ms(3600 * 1000);
}

static void *cancel_storm_main(void *arg) {
    (void)arg;
    enum { N = 10000 };
    static kobe_task *t[N];
    for (int i = 0; i < N; i++) CHECK_EQ(kobe_spawn(&t[i], long_sleep, NULL), 0);
    while (timers_pending() < N) CHECK_EQ(kobe_yield(), 0);
    for (int i = 0; i < N; i++) CHECK_EQ(kobe_cancel(t[i]), 0);
    for (int i = 0; i < N; i++) {
        void *r;
        CHECK_EQ(kobe_join(t[i], &r), -ECANCELED);
        CHECK_EQ((intptr_t)r, -ECANCELED);
    }
    CHECK_EQ(timers_pending(), 0);
    /* One cancel, checked right after: the sleeper's timer is gone by the time join returns. */
    kobe_task *one;
    CHECK_EQ(kobe_spawn(&one, long_sleep, NULL), 0);
    while (timers_pending() < 1) CHECK_EQ(kobe_yield(), 0);
    CHECK_EQ(kobe_cancel(one), 0);
    CHECK_EQ(kobe_join(one, NULL), -ECANCELED);
    CHECK_EQ(timers_pending(), 0);
    return NULL;
}

static void test_cancel_storm_leaves_nothing(void) {
    CHECK_EQ(run_with(2, cancel_storm_main), 0);
    CHECK_EQ(run_with(1, cancel_storm_main), 0);
}

/* ---- deadlines ----------------------------------------------------------------------------- */

static kobe_sem *never;

static void *deadline_main(void *arg) {
    (void)arg;
    kobe_deadline outer, inner;
    CHECK_EQ(kobe_deadline_left(), -1);
    /* Nearest wins: an inner, later deadline does not extend the outer one. */
    CHECK_EQ(kobe_deadline_push(&outer, 40), 0);
    CHECK_EQ(kobe_deadline_push(&inner, 100000), 0);
    uint64_t t0 = kobe_now_ms();
    CHECK_EQ(kobe_sleep_ms(100000), -ETIMEDOUT);
    uint64_t dt = kobe_now_ms() - t0;
    CHECK(dt >= 39 && dt < 5000);
    CHECK_EQ(kobe_deadline_pop(&inner), 0);
    CHECK_EQ(kobe_deadline_left(), 0); /* still past the outer one */
    CHECK_EQ(kobe_sleep_ms(1), -ETIMEDOUT);
    CHECK_EQ(kobe_deadline_pop(&outer), 0);
    CHECK_EQ(kobe_deadline_left(), -1);
    CHECK_EQ(kobe_sleep_ms(1), 0);
    CHECK_EQ(kobe_deadline_pop(&outer), -EINVAL); /* not pushed any more */

    /* Nearest wins the other way round: an inner, earlier deadline applies, then is undone. */
    CHECK_EQ(kobe_deadline_push(&outer, 100000), 0);
    CHECK_EQ(kobe_deadline_push(&inner, 20), 0);
    CHECK_EQ(kobe_sem_create(&never, 0), 0);
    CHECK_EQ(kobe_sem_wait(never), -ETIMEDOUT); /* any suspending call, not just sleep */
    CHECK_EQ(kobe_deadline_pop(&inner), 0);
    CHECK(kobe_deadline_left() > 50000);
    CHECK_EQ(kobe_sem_wait_timeout(never, 15), -ETIMEDOUT); /* a timeout on one call */
    CHECK_EQ(kobe_deadline_pop(&outer), 0);

    /* Negative means none; huge values saturate instead of wrapping. */
    CHECK_EQ(kobe_deadline_push(&outer, -5), 0);
    CHECK_EQ(kobe_deadline_left(), -1);
    CHECK_EQ(kobe_deadline_push(&inner, INT64_MAX), 0);
    CHECK(kobe_deadline_left() > 0);
    CHECK_EQ(kobe_sem_post(never), 0);
    CHECK_EQ(kobe_sem_wait_timeout(never, INT64_MAX), 0);
    CHECK_EQ(kobe_deadline_pop(&inner), 0);
    CHECK_EQ(kobe_deadline_pop(&outer), 0);
    CHECK_EQ(kobe_deadline_push(NULL, 5), -EINVAL);
    CHECK_EQ(kobe_sem_destroy(never), 0);
    CHECK_EQ(timers_pending(), 0);
    return NULL;
}

static void test_deadlines(void) {
    CHECK_EQ(run_with(1, deadline_main), 0);
    CHECK_EQ(run_with(2, deadline_main), 0);
    kobe_deadline d;
    CHECK_EQ(kobe_deadline_push(&d, 5), -EPERM);
}

/* ---- intervals, asserted on the runtime clock ---------------------------------------------- */

static void *interval_main(void *arg) {
    (void)arg;
    kobe_interval iv;
    CHECK_EQ(kobe_interval_init(&iv, 0, KOBE_MISSED_BURST), -EINVAL);
    CHECK_EQ(kobe_interval_init(&iv, 10, 99), -EINVAL);

    /* BURST: on schedule, then after a stall the missed ticks come back to back. */
    CHECK_EQ(kobe_interval_init(&iv, 10, KOBE_MISSED_BURST), 0);
    uint64_t start = iv.next;
    for (uint64_t k = 0; k < 3; k++) {
        CHECK_EQ(kobe_interval_tick(&iv), 0);
        CHECK(kobe_now_ms() >= start + k * 10);
    }
    CHECK_EQ(kobe_sleep_ms(45), 0); /* miss about four ticks */
    int behind = kobe_interval_tick(&iv);
    CHECK(behind >= 3);
    uint64_t burst_at = kobe_now_ms();
    for (int i = 0; i < behind; i++) CHECK(kobe_interval_tick(&iv) >= 0);
    CHECK(kobe_now_ms() - burst_at < 10 * (uint64_t)behind); /* caught up without sleeping */
    CHECK_EQ((iv.next - start) % 10, 0);                     /* still on the original grid */

    /* DELAY: after a stall the schedule restarts from now. */
    CHECK_EQ(kobe_interval_init(&iv, 10, KOBE_MISSED_DELAY), 0);
    CHECK_EQ(kobe_interval_tick(&iv), 0);
    CHECK_EQ(kobe_sleep_ms(35), 0);
    uint64_t before = kobe_now_ms();
    CHECK(kobe_interval_tick(&iv) >= 2);
    uint64_t after = kobe_now_ms();
    CHECK(iv.next >= before + 10 && iv.next <= after + 10); /* one period from the late tick */
    CHECK_EQ(kobe_interval_tick(&iv), 0);
    CHECK(kobe_now_ms() >= before + 10);

    /* SKIP: after a stall the next tick is the next one on the original grid. */
    CHECK_EQ(kobe_interval_init(&iv, 10, KOBE_MISSED_SKIP), 0);
    start = iv.next;
    CHECK_EQ(kobe_interval_tick(&iv), 0);
    CHECK_EQ(kobe_sleep_ms(35), 0);
    before = kobe_now_ms();
    CHECK(kobe_interval_tick(&iv) >= 2);
    after = kobe_now_ms();
    CHECK_EQ((iv.next - start) % 10, 0);              /* on the original grid */
    CHECK(iv.next > before && iv.next <= after + 10); /* the first grid point still ahead */
    CHECK_EQ(timers_pending(), 0);
    return NULL;
}

static void test_intervals(void) {
    CHECK_EQ(run_with(1, interval_main), 0);
}

TEST_MAIN(test_sleep, test_sleepers_wake_in_deadline_order, test_cancel_storm_leaves_nothing,
          test_deadlines, test_intervals)
