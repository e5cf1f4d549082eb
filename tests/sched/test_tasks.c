/* Tasks: spawn/join at scale, results, detach, names and ids, yield, bad input, calls outside
 * the runtime. */
#include <errno.h>
#include <kobe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "test.h"

static int run_with(unsigned workers, void *(*fn)(void *), void *arg, void **result) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    cfg.workers = workers;
    return kobe_run(&cfg, fn, arg, result);
}

/* ---- 100k spawned tasks, each result checked ---------------------------------------------- */

#define MANY 100000

static void *square(void *arg) {
    uintptr_t v = (uintptr_t)arg;
    return (void *)(v * v);
}

static void *spawn_many(void *arg) {
    (void)arg;
    static kobe_task *h[MANY];
    for (uintptr_t i = 0; i < MANY; i++) CHECK_EQ(kobe_spawn(&h[i], square, (void *)i), 0);
    for (uintptr_t i = 0; i < MANY; i++) {
        void *r = NULL;
        CHECK_EQ(kobe_join(h[i], &r), 0);
        CHECK_EQ((uintptr_t)r, i * i);
    }
    kobe_stats s;
    CHECK_EQ(kobe_stats_get(NULL, &s), 0);
    CHECK(s.spawned >= MANY + 1);
    CHECK(s.finished >= MANY);
    return (void *)1;
}

static void test_100k_one_worker(void) {
    void *r = NULL;
    CHECK_EQ(run_with(1, spawn_many, NULL, &r), 0);
    CHECK_EQ((uintptr_t)r, 1);
}

static void test_100k_two_workers(void) {
    void *r = NULL;
    CHECK_EQ(run_with(2, spawn_many, NULL, &r), 0);
    CHECK_EQ((uintptr_t)r, 1);
}

/* ---- detach, ids, names --------------------------------------------------------------------- */

static atomic_int detached_ran;

static void *detached_body(void *arg) {
    (void)arg;
    atomic_fetch_add(&detached_ran, 1);
    return NULL;
}

static void *named_body(void *arg) {
    (void)arg;
    CHECK(kobe_task_id() != 0);
    CHECK(strcmp(kobe_task_name(), "worker-bee") == 0);
    return (void *)(uintptr_t)kobe_task_id();
}

/* The name of the thread running the caller, read afresh (pthread_self is declared const, so a
 * value read before a suspension could be another thread's). */
static __attribute__((noinline)) void thread_name(char *buf, size_t n) {
    __asm__ volatile("" ::: "memory");
    CHECK_EQ(pthread_getname_np(pthread_self(), buf, n), 0);
}

static void *ids_main(void *arg) {
    (void)arg;
    CHECK(strcmp(kobe_task_name(), "main") == 0);
    char name[16], want[16];
    thread_name(name, sizeof name);
    snprintf(want, sizeof want, "kobe-worker-%d", kobe_worker_index());
    CHECK(strcmp(name, want) == 0); /* workers are named, the caller's thread too while it runs */
    for (int i = 0; i < 100; i++) CHECK_EQ(kobe_spawn(NULL, detached_body, NULL), 0);
    kobe_task *t;
    kobe_task_attr attr = {.name = "worker-bee"};
    CHECK_EQ(kobe_spawn_attr(&t, &attr, named_body, NULL), 0);
    uint64_t id = kobe_task_id_of(t);
    void *r;
    CHECK_EQ(kobe_join(t, &r), 0);
    CHECK_EQ((uint64_t)(uintptr_t)r, id);
    CHECK(id != kobe_task_id());
    kobe_task *d;
    CHECK_EQ(kobe_spawn(&d, detached_body, NULL), 0);
    CHECK_EQ(kobe_task_detach(d), 0);
    /* Detached tasks still run before the runtime shuts down (they are not cancelled before
     * their first run: cancellation only makes suspension points fail). */
    while (atomic_load(&detached_ran) < 101) CHECK_EQ(kobe_yield(), 0);
    return NULL;
}

static void test_detach_ids_names(void) {
    CHECK_EQ(run_with(2, ids_main, NULL, NULL), 0);
    CHECK_EQ(atomic_load(&detached_ran), 101);
}

/* ---- join semantics ------------------------------------------------------------------------- */

static kobe_task *self_handle;

static void *self_join(void *arg) {
    (void)arg;
    return (void *)(intptr_t)kobe_join(self_handle, NULL);
}

static void *join_main(void *arg) {
    (void)arg;
    void *r;
    /* One worker: the task cannot run before main has published its handle. */
    CHECK_EQ(kobe_spawn(&self_handle, self_join, NULL), 0);
    kobe_task *t = self_handle;
    CHECK_EQ(kobe_join(t, &r), 0);
    CHECK_EQ((intptr_t)r, -EDEADLK);
    return NULL;
}

static void test_join(void) {
    CHECK_EQ(run_with(1, join_main, NULL, NULL), 0);
}

/* ---- bad input and calls outside the runtime ----------------------------------------------- */

static void *nothing(void *arg) {
    return arg;
}

static void *bad_input_main(void *arg) {
    (void)arg;
    kobe_task *t = (kobe_task *)1;
    CHECK_EQ(kobe_spawn(&t, NULL, NULL), -EINVAL);
    CHECK(t == NULL);
    CHECK_EQ(kobe_spawn_on(NULL, NULL, NULL, nothing, NULL), -EINVAL);
    CHECK_EQ(kobe_join(NULL, NULL), -EINVAL);
    CHECK_EQ(kobe_cancel(NULL), -EINVAL);
    CHECK_EQ(kobe_task_detach(NULL), -EINVAL);
    CHECK_EQ(kobe_stats_get(NULL, NULL), -EINVAL);
    CHECK(kobe_runtime_current() != NULL);
    return NULL;
}

static void test_bad_input(void) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    CHECK_EQ(kobe_run(NULL, NULL, NULL, NULL), -EINVAL);
    cfg.stack_size = (size_t)1 << 40; /* absurd: 1 TiB a task */
    CHECK_EQ(kobe_run(&cfg, nothing, NULL, NULL), -EINVAL);
    cfg.stack_size = 100; /* too small to run anything */
    CHECK_EQ(kobe_run(&cfg, nothing, NULL, NULL), -EINVAL);
    kobe_config_init(&cfg);
    cfg.backend = "no-such-backend";
    CHECK_EQ(kobe_run(&cfg, nothing, NULL, NULL), -EINVAL);
    kobe_config_init(&cfg);
    cfg.workers = 100000;
    CHECK_EQ(kobe_run(&cfg, nothing, NULL, NULL), -EINVAL);
    CHECK_EQ(run_with(1, bad_input_main, NULL, NULL), 0);
    void *r = NULL;
    CHECK_EQ(run_with(1, nothing, (void *)77, &r), 0);
    CHECK_EQ((uintptr_t)r, 77);
}

static void test_outside_runtime(void) {
    kobe_task *t = (kobe_task *)1;
    CHECK_EQ(kobe_spawn(&t, nothing, NULL), -EPERM);
    CHECK(t == NULL);
    CHECK_EQ(kobe_yield(), -EPERM);
    CHECK_EQ(kobe_task_id(), 0);
    CHECK(kobe_task_name() == NULL);
    CHECK_EQ(kobe_cancelled(), 0);
    CHECK_EQ(kobe_worker_index(), -EPERM);
    CHECK(kobe_runtime_current() == NULL);
    kobe_stats s;
    CHECK_EQ(kobe_stats_get(NULL, &s), -EPERM);
    CHECK(strcmp(kobe_strerror(-ECANCELED), kobe_strerror(ECANCELED)) == 0);
    CHECK(strstr(kobe_strerror(-ETIMEDOUT), "Timed out") != NULL);
    CHECK(strcmp(kobe_strerror(-99999), "Unknown error") == 0);
}

/* ---- spawn from a thread outside the runtime ----------------------------------------------- */

struct foreign_args {
    kobe_runtime *rt;
    kobe_task *t;
    int rc;
};

static void *foreign_spawner(void *arg) {
    struct foreign_args *a = arg;
    a->rc = kobe_spawn_on(a->rt, &a->t, NULL, square, (void *)12);
    return NULL;
}

static void *foreign_main(void *arg) {
    (void)arg;
    struct foreign_args a = {.rt = kobe_runtime_current()};
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, foreign_spawner, &a), 0);
    CHECK_EQ(pthread_join(th, NULL), 0); /* blocks this worker briefly: fine for a test */
    CHECK_EQ(a.rc, 0);
    void *r;
    CHECK_EQ(kobe_join(a.t, &r), 0);
    CHECK_EQ((uintptr_t)r, 144);
    kobe_stats s;
    CHECK_EQ(kobe_stats_get(NULL, &s), 0);
    CHECK(s.injected >= 1);
    return NULL;
}

static void test_spawn_from_foreign_thread(void) {
    CHECK_EQ(run_with(1, foreign_main, NULL, NULL), 0);
    CHECK_EQ(run_with(2, foreign_main, NULL, NULL), 0);
}

TEST_MAIN(test_100k_one_worker, test_100k_two_workers, test_detach_ids_names, test_join,
          test_bad_input, test_outside_runtime, test_spawn_from_foreign_thread)
