/* demo: what `make run` shows. A self-contained tour of the core runtime that exits 0 by itself.
 *
 * A main task spawns a tree of tasks across the workers: each level spawns children, yields
 * while they run, joins them and sums their results; a pair of tasks ping-pongs through two
 * semaphores; one task is cancelled while it waits. Then the runtime's counters are printed.
 * Run it with KOBE_WORKERS=N to change the worker count, KOBE_STATS=1 for the counters at exit.
 *
 *   $ ./build/examples/demo
 */
#include <errno.h>
#include <kobe.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define FANOUT 8
#define DEPTH  4

/* Sums the tree below this node: a leaf is worth 1. Every task yields once on the way. */
static void *tree(void *arg) {
    uintptr_t depth = (uintptr_t)arg;
    if (depth == 0) return (void *)1;
    kobe_task *kids[FANOUT];
    for (int i = 0; i < FANOUT; i++)
        if (kobe_spawn(&kids[i], tree, (void *)(depth - 1)) < 0) abort();
    kobe_yield();
    uintptr_t sum = 0;
    for (int i = 0; i < FANOUT; i++) {
        void *r;
        if (kobe_join(kids[i], &r) == 0) sum += (uintptr_t)r;
    }
    return (void *)sum;
}

static kobe_sem *ping, *pong;

static void *ponger(void *arg) {
    uintptr_t rounds = (uintptr_t)arg;
    for (uintptr_t i = 0; i < rounds; i++) {
        kobe_sem_wait(ping);
        kobe_sem_post(pong);
    }
    return NULL;
}

static void *sleeper(void *arg) {
    kobe_sem *never = arg;
    return (void *)(intptr_t)kobe_sem_wait(never); /* -ECANCELED when cancelled */
}

static void *demo(void *arg) {
    (void)arg;
    kobe_runtime *rt = kobe_runtime_current();
    printf("kobe demo: main task %llu on worker %d\n", (unsigned long long)kobe_task_id(),
           kobe_worker_index());

    kobe_task *root;
    kobe_spawn(&root, tree, (void *)DEPTH);
    void *leaves;
    kobe_join(root, &leaves);
    printf("tree of depth %d, fan-out %d: %lu leaves counted by %lu tasks\n", DEPTH, FANOUT,
           (unsigned long)(uintptr_t)leaves, 1ul + 8 + 64 + 512 + 4096);

    const uintptr_t rounds = 100000;
    kobe_sem_create(&ping, 0);
    kobe_sem_create(&pong, 0);
    kobe_task *p;
    kobe_spawn(&p, ponger, (void *)rounds);
    for (uintptr_t i = 0; i < rounds; i++) {
        kobe_sem_post(ping);
        kobe_sem_wait(pong);
    }
    kobe_join(p, NULL);
    printf("ping-pong: %lu round trips between two tasks\n", (unsigned long)rounds);

    kobe_sem *never;
    kobe_sem_create(&never, 0);
    kobe_task *s;
    kobe_spawn(&s, sleeper, never);
    kobe_yield(); /* cancelling works the same whether or not it got to wait yet */
    kobe_cancel(s);
    void *why;
    int rc = kobe_join(s, &why);
    printf("cancelled a waiting task: join says \"%s\", its wait said \"%s\"\n", kobe_strerror(rc),
           kobe_strerror((int)(intptr_t)why));
    kobe_sem_destroy(never);
    kobe_sem_destroy(ping);
    kobe_sem_destroy(pong);

    int ok = (uintptr_t)leaves == 4096 && rc == -ECANCELED;
    kobe_stats_print(rt, stdout);
    return (void *)(intptr_t)ok;
}

int main(void) {
    void *ok = NULL;
    int rc = kobe_run(NULL, demo, NULL, &ok);
    if (rc < 0) {
        fprintf(stderr, "demo: %s\n", kobe_strerror(rc));
        return 1;
    }
    printf(ok ? "demo: all good\n" : "demo: FAILED\n");
    return ok ? 0 : 1;
}
