/* The blocking pool: threads for work that must block (files, getaddrinfo, user CPU work).
 *
 * Jobs are caller-owned (no allocation per job). Threads are created on demand, up to a cap, when
 * a job is submitted and no thread is idle; a thread idle for longer than idle_ms retires. The
 * pool knows nothing of tasks: job->done runs on the pool thread after job->run, and the runtime
 * uses it to wake the suspended task.
 */
#ifndef KOBE_BLOCKING_POOL_H
#define KOBE_BLOCKING_POOL_H

#include <stddef.h>

typedef struct blocking_job {
    struct blocking_job *next;
    void (*run)(struct blocking_job *job);
    void (*done)(struct blocking_job *job); /* may be NULL */
} blocking_job;

typedef struct blocking_pool blocking_pool;

typedef struct blocking_pool_stats {
    size_t threads;    /* alive now */
    size_t idle;       /* waiting for a job now */
    size_t queued;     /* submitted, not yet started */
    size_t completed;  /* jobs finished over the pool's life */
    size_t spawned;    /* threads ever started */
    int shutting_down; /* destroy has begun */
} blocking_pool_stats;

/* max_threads >= 1; idle_ms: how long an idle thread waits for work before it retires.
 * name is the thread name prefix (threads are named "<name>-N", truncated to 15 bytes).
 * Returns 0 or -errno (-EINVAL for max_threads == 0 or NULL out). */
int blocking_pool_create(blocking_pool **out, size_t max_threads, unsigned idle_ms,
                         const char *name);

/* Queues job. Starts a thread if none is idle and the cap allows. Returns 0, -EINVAL for a NULL
 * job or job->run, -ESHUTDOWN once destroy began, or -EAGAIN if no thread exists and none could
 * be started (the job is then not queued). */
int blocking_pool_submit(blocking_pool *p, blocking_job *job);

void blocking_pool_get_stats(blocking_pool *p, blocking_pool_stats *out);

/* Runs every job already queued to completion, joins every thread, frees the pool. New submits
 * fail with -ESHUTDOWN from the moment this is called. */
void blocking_pool_destroy(blocking_pool *p);

#endif
