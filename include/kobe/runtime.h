/* The runtime: a pool of worker threads running tasks (stackful coroutines), one reactor over
 * the OS event queue shared by every worker, timers, and a pool of threads for blocking work.
 *
 *   int main(void) { return kobe_run(NULL, serve, NULL, NULL); }
 *
 * kobe_run blocks the calling thread, which becomes worker 0, until the main task returns; it
 * then cancels every task still alive, waits for them to unwind, and frees everything.
 */
#ifndef KOBE_RUNTIME_H
#define KOBE_RUNTIME_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kobe_runtime kobe_runtime;

/* Every field has a default taken from the environment, then from a built-in value, when the
 * field is left 0 / NULL. Initialise with kobe_config_init or zero it. */
typedef struct kobe_config {
    /* Worker threads. 0: $KOBE_WORKERS, else the number of online CPUs. One worker is fully
     * supported: that is the current-thread flavour (no stealing, nothing to steal from). */
    unsigned workers;
    /* Bytes of stack per task, rounded up to whole pages. 0: $KOBE_STACK_SIZE (accepts k/m
     * suffixes), else 256 KiB. Virtual memory, committed lazily as the task touches it; the
     * smallest accepted is 16 KiB, the largest 1 GiB. */
    size_t stack_size;
    /* Poller backend: "epoll" (Linux default) or "poll". NULL: $KOBE_BACKEND, else default. */
    const char *backend;
    /* Threads of the blocking pool at most. 0: $KOBE_BLOCKING_THREADS, else 64. */
    unsigned blocking_threads;
    /* Operations a task may complete without suspending before it is made to yield. 0: 128. */
    unsigned budget;
    /* Print the counters to stderr at shutdown. Also on with $KOBE_STATS=1. */
    int print_stats;
} kobe_config;

void kobe_config_init(kobe_config *cfg);

/* Runs main_fn(arg) as the main task on a new runtime and returns when it and every other task
 * have finished. *result (if result is non-NULL) receives main_fn's return value.
 * Returns 0, or -EINVAL (NULL main_fn, a config value out of range, an unknown backend),
 * -ENOMEM, or the error of a failed thread or poller creation. Nothing is leaked on failure. */
int kobe_run(const kobe_config *cfg, void *(*main_fn)(void *), void *arg, void **result);

/* The runtime of the calling task, or NULL outside a task. Hand it to foreign threads that need
 * kobe_spawn_on or kobe_stats_get. Valid until kobe_run returns. */
kobe_runtime *kobe_runtime_current(void);

/* Counters of a runtime, readable at any time from any thread (values are each exact but not a
 * single atomic snapshot). */
typedef struct kobe_stats {
    unsigned workers;
    uint64_t spawned;        /* tasks created */
    uint64_t finished;       /* tasks whose function returned */
    uint64_t switches;       /* context switches into tasks */
    uint64_t yields;         /* voluntary and budget-forced yields */
    uint64_t budget_yields;  /* yields forced by the cooperative budget */
    uint64_t steals;         /* successful steals of a batch of tasks */
    uint64_t stolen;         /* tasks moved by those steals */
    uint64_t parks;          /* times a worker went to sleep */
    uint64_t injected;       /* tasks queued from outside a worker (foreign threads, overflow) */
    uint64_t polls;          /* reactor waits */
    uint64_t events;         /* reactor events delivered */
    uint64_t timers_fired;   /* timers expired */
    uint64_t live;           /* tasks alive now */
    uint64_t global_depth;   /* tasks in the global injection queue now */
    uint64_t local_depth;    /* tasks in all local run queues now */
    uint64_t stacks_mapped;  /* stacks allocated (pooled or in use) */
    uint64_t stacks_guarded; /* of those, with a guard page */
} kobe_stats;

/* Fills *out for rt (NULL: the calling task's runtime). -EINVAL for NULL out, -EPERM when rt is
 * NULL outside a task. */
int kobe_stats_get(kobe_runtime *rt, kobe_stats *out);

/* Writes the counters as "name value" lines to the stdio stream f (a FILE *). */
int kobe_stats_print(kobe_runtime *rt, void *file);

#ifdef __cplusplus
}
#endif

#endif
