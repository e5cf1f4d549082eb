/* Tasks: spawn, the entry and exit of a task's body, join, detach, cancel, yield, park, wake.
 * The state machine and the lifetime rules are in sched.h. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sched/sched.h"

/* Lists t, unless shutdown has begun: checked under the shard's lock, so a task is either listed
 * before runtime_main_done walks the shard (and is counted and cancelled there) or refused. */
static bool registry_add(kobe_runtime *rt, kobe_task *t) {
    t->reg_shard = (unsigned)(t->id % REGISTRY_SHARDS);
    spin_lock_acquire(&rt->registry[t->reg_shard].lock);
    if (atomic_load_explicit(&rt->shutdown, memory_order_seq_cst)) {
        spin_unlock(&rt->registry[t->reg_shard].lock);
        return false;
    }
    t->reg_prev = NULL;
    t->reg_next = rt->registry[t->reg_shard].head;
    if (t->reg_next) t->reg_next->reg_prev = t;
    rt->registry[t->reg_shard].head = t;
    spin_unlock(&rt->registry[t->reg_shard].lock);
    return true;
}

/* Returns whether t was counted in rt->live (see runtime_main_done). */
static bool registry_remove(kobe_runtime *rt, kobe_task *t) {
    spin_lock_acquire(&rt->registry[t->reg_shard].lock);
    bool counted = t->counted;
    if (t->reg_prev)
        t->reg_prev->reg_next = t->reg_next;
    else
        rt->registry[t->reg_shard].head = t->reg_next;
    if (t->reg_next) t->reg_next->reg_prev = t->reg_prev;
    spin_unlock(&rt->registry[t->reg_shard].lock);
    return counted;
}

/* Ids come from a global counter in blocks, so spawning on a worker touches no shared line. */
static uint64_t next_id(kobe_runtime *rt, worker *w) {
    if (!w) return atomic_fetch_add_explicit(&rt->next_id, 1, memory_order_relaxed);
    if (w->id_next == w->id_end) {
        w->id_next = atomic_fetch_add_explicit(&rt->next_id, 1024, memory_order_relaxed);
        w->id_end = w->id_next + 1024;
    }
    return w->id_next++;
}

/* Task structs are recycled through the releasing worker's list: glibc's malloc would otherwise
 * trim and refault the heap on every burst of spawns. */
static kobe_task *task_alloc(worker *w) {
    if (w && w->free_tasks) {
        kobe_task *t = w->free_tasks;
        w->free_tasks = t->next;
        w->nfree_tasks--;
        return t;
    }
    return malloc(sizeof(kobe_task));
}

void task_release(kobe_task *t) {
    if (atomic_fetch_sub_explicit(&t->refs, 1, memory_order_acq_rel) != 1) return;
    worker *w = sched_worker();
    if (w && w->nfree_tasks < TASK_CACHE_MAX) {
        t->next = w->free_tasks;
        w->free_tasks = t;
        w->nfree_tasks++;
    } else {
        free(t);
    }
}

void task_cache_drain(worker *w) {
    while (w->free_tasks) {
        kobe_task *t = w->free_tasks;
        w->free_tasks = t->next;
        free(t);
    }
    w->nfree_tasks = 0;
}

static void task_entry(void *arg) {
    coro_entered();
    sched_after_switch(sched_worker());
    kobe_task *t = arg;
    t->result = t->fn(t->arg);
    sched_switch_out(t, SWITCH_EXIT);
}

int task_spawn(kobe_runtime *rt, kobe_task **out, const kobe_task_attr *attr, kobe_task_fn fn,
               void *arg, bool is_main) {
    if (out) *out = NULL;
    if (!rt || !fn) return -EINVAL;
    if (atomic_load_explicit(&rt->shutdown, memory_order_acquire)) return -ESHUTDOWN;
    worker *w = sched_worker();
    if (w && w->rt != rt) w = NULL; /* a task of another runtime spawning here */
    kobe_task *t = task_alloc(w);
    if (!t) return -ENOMEM;
    t->stack = NULL; /* bound when it first runs: see task_bind_stack */
    atomic_init(&t->state, TASK_RUNNABLE);
    atomic_init(&t->refs, out ? 2 : 1);
    atomic_init(&t->cancelled, false);
    t->cancelled_before_done = false;
    t->reason = SWITCH_PARK;
    t->budget = rt->budget;
    t->fn = fn;
    t->arg = arg;
    t->result = NULL;
    t->rt = rt;
    t->next = NULL;
    waitq_init(&t->done_q);
    wheel_timer_init(&t->timer.wt);
    atomic_init(&t->timer.fired, false);
    t->deadline = TIME_NONE;
    t->id = next_id(rt, w);
    t->counted = false;
    t->no_stack = false;
    t->is_main = is_main; /* before it is queued: another worker may run it at once */
    atomic_init(&t->join_waiting, false);
    if (attr && attr->name)
        snprintf(t->name, sizeof t->name, "%s", attr->name);
    else
        t->name[0] = 0; /* named lazily by kobe_task_name */
    if (!registry_add(rt, t)) {
        free(t);
        return -ESHUTDOWN;
    }
    if (w)
        stat_inc(&w->stats.spawned);
    else
        atomic_fetch_add_explicit(&rt->spawned_outside, 1, memory_order_relaxed);
    if (out) *out = t;
    sched_schedule(rt, t, false);
    return 0;
}

int kobe_spawn_on(kobe_runtime *rt, kobe_task **out, const kobe_task_attr *attr, kobe_task_fn fn,
                  void *arg) {
    return task_spawn(rt, out, attr, fn, arg, false);
}

int kobe_spawn_attr(kobe_task **out, const kobe_task_attr *attr, kobe_task_fn fn, void *arg) {
    worker *w = sched_worker();
    if (out) *out = NULL;
    if (!fn) return -EINVAL;
    if (!w) return -EPERM;
    int rc = kobe_spawn_on(w->rt, out, attr, fn, arg);
    if (rc == 0) sched_budget_spend();
    return rc;
}

int kobe_spawn(kobe_task **out, kobe_task_fn fn, void *arg) {
    return kobe_spawn_attr(out, NULL, fn, arg);
}

/* A task gets its stack when it first runs, not when it is spawned: a queued task holds no
 * stack memory, and a burst of short tasks run one after another reuses the same, cache-hot
 * stack from the worker's cache. Returns false when no stack can be had. */
bool task_bind_stack(worker *w, kobe_task *t) {
    t->stack = stack_cache_get(&w->stacks, &w->rt->stacks);
    if (!t->stack) return false;
    /* The canary word sits at the very bottom; the coroutine gets the rest. */
    coro_make(&t->ctx, (char *)t->stack->lo + 16, t->stack->size - 16, task_entry, t);
    return true;
}

/* Runs on the worker's own stack after the task's last switch: the stack may be reused now.
 * A task that never got a stack (out of memory) finishes here too, without having run. */
void task_finish(worker *w, kobe_task *t) {
    kobe_runtime *rt = w->rt;
    if (t->stack) {
        coro_release(&t->ctx);
        stack_cache_put(&w->stacks, &rt->stacks, t->stack);
        t->stack = NULL;
    } else {
        t->result = NULL;
        t->no_stack = true;
    }
    bool counted = registry_remove(rt, t);
    stat_inc(&w->stats.finished);
    bool is_main = t->is_main;
    t->cancelled_before_done = atomic_load_explicit(&t->cancelled, memory_order_relaxed);
    /* DONE, then look for a joiner; a joiner announces itself, then looks at the state. With
     * both sides seq_cst, at least one sees the other: so when nobody is joining yet, finishing
     * takes no lock. */
    atomic_store_explicit(&t->state, TASK_DONE, memory_order_seq_cst);
    if (atomic_load_explicit(&t->join_waiting, memory_order_seq_cst)) {
        /* A finishing task hands its joiner no hot data, so the joiner goes to the back of the
         * queue instead of the LIFO slot: a join loop then finds many tasks already finished. */
        spin_lock_acquire(&t->done_q.lock);
        waiter *wt;
        while ((wt = waitq_pop_locked(&t->done_q))) waiter_signal(wt, false);
        spin_unlock(&t->done_q.lock);
    }
    if (is_main) runtime_main_done(rt);
    task_release(t); /* the body's reference; the main task's handle is kobe_run's */
    if (counted && atomic_fetch_sub_explicit(&rt->live, 1, memory_order_acq_rel) == 1)
        runtime_stop(rt);
}

int kobe_join(kobe_task *t, void **result) {
    if (!t) return -EINVAL;
    kobe_task *self = sched_current();
    if (self == t) return -EDEADLK;
    if (atomic_load_explicit(&t->state, memory_order_acquire) != TASK_DONE) {
        spin_lock_acquire(&t->done_q.lock);
        atomic_store_explicit(&t->join_waiting, true, memory_order_seq_cst);
        while (atomic_load_explicit(&t->state, memory_order_seq_cst) != TASK_DONE) {
            waiter w;
            int rc = waitq_wait_locked(&t->done_q, &w, TIME_NONE);
            if (rc < 0) {
                kobe_task_detach(t);
                return rc;
            }
            spin_lock_acquire(&t->done_q.lock);
        }
        spin_unlock(&t->done_q.lock);
    }
    if (result) *result = t->result;
    int rc = t->no_stack ? -ENOMEM : t->cancelled_before_done ? -ECANCELED : 0;
    task_release(t);
    if (self) sched_budget_spend();
    return rc;
}

int kobe_task_detach(kobe_task *t) {
    if (!t) return -EINVAL;
    task_release(t);
    return 0;
}

int kobe_cancel(kobe_task *t) {
    if (!t) return -EINVAL;
    atomic_store_explicit(&t->cancelled, true, memory_order_release);
    sched_wake(t); /* safe: the caller's handle keeps t alive */
    return 0;
}

int sched_check_cancel(kobe_task *t) {
    return atomic_load_explicit(&t->cancelled, memory_order_acquire) ? -ECANCELED : 0;
}

int kobe_cancelled(void) {
    kobe_task *t = sched_current();
    return t && atomic_load_explicit(&t->cancelled, memory_order_acquire);
}

void sched_wake_ex(kobe_task *t, bool lifo) {
    int s = atomic_load_explicit(&t->state, memory_order_acquire);
    for (;;) {
        switch (s) {
        case TASK_SUSPENDED:
            if (atomic_compare_exchange_weak_explicit(&t->state, &s, TASK_RUNNABLE,
                                                      memory_order_acq_rel, memory_order_acquire)) {
                sched_schedule(t->rt, t, lifo);
                return;
            }
            break;
        case TASK_RUNNING:
            if (atomic_compare_exchange_weak_explicit(&t->state, &s, TASK_NOTIFIED,
                                                      memory_order_acq_rel, memory_order_acquire))
                return;
            break;
        default: return; /* RUNNABLE or NOTIFIED: it will run anyway; DONE: nothing to do */
        }
    }
}

void sched_wake(kobe_task *t) {
    sched_wake_ex(t, true);
}

int sched_park(uint64_t deadline) {
    worker *w = sched_worker();
    kobe_task *t = w ? w->current : NULL;
    if (!t) return -EPERM;
    if (atomic_load_explicit(&t->cancelled, memory_order_acquire)) return -ECANCELED;
    kobe_runtime *rt = t->rt;
    uint64_t due = deadline < t->deadline ? deadline : t->deadline;
    bool armed = false;
    if (due != TIME_NONE) {
        if (time_now_ms() >= due) return -ETIMEDOUT;
        timer_arm(rt, t, due);
        armed = true;
    }
    /* Woken already (a wake that raced ahead of this park)? Then consume it and go on. The plain
     * load first keeps the common case free of a locked instruction. */
    int s = TASK_NOTIFIED;
    if (atomic_load_explicit(&t->state, memory_order_relaxed) != TASK_NOTIFIED ||
        !atomic_compare_exchange_strong_explicit(&t->state, &s, TASK_RUNNING, memory_order_acq_rel,
                                                 memory_order_acquire))
        sched_switch_out(t, SWITCH_PARK); /* w is stale from here on: maybe another thread */
    int rc = 0;
    if (armed && timer_disarm(rt, t)) rc = -ETIMEDOUT;
    if (atomic_load_explicit(&t->cancelled, memory_order_acquire)) rc = -ECANCELED;
    return rc;
}

void sched_park_uninterruptible(void) {
    worker *w = sched_worker();
    kobe_task *t = w->current;
    int s = TASK_NOTIFIED;
    if (atomic_load_explicit(&t->state, memory_order_relaxed) != TASK_NOTIFIED ||
        !atomic_compare_exchange_strong_explicit(&t->state, &s, TASK_RUNNING, memory_order_acq_rel,
                                                 memory_order_acquire))
        sched_switch_out(t, SWITCH_PARK);
}

int kobe_yield(void) {
    worker *w = sched_worker();
    kobe_task *t = w ? w->current : NULL;
    if (!t) return -EPERM;
    if (atomic_load_explicit(&t->cancelled, memory_order_acquire)) return -ECANCELED;
    if (sched_yield_is_noop(w)) {
        /* Nothing else could run here now: switching out and straight back in would change
         * nothing but the cost. */
        stat_inc(&w->stats.yields);
        return 0;
    }
    sched_switch_out(t, SWITCH_YIELD);
    return sched_check_cancel(t);
}

void sched_budget_spend(void) {
    worker *w = sched_worker();
    kobe_task *t = w ? w->current : NULL;
    if (!t || --t->budget > 0) return;
    stat_inc(&w->stats.budget_yields);
    t->budget = w->rt->budget;
    if (!sched_yield_is_noop(w)) sched_switch_out(t, SWITCH_YIELD);
}

uint64_t kobe_task_id(void) {
    kobe_task *t = sched_current();
    return t ? t->id : 0;
}

uint64_t kobe_task_id_of(const kobe_task *t) {
    return t ? t->id : 0;
}

const char *kobe_task_name(void) {
    kobe_task *t = sched_current();
    if (!t) return NULL;
    if (!t->name[0]) snprintf(t->name, sizeof t->name, "task-%llu", (unsigned long long)t->id);
    return t->name;
}

int kobe_worker_index(void) {
    worker *w = sched_worker();
    return w ? (int)w->index : -EPERM;
}
