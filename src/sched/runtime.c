/* The runtime's life: configuration, start, the global injection queue, shutdown, counters.
 *
 * kobe_run makes the calling thread worker 0 and starts the others. Shutdown runs in two steps:
 * when the main task returns, every live task is cancelled (runtime_main_done) and new spawns are
 * refused; when the last task finishes, the workers stop (runtime_stop), kobe_run joins them and
 * frees everything. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "blocking/pool.h"
#include "io/reactor.h"
#include "sched/sched.h"
#include "sys/poller.h"

/* ---- configuration ------------------------------------------------------------------------ */

void kobe_config_init(kobe_config *cfg) {
    if (cfg) memset(cfg, 0, sizeof *cfg);
}

/* Parses a size with an optional k/m/g suffix; 0 on anything malformed. */
static size_t parse_size(const char *s) {
    if (!s || !*s) return 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (end == s) return 0;
    unsigned shift = 0;
    if (*end == 'k' || *end == 'K')
        shift = 10, end++;
    else if (*end == 'm' || *end == 'M')
        shift = 20, end++;
    else if (*end == 'g' || *end == 'G')
        shift = 30, end++;
    if (*end || v > (1ull << 40)) return 0;
    return (size_t)(v << shift);
}

static unsigned env_uint(const char *name) {
    const char *s = getenv(name);
    if (!s || !*s) return 0;
    char *end;
    unsigned long v = strtoul(s, &end, 10);
    return (*end || v > 4096) ? 0 : (unsigned)v;
}

typedef struct resolved_config {
    unsigned workers, blocking, budget;
    size_t stack_size;
    const poller_ops *backend;
    int print_stats;
} resolved_config;

static int resolve_config(const kobe_config *cfg, resolved_config *r) {
    kobe_config zero;
    if (!cfg) {
        kobe_config_init(&zero);
        cfg = &zero;
    }
    r->workers = cfg->workers ? cfg->workers : env_uint("KOBE_WORKERS");
    if (!r->workers) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        r->workers = n > 0 ? (unsigned)n : 1;
    }
    if (r->workers > 1024) return -EINVAL;
    r->stack_size = cfg->stack_size ? cfg->stack_size : parse_size(getenv("KOBE_STACK_SIZE"));
    if (!r->stack_size) r->stack_size = STACK_DEFAULT_SIZE;
    if (r->stack_size < STACK_MIN_SIZE || r->stack_size > STACK_MAX_SIZE) return -EINVAL;
    const char *backend = cfg->backend ? cfg->backend : getenv("KOBE_BACKEND");
    r->backend = poller_find(backend);
    if (!r->backend) return -EINVAL;
    r->blocking = cfg->blocking_threads ? cfg->blocking_threads : env_uint("KOBE_BLOCKING_THREADS");
    if (!r->blocking) r->blocking = 64;
    r->budget = cfg->budget ? cfg->budget : 128;
    const char *st = getenv("KOBE_STATS");
    r->print_stats = cfg->print_stats || (st && strcmp(st, "1") == 0);
    return 0;
}

/* ---- the global injection queue ----------------------------------------------------------- */

void inject_push(kobe_runtime *rt, kobe_task *first, kobe_task *last, unsigned n) {
    last->next = NULL;
    pthread_mutex_lock(&rt->inject_lock);
    if (rt->inject_tail)
        rt->inject_tail->next = first;
    else
        rt->inject_head = first;
    rt->inject_tail = last;
    atomic_fetch_add_explicit(&rt->inject_len, n, memory_order_release);
    pthread_mutex_unlock(&rt->inject_lock);
}

kobe_task *inject_pop(kobe_runtime *rt) {
    if (atomic_load_explicit(&rt->inject_len, memory_order_acquire) == 0) return NULL;
    pthread_mutex_lock(&rt->inject_lock);
    kobe_task *t = rt->inject_head;
    if (t) {
        rt->inject_head = t->next;
        if (!rt->inject_head) rt->inject_tail = NULL;
        atomic_fetch_sub_explicit(&rt->inject_len, 1, memory_order_relaxed);
    }
    pthread_mutex_unlock(&rt->inject_lock);
    return t;
}

/* ---- shutdown ----------------------------------------------------------------------------- */

/* The live count is kept only from here on, so that spawn and exit touch no shared counter in
 * normal running: each task still listed is counted (and marked, under its shard's lock) before
 * being cancelled, and a finishing task decrements only if it was counted. The main task has
 * already unlisted itself. The extra count held while walking keeps a task that finishes
 * meanwhile from seeing zero too early. */
void runtime_main_done(kobe_runtime *rt) {
    atomic_store_explicit(&rt->shutdown, true, memory_order_seq_cst);
    atomic_store_explicit(&rt->live, 1, memory_order_seq_cst);
    /* Under each shard's lock a listed task is alive (it unlists itself before it is freed),
     * which is what makes this sched_wake safe. */
    for (unsigned i = 0; i < REGISTRY_SHARDS; i++) {
        spin_lock_acquire(&rt->registry[i].lock);
        for (kobe_task *t = rt->registry[i].head; t; t = t->reg_next) {
            t->counted = true;
            atomic_fetch_add_explicit(&rt->live, 1, memory_order_relaxed);
            atomic_store_explicit(&t->cancelled, true, memory_order_release);
            sched_wake(t);
        }
        spin_unlock(&rt->registry[i].lock);
    }
    if (atomic_fetch_sub_explicit(&rt->live, 1, memory_order_acq_rel) == 1) runtime_stop(rt);
}

void runtime_stop(kobe_runtime *rt) {
    atomic_store_explicit(&rt->stop, true, memory_order_seq_cst);
    for (unsigned i = 0; i < rt->nworkers; i++) worker_unpark(&rt->workers[i]);
}

/* ---- start and teardown ------------------------------------------------------------------- */

static void *worker_thread(void *arg) {
    worker *w = arg;
    char name[16];
    snprintf(name, sizeof name, "kobe-worker-%u", w->index);
    pthread_setname_np(pthread_self(), name);
    worker_run(w);
    return NULL;
}

static void runtime_free(kobe_runtime *rt) {
    if (rt->workers) {
        for (unsigned i = 0; i < rt->nworkers; i++) {
            worker *w = &rt->workers[i];
            stack_cache_drain(&w->stacks, &rt->stacks);
            task_cache_drain(w);
            pthread_mutex_destroy(&w->park_lock);
            pthread_cond_destroy(&w->park_cond);
        }
        free(rt->workers);
    }
    if (rt->blocking) blocking_pool_destroy(rt->blocking);
    if (rt->reactor) reactor_destroy(rt->reactor);
    if (rt->timers) timers_destroy(rt->timers);
    stack_pool_destroy(&rt->stacks);
    pthread_mutex_destroy(&rt->inject_lock);
    pthread_mutex_destroy(&rt->idle_lock);
    free(rt);
}

static int runtime_new(const resolved_config *c, kobe_runtime **out) {
    kobe_runtime *rt = calloc(1, sizeof *rt);
    if (!rt) return -ENOMEM;
    rt->nworkers = c->workers;
    rt->budget = c->budget;
    rt->print_stats = c->print_stats;
    rt->blocking_max = c->blocking;
    atomic_init(&rt->next_id, 1);
    pthread_mutex_init(&rt->inject_lock, NULL);
    pthread_mutex_init(&rt->idle_lock, NULL);
    int rc = stack_pool_init(&rt->stacks, c->stack_size, getenv("KOBE_STACK_GUARD"));
    if (rc < 0) goto fail_stacks;
    rt->workers = calloc(c->workers, sizeof *rt->workers);
    rc = -ENOMEM;
    if (!rt->workers) goto fail;
    for (unsigned i = 0; i < c->workers; i++) {
        worker *w = &rt->workers[i];
        w->rt = rt;
        w->index = i;
        w->rng = 0x9e3779b9u * (i + 1);
        pthread_mutex_init(&w->park_lock, NULL);
        pthread_cond_init(&w->park_cond, NULL);
    }
    if ((rc = timers_create(&rt->timers)) < 0) goto fail;
    if ((rc = reactor_create(&rt->reactor, c->backend)) < 0) goto fail;
    if ((rc = blocking_pool_create(&rt->blocking, c->blocking, 10000, "kobe-blocking")) < 0)
        goto fail;
    *out = rt;
    return 0;
fail:
    runtime_free(rt);
    return rc;
fail_stacks:
    pthread_mutex_destroy(&rt->inject_lock);
    pthread_mutex_destroy(&rt->idle_lock);
    free(rt);
    return rc;
}

int kobe_run(const kobe_config *cfg, void *(*main_fn)(void *), void *arg, void **result) {
    if (!main_fn) return -EINVAL;
    resolved_config c;
    int rc = resolve_config(cfg, &c);
    if (rc < 0) return rc;
    if ((rc = overflow_install()) < 0) return rc;
    kobe_runtime *rt;
    if ((rc = runtime_new(&c, &rt)) < 0) return rc;
    unsigned started = 1;
    for (; started < rt->nworkers; started++) {
        worker *w = &rt->workers[started];
        if ((rc = -pthread_create(&w->thread, NULL, worker_thread, w)) < 0) break;
        w->thread_started = true;
    }
    kobe_task *main_task = NULL;
    kobe_task_attr attr = {.name = "main"};
    if (rc == 0) rc = task_spawn(rt, &main_task, &attr, main_fn, arg, true);
    if (rc < 0) {
        runtime_stop(rt); /* no task ever ran: the started workers just leave */
        for (unsigned i = 1; i < started; i++) pthread_join(rt->workers[i].thread, NULL);
        runtime_free(rt);
        return rc;
    }
    /* The caller's thread is worker 0 for as long as kobe_run lasts. */
    char saved_name[16] = "";
    bool named = pthread_getname_np(pthread_self(), saved_name, sizeof saved_name) == 0;
    if (named) pthread_setname_np(pthread_self(), "kobe-worker-0");
    worker_run(&rt->workers[0]);
    for (unsigned i = 1; i < rt->nworkers; i++)
        if (rt->workers[i].thread_started) pthread_join(rt->workers[i].thread, NULL);
    if (named) pthread_setname_np(pthread_self(), saved_name);
    if (result) *result = main_task->result;
    task_release(main_task);
    if (rt->print_stats) kobe_stats_print(rt, stderr);
    runtime_free(rt);
    return rc;
}

kobe_runtime *kobe_runtime_current(void) {
    worker *w = sched_worker();
    return w ? w->rt : NULL;
}

/* ---- counters ----------------------------------------------------------------------------- */

#define LOAD(x) atomic_load_explicit(&(x), memory_order_relaxed)

int kobe_stats_get(kobe_runtime *rt, kobe_stats *s) {
    if (!s) return -EINVAL;
    if (!rt) rt = kobe_runtime_current();
    if (!rt) return -EPERM;
    memset(s, 0, sizeof *s);
    s->workers = rt->nworkers;
    for (unsigned i = 0; i < rt->nworkers; i++) {
        worker_stats *ws = &rt->workers[i].stats;
        s->spawned += LOAD(ws->spawned);
        s->finished += LOAD(ws->finished);
        s->switches += LOAD(ws->switches);
        s->yields += LOAD(ws->yields);
        s->budget_yields += LOAD(ws->budget_yields);
        s->steals += LOAD(ws->steals);
        s->stolen += LOAD(ws->stolen);
        s->parks += LOAD(ws->parks);
        s->local_depth += runq_len(&rt->workers[i].q);
    }
    s->spawned += LOAD(rt->spawned_outside);
    s->injected = LOAD(rt->injected);
    s->live = s->spawned - s->finished;
    s->global_depth = LOAD(rt->inject_len);
    s->stacks_mapped = LOAD(rt->stacks.mapped);
    s->stacks_guarded = LOAD(rt->stacks.guarded);
    s->timers_fired = LOAD(rt->timers->fired);
    reactor_counters(rt->reactor, &s->polls, &s->events);
    return 0;
}

int kobe_stats_print(kobe_runtime *rt, void *file) {
    kobe_stats s;
    int rc = kobe_stats_get(rt, &s);
    if (rc < 0) return rc;
    if (!file) return -EINVAL;
    FILE *f = file;
    fprintf(f,
            "kobe stats: workers %u\n  spawned %llu\n  finished %llu\n  switches %llu\n"
            "  yields %llu\n  budget_yields %llu\n  steals %llu\n  stolen %llu\n  parks %llu\n"
            "  injected %llu\n  polls %llu\n  events %llu\n  timers_fired %llu\n  live %llu\n"
            "  global_depth %llu\n  local_depth %llu\n  stacks_mapped %llu\n"
            "  stacks_guarded %llu\n",
            s.workers, (unsigned long long)s.spawned, (unsigned long long)s.finished,
            (unsigned long long)s.switches, (unsigned long long)s.yields,
            (unsigned long long)s.budget_yields, (unsigned long long)s.steals,
            (unsigned long long)s.stolen, (unsigned long long)s.parks,
            (unsigned long long)s.injected, (unsigned long long)s.polls,
            (unsigned long long)s.events, (unsigned long long)s.timers_fired,
            (unsigned long long)s.live, (unsigned long long)s.global_depth,
            (unsigned long long)s.local_depth, (unsigned long long)s.stacks_mapped,
            (unsigned long long)s.stacks_guarded);
    return 0;
}
