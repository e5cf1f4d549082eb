/* EINTR: signals land on every thread (workers in epoll_wait or on their condition variable,
 * blocking-pool threads block them) while tasks do TCP, sleep, join, and a foreign thread waits on
 * a semaphore. A handler installed without SA_RESTART makes every interruptible system call fail
 * with EINTR; kobe must retry or absorb each one, so no operation may fail. */
#include <errno.h>
#include <kobe.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdint.h>
#include <unistd.h>

#include "echo_task.h"
#include "test.h"

static atomic_long hits;
static atomic_int stop_storm;

static void on_usr1(int sig) {
    (void)sig;
    atomic_fetch_add(&hits, 1);
}

static void *storm(void *arg) {
    (void)arg;
    while (!atomic_load(&stop_storm)) {
        kill(getpid(), SIGUSR1);
        usleep(50);
    }
    return NULL;
}

#define ROUNDS 5000

static void *echo_side(void *arg) {
    kobe_tcp_stream *s;
    CHECK_EQ(kobe_tcp_accept(arg, &s, NULL), 0);
    return echo_stream(s);
}

static void *sleeper(void *arg) {
    (void)arg;
    for (int i = 0; i < 50; i++) CHECK_EQ(kobe_sleep_ms(2), 0);
    return NULL;
}

static kobe_sem *ping;

static void *nap(void *arg) {
    usleep((useconds_t)(uintptr_t)arg); /* interrupted by the storm, which is the point */
    return arg;
}

static void *foreign_waiter(void *arg) {
    (void)arg;
    for (int i = 0; i < 200; i++) CHECK_EQ(kobe_sem_wait(ping), 0);
    return NULL;
}

static void *storm_main(void *arg) {
    (void)arg;
    kobe_tcp_listener *l;
    kobe_addr a;
    CHECK_EQ(kobe_tcp_listen(&l, "127.0.0.1:0", NULL), 0);
    CHECK_EQ(kobe_tcp_listener_addr(l, &a), 0);
    kobe_task *srv, *sl;
    CHECK_EQ(kobe_spawn(&srv, echo_side, l), 0);
    CHECK_EQ(kobe_spawn(&sl, sleeper, NULL), 0);
    CHECK_EQ(kobe_sem_create(&ping, 0), 0);
    pthread_t fw;
    CHECK_EQ(pthread_create(&fw, NULL, foreign_waiter, NULL), 0);
    kobe_tcp_stream *c;
    CHECK_EQ(kobe_tcp_connect_addr(&c, &a, 5000), 0);
    for (int i = 0; i < ROUNDS; i++) {
        char msg[64], back[64];
        int len = snprintf(msg, sizeof msg, "round %d", i);
        CHECK_EQ(kobe_tcp_write_all(c, msg, (size_t)len, NULL), len);
        CHECK_EQ(kobe_tcp_read_exact(c, back, (size_t)len, NULL), len);
        CHECK(memcmp(msg, back, (size_t)len) == 0);
        if (i % 25 == 0) CHECK_EQ(kobe_sem_post(ping), 0);
        if (i % 100 == 0) {
            void *r;
            CHECK_EQ(kobe_spawn_blocking(nap, (void *)200, &r), 0);
            CHECK_EQ((uintptr_t)r, 200);
        }
    }
    CHECK_EQ(pthread_join(fw, NULL), 0);
    CHECK_EQ(kobe_tcp_shutdown(c, SHUT_WR), 0);
    CHECK_EQ(kobe_join(srv, NULL), 0);
    CHECK_EQ(kobe_join(sl, NULL), 0);
    CHECK_EQ(kobe_tcp_close(c), 0);
    CHECK_EQ(kobe_tcp_listener_close(l), 0);
    CHECK_EQ(kobe_sem_destroy(ping), 0);
    return NULL;
}

static void test_signal_storm(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_usr1;
    sa.sa_flags = 0; /* no SA_RESTART: interrupted calls fail with EINTR */
    sigemptyset(&sa.sa_mask);
    CHECK_EQ(sigaction(SIGUSR1, &sa, NULL), 0);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, storm, NULL), 0);
    for (unsigned workers = 1; workers <= 2; workers++) {
        kobe_config cfg;
        kobe_config_init(&cfg);
        cfg.workers = workers;
        CHECK_EQ(kobe_run(&cfg, storm_main, NULL, NULL), 0);
    }
    atomic_store(&stop_storm, 1);
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK(atomic_load(&hits) > 100); /* the storm did happen */
}

TEST_MAIN(test_signal_storm)
