/* Tasks: stackful coroutines scheduled M:N over the worker threads.
 *
 * A task is plain sequential C: every kobe call that would block suspends only the task. A task
 * may resume on a different OS thread after any call that suspends, so never keep the address
 * of errno or of a thread-local variable across such a call. Beware that compilers may do it for
 * you: glibc declares __errno_location() and pthread_self() const, so their results can be reused
 * across a suspending call. Read such values through a function the compiler cannot see into
 * (kobe never relies on errno itself; kobe_worker_index() is safe).
 *
 * Handles: kobe_spawn gives a handle the caller must pass to exactly one of kobe_join or
 * kobe_task_detach. Passing NULL as the handle pointer spawns the task detached.
 *
 * Cancellation is cooperative: kobe_cancel makes the task's current and every later suspension
 * point return -ECANCELED; the task unwinds by returning. Calls that need a task return -EPERM
 * when called from a thread that is not running one.
 */
#ifndef KOBE_TASK_H
#define KOBE_TASK_H

#include <stdint.h>

#include "kobe/runtime.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kobe_task kobe_task;
typedef void *(*kobe_task_fn)(void *arg);

/* Optional attributes of a new task. Zero means default for every field. */
typedef struct kobe_task_attr {
    const char *name; /* copied, truncated to 31 bytes; default "task-<id>" */
} kobe_task_attr;

/* Spawns fn(arg) on the current runtime. *task (if task is non-NULL) receives the handle.
 * Returns 0, -EINVAL (NULL fn), -EPERM (not inside a task: use kobe_spawn_on), -ENOMEM. */
int kobe_spawn(kobe_task **task, kobe_task_fn fn, void *arg);
int kobe_spawn_attr(kobe_task **task, const kobe_task_attr *attr, kobe_task_fn fn, void *arg);

/* Spawns on rt from any thread, also one outside the runtime. Returns as kobe_spawn, and
 * -ESHUTDOWN once rt has begun shutting down. */
int kobe_spawn_on(kobe_runtime *rt, kobe_task **task, const kobe_task_attr *attr, kobe_task_fn fn,
                  void *arg);

/* Waits for the task to finish and releases the handle, which is invalid afterwards whatever
 * the outcome. Returns 0 with *result (if non-NULL) set to fn's return value; -ECANCELED if the
 * task was cancelled before it finished (*result still receives what it returned); -ENOMEM if
 * the task never ran because no stack could be allocated for it (stacks are allocated when a task
 * first runs, not at spawn); -EINVAL for a NULL task; -EDEADLK for a task joining itself.
 * From a thread outside the runtime it blocks that thread (the blocking twin). If the caller itself
 * is cancelled or its deadline passes while waiting, returns -ECANCELED or -ETIMEDOUT and the
 * joined task is detached (it runs on). */
int kobe_join(kobe_task *task, void **result);

/* Releases the handle; the task runs on and frees itself when done. -EINVAL for NULL. */
int kobe_task_detach(kobe_task *task);

/* Requests cancellation. Callable from any thread, any number of times, also after the task
 * finished (then it has no effect). Returns 0, or -EINVAL for NULL. */
int kobe_cancel(kobe_task *task);

/* Lets other tasks run. Returns 0, -ECANCELED if the caller is cancelled, -EPERM outside a task. */
int kobe_yield(void);

/* The calling task's handle-independent id (never 0) and name; 0 / NULL outside a task. */
uint64_t kobe_task_id(void);
const char *kobe_task_name(void);
uint64_t kobe_task_id_of(const kobe_task *task);

/* Whether the calling task has been asked to cancel (false outside a task). */
int kobe_cancelled(void);

/* Index of the worker running the caller (0-based), or -EPERM outside a worker. */
int kobe_worker_index(void);

#ifdef __cplusplus
}
#endif

#endif
