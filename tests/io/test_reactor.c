/* The reactor shared by every worker: a wake from a foreign thread while every worker sleeps
 * (one of them in the poller), and the readiness sequence under a ping-pong whose two ends run on
 * different workers, so events land between an operation's EAGAIN and its suspension. Each test
 * runs on every backend. */
#include <errno.h>
#include <kobe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "sched/sched.h"
#include "sys/poller.h"
#include "test.h"

static const char *backend;
static kobe_sem *sem;
static kobe_runtime *rt;

static bool all_workers_asleep(void) {
    for (unsigned i = 0; i < rt->nworkers; i++) {
        int p = atomic_load(&rt->workers[i].park);
        if (p != PARK_COND && p != PARK_DRIVER) return false;
    }
    return true;
}

static atomic_int woken;

/* Posts only once the main task has taken the previous permit AND every worker sleeps again. */
static void *poster(void *arg) {
    int rounds = (int)(intptr_t)arg;
    for (int i = 0; i < rounds; i++) {
        while (atomic_load(&woken) < i || !all_workers_asleep()) sched_yield();
        CHECK_EQ(kobe_sem_post(sem), 0);
    }
    return NULL;
}

static void *foreign_wake_main(void *arg) {
    (void)arg;
    rt = kobe_runtime_current();
    CHECK_EQ(kobe_sem_create(&sem, 0), 0);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, poster, (void *)200), 0);
    atomic_store(&woken, 0);
    for (int i = 0; i < 200; i++) {
        CHECK_EQ(kobe_sem_wait(sem), 0);
        atomic_store(&woken, i + 1);
    }
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(kobe_sem_destroy(sem), 0);
    kobe_stats s;
    CHECK_EQ(kobe_stats_get(NULL, &s), 0);
    CHECK(s.parks >= 200);
    CHECK(s.injected >= 200);
    return NULL;
}

#define PINGS 20000
static kobe_addr at;

static void *pong_side(void *arg) {
    kobe_tcp_listener *l = arg;
    kobe_tcp_stream *s;
    CHECK_EQ(kobe_tcp_accept(l, &s, NULL), 0);
    char c;
    for (int i = 0; i < PINGS; i++) {
        CHECK_EQ(kobe_tcp_read(s, &c, 1), 1);
        CHECK_EQ(c, (char)i);
        CHECK_EQ(kobe_tcp_write(s, &c, 1), 1);
    }
    CHECK_EQ(kobe_tcp_close(s), 0);
    return NULL;
}

static void *readiness_main(void *arg) {
    (void)arg;
    kobe_tcp_listener *l;
    CHECK_EQ(kobe_tcp_listen(&l, "127.0.0.1:0", NULL), 0);
    CHECK_EQ(kobe_tcp_listener_addr(l, &at), 0);
    kobe_task *p;
    CHECK_EQ(kobe_spawn(&p, pong_side, l), 0);
    kobe_tcp_stream *s;
    CHECK_EQ(kobe_tcp_connect_addr(&s, &at, 5000), 0);
    CHECK_EQ(kobe_tcp_set_nodelay(s, true), 0);
    for (int i = 0; i < PINGS; i++) {
        char c = (char)i, r;
        CHECK_EQ(kobe_tcp_write(s, &c, 1), 1);
        CHECK_EQ(kobe_tcp_read(s, &r, 1), 1);
        CHECK_EQ(r, c);
    }
    CHECK_EQ(kobe_join(p, NULL), 0);
    CHECK_EQ(kobe_tcp_close(s), 0);
    CHECK_EQ(kobe_tcp_listener_close(l), 0);
    return NULL;
}

static void for_each_backend(unsigned workers, void *(*fn)(void *)) {
    for (const char *const *b = poller_names(); *b; b++) {
        backend = *b;
        kobe_config cfg;
        kobe_config_init(&cfg);
        cfg.workers = workers;
        cfg.backend = backend;
        CHECK_EQ(kobe_run(&cfg, fn, NULL, NULL), 0);
    }
}

static void test_foreign_wake_while_all_workers_sleep(void) {
    for_each_backend(1, foreign_wake_main);
    for_each_backend(2, foreign_wake_main);
}

static void test_readiness_race_across_workers(void) {
    for_each_backend(2, readiness_main);
    for_each_backend(1, readiness_main);
}

TEST_MAIN(test_foreign_wake_while_all_workers_sleep, test_readiness_race_across_workers)
