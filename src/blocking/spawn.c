/* kobe_spawn_blocking: hands a function to the runtime's blocking pool and suspends the task
 * until a pool thread has run it. The job lives on the task's stack, so the wait cannot be
 * abandoned: it is uninterruptible (see kobe/blocking.h). */
#include <errno.h>

#include "blocking/pool.h"
#include "kobe/blocking.h"
#include "sched/sched.h"

typedef struct task_job {
    blocking_job job; /* first: the pool hands back a blocking_job pointer */
    void *(*fn)(void *);
    void *arg;
    void *result;
    waitq q; /* its lock guards done */
    bool done;
} task_job;

static void job_run(blocking_job *j) {
    task_job *tj = (task_job *)j;
    tj->result = tj->fn(tj->arg);
}

static void job_done(blocking_job *j) {
    task_job *tj = (task_job *)j;
    spin_lock_acquire(&tj->q.lock);
    tj->done = true;
    waiter *w = waitq_pop_locked(&tj->q);
    if (w) waiter_signal(w, false);
    spin_unlock(&tj->q.lock);
}

int kobe_spawn_blocking(void *(*fn)(void *), void *arg, void **result) {
    if (!fn) return -EINVAL;
    kobe_task *t = sched_current();
    if (!t) {
        void *r = fn(arg);
        if (result) *result = r;
        return 0;
    }
    task_job tj = {.job = {.run = job_run, .done = job_done}, .fn = fn, .arg = arg};
    waitq_init(&tj.q);
    int rc = blocking_pool_submit(t->rt->blocking, &tj.job);
    if (rc < 0) return rc;
    spin_lock_acquire(&tj.q.lock);
    while (!tj.done) {
        waiter w;
        waitq_wait_locked_uninterruptible(&tj.q, &w);
        spin_lock_acquire(&tj.q.lock);
    }
    spin_unlock(&tj.q.lock);
    if (result) *result = tj.result;
    return 0;
}
