/* kobe_spawn_blocking and name resolution: blocking work runs on pool threads while the task
 * suspends, many at once; it always completes, also when the task is cancelled meanwhile. */
#include <errno.h>
#include <kobe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "test.h"

static pthread_t worker_threads[2];
static atomic_int running, peak, gate_open;

static void *blocking_job(void *arg) {
    int now = atomic_fetch_add(&running, 1) + 1;
    int p = atomic_load(&peak);
    while (now > p && !atomic_compare_exchange_weak(&peak, &p, now)) {
    }
    while (!atomic_load(&gate_open)) usleep(100); /* really blocks its thread */
    atomic_fetch_sub(&running, 1);
    for (int i = 0; i < 2; i++) CHECK(!pthread_equal(pthread_self(), worker_threads[i]));
    return (void *)((uintptr_t)arg * 3);
}

static void *caller(void *arg) {
    void *r = NULL;
    CHECK_EQ(kobe_spawn_blocking(blocking_job, arg, &r), 0);
    CHECK_EQ((uintptr_t)r, (uintptr_t)arg * 3);
    return NULL;
}

static void *record_thread(void *arg) {
    worker_threads[kobe_worker_index()] = pthread_self();
    return arg;
}

static void *many_main(void *arg) {
    (void)arg;
    record_thread(NULL);
    enum { N = 32 };
    kobe_task *t[N];
    for (uintptr_t i = 0; i < N; i++) CHECK_EQ(kobe_spawn(&t[i], caller, (void *)i), 0);
    /* While the jobs block, the workers stay free: a task still runs and sleeps. */
    while (atomic_load(&running) < 8) CHECK_EQ(kobe_sleep_ms(1), 0);
    atomic_store(&gate_open, 1);
    for (int i = 0; i < N; i++) CHECK_EQ(kobe_join(t[i], NULL), 0);
    CHECK(atomic_load(&peak) >= 8);  /* the pool grew beyond one thread */
    CHECK(atomic_load(&peak) <= 16); /* and kept to its cap */
    return NULL;
}

static void test_many_blocking_jobs(void) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    cfg.workers = 1;
    cfg.blocking_threads = 16;
    CHECK_EQ(kobe_run(&cfg, many_main, NULL, NULL), 0);
}

static atomic_int job_finished;

static void *slow_job(void *arg) {
    (void)arg;
    usleep(30000);
    atomic_store(&job_finished, 1);
    return (void *)5;
}

static void *cancelled_caller(void *arg) {
    (void)arg;
    void *r = NULL;
    CHECK_EQ(kobe_spawn_blocking(slow_job, NULL, &r), 0); /* not interrupted */
    CHECK_EQ(atomic_load(&job_finished), 1);
    CHECK_EQ((uintptr_t)r, 5);
    return (void *)(intptr_t)kobe_yield(); /* the cancellation shows here */
}

static void *cancel_main(void *arg) {
    (void)arg;
    kobe_task *t;
    CHECK_EQ(kobe_spawn(&t, cancelled_caller, NULL), 0);
    CHECK_EQ(kobe_yield(), 0);
    CHECK_EQ(kobe_cancel(t), 0);
    void *r;
    CHECK_EQ(kobe_join(t, &r), -ECANCELED);
    CHECK_EQ((intptr_t)r, -ECANCELED);
    return NULL;
}

static void test_cancel_waits_for_the_job(void) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    cfg.workers = 2;
    CHECK_EQ(kobe_run(&cfg, cancel_main, NULL, NULL), 0);
}

static void *resolve_main(void *arg) {
    (void)arg;
    kobe_addr a[4];
    int n = kobe_resolve("localhost", 8080, a, 4);
    CHECK(n >= 1);
    for (int i = 0; i < n; i++) CHECK_EQ(kobe_addr_port(&a[i]), 8080);
    CHECK_EQ(kobe_resolve("127.0.0.1", 1, a, 1), 1);
    CHECK_EQ(kobe_resolve("no-such-host.invalid", 1, a, 4), -ENOENT);
    CHECK_EQ(kobe_resolve(NULL, 1, a, 4), -EINVAL);
    CHECK_EQ(kobe_resolve("localhost", 70000, a, 4), -EINVAL);
    CHECK_EQ(kobe_resolve("localhost", 1, a, 0), -EINVAL);
    /* A connect by name goes through the resolver. */
    kobe_tcp_listener *l;
    kobe_addr at;
    CHECK_EQ(kobe_tcp_listen(&l, "127.0.0.1:0", NULL), 0);
    CHECK_EQ(kobe_tcp_listener_addr(l, &at), 0);
    char name[64];
    snprintf(name, sizeof name, "localhost:%d", kobe_addr_port(&at));
    kobe_tcp_stream *c, *s;
    CHECK_EQ(kobe_tcp_connect(&c, name, 5000), 0);
    CHECK_EQ(kobe_tcp_accept(l, &s, NULL), 0);
    CHECK_EQ(kobe_tcp_close(c), 0);
    CHECK_EQ(kobe_tcp_close(s), 0);
    CHECK_EQ(kobe_tcp_listener_close(l), 0);
    return NULL;
}

static void test_resolve(void) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    cfg.workers = 1;
    CHECK_EQ(kobe_run(&cfg, resolve_main, NULL, NULL), 0);
    /* Outside a task the blocking twin runs inline. */
    void *r;
    CHECK_EQ(kobe_spawn_blocking(slow_job, NULL, &r), 0);
    CHECK_EQ((uintptr_t)r, 5);
    CHECK_EQ(kobe_spawn_blocking(NULL, NULL, &r), -EINVAL);
}

TEST_MAIN(test_many_blocking_jobs, test_cancel_waits_for_the_job, test_resolve)
