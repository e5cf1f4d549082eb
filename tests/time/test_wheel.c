/* The timer wheel against a brute-force model: random deadlines over ms to years, advances in
 * random steps (small and huge), cancellation storms, far-future and overdue deadlines. Every
 * timer fires exactly once, never early, never late (at the first advance past its deadline), in
 * deadline order; next_deadline is always the true minimum. */
#include <stdint.h>
#include <stdlib.h>

#include "test.h"
#include "time/wheel.h"

#define N 100000

static wheel w;
static wheel_timer tm[N];
static int fired[N];
static uint64_t rng = 88172645463325252ull;

static uint64_t next_rand(void) {
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

static uint64_t brute_min(void) {
    uint64_t m = UINT64_MAX;
    for (int i = 0; i < N; i++)
        if (wheel_timer_pending(&tm[i]) && tm[i].deadline < m) m = tm[i].deadline;
    return m;
}

/* Advances to now and checks what fired against the model. */
static int advance_and_check(uint64_t now) {
    uint64_t before = w.now;
    wheel_timer *t = wheel_advance(&w, now);
    uint64_t last = 0;
    int n = 0;
    for (; t; t = t->next, n++) {
        int i = (int)(t - tm);
        CHECK(i >= 0 && i < N);
        CHECK_EQ(fired[i], 0);
        fired[i] = 1;
        CHECK(t->deadline <= now);
        CHECK(t->deadline >= last);
        CHECK(!wheel_timer_pending(t));
        last = t->deadline;
        (void)before;
    }
    return n;
}

static void check_nothing_due_left(uint64_t now) {
    for (int i = 0; i < N; i++)
        if (wheel_timer_pending(&tm[i])) CHECK(tm[i].deadline > now);
}

static void test_random_deadlines_fire_once_in_order(void) {
    uint64_t start = 1000000;
    wheel_init(&w, start);
    memset(fired, 0, sizeof fired);
    for (int i = 0; i < N; i++) {
        wheel_timer_init(&tm[i]);
        uint64_t r = next_rand();
        uint64_t span = (r >> 60) < 8 ? 1000 : (r >> 60) < 12 ? 3600000 : 86400000ull * 800;
        wheel_insert(&w, &tm[i], start + (next_rand() % span));
    }
    CHECK_EQ(w.count, N);
    uint64_t now = start;
    int total = 0, checks = 0;
    while (w.count > 0) {
        uint64_t next = wheel_next_deadline(&w);
        if (checks++ < 60) CHECK_EQ(next, brute_min());
        uint64_t r = next_rand() % 10;
        if (r < 5)
            now += 1 + next_rand() % 50;
        else if (r < 8)
            now = next; /* exactly to the next deadline */
        else
            now += next_rand() % 86400000ull * 30; /* a month at once */
        total += advance_and_check(now);
        if (checks < 60) check_nothing_due_left(now);
    }
    CHECK_EQ(total, N);
    for (int i = 0; i < N; i++) CHECK_EQ(fired[i], 1);
    CHECK_EQ(wheel_next_deadline(&w), UINT64_MAX);
    for (int l = 0; l < WHEEL_LEVELS; l++) CHECK_EQ(w.occupied[l], 0);
}

static void test_cancel_storm(void) {
    wheel_init(&w, 5);
    memset(fired, 0, sizeof fired);
    for (int i = 0; i < N; i++) {
        wheel_timer_init(&tm[i]);
        wheel_insert(&w, &tm[i], 5 + next_rand() % 10000000);
    }
    int kept = 0;
    for (int i = 0; i < N; i++) {
        if (next_rand() % 10 < 9) {
            wheel_remove(&w, &tm[i]);
            if (i % 3 == 0) wheel_remove(&w, &tm[i]); /* twice: a no-op */
            fired[i] = 2;                             /* must never fire */
        } else {
            kept++;
        }
    }
    CHECK_EQ(w.count, (size_t)kept);
    int n = 0;
    for (wheel_timer *t = wheel_advance(&w, UINT64_MAX / 2); t; t = t->next, n++)
        CHECK_EQ(fired[t - tm], 0);
    CHECK_EQ(n, kept);
    CHECK_EQ(w.count, 0);
    for (int l = 0; l < WHEEL_LEVELS; l++) CHECK_EQ(w.occupied[l], 0);
}

static void test_edges(void) {
    wheel_init(&w, 100);
    CHECK_EQ(wheel_next_deadline(&w), UINT64_MAX);
    CHECK(wheel_advance(&w, 50) == NULL); /* backwards: nothing */
    wheel_timer a, b, c, d;
    wheel_timer_init(&a);
    wheel_timer_init(&b);
    wheel_timer_init(&c);
    wheel_timer_init(&d);
    wheel_insert(&w, &a, 40);  /* overdue: fires at the next advance */
    wheel_insert(&w, &b, 100); /* due now */
    wheel_insert(&w, &c, UINT64_MAX - 5);
    wheel_insert(&w, &d, ((uint64_t)1 << 36) + 150); /* crosses the top level's rotation */
    CHECK_EQ(wheel_next_deadline(&w), 40);
    wheel_timer *t = wheel_advance(&w, 100);
    CHECK(t == &a && t->next == &b && b.next == NULL);
    CHECK_EQ(wheel_next_deadline(&w), ((uint64_t)1 << 36) + 150);
    CHECK(wheel_advance(&w, ((uint64_t)1 << 36) + 149) == NULL);
    t = wheel_advance(&w, ((uint64_t)1 << 36) + 150);
    CHECK(t == &d && d.next == NULL);
    CHECK(wheel_advance(&w, UINT64_MAX - 6) == NULL);
    CHECK_EQ(wheel_next_deadline(&w), UINT64_MAX - 5);
    t = wheel_advance(&w, UINT64_MAX - 1);
    CHECK(t == &c);
    /* A fired timer can be inserted again. */
    wheel_insert(&w, &a, UINT64_MAX - 1);
    CHECK(wheel_advance(&w, UINT64_MAX - 1) == &a);
    CHECK_EQ(w.count, 0);
    /* Advancing an empty wheel by ten years costs nothing (no per-millisecond loop). */
    wheel_init(&w, 0);
    CHECK(wheel_advance(&w, 86400000ull * 3650) == NULL);
    CHECK_EQ(w.now, 86400000ull * 3650);
}

TEST_MAIN(test_random_deadlines_fire_once_in_order, test_cancel_storm, test_edges)
