/* The bug from the original port: with ONE worker, a task accepting connections in a loop while
 * clients flood the listener must not starve a separately spawned task. Here that task sleeps
 * 10 ms and must finish within 1 s. The accept loop never has to wait (a connection is always
 * pending), so only the cooperative budget and the busy worker's periodic reactor turns (for the
 * timer) let the sleeper through. */
#include <arpa/inet.h>
#include <errno.h>
#include <kobe.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <sys/socket.h>
#include <unistd.h>

#include "test.h"

static atomic_int stop_flood;
static atomic_long accepted;
static kobe_addr listen_at;

/* A plain thread: connects and closes as fast as it can. */
static void *flood(void *arg) {
    (void)arg;
    while (!atomic_load(&stop_flood)) {
        int fd = socket(AF_INET, SOCK_STREAM, 0);
        CHECK(fd >= 0);
        connect(fd, (struct sockaddr *)&listen_at.ss, listen_at.len); /* refusals are fine */
        close(fd);
    }
    return NULL;
}

static void *accept_loop(void *arg) {
    kobe_tcp_listener *l = arg;
    for (;;) {
        kobe_tcp_stream *s;
        int rc = kobe_tcp_accept(l, &s, NULL);
        if (rc == -ECANCELED) return NULL;
        if (rc == 0) {
            atomic_fetch_add(&accepted, 1);
            kobe_tcp_close(s);
        }
    }
}

static void *sleeper(void *arg) {
    (void)arg;
    uint64_t t0 = kobe_now_ms();
    CHECK_EQ(kobe_sleep_ms(10), 0);
    return (void *)(uintptr_t)(kobe_now_ms() - t0);
}

static void *starvation_main(void *arg) {
    (void)arg;
    kobe_tcp_listen_opts o = {.backlog = 4096};
    kobe_tcp_listener *l;
    CHECK_EQ(kobe_tcp_listen(&l, "127.0.0.1:0", &o), 0);
    CHECK_EQ(kobe_tcp_listener_addr(l, &listen_at), 0);
    kobe_task *acc;
    CHECK_EQ(kobe_spawn(&acc, accept_loop, l), 0);
    pthread_t th[2];
    for (int i = 0; i < 2; i++) CHECK_EQ(pthread_create(&th[i], NULL, flood, NULL), 0);
    while (atomic_load(&accepted) < 1000) CHECK_EQ(kobe_yield(), 0); /* the flood is on */
    kobe_task *s;
    CHECK_EQ(kobe_spawn(&s, sleeper, NULL), 0);
    void *elapsed;
    CHECK_EQ(kobe_join(s, &elapsed), 0);
    long during = atomic_load(&accepted);
    atomic_store(&stop_flood, 1);
    for (int i = 0; i < 2; i++) CHECK_EQ(pthread_join(th[i], NULL), 0);
    CHECK_EQ(kobe_cancel(acc), 0);
    CHECK_EQ(kobe_join(acc, NULL), -ECANCELED);
    CHECK_EQ(kobe_tcp_listener_close(l), 0);
    fprintf(stderr, "sleeper took %lu ms while %ld connections were accepted\n",
            (unsigned long)(uintptr_t)elapsed, during);
    CHECK((uintptr_t)elapsed >= 10);
    CHECK((uintptr_t)elapsed < 1000);
    return NULL;
}

static void test_accept_flood_does_not_starve_a_sleeper(void) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    cfg.workers = 1;
    CHECK_EQ(kobe_run(&cfg, starvation_main, NULL, NULL), 0);
}

TEST_MAIN(test_accept_flood_does_not_starve_a_sleeper)
