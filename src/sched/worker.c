/* The worker loop: find a task, run it until it switches back, handle why it switched back;
 * with nothing to run, search other workers, then park (as the reactor's driver, or on a
 * condition variable). The protocols are explained in sched.h; the race each step prevents is
 * noted where the step is. */
#include <errno.h>

#include "io/reactor.h"
#include "sched/sched.h"

/* ---- queueing ------------------------------------------------------------------------------ */

static void push_local(worker *w, kobe_task *t) {
    kobe_task *batch;
    unsigned n;
    if (!runq_push(&w->q, t, &batch, &n)) {
        kobe_task *last = batch;
        while (last->next) last = last->next;
        inject_push(w->rt, batch, last, n);
    }
}

void sched_schedule(kobe_runtime *rt, kobe_task *t, bool lifo) {
    worker *w = sched_worker();
    if (!w || w->rt != rt) {
        t->next = NULL;
        inject_push(rt, t, t, 1);
        atomic_fetch_add_explicit(&rt->injected, 1, memory_order_relaxed);
        sched_notify(rt);
        return;
    }
    if (lifo && w->current) {
        kobe_task *prev = w->lifo;
        w->lifo = t;
        if (!prev) return; /* runs right after the current task: nobody else needs waking */
        t = prev;
    }
    push_local(w, t);
    if (rt->nworkers > 1) sched_notify(rt);
}

/* ---- searching and the idle list ---------------------------------------------------------- */

/* At most half the workers search at once: more would only contend on the same queues. */
static bool to_searching(worker *w) {
    kobe_runtime *rt = w->rt;
    if (w->searching) return true;
    unsigned s = atomic_load_explicit(&rt->nsearching, memory_order_relaxed);
    if (2 * s >= rt->nworkers) return false;
    atomic_fetch_add_explicit(&rt->nsearching, 1, memory_order_seq_cst);
    w->searching = true;
    return true;
}

/* Found work while searching. If this was the last searcher, the work may not be alone: wake
 * one more worker, or queued tasks could wait while a worker sleeps. */
static void from_searching(worker *w) {
    if (!w->searching) return;
    w->searching = false;
    if (atomic_fetch_sub_explicit(&w->rt->nsearching, 1, memory_order_seq_cst) == 1)
        sched_notify(w->rt);
}

void sched_notify(kobe_runtime *rt) {
    /* Pairs with the fence in worker_park: either we see the parker in the idle count, or it
     * sees our task when it re-checks the queues. */
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&rt->nsearching, memory_order_relaxed) > 0) return;
    if (atomic_load_explicit(&rt->nidle, memory_order_relaxed) == 0) return;
    pthread_mutex_lock(&rt->idle_lock);
    worker *w = rt->idle_list;
    if (w) {
        rt->idle_list = w->idle_next;
        w->idle_listed = false;
        atomic_fetch_sub_explicit(&rt->nidle, 1, memory_order_relaxed);
        /* It wakes as a searcher: counted now, so concurrent notifies do not wake more. */
        atomic_fetch_add_explicit(&rt->nsearching, 1, memory_order_seq_cst);
        w->woken_searching = true;
    }
    pthread_mutex_unlock(&rt->idle_lock);
    if (w) worker_unpark(w);
}

static void idle_list_add(worker *w) {
    kobe_runtime *rt = w->rt;
    pthread_mutex_lock(&rt->idle_lock);
    w->idle_next = rt->idle_list;
    rt->idle_list = w;
    w->idle_listed = true;
    w->woken_searching = false;
    atomic_fetch_add_explicit(&rt->nidle, 1, memory_order_relaxed);
    pthread_mutex_unlock(&rt->idle_lock);
}

/* Leaves the idle list if still on it; takes over the searcher count a notifier gave it. */
static void idle_list_leave(worker *w) {
    kobe_runtime *rt = w->rt;
    pthread_mutex_lock(&rt->idle_lock);
    if (w->idle_listed) {
        worker **pp = &rt->idle_list;
        while (*pp != w) pp = &(*pp)->idle_next;
        *pp = w->idle_next;
        w->idle_listed = false;
        atomic_fetch_sub_explicit(&rt->nidle, 1, memory_order_relaxed);
    }
    if (w->woken_searching) {
        w->woken_searching = false;
        w->searching = true;
    }
    pthread_mutex_unlock(&rt->idle_lock);
}

static bool work_visible(kobe_runtime *rt) {
    if (atomic_load_explicit(&rt->inject_len, memory_order_relaxed) > 0) return true;
    for (unsigned i = 0; i < rt->nworkers; i++)
        if (runq_len(&rt->workers[i].q) > 0) return true;
    return false;
}

static kobe_task *steal_work(worker *w) {
    kobe_runtime *rt = w->rt;
    unsigned n = rt->nworkers;
    w->rng = w->rng * 1103515245u + 12345u;
    unsigned start = (w->rng >> 16) % n;
    for (unsigned i = 0; i < n; i++) {
        worker *v = &rt->workers[(start + i) % n];
        if (v == w) continue;
        unsigned got;
        kobe_task *t = runq_steal(&w->q, &v->q, &got);
        if (t) {
            stat_inc(&w->stats.steals);
            stat_add(&w->stats.stolen, got);
            return t;
        }
    }
    return inject_pop(rt);
}

/* ---- the driver: the one worker waiting in the reactor ------------------------------------ */

/* Waits for I/O (timeout_ms: -1 blocks until the next timer, 0 just polls) and fires due timers.
 * The woken tasks land in this worker's queue. Called with rt->driver_lock held. */
static void driver_turn(worker *w, bool block) {
    kobe_runtime *rt = w->rt;
    int timeout = block ? timers_before_wait(rt->timers, time_now_ms()) : 0;
    int n = reactor_wait(rt->reactor, timeout);
    /* Off the idle list before waking anyone, so that the wake-ups notify other workers. */
    if (block) idle_list_leave(w);
    reactor_dispatch(rt->reactor, n);
    uint64_t now = time_now_ms();
    atomic_store_explicit(&rt->last_poll_ms, now, memory_order_relaxed);
    timers_after_wait(rt->timers, now);
}

/* A worker busy with runnable tasks never parks, so every GLOBAL_CHECK_INTERVAL runs it polls
 * the reactor without blocking, at most once a millisecond: I/O and timers keep flowing even
 * when every worker is busy (and with one worker, that is the only way they flow). */
static void maintenance(worker *w) {
    kobe_runtime *rt = w->rt;
    uint64_t now = time_now_ms();
    if (now == atomic_load_explicit(&rt->last_poll_ms, memory_order_relaxed)) return;
    if (!spin_trylock(&rt->driver_lock)) return;
    driver_turn(w, false);
    spin_unlock(&rt->driver_lock);
}

/* ---- parking ------------------------------------------------------------------------------ */

void worker_unpark(worker *w) {
    int prev = atomic_exchange_explicit(&w->park, PARK_NOTIFIED, memory_order_seq_cst);
    if (prev == PARK_COND) {
        /* Taking the lock orders this signal after the parker's wait began. */
        pthread_mutex_lock(&w->park_lock);
        pthread_cond_signal(&w->park_cond);
        pthread_mutex_unlock(&w->park_lock);
    } else if (prev == PARK_DRIVER) {
        reactor_wake(w->rt->reactor);
    }
}

static void park_wait(worker *w) {
    kobe_runtime *rt = w->rt;
    int s = PARK_NOTIFIED;
    if (atomic_compare_exchange_strong(&w->park, &s, PARK_EMPTY)) return;
    stat_inc(&w->stats.parks);
    if (spin_trylock(&rt->driver_lock)) {
        s = PARK_EMPTY;
        if (atomic_compare_exchange_strong(&w->park, &s, PARK_DRIVER)) driver_turn(w, true);
        atomic_store(&w->park, PARK_EMPTY); /* consumes an unpark that came during the turn */
        spin_unlock(&rt->driver_lock);
        return;
    }
    pthread_mutex_lock(&w->park_lock);
    s = PARK_EMPTY;
    if (atomic_compare_exchange_strong(&w->park, &s, PARK_COND)) {
        while (atomic_load(&w->park) == PARK_COND) pthread_cond_wait(&w->park_cond, &w->park_lock);
    }
    atomic_store(&w->park, PARK_EMPTY);
    pthread_mutex_unlock(&w->park_lock);
}

static void worker_park(worker *w) {
    kobe_runtime *rt = w->rt;
    if (w->searching) {
        w->searching = false;
        atomic_fetch_sub_explicit(&rt->nsearching, 1, memory_order_seq_cst);
    }
    idle_list_add(w);
    /* Pairs with sched_notify's fence: listed first, then look; see sched.h PARKING. */
    atomic_thread_fence(memory_order_seq_cst);
    if (!work_visible(rt) && !atomic_load(&rt->stop)) {
        stack_cache_drain(&w->stacks, &rt->stacks); /* idle: let the memory go back */
        stack_pool_trim(&rt->stacks);
        park_wait(w);
    }
    idle_list_leave(w);
}

/* ---- the loop ------------------------------------------------------------------------------ */

/* Whether the scheduler's periodic duties (the reactor, the global queue) are due at this run. */
static bool duties_due(const worker *w) {
    return w->tick % GLOBAL_CHECK_INTERVAL == 0;
}

/* The LIFO slot, then the local ring: the tasks a worker can switch to without any shared
 * queue. The LIFO slot is taken at most LIFO_MAX_STREAK times in a row. */
static kobe_task *local_next(worker *w) {
    kobe_task *t;
    if (w->lifo) {
        t = w->lifo;
        w->lifo = NULL;
        if (w->lifo_streak++ < LIFO_MAX_STREAK) return t;
        push_local(w, t); /* its turn comes after the ring's */
    }
    w->lifo_streak = 0;
    return runq_pop(&w->q);
}

static kobe_task *next_task(worker *w) {
    kobe_runtime *rt = w->rt;
    kobe_task *t;
    if (duties_due(w)) {
        maintenance(w);
        if (atomic_load_explicit(&rt->inject_len, memory_order_relaxed) > 0 && (t = inject_pop(rt)))
            return t;
    }
    if ((t = local_next(w))) return t;
    if (atomic_load_explicit(&rt->inject_len, memory_order_relaxed) > 0) return inject_pop(rt);
    return NULL;
}

/* Makes t the running task of w. false (and t finished) when it could not get a stack. */
static bool prepare_run(worker *w, kobe_task *t) {
    if (!t->stack && !task_bind_stack(w, t)) {
        task_finish(w, t);
        return false;
    }
    w->tick++;
    w->current = t;
    t->budget = w->rt->budget;
    /* Release suffices: a waker CASes on the state, and only the runner moves it off RUNNABLE. */
    atomic_store_explicit(&t->state, TASK_RUNNING, memory_order_release);
    stat_inc(&w->stats.switches);
    return true;
}

void sched_after_switch(worker *w) {
    kobe_task *t = w->prev;
    if (!t) return;
    w->prev = NULL;
    if (t->stack) overflow_check_canary(w, t); /* every switch out, the last one included */
    switch (t->reason) {
    case SWITCH_YIELD:
        stat_inc(&w->stats.yields);
        atomic_store_explicit(&t->state, TASK_RUNNABLE, memory_order_release);
        push_local(w, t);
        break;
    case SWITCH_PARK: {
        int s = TASK_RUNNING;
        if (!atomic_compare_exchange_strong_explicit(&t->state, &s, TASK_SUSPENDED,
                                                     memory_order_acq_rel, memory_order_acquire)) {
            /* NOTIFIED: woken before it was off its stack. Queue it again. */
            atomic_store_explicit(&t->state, TASK_RUNNABLE, memory_order_release);
            push_local(w, t);
        }
        break;
    }
    case SWITCH_EXIT: task_finish(w, t); break;
    }
}

/* The task to hand the CPU to directly from a task that stops running, or NULL to go through
 * the scheduler context (nothing local to run, or the periodic duties are due). */
static kobe_task *direct_next(worker *w) {
    while (!duties_due(w)) {
        kobe_task *t = local_next(w);
        if (!t) return NULL;
        if (prepare_run(w, t)) return t;
    }
    return NULL;
}

void sched_switch_out(kobe_task *t, enum task_switch_reason why) {
    worker *w = sched_worker();
    t->reason = why;
    w->prev = t;
    kobe_task *next = direct_next(w);
    if (why == SWITCH_EXIT) {
        coro_switch_final(&t->ctx, next ? &next->ctx : &w->sched_ctx);
    }
    if (next) {
        coro_switch(&t->ctx, &next->ctx);
    } else {
        w->current = NULL;
        coro_switch(&t->ctx, &w->sched_ctx);
    }
    /* Resumed, maybe on another worker: finish the hand-over from whoever switched to us. */
    sched_after_switch(sched_worker());
}

void sched_duties(worker *w) {
    maintenance(w); /* on the task's stack: it never switches, it only queues woken tasks */
}

static void run_task(worker *w, kobe_task *t) {
    if (!prepare_run(w, t)) return;
    coro_switch(&w->sched_ctx, &t->ctx);
    w->current = NULL;
    sched_after_switch(w);
}

void worker_run(worker *w) {
    kobe_runtime *rt = w->rt;
    sched_set_worker(w);
    coro_init_thread(&w->sched_ctx);
    overflow_thread_init(w);
    while (!atomic_load_explicit(&rt->stop, memory_order_acquire)) {
        kobe_task *t = next_task(w);
        if (!t && rt->nworkers > 1 && to_searching(w)) t = steal_work(w);
        if (t) {
            from_searching(w);
            run_task(w, t);
            continue;
        }
        worker_park(w);
    }
    overflow_thread_fini(w);
    sched_set_worker(NULL);
}
