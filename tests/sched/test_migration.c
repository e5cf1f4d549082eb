/* Migration: a task may resume on another OS thread after any switch. Its locals must survive
 * the move, and the runtime must never use a cached thread-local (the current worker) across the
 * switch: kobe_worker_index() must always name the worker whose thread is running the task. */
#include <errno.h>
#include <kobe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "test.h"

#define TASKS      8
#define MAX_ROUNDS 4000

/* Tasks that only yield stay on their worker: nothing makes a busy worker give work away. Tasks
 * that sleep are woken by the timer on the driver's queue, whichever worker drives, and the
 * other worker steals from it when idle: over many rounds they move. */
static pthread_t thread_of_worker[2];
static atomic_int thread_known[2];
static atomic_int migrations;
static pthread_mutex_t map_lock = PTHREAD_MUTEX_INITIALIZER;

/* glibc declares pthread_self() const, so a compiler may read it once and reuse the value across
 * a yield, after which the task may be on another thread: the very hazard this test is about.
 * Reading it through an opaque function makes every read real. */
static __attribute__((noinline)) pthread_t this_thread(void) {
    __asm__ volatile("" ::: "memory");
    return pthread_self();
}

/* Checks that worker idx runs on the thread it always ran on. */
static void check_worker_thread(int idx) {
    CHECK(idx == 0 || idx == 1);
    pthread_t self = this_thread();
    pthread_mutex_lock(&map_lock);
    if (!atomic_load(&thread_known[idx])) {
        thread_of_worker[idx] = self;
        atomic_store(&thread_known[idx], 1);
    }
    int same = pthread_equal(thread_of_worker[idx], self);
    pthread_mutex_unlock(&map_lock);
    CHECK(same);
}

static void *wanderer(void *arg) {
    uintptr_t seed = (uintptr_t)arg;
    volatile uint64_t locals[64];
    double fp = 1.0 + (double)seed;
    for (int i = 0; i < 64; i++) locals[i] = seed * 1000003u + (uint64_t)i;
    pthread_t before = this_thread();
    int moved = 0;
    for (int n = 0; n < MAX_ROUNDS && moved < 5; n++) {
        CHECK_EQ(n % 2 ? kobe_yield() : kobe_sleep_ms(1), 0);
        int idx = kobe_worker_index();
        check_worker_thread(idx);
        pthread_t now = this_thread();
        if (!pthread_equal(now, before)) {
            moved++;
            atomic_fetch_add(&migrations, 1);
            before = now;
            for (int i = 0; i < 64; i++) CHECK_EQ(locals[i], seed * 1000003u + (uint64_t)i);
            CHECK(fp == 1.0 + (double)seed);
        }
    }
    return (void *)(uintptr_t)moved;
}

static void *migration_main(void *arg) {
    (void)arg;
    kobe_task *t[TASKS];
    for (uintptr_t i = 0; i < TASKS; i++) CHECK_EQ(kobe_spawn(&t[i], wanderer, (void *)i), 0);
    for (int i = 0; i < TASKS; i++) CHECK_EQ(kobe_join(t[i], NULL), 0);
    return NULL;
}

static void test_tasks_migrate_with_locals_intact(void) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    cfg.workers = 2;
    CHECK_EQ(kobe_run(&cfg, migration_main, NULL, NULL), 0);
    /* With two workers stealing from each other, tasks that yield this often do move. */
    CHECK(atomic_load(&migrations) > 0);
}

TEST_MAIN(test_tasks_migrate_with_locals_intact)
