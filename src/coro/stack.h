/* Task stacks: a pool of mmap'd stacks with guard pages, a canary and lazy commit.
 *
 * Stacks are carved from slabs (one mmap for several stacks), so the number of mappings stays far
 * below the kernel's limit (Linux vm.max_map_count, 65530 by default) even with 100k live tasks.
 * Each stack has a guard page below it (stacks grow down):
 *   - MADV_GUARD_INSTALL (Linux >= 6.13) marks the page without splitting the mapping: free.
 *   - otherwise mprotect(PROT_NONE), which splits the mapping in two per stack; those guards are
 *     installed only while the process's mapping budget allows, then stacks go unguarded.
 * Every stack also keeps a canary word at its lowest usable address, checked on every switch out
 * of the task, so an overflow that skipped or lacked a guard is still caught, by name.
 *
 * Memory: pages are committed by the kernel as a task touches them. Returned stacks keep their
 * pages, so a burst of spawns reuses them at no cost; stack_pool_trim (called when a worker goes
 * idle) gives back, with MADV_DONTNEED, the pages of every free stack beyond warm_max, and a put
 * beyond warm_hard gives them back at once. The address range stays reserved until the pool is
 * destroyed.
 *
 * The pool is shared by the workers under a mutex; each worker keeps a small stack_cache in front
 * of it so that spawn and exit touch no lock in the common case.
 */
#ifndef KOBE_CORO_STACK_H
#define KOBE_CORO_STACK_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct coro_stack {
    struct coro_stack *next; /* in the pool's free lists */
    void *lo;                /* lowest usable byte; the canary lives here */
    size_t size;             /* usable bytes */
    bool guarded;
    bool warm; /* its pages may still be resident */
} coro_stack;

enum stack_guard_mode { STACK_GUARD_MADVISE, STACK_GUARD_MPROTECT, STACK_GUARD_NONE };

typedef struct stack_slab stack_slab;

typedef struct stack_pool {
    pthread_mutex_t lock;
    size_t size;      /* usable bytes of each stack, whole pages */
    size_t page;      /* page size */
    size_t per_slab;  /* stacks per slab */
    size_t warm_max;  /* free stacks kept resident once idle */
    size_t warm_hard; /* free stacks kept resident, ever */
    enum stack_guard_mode guard;
    size_t map_budget; /* mappings the mprotect fallback may create */
    size_t maps_used;
    coro_stack *warm, *cold;
    size_t nwarm;
    stack_slab *slabs;
    _Atomic uint64_t mapped, guarded; /* stacks carved, and how many have guards */
} stack_pool;

#define STACK_MIN_SIZE     ((size_t)16 << 10)
#define STACK_MAX_SIZE     ((size_t)1 << 30)
#define STACK_DEFAULT_SIZE ((size_t)256 << 10)

/* size is rounded up to whole pages. guard_env: NULL, or "madvise", "mprotect", "none" to force
 * a guard mode (tests use it to cover every path). Returns 0, -EINVAL (size out of range), or
 * -errno of a failed lock creation. */
int stack_pool_init(stack_pool *p, size_t size, const char *guard_env);
void stack_pool_destroy(stack_pool *p);

/* A stack with its canary set, or NULL when memory or address space ran out. */
coro_stack *stack_pool_get(stack_pool *p);
void stack_pool_put(stack_pool *p, coro_stack *s);

/* Gives back the memory of free stacks beyond warm_max. Returns how many were trimmed. */
size_t stack_pool_trim(stack_pool *p);

/* Whether the canary at the stack's far end is intact. */
bool stack_canary_ok(const coro_stack *s);

/* The guard region just below s->lo, for the overflow handler: [lo - page, lo). */
bool stack_in_guard(const stack_pool *p, const coro_stack *s, const void *addr);

/* A worker's lock-free front for the pool: owned by one thread. */
#define STACK_CACHE_MAX 32
typedef struct stack_cache {
    unsigned n;
    coro_stack *items[STACK_CACHE_MAX];
} stack_cache;

coro_stack *stack_cache_get(stack_cache *c, stack_pool *p);
void stack_cache_put(stack_cache *c, stack_pool *p, coro_stack *s);
void stack_cache_drain(stack_cache *c, stack_pool *p);

#endif
