/* The blocking pool on its own: every job runs once with done after run, threads grow on demand
 * up to the cap, idle threads retire, destroy drains the queue, bad arguments are errors. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <time.h>

#include "blocking/pool.h"
#include "test.h"

typedef struct counted_job {
    blocking_job job;
    atomic_int ran, done;
} counted_job;

static atomic_int gate_open, running, peak;

static void run_counted(blocking_job *j) {
    counted_job *c = (counted_job *)j;
    CHECK_EQ(atomic_load(&c->done), 0);
    atomic_fetch_add(&c->ran, 1);
}

static void done_counted(blocking_job *j) {
    counted_job *c = (counted_job *)j;
    CHECK_EQ(atomic_load(&c->ran), 1); /* done comes after run */
    atomic_fetch_add(&c->done, 1);
}

static void run_gated(blocking_job *j) {
    (void)j;
    int now = atomic_fetch_add(&running, 1) + 1;
    int p = atomic_load(&peak);
    while (now > p && !atomic_compare_exchange_weak(&peak, &p, now)) {
    }
    while (!atomic_load(&gate_open)) sched_yield();
    atomic_fetch_sub(&running, 1);
}

/* Polls cond (a stats predicate) until it holds or 5 s pass. */
static bool eventually(blocking_pool *p, bool (*cond)(const blocking_pool_stats *)) {
    for (int i = 0; i < 5000; i++) {
        blocking_pool_stats s;
        blocking_pool_get_stats(p, &s);
        if (cond(&s)) return true;
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    return false;
}

static bool all_done(const blocking_pool_stats *s) {
    return s->queued == 0 && s->completed > 0 && s->idle == s->threads;
}
static bool none_left(const blocking_pool_stats *s) {
    return s->threads == 0;
}

static void test_every_job_once(void) {
    blocking_pool *p;
    CHECK_EQ(blocking_pool_create(&p, 8, 1000, "test"), 0);
    enum { N = 10000 };
    counted_job *jobs = calloc(N, sizeof *jobs);
    for (int i = 0; i < N; i++) {
        jobs[i].job.run = run_counted;
        jobs[i].job.done = done_counted;
        CHECK_EQ(blocking_pool_submit(p, &jobs[i].job), 0);
    }
    blocking_pool_destroy(p); /* drains everything queued */
    for (int i = 0; i < N; i++) {
        CHECK_EQ(atomic_load(&jobs[i].ran), 1);
        CHECK_EQ(atomic_load(&jobs[i].done), 1);
    }
    free(jobs);
}

static void test_cap_and_growth(void) {
    blocking_pool *p;
    CHECK_EQ(blocking_pool_create(&p, 4, 1000, "cap"), 0);
    atomic_store(&gate_open, 0);
    blocking_job jobs[16];
    for (int i = 0; i < 16; i++) {
        jobs[i] = (blocking_job){.run = run_gated};
        CHECK_EQ(blocking_pool_submit(p, &jobs[i]), 0);
    }
    while (atomic_load(&running) < 4) sched_yield();
    blocking_pool_stats s;
    blocking_pool_get_stats(p, &s);
    CHECK_EQ(s.threads, 4); /* grew to the cap, and no further */
    CHECK_EQ(s.queued, 12); /* the rest wait */
    atomic_store(&gate_open, 1);
    CHECK(eventually(p, all_done));
    CHECK_EQ(atomic_load(&peak), 4);
    blocking_pool_destroy(p);

    /* One job at a time, each finished before the next: one thread serves them all. */
    CHECK_EQ(blocking_pool_create(&p, 4, 1000, "serial"), 0);
    counted_job c[5];
    memset(c, 0, sizeof c);
    for (int i = 0; i < 5; i++) {
        c[i].job.run = run_counted;
        c[i].job.done = done_counted;
        CHECK_EQ(blocking_pool_submit(p, &c[i].job), 0);
        while (!atomic_load(&c[i].done)) sched_yield();
        CHECK(eventually(p, all_done)); /* its thread is idle again before the next submit */
    }
    blocking_pool_get_stats(p, &s);
    CHECK_EQ(s.spawned, 1);
    blocking_pool_destroy(p);
}

static void test_idle_threads_retire(void) {
    blocking_pool *p;
    CHECK_EQ(blocking_pool_create(&p, 4, 20, "idle"), 0);
    counted_job c;
    memset(&c, 0, sizeof c);
    c.job.run = run_counted;
    CHECK_EQ(blocking_pool_submit(p, &c.job), 0);
    CHECK(eventually(p, none_left)); /* retired after 20 ms without work */
    memset(&c, 0, sizeof c);
    c.job.run = run_counted;
    CHECK_EQ(blocking_pool_submit(p, &c.job), 0); /* a new thread starts for new work */
    CHECK(eventually(p, all_done));
    CHECK_EQ(atomic_load(&c.ran), 1);
    blocking_pool_stats s;
    blocking_pool_get_stats(p, &s);
    CHECK_EQ(s.spawned, 2);
    blocking_pool_destroy(p);
}

static blocking_pool *dying;
static atomic_int late_rc;

static void submit_during_destroy(blocking_job *j) {
    (void)j;
    blocking_pool_stats s;
    do {
        sched_yield();
        blocking_pool_get_stats(dying, &s);
    } while (!s.shutting_down);
    counted_job late;
    memset(&late, 0, sizeof late);
    late.job.run = run_counted;
    atomic_store(&late_rc, blocking_pool_submit(dying, &late.job));
}

static void *destroyer(void *arg) {
    (void)arg;
    blocking_pool_destroy(dying);
    return NULL;
}

static void test_submit_after_destroy_began(void) {
    CHECK_EQ(blocking_pool_create(&dying, 2, 1000, "dying"), 0);
    atomic_store(&gate_open, 0);
    blocking_job j = {.run = submit_during_destroy};
    CHECK_EQ(blocking_pool_submit(dying, &j), 0);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, destroyer, NULL), 0);
    /* The running job waits until destroy has begun, then submits: refused. */
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(atomic_load(&late_rc), -ESHUTDOWN);
}

static void test_bad_arguments(void) {
    blocking_pool *p;
    CHECK_EQ(blocking_pool_create(&p, 0, 10, "x"), -EINVAL);
    CHECK_EQ(blocking_pool_create(NULL, 1, 10, "x"), -EINVAL);
    CHECK_EQ(blocking_pool_create(&p, 1, 10, NULL), 0);
    CHECK_EQ(blocking_pool_submit(p, NULL), -EINVAL);
    blocking_job no_run = {0};
    CHECK_EQ(blocking_pool_submit(p, &no_run), -EINVAL);
    blocking_pool_destroy(p);
}

TEST_MAIN(test_every_job_once, test_cap_and_growth, test_idle_threads_retire,
          test_submit_after_destroy_began, test_bad_arguments)
