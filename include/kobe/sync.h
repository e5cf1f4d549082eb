/* Synchronisation between tasks, on any workers, and with plain threads outside the runtime.
 * Every primitive suspends only the calling task; called from a thread that is not running a
 * task, the waiting calls block that thread instead (their blocking twin is the same call). */
#ifndef KOBE_SYNC_H
#define KOBE_SYNC_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* A counting semaphore with FIFO hand-off: a post with waiters gives the permit to the oldest
 * waiter directly, so a stream of new waiters cannot starve an old one. */
typedef struct kobe_sem kobe_sem;

/* Returns 0, -EINVAL (NULL out, initial > INT32_MAX), -ENOMEM. */
int kobe_sem_create(kobe_sem **out, unsigned initial);

/* Frees the semaphore. -EBUSY (and nothing freed) while a task or thread waits on it. */
int kobe_sem_destroy(kobe_sem *s);

/* Takes a permit, suspending until one is posted. 0, -ECANCELED, -ETIMEDOUT (task deadline). */
int kobe_sem_wait(kobe_sem *s);

/* As kobe_sem_wait, giving up after timeout_ms (< 0: no timeout of its own). */
int kobe_sem_wait_timeout(kobe_sem *s, int64_t timeout_ms);

/* Takes a permit if one is available at once: 0, or -EAGAIN. */
int kobe_sem_trywait(kobe_sem *s);

/* Adds a permit, or hands it to the oldest waiter. Any thread. 0, -EOVERFLOW, -EINVAL. */
int kobe_sem_post(kobe_sem *s);

/* Permits available now (a snapshot), or -EINVAL. */
int kobe_sem_value(kobe_sem *s);

#ifdef __cplusplus
}
#endif

#endif
