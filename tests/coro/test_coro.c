/* The context switch itself: round trips, callee-saved state, FP control state kept per
 * coroutine, and stacks from the pool (guards, canary, reuse, giving memory back). */
#include <errno.h>
#include <fenv.h>
#include <stdint.h>
#include <sys/mman.h>
#include <unistd.h>

#include "coro/coro.h"
#include "coro/stack.h"
#include "test.h"

static coro_ctx main_ctx, co_ctx;
static volatile int counter;

static void counting_entry(void *arg) {
    coro_entered();
    int *limit = arg;
    for (;;) {
        counter++;
        if (counter >= *limit) break;
        coro_switch(&co_ctx, &main_ctx);
    }
    coro_switch_final(&co_ctx, &main_ctx);
}

static void test_round_trips(void) {
    stack_pool p;
    CHECK_EQ(stack_pool_init(&p, 64 * 1024, NULL), 0);
    coro_stack *s = stack_pool_get(&p);
    CHECK(s != NULL);
    int limit = 100000;
    counter = 0;
    coro_init_thread(&main_ctx);
    coro_make(&co_ctx, (char *)s->lo + 16, s->size - 16, counting_entry, &limit);
    /* Callee-saved registers must survive: keep values live in locals across the switches. */
    volatile uint64_t a = 0x1111, b = 0x2222;
    uint64_t c = 0x3333, d = 0x4444, e = 0x5555;
    for (int i = 0; i < limit; i++) {
        coro_switch(&main_ctx, &co_ctx);
        CHECK_EQ(counter, i + 1);
        c += 1;
        d ^= (uint64_t)i;
        e = e * 3 + 1;
    }
    CHECK_EQ(a, 0x1111);
    CHECK_EQ(b, 0x2222);
    CHECK_EQ(c, 0x3333 + (uint64_t)limit);
    CHECK(d != 0 && e != 0);
    coro_release(&co_ctx);
    CHECK(stack_canary_ok(s));
    stack_pool_put(&p, s);
    stack_pool_destroy(&p);
}

/* A coroutine that changes its rounding mode must not change the caller's, and vice versa. */
static int co_round_seen;

static void rounding_entry(void *arg) {
    (void)arg;
    coro_entered();
    co_round_seen = fegetround();
    fesetround(FE_UPWARD);
    coro_switch(&co_ctx, &main_ctx);
    co_round_seen = fegetround(); /* must still be FE_UPWARD */
    coro_switch_final(&co_ctx, &main_ctx);
}

static void test_fp_control_is_per_coroutine(void) {
    stack_pool p;
    CHECK_EQ(stack_pool_init(&p, 64 * 1024, NULL), 0);
    coro_stack *s = stack_pool_get(&p);
    coro_init_thread(&main_ctx);
    fesetround(FE_TOWARDZERO);
    coro_make(&co_ctx, (char *)s->lo + 16, s->size - 16, rounding_entry, NULL);
    coro_switch(&main_ctx, &co_ctx);
    CHECK_EQ(co_round_seen, FE_TONEAREST); /* a new coroutine starts with the default */
    CHECK_EQ(fegetround(), FE_TOWARDZERO); /* its change did not leak into us */
    fesetround(FE_DOWNWARD);
    coro_switch(&main_ctx, &co_ctx);
    CHECK_EQ(co_round_seen, FE_UPWARD); /* ours did not leak into it */
    CHECK_EQ(fegetround(), FE_DOWNWARD);
    fesetround(FE_TONEAREST);
    coro_release(&co_ctx);
    stack_pool_put(&p, s);
    stack_pool_destroy(&p);
}

static void test_stack_pool(void) {
    stack_pool p;
    CHECK_EQ(stack_pool_init(&p, 1, NULL), -EINVAL);
    CHECK_EQ(stack_pool_init(&p, (size_t)1 << 41, NULL), -EINVAL);
    CHECK_EQ(stack_pool_init(&p, 20000, NULL), 0);
    long page = sysconf(_SC_PAGESIZE);
    CHECK_EQ(p.size % (size_t)page, 0); /* rounded up to pages */
    CHECK(p.size >= 20000);
    enum { N = 300 };
    coro_stack *s[N];
    for (int i = 0; i < N; i++) {
        s[i] = stack_pool_get(&p);
        CHECK(s[i] != NULL);
        CHECK(stack_canary_ok(s[i]));
        CHECK(s[i]->guarded); /* the default budget guards this many */
        memset((char *)s[i]->lo + 8, 0xAB, s[i]->size - 8); /* the whole usable stack */
    }
    for (int i = 0; i < N; i++)
        for (int j = i + 1; j < N; j++) /* distinct and not overlapping */
            CHECK((char *)s[i]->lo + s[i]->size <= (char *)s[j]->lo ||
                  (char *)s[j]->lo + s[j]->size <= (char *)s[i]->lo);
    CHECK_EQ(atomic_load(&p.mapped), (uint64_t)((N + p.per_slab - 1) / p.per_slab * p.per_slab));
    for (int i = 0; i < N; i++) stack_pool_put(&p, s[i]);
    CHECK_EQ(p.nwarm, N); /* a burst keeps its pages until the pool is trimmed */
    CHECK_EQ(stack_pool_trim(&p), N - p.warm_max);
    CHECK_EQ(p.nwarm, p.warm_max); /* the rest went cold: their pages were given back */
#if defined(__linux__)
    unsigned char vec[64];
    size_t pages = p.size / (size_t)page;
    CHECK(pages <= 64);
    int cold_checked = 0;
    for (coro_stack *c = p.cold; c && cold_checked < 10; c = c->next, cold_checked++) {
        CHECK_EQ(mincore(c->lo, p.size, vec), 0);
        for (size_t i = 0; i < pages; i++) CHECK_EQ(vec[i] & 1, 0);
    }
    CHECK_EQ(cold_checked, 10);
#endif
    /* Reuse hands out warm stacks first, canary rewritten. */
    coro_stack *again = stack_pool_get(&p);
    CHECK(again->warm);
    CHECK(stack_canary_ok(again));
    *(uint64_t *)again->lo = 0;
    CHECK(!stack_canary_ok(again));
    stack_pool_put(&p, again);
    stack_pool_destroy(&p);
}

static void test_guard_modes(void) {
    const char *modes[] = {"mprotect", "none"};
    for (int m = 0; m < 2; m++) {
        stack_pool p;
        CHECK_EQ(stack_pool_init(&p, 64 * 1024, modes[m]), 0);
        coro_stack *s = stack_pool_get(&p);
        CHECK(s != NULL);
        CHECK_EQ(s->guarded, m == 0);
        stack_pool_put(&p, s);
        stack_pool_destroy(&p);
    }
}

TEST_MAIN(test_round_trips, test_fp_control_is_per_coroutine, test_stack_pool, test_guard_modes)
