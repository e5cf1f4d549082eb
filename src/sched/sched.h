/* sched: tasks, workers, run queues, parking. The heart of the runtime.
 *
 * TASK STATE MACHINE (task->state, atomic)
 *   RUNNABLE  in a run queue (or about to be pushed); owned by that queue.
 *   RUNNING   executing on a worker.
 *   NOTIFIED  executing, and woken meanwhile: its next park returns at once.
 *   SUSPENDED parked; the next sched_wake makes it RUNNABLE and queues it.
 *   DONE      its function returned; the stack is back in the pool.
 * sched_wake(t):  SUSPENDED -> RUNNABLE (and queue it), RUNNING -> NOTIFIED, else nothing.
 * A task parks by switching to its worker's scheduler context; only after the switch has
 * completed does the worker try RUNNING -> SUSPENDED. If that CAS fails the task was woken while
 * it was still on its stack, and the worker queues it again. So a wake that races with a park is
 * never lost, and no task is ever resumed on two threads, or resumed before its registers are
 * saved. Every wait loops on its own condition, because wakes may be spurious (a stale timer, a
 * cancel, a wake meant for an earlier wait).
 *
 * WHO MAY WAKE A TASK (memory safety of sched_wake)
 * Whoever calls sched_wake(t) must know t is alive: either it holds a reference (the join
 * handle), or it found t in a structure under a lock that t itself must take before it stops
 * waiting (a wait-queue, the timer wheel, an fd's waiter slot, the registry of live tasks), and
 * it calls sched_wake while holding that lock.
 *
 * RUN QUEUES
 * Each worker owns a bounded ring (RUNQ_SIZE tasks): only the owner pushes (at the tail) and
 * pops (at the head); idle workers steal half of it by advancing the head with a CAS. When the
 * ring is full the owner moves half of it to the global injection queue, a mutex-protected list
 * that also takes tasks woken or spawned from threads outside the runtime. A worker looks at the
 * global queue first every GLOBAL_CHECK_INTERVAL runs, so queued outside work is never starved.
 * A task woken by a task on the same worker goes into the LIFO slot and runs next (message
 * passing stays hot in cache), at most LIFO_MAX_STREAK times in a row so that a ping-pong pair
 * cannot starve the ring.
 *
 * PARKING (no lost wake-ups, no thundering herd)
 * rt->searching counts workers looking for work, rt->idle the parked ones (an idle list under
 * rt->idle_lock). After making a task runnable, sched_notify() wakes ONE idle worker, and only
 * if nobody is searching already: a searcher will find the task. A worker that leaves the
 * searching state by finding work wakes one more if it was the last searcher (the work it found
 * may not be alone). Before parking, a worker adds itself to the idle list and only then
 * re-checks every queue (with a seq_cst fence between), while a producer pushes first and then
 * reads the idle count (fence between): at least one of the two sees the other, so a task is
 * never left queued with every worker asleep.
 * A parking worker first tries to become the driver: the single worker that waits in the
 * reactor (the process-wide OS event queue) with the next timer as its timeout; the others sleep
 * on their own condition variable. Unparking the driver means waking the poller, which any
 * thread may do.
 *
 * COOPERATIVE BUDGET
 * Every kobe operation that completes without suspending spends one unit of the task's budget
 * (sched_budget_spend); at zero the task yields. So a task in a tight loop of successful
 * operations (an accept loop under a flood) cannot keep a freshly woken task from running, even
 * with a single worker.
 *
 * MIGRATION HAZARD
 * A task may resume on another thread after any switch. The current worker is read through
 * sched_worker(), an out-of-line function the compiler cannot cache across a switch. errno is
 * read only inside sys_* wrappers (src/util/sys.h) that never span a switch.
 */
#ifndef KOBE_SCHED_H
#define KOBE_SCHED_H

#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "coro/coro.h"
#include "coro/stack.h"
#include "kobe/runtime.h"
#include "kobe/task.h"
#include "sync/waitq.h"
#include "time/timer.h"
#include "util/spin.h"

enum task_state { TASK_RUNNABLE, TASK_RUNNING, TASK_NOTIFIED, TASK_SUSPENDED, TASK_DONE };

/* Why a task switched back to its worker. */
enum task_switch_reason { SWITCH_PARK, SWITCH_YIELD, SWITCH_EXIT };

typedef struct worker worker;

struct kobe_task {
    /* First cache line: what spawn, run, finish and join touch. */
    _Atomic int state;
    _Atomic int refs; /* the join handle and the running body each hold one */
    _Atomic bool cancelled;
    _Atomic bool join_waiting;  /* a joiner may be in done_q: finish must take its lock */
    bool cancelled_before_done; /* read by the joiner after DONE */
    bool no_stack;              /* never ran: no stack could be had (join says -ENOMEM) */
    bool counted;               /* under its registry shard's lock: in rt->live since shutdown */
    bool is_main;               /* kobe_run's task: its end begins the shutdown */
    enum task_switch_reason reason;
    unsigned budget;
    unsigned reg_shard;
    kobe_task_fn fn;
    void *arg;
    void *result;
    kobe_runtime *rt;
    coro_stack *stack;
    struct kobe_task *next;                /* in the injection queue, or a worker's free list */
    struct kobe_task *reg_prev, *reg_next; /* in the registry of live tasks */
    /* The rest. */
    coro_ctx ctx;
    waitq done_q;      /* the joiner waits here */
    uint64_t deadline; /* the task's effective deadline (ms on the runtime clock), or NONE */
    uint64_t id;
    task_timer timer;
    char name[32];
};

#define RUNQ_SIZE             256
#define GLOBAL_CHECK_INTERVAL 61
#define LIFO_MAX_STREAK       3

typedef struct runq {
    _Atomic uint32_t head; /* stealers and the owner advance it with a CAS */
    _Atomic uint32_t tail; /* written by the owner only */
    _Atomic(kobe_task *) slots[RUNQ_SIZE];
} runq;

enum park_state { PARK_EMPTY, PARK_NOTIFIED, PARK_COND, PARK_DRIVER };

/* Per-worker counters: written by the owner only, read by anyone (relaxed). */
typedef struct worker_stats {
    _Atomic uint64_t switches, yields, budget_yields, steals, stolen, parks, spawned, finished;
} worker_stats;

struct worker {
    kobe_runtime *rt;
    unsigned index;
    pthread_t thread;
    bool thread_started;
    coro_ctx sched_ctx; /* the worker thread's own stack, where the loop runs */
    kobe_task *current;
    kobe_task *prev; /* switched away from, its hand-over not yet finished (after_switch) */
    kobe_task *lifo;
    unsigned lifo_streak;
    unsigned tick;
    bool searching;
    uint32_t rng;
    runq q;
    stack_cache stacks;
    uint64_t id_next, id_end; /* a block of task ids taken from rt->next_id */
    kobe_task *free_tasks;    /* task structs to reuse: spawn allocates nothing in steady state */
    unsigned nfree_tasks;
    /* parking */
    _Atomic int park;
    pthread_mutex_t park_lock;
    pthread_cond_t park_cond;
    worker *idle_next;
    bool idle_listed;     /* under rt->idle_lock */
    bool woken_searching; /* under rt->idle_lock: a notifier counted it as a searcher */
    worker_stats stats;
    void *altstack; /* for the stack-overflow signal handler */
    stack_t old_altstack;
};

/* The registry of live tasks is sharded to keep spawn and exit off a single lock. */
#define REGISTRY_SHARDS 16

struct kobe_runtime {
    unsigned nworkers;
    worker *workers;
    unsigned budget;
    int print_stats;
    stack_pool stacks;
    /* global injection queue */
    pthread_mutex_t inject_lock;
    kobe_task *inject_head, *inject_tail;
    _Atomic uint64_t inject_len;
    _Atomic uint64_t injected;
    /* parking */
    pthread_mutex_t idle_lock;
    worker *idle_list;
    _Atomic unsigned nidle;
    _Atomic unsigned nsearching;
    spin_lock driver_lock; /* held by the worker waiting in the reactor */
    /* lifecycle */
    _Atomic bool shutdown; /* main task done: cancel everything, refuse new work */
    _Atomic bool stop;     /* every task done: workers exit */
    _Atomic uint64_t live; /* tasks alive, maintained from shutdown on (see task.c) */
    _Atomic uint64_t spawned_outside;
    _Atomic uint64_t last_poll_ms; /* when the reactor was last polled, for busy workers */
    _Atomic uint64_t next_id;
    struct {
        spin_lock lock;
        kobe_task *head;
    } registry[REGISTRY_SHARDS];
    /* subsystems */
    struct reactor *reactor;
    struct timers *timers;
    struct blocking_pool *blocking;
    unsigned blocking_max;
};

/* The worker running on this thread, or NULL. Never inlined: see MIGRATION HAZARD. */
worker *sched_worker(void);
void sched_set_worker(worker *w);

/* The running task, or NULL outside a task. */
kobe_task *sched_current(void);

/* Makes t runnable (see the state machine). Callable from any thread. sched_wake hands t the
 * LIFO slot when called from a running task; sched_wake_ex(t, false) queues it at the back. */
void sched_wake(kobe_task *t);
void sched_wake_ex(kobe_task *t, bool lifo);

/* Suspends the current task until woken, cancelled, or past min(deadline, its task deadline)
 * (deadline: absolute ms on the runtime clock, or TIME_NONE). Returns 0 when woken (maybe
 * spuriously), -ECANCELED, or -ETIMEDOUT; returns at once with those when already due. */
int sched_park(uint64_t deadline);

/* Suspends the current task until woken, ignoring cancellation and deadlines. */
void sched_park_uninterruptible(void);

/* -ECANCELED if the current task was cancelled, else 0. */
int sched_check_cancel(kobe_task *t);

/* Counts one operation that completed without suspending; yields when the budget is spent. */
void sched_budget_spend(void);

/* Queues a runnable task from the current worker (LIFO slot when lifo) or, off the runtime,
 * to the global queue, then wakes an idle worker if one is needed. */
void sched_schedule(kobe_runtime *rt, kobe_task *t, bool lifo);

/* Wakes one idle worker if no worker is searching. */
void sched_notify(kobe_runtime *rt);

/* Called on a task's stack to stop running it (park, yield, exit): switches straight to the next
 * local task when there is one, else to the scheduler context. Returns when the task runs again.
 * Whoever runs next calls sched_after_switch, which finishes the hand-over of the task that left
 * (requeue, suspend, or finish): only then are its registers saved and may another worker take
 * it. */
void sched_switch_out(kobe_task *t, enum task_switch_reason why);
void sched_after_switch(worker *w);

/* The periodic duties of a worker (a non-blocking reactor turn, at most once a millisecond). */
void sched_duties(worker *w);

/* Whether a yield would come straight back, because nothing else is runnable on this worker; it
 * counts as a run for the periodic duties, and does them here when they fall due, so a task that
 * yields in a loop still lets I/O and timers through without switching out and back. */
uint32_t runq_len(runq *q);

static inline bool sched_yield_is_noop(worker *w) {
    if (w->lifo || runq_len(&w->q) != 0) return false;
    if (++w->tick % GLOBAL_CHECK_INTERVAL == 0) {
        sched_duties(w);
        if (w->lifo || runq_len(&w->q) != 0) return false;
    }
    return atomic_load_explicit(&w->rt->inject_len, memory_order_relaxed) == 0;
}

/* The worker loop; returns when the runtime stops. */
void worker_run(worker *w);
void worker_unpark(worker *w);

/* runq.c */
bool runq_push(runq *q, kobe_task *t, kobe_task **overflow, unsigned *noverflow);
kobe_task *runq_pop(runq *q);
kobe_task *runq_steal(runq *dst, runq *src, unsigned *nstolen);

/* global injection queue (runtime.c) */
void inject_push(kobe_runtime *rt, kobe_task *first, kobe_task *last, unsigned n);
kobe_task *inject_pop(kobe_runtime *rt);

/* runtime.c: the main task finished (begin shutdown); every task finished (stop workers). */
void runtime_main_done(kobe_runtime *rt);
void runtime_stop(kobe_runtime *rt);

/* task.c */
#define TASK_CACHE_MAX 1024
void task_release(kobe_task *t);
void task_cache_drain(worker *w);
int task_spawn(kobe_runtime *rt, kobe_task **out, const kobe_task_attr *attr, kobe_task_fn fn,
               void *arg, bool is_main);
void task_finish(worker *w, kobe_task *t);
bool task_bind_stack(worker *w, kobe_task *t);

/* Stack overflow reporting (overflow.c). */
int overflow_install(void);
int overflow_thread_init(worker *w);
void overflow_thread_fini(worker *w);
void overflow_check_canary(worker *w, kobe_task *t);

/* Relaxed counter bump for per-worker stats, owner-only writer. */
static inline void stat_inc(_Atomic uint64_t *c) {
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + 1,
                          memory_order_relaxed);
}
static inline void stat_add(_Atomic uint64_t *c, uint64_t n) {
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
                          memory_order_relaxed);
}

#endif
