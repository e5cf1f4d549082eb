/* The wait-queue: hand-offs between tasks on different workers and from foreign threads, many
 * times over, so that the wake-before-suspend race (a wake landing while the waiter is still on
 * its stack) is hit often; ThreadSanitizer checks the protocol, the counts check no wake is lost
 * or doubled. */
#include <errno.h>
#include <kobe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "sched/sched.h"
#include "test.h"

#define ROUNDS 100000

static kobe_sem *a, *b;

static void *ponger(void *arg) {
    (void)arg;
    for (int i = 0; i < ROUNDS; i++) {
        CHECK_EQ(kobe_sem_wait(a), 0);
        CHECK_EQ(kobe_sem_post(b), 0);
    }
    return NULL;
}

static void *pingpong_main(void *arg) {
    (void)arg;
    CHECK_EQ(kobe_sem_create(&a, 0), 0);
    CHECK_EQ(kobe_sem_create(&b, 0), 0);
    kobe_task *t;
    CHECK_EQ(kobe_spawn(&t, ponger, NULL), 0);
    for (int i = 0; i < ROUNDS; i++) {
        CHECK_EQ(kobe_sem_post(a), 0);
        CHECK_EQ(kobe_sem_wait(b), 0);
    }
    CHECK_EQ(kobe_join(t, NULL), 0);
    CHECK_EQ(kobe_sem_value(a), 0);
    CHECK_EQ(kobe_sem_value(b), 0);
    CHECK_EQ(kobe_sem_destroy(a), 0);
    CHECK_EQ(kobe_sem_destroy(b), 0);
    return NULL;
}

static void test_pingpong_across_workers(void) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    cfg.workers = 2;
    CHECK_EQ(kobe_run(&cfg, pingpong_main, NULL, NULL), 0);
    cfg.workers = 1;
    CHECK_EQ(kobe_run(&cfg, pingpong_main, NULL, NULL), 0);
}

/* A foreign thread and a task ping-pong: the task waits in the runtime, the thread blocks on its
 * condition variable (the blocking twin of the same call). */
static void *foreign_ponger(void *arg) {
    (void)arg;
    for (int i = 0; i < ROUNDS / 10; i++) {
        CHECK_EQ(kobe_sem_wait(a), 0);
        CHECK_EQ(kobe_sem_post(b), 0);
    }
    return NULL;
}

static void *foreign_main(void *arg) {
    (void)arg;
    CHECK_EQ(kobe_sem_create(&a, 0), 0);
    CHECK_EQ(kobe_sem_create(&b, 0), 0);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, foreign_ponger, NULL), 0);
    for (int i = 0; i < ROUNDS / 10; i++) {
        CHECK_EQ(kobe_sem_post(a), 0);
        CHECK_EQ(kobe_sem_wait(b), 0);
    }
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(kobe_sem_destroy(a), 0);
    CHECK_EQ(kobe_sem_destroy(b), 0);
    return NULL;
}

static void test_pingpong_with_foreign_thread(void) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    cfg.workers = 1;
    CHECK_EQ(kobe_run(&cfg, foreign_main, NULL, NULL), 0);
    cfg.workers = 2;
    CHECK_EQ(kobe_run(&cfg, foreign_main, NULL, NULL), 0);
}

/* Many waiters, many posters: every permit is taken exactly once. */
#define WAITERS 64
#define PER     500

static atomic_int taken;

static void *taker(void *arg) {
    (void)arg;
    for (int i = 0; i < PER; i++) {
        CHECK_EQ(kobe_sem_wait(a), 0);
        atomic_fetch_add(&taken, 1);
    }
    return NULL;
}

static void *poster(void *arg) {
    (void)arg;
    for (int i = 0; i < PER; i++) {
        CHECK_EQ(kobe_sem_post(a), 0);
        if (i % 7 == 0) kobe_yield();
    }
    return NULL;
}

static void *many_main(void *arg) {
    (void)arg;
    atomic_store(&taken, 0);
    CHECK_EQ(kobe_sem_create(&a, 0), 0);
    kobe_task *t[2 * WAITERS];
    for (int i = 0; i < WAITERS; i++) CHECK_EQ(kobe_spawn(&t[i], taker, NULL), 0);
    for (int i = 0; i < WAITERS; i++) CHECK_EQ(kobe_spawn(&t[WAITERS + i], poster, NULL), 0);
    for (int i = 0; i < 2 * WAITERS; i++) CHECK_EQ(kobe_join(t[i], NULL), 0);
    CHECK_EQ(atomic_load(&taken), WAITERS * PER);
    CHECK_EQ(kobe_sem_value(a), 0);
    CHECK_EQ(kobe_sem_trywait(a), -EAGAIN);
    CHECK_EQ(kobe_sem_destroy(a), 0);
    return NULL;
}

static void test_many_waiters_many_posters(void) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    cfg.workers = 2;
    CHECK_EQ(kobe_run(&cfg, many_main, NULL, NULL), 0);
}

/* A semaphore with a waiter refuses to be destroyed; bad arguments are errors. */
static void *waits_once(void *arg) {
    (void)arg;
    return (void *)(intptr_t)kobe_sem_wait(a);
}

static void *busy_destroy_main(void *arg) {
    (void)arg;
    CHECK_EQ(kobe_sem_create(&a, 0), 0);
    kobe_task *t;
    CHECK_EQ(kobe_spawn(&t, waits_once, NULL), 0);
    while (atomic_load(&t->state) != TASK_SUSPENDED) CHECK_EQ(kobe_yield(), 0);
    CHECK_EQ(kobe_sem_destroy(a), -EBUSY);
    CHECK_EQ(kobe_sem_post(a), 0);
    void *r;
    CHECK_EQ(kobe_join(t, &r), 0);
    CHECK_EQ((intptr_t)r, 0);
    CHECK_EQ(kobe_sem_destroy(a), 0);
    CHECK_EQ(kobe_sem_create(NULL, 0), -EINVAL);
    CHECK_EQ(kobe_sem_create(&a, 0x80000000u), -EINVAL);
    CHECK_EQ(kobe_sem_post(NULL), -EINVAL);
    CHECK_EQ(kobe_sem_wait(NULL), -EINVAL);
    return NULL;
}

static void test_busy_destroy_and_bad_args(void) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    cfg.workers = 1;
    CHECK_EQ(kobe_run(&cfg, busy_destroy_main, NULL, NULL), 0);
}

TEST_MAIN(test_pingpong_across_workers, test_pingpong_with_foreign_thread,
          test_many_waiters_many_posters, test_busy_destroy_and_bad_args)
