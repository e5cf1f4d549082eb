/* Blocking work: a pool of threads for calls that must block (files, getaddrinfo, CPU-heavy
 * work), so that they never stall a worker. The pool grows on demand up to a cap
 * (kobe_config.blocking_threads) and idle threads retire after 10 s. */
#ifndef KOBE_BLOCKING_H
#define KOBE_BLOCKING_H

#ifdef __cplusplus
extern "C" {
#endif

/* Runs fn(arg) on a pool thread; the calling task suspends until it returns, and *result (if
 * non-NULL) gets its return value. The job always runs to completion, because it may be using
 * memory the caller owns: a cancellation or deadline that comes meanwhile does not interrupt
 * it, and shows at the task's next suspension point. Called outside a task, runs fn on the
 * calling thread (the blocking twin). Returns 0, -EINVAL (NULL fn), -EAGAIN (no thread could be
 * started), -ESHUTDOWN. */
int kobe_spawn_blocking(void *(*fn)(void *), void *arg, void **result);

#ifdef __cplusplus
}
#endif

#endif
