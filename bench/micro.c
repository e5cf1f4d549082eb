/* Micro benchmarks of the core runtime, on one worker unless KOBE_WORKERS says otherwise.
 * Prints "name ns_per_op" lines, the same workloads as the tokio and Go peers in
 * ../shared/bench (spawn+join in batches of 1024, a task yielding, two tasks ping-ponging
 * through the wait-queue), so that the peers' run.sh shows them side by side.
 *   spawn_join NS   1M tasks spawned and joined, 1024 at a time
 *   yield NS        1M kobe_yield calls by one task
 *   pingpong NS     1M round trips between two tasks through two semaphores */
#include <kobe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

#define N     1000000
#define BATCH 1024

static double now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec * 1e9 + (double)ts.tv_nsec;
}

static void report(const char *name, double t0) {
    printf("%s %.1f\n", name, (now_ns() - t0) / N);
    fflush(stdout);
}

static void *ident(void *arg) {
    return arg;
}

static void *yielder(void *arg) {
    (void)arg;
    for (int i = 0; i < N; i++) kobe_yield();
    return NULL;
}

static kobe_sem *ping, *pong;

static void *echo(void *arg) {
    (void)arg;
    for (int i = 0; i < N; i++) {
        if (kobe_sem_wait(ping) < 0) abort();
        kobe_sem_post(pong);
    }
    return NULL;
}

static void *bench(void *arg) {
    (void)arg;
    static kobe_task *handles[BATCH];
    double t0 = now_ns();
    for (uintptr_t i = 0; i < N;) {
        unsigned n = 0;
        for (; n < BATCH && i < N; n++, i++)
            if (kobe_spawn(&handles[n], ident, (void *)i) < 0) abort();
        for (unsigned j = 0; j < n; j++) {
            void *r;
            if (kobe_join(handles[j], &r) < 0) abort();
        }
    }
    report("spawn_join", t0);

    kobe_task *t;
    t0 = now_ns();
    kobe_spawn(&t, yielder, NULL);
    kobe_join(t, NULL);
    report("yield", t0);

    kobe_sem_create(&ping, 0);
    kobe_sem_create(&pong, 0);
    t0 = now_ns();
    kobe_spawn(&t, echo, NULL);
    for (int i = 0; i < N; i++) {
        kobe_sem_post(ping);
        if (kobe_sem_wait(pong) < 0) abort();
    }
    kobe_join(t, NULL);
    report("pingpong", t0);
    kobe_sem_destroy(ping);
    kobe_sem_destroy(pong);
    return NULL;
}

int main(void) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    if (!getenv("KOBE_WORKERS")) cfg.workers = 1;
    int rc = kobe_run(&cfg, bench, NULL, NULL);
    if (rc < 0) {
        fprintf(stderr, "micro: %s\n", kobe_strerror(rc));
        return 1;
    }
    return 0;
}
