/* The blocking pool (interface in pool.h): a FIFO of caller-owned jobs under one mutex, threads
 * started on demand up to a cap, idle ones retiring after idle_ms.
 *
 * Every thread is joinable and stays on the pool's list until joined: a retiring thread moves
 * itself to the "retired" list as its last act under the lock, and whoever next takes the lock
 * in submit or destroy joins it. So destroy never returns while a pool thread could still touch
 * the pool, and no thread is ever leaked. Pool threads block every signal, so signals go to the
 * application's own threads. A job is not touched by the pool after its done callback runs: the
 * caller may free it from there on. */
#include "blocking/pool.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

typedef struct pool_thread {
    struct pool_thread *next;
    pthread_t id;
    blocking_pool *pool;
} pool_thread;

struct blocking_pool {
    pthread_mutex_t lock;
    pthread_cond_t work; /* signalled when a job is queued, or at destroy */
    pthread_cond_t gone; /* signalled when a thread retires, for destroy */
    blocking_job *head, *tail;
    size_t max, threads, idle, queued, completed, spawned;
    unsigned idle_ms;
    bool shutting_down;
    pool_thread *retired; /* exited, waiting to be joined */
    char name[16];
};

static void reap_locked(blocking_pool *p, pool_thread **list) {
    *list = p->retired;
    p->retired = NULL;
}

static void join_all(pool_thread *t) {
    while (t) {
        pool_thread *next = t->next;
        pthread_join(t->id, NULL);
        free(t);
        t = next;
    }
}

static void deadline_after(struct timespec *ts, unsigned ms) {
    clock_gettime(CLOCK_MONOTONIC, ts);
    ts->tv_sec += ms / 1000;
    ts->tv_nsec += (long)(ms % 1000) * 1000000;
    if (ts->tv_nsec >= 1000000000) {
        ts->tv_sec++;
        ts->tv_nsec -= 1000000000;
    }
}

static void *pool_main(void *arg) {
    pool_thread *self = arg;
    blocking_pool *p = self->pool;
    pthread_mutex_lock(&p->lock);
    for (;;) {
        while (!p->head && !p->shutting_down) {
            struct timespec ts;
            deadline_after(&ts, p->idle_ms);
            p->idle++;
            int rc = pthread_cond_timedwait(&p->work, &p->lock, &ts);
            p->idle--;
            if (rc == ETIMEDOUT && !p->head) goto retire;
        }
        if (!p->head) break; /* shutting down with nothing left to run */
        blocking_job *j = p->head;
        p->head = j->next;
        if (!p->head) p->tail = NULL;
        p->queued--;
        pthread_mutex_unlock(&p->lock);
        j->run(j);
        if (j->done) j->done(j); /* the last touch of the job */
        pthread_mutex_lock(&p->lock);
        p->completed++;
    }
retire:
    p->threads--;
    self->next = p->retired;
    p->retired = self;
    pthread_cond_signal(&p->gone);
    pthread_mutex_unlock(&p->lock);
    return NULL;
}

int blocking_pool_create(blocking_pool **out, size_t max_threads, unsigned idle_ms,
                         const char *name) {
    if (!out || max_threads == 0) return -EINVAL;
    blocking_pool *p = calloc(1, sizeof *p);
    if (!p) return -ENOMEM;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int rc = pthread_cond_init(&p->work, &ca);
    pthread_condattr_destroy(&ca);
    if (rc != 0) {
        free(p);
        return -rc;
    }
    pthread_cond_init(&p->gone, NULL);
    pthread_mutex_init(&p->lock, NULL);
    p->max = max_threads;
    p->idle_ms = idle_ms ? idle_ms : 1;
    snprintf(p->name, sizeof p->name, "%s", name ? name : "blocking");
    *out = p;
    return 0;
}

/* Starts a thread, with every signal blocked (it inherits the mask). Lock held. */
static int start_thread(blocking_pool *p) {
    pool_thread *t = malloc(sizeof *t);
    if (!t) return -ENOMEM;
    t->pool = p;
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int rc = pthread_create(&t->id, NULL, pool_main, t);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (rc != 0) {
        free(t);
        return -rc;
    }
    char name[16];
    snprintf(name, sizeof name, "%.10s-%zu", p->name, p->spawned % 1000);
    pthread_setname_np(t->id, name);
    p->threads++;
    p->spawned++;
    return 0;
}

int blocking_pool_submit(blocking_pool *p, blocking_job *job) {
    if (!p || !job || !job->run) return -EINVAL;
    pool_thread *reap;
    pthread_mutex_lock(&p->lock);
    if (p->shutting_down) {
        pthread_mutex_unlock(&p->lock);
        return -ESHUTDOWN;
    }
    reap_locked(p, &reap);
    job->next = NULL;
    if (p->tail)
        p->tail->next = job;
    else
        p->head = job;
    p->tail = job;
    p->queued++;
    int rc = 0;
    /* A thread per queued job that no idle thread will take, up to the cap. */
    if (p->queued > p->idle && p->threads < p->max) {
        rc = start_thread(p);
        if (rc < 0 && p->threads > 0) rc = 0; /* the job waits for a running thread */
        if (rc < 0) {
            /* No thread at all: take the job back out (it is the tail). */
            blocking_job **pp = &p->head;
            while (*pp != job) pp = &(*pp)->next;
            *pp = NULL;
            p->tail = NULL;
            for (blocking_job *j = p->head; j; j = j->next) p->tail = j;
            p->queued--;
            rc = -EAGAIN;
        }
    }
    if (rc == 0) pthread_cond_signal(&p->work);
    pthread_mutex_unlock(&p->lock);
    join_all(reap);
    return rc;
}

void blocking_pool_get_stats(blocking_pool *p, blocking_pool_stats *out) {
    pthread_mutex_lock(&p->lock);
    out->threads = p->threads;
    out->idle = p->idle;
    out->queued = p->queued;
    out->completed = p->completed;
    out->spawned = p->spawned;
    out->shutting_down = p->shutting_down;
    pthread_mutex_unlock(&p->lock);
}

void blocking_pool_destroy(blocking_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->lock);
    p->shutting_down = true;
    pthread_cond_broadcast(&p->work);
    /* Threads drain the queue, then retire; wait for every one of them. */
    while (p->threads > 0) pthread_cond_wait(&p->gone, &p->lock);
    pool_thread *reap;
    reap_locked(p, &reap);
    pthread_mutex_unlock(&p->lock);
    join_all(reap);
    pthread_mutex_destroy(&p->lock);
    pthread_cond_destroy(&p->work);
    pthread_cond_destroy(&p->gone);
    free(p);
}
