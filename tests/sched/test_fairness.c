/* The cooperative budget: with ONE worker, a task looping on kobe operations that never suspend
 * (the accept loop that always finds a connection) must not keep a freshly spawned task from
 * running: the budget makes it yield. Without the budget this test hangs and ctest's timeout
 * fails it. */
#include <errno.h>
#include <kobe.h>
#include <stdatomic.h>
#include <stdint.h>

#include "test.h"

#define BUDGET 128

static kobe_sem *plenty;
static atomic_int started, fresh_ran;
static atomic_long ops_after_spawn;
static atomic_int fresh_spawned;

static void *busy(void *arg) {
    (void)arg;
    atomic_store(&started, 1);
    while (!atomic_load(&fresh_ran)) {
        CHECK_EQ(kobe_sem_trywait(plenty), 0); /* succeeds every time: never suspends */
        if (atomic_load(&fresh_spawned)) atomic_fetch_add(&ops_after_spawn, 1);
    }
    return NULL;
}

static void *fresh(void *arg) {
    (void)arg;
    atomic_store(&fresh_ran, 1);
    return NULL;
}

static void *fairness_main(void *arg) {
    (void)arg;
    CHECK_EQ(kobe_sem_create(&plenty, 1u << 30), 0);
    kobe_task *b, *f;
    CHECK_EQ(kobe_spawn(&b, busy, NULL), 0);
    /* Main only gets the worker back because busy is made to yield. */
    while (!atomic_load(&started)) CHECK_EQ(kobe_yield(), 0);
    atomic_store(&fresh_spawned, 1);
    CHECK_EQ(kobe_spawn(&f, fresh, NULL), 0);
    CHECK_EQ(kobe_join(f, NULL), 0);
    CHECK_EQ(kobe_join(b, NULL), 0);
    kobe_stats s;
    CHECK_EQ(kobe_stats_get(NULL, &s), 0);
    CHECK(s.budget_yields >= 1);
    CHECK_EQ(kobe_sem_destroy(plenty), 0);
    return NULL;
}

static void test_busy_task_cannot_starve_fresh_one(void) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    cfg.workers = 1;
    cfg.budget = BUDGET;
    CHECK_EQ(kobe_run(&cfg, fairness_main, NULL, NULL), 0);
    CHECK_EQ(atomic_load(&fresh_ran), 1);
    /* The fresh task ran within two budgets of busy's operations: one to finish the slice
     * busy was in when fresh was spawned, at most one more as main's join hands over. */
    CHECK(atomic_load(&ops_after_spawn) <= 2 * BUDGET);
}

TEST_MAIN(test_busy_task_cannot_starve_fresh_one)
