/* The stack pool: slabs of guarded, lazily committed stacks (design in stack.h). */
#include "coro/stack.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifndef MADV_GUARD_INSTALL
#define MADV_GUARD_INSTALL                                                                         \
    102 /* Linux 6.13 uapi; older headers lack it, older kernels say EINVAL */
#endif
#ifndef MAP_NORESERVE
#define MAP_NORESERVE 0
#endif
#ifndef MAP_STACK
#define MAP_STACK 0
#endif

struct stack_slab {
    stack_slab *next;
    void *base;
    size_t len;
    coro_stack stacks[]; /* descriptors live outside the mapping so MADV_DONTNEED spares them */
};

/* A canary that differs per stack, so a stray copy of another stack's words cannot pass. */
static uint64_t canary_of(const coro_stack *s) {
    return 0x6b6f62652d63616eull ^ (uint64_t)(uintptr_t)s->lo;
}

bool stack_canary_ok(const coro_stack *s) {
    return *(const volatile uint64_t *)s->lo == canary_of(s);
}

static void canary_set(coro_stack *s) {
    *(volatile uint64_t *)s->lo = canary_of(s);
}

bool stack_in_guard(const stack_pool *p, const coro_stack *s, const void *addr) {
    uintptr_t a = (uintptr_t)addr, lo = (uintptr_t)s->lo;
    return a < lo + sizeof(uint64_t) && a + p->page >= lo;
}

/* Whether MADV_GUARD_INSTALL really guards: some layers (qemu-user, for one) accept the advice
 * and ignore it. The probe guards a page and asks the kernel to read it through write(2), which
 * fails with EFAULT on a real guard instead of crashing, and succeeds on a plain page. */
static pthread_once_t probe_once = PTHREAD_ONCE_INIT;
static bool madvise_guards;

static void probe_madvise_guard(void) {
    long pg = sysconf(_SC_PAGESIZE);
    size_t page = pg > 0 ? (size_t)pg : 4096;
    char *m = mmap(NULL, page, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (m == MAP_FAILED) return;
    int fds[2];
    if (madvise(m, page, MADV_GUARD_INSTALL) == 0 && pipe(fds) == 0) {
        madvise_guards = write(fds[1], m, 1) < 0 && errno == EFAULT;
        close(fds[0]);
        close(fds[1]);
    }
    munmap(m, page);
}

/* How many mappings the process may still create: a quarter of vm.max_map_count, leaving the
 * rest to malloc, libraries and the application. */
static size_t mapping_budget(void) {
    size_t max = 65530;
    FILE *f = fopen("/proc/sys/vm/max_map_count", "re");
    if (f) {
        unsigned long v;
        if (fscanf(f, "%lu", &v) == 1 && v > 0) max = v;
        fclose(f);
    }
    return max / 4;
}

int stack_pool_init(stack_pool *p, size_t size, const char *guard_env) {
    memset(p, 0, sizeof *p);
    long pg = sysconf(_SC_PAGESIZE);
    p->page = pg > 0 ? (size_t)pg : 4096;
    if (size < STACK_MIN_SIZE || size > STACK_MAX_SIZE) return -EINVAL;
    p->size = (size + p->page - 1) & ~(p->page - 1);
    size_t slot = p->size + p->page;
    p->per_slab = (4u << 20) / slot;
    if (p->per_slab < 1) p->per_slab = 1;
    if (p->per_slab > 64) p->per_slab = 64;
    p->warm_max = 64;
    p->warm_hard = 4096;
    pthread_once(&probe_once, probe_madvise_guard);
    p->guard = madvise_guards ? STACK_GUARD_MADVISE : STACK_GUARD_MPROTECT;
    if (guard_env && strcmp(guard_env, "mprotect") == 0) p->guard = STACK_GUARD_MPROTECT;
    if (guard_env && strcmp(guard_env, "none") == 0) p->guard = STACK_GUARD_NONE;
    p->map_budget = mapping_budget();
    int rc = pthread_mutex_init(&p->lock, NULL);
    return -rc;
}

void stack_pool_destroy(stack_pool *p) {
    stack_slab *s = p->slabs;
    while (s) {
        stack_slab *next = s->next;
        munmap(s->base, s->len);
        free(s);
        s = next;
    }
    p->slabs = NULL;
    pthread_mutex_destroy(&p->lock);
}

static void guard_install(stack_pool *p, coro_stack *s) {
    void *g = (char *)s->lo - p->page;
    if (p->guard == STACK_GUARD_MADVISE) {
        if (madvise(g, p->page, MADV_GUARD_INSTALL) == 0) {
            s->guarded = true;
            return;
        }
        p->guard = STACK_GUARD_MPROTECT; /* e.g. a seccomp filter refusing the advice */
    }
    if (p->guard == STACK_GUARD_MPROTECT && p->maps_used + 2 <= p->map_budget) {
        if (mprotect(g, p->page, PROT_NONE) == 0) {
            s->guarded = true;
            p->maps_used += 2;
        }
    }
}

/* Maps a new slab and pushes its stacks onto the cold list. Called with the lock held. */
static int slab_new(stack_pool *p) {
    size_t slot = p->size + p->page, n = p->per_slab;
    stack_slab *sl = malloc(sizeof *sl + n * sizeof(coro_stack));
    if (!sl) return -ENOMEM;
    sl->len = slot * n;
    sl->base = mmap(NULL, sl->len, PROT_READ | PROT_WRITE,
                    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_STACK, -1, 0);
    if (sl->base == MAP_FAILED) {
        free(sl);
        return -ENOMEM;
    }
    p->maps_used++;
    for (size_t i = 0; i < n; i++) {
        coro_stack *s = &sl->stacks[i];
        s->lo = (char *)sl->base + i * slot + p->page;
        s->size = p->size;
        s->guarded = false;
        s->warm = false;
        guard_install(p, s);
        if (s->guarded) atomic_fetch_add_explicit(&p->guarded, 1, memory_order_relaxed);
        s->next = p->cold;
        p->cold = s;
    }
    atomic_fetch_add_explicit(&p->mapped, n, memory_order_relaxed);
    sl->next = p->slabs;
    p->slabs = sl;
    return 0;
}

coro_stack *stack_pool_get(stack_pool *p) {
    coro_stack *s = NULL;
    pthread_mutex_lock(&p->lock);
    if (p->warm) {
        s = p->warm;
        p->warm = s->next;
        p->nwarm--;
    } else if (p->cold || slab_new(p) == 0) {
        s = p->cold;
        p->cold = s->next;
    }
    pthread_mutex_unlock(&p->lock);
    if (s) {
        s->warm = true;
        canary_set(s);
    }
    return s;
}

static void make_cold(stack_pool *p, coro_stack *s) {
    /* The range stays mapped and reserved, so reuse costs only the page faults. Failure only
     * means the memory stays resident. */
    (void)madvise(s->lo, s->size, MADV_DONTNEED);
    s->warm = false;
    pthread_mutex_lock(&p->lock);
    s->next = p->cold;
    p->cold = s;
    pthread_mutex_unlock(&p->lock);
}

void stack_pool_put(stack_pool *p, coro_stack *s) {
    pthread_mutex_lock(&p->lock);
    if (p->nwarm < p->warm_hard) {
        s->next = p->warm;
        p->warm = s;
        p->nwarm++;
        pthread_mutex_unlock(&p->lock);
        return;
    }
    pthread_mutex_unlock(&p->lock);
    make_cold(p, s);
}

size_t stack_pool_trim(stack_pool *p) {
    size_t n = 0;
    for (;;) {
        pthread_mutex_lock(&p->lock);
        coro_stack *s = NULL;
        if (p->nwarm > p->warm_max) {
            /* The head is the most recently used: trim from behind it. */
            s = p->warm->next;
            p->warm->next = s->next;
            p->nwarm--;
        }
        pthread_mutex_unlock(&p->lock);
        if (!s) return n;
        make_cold(p, s);
        n++;
    }
}

coro_stack *stack_cache_get(stack_cache *c, stack_pool *p) {
    if (c->n > 0) {
        coro_stack *s = c->items[--c->n];
        canary_set(s);
        return s;
    }
    return stack_pool_get(p);
}

void stack_cache_put(stack_cache *c, stack_pool *p, coro_stack *s) {
    if (c->n == STACK_CACHE_MAX) {
        /* Keep the most recently used half: their pages are the likeliest to be in cache. */
        for (unsigned i = 0; i < STACK_CACHE_MAX / 2; i++) stack_pool_put(p, c->items[i]);
        memmove(c->items, c->items + STACK_CACHE_MAX / 2,
                (STACK_CACHE_MAX / 2) * sizeof c->items[0]);
        c->n = STACK_CACHE_MAX / 2;
    }
    c->items[c->n++] = s;
}

void stack_cache_drain(stack_cache *c, stack_pool *p) {
    while (c->n > 0) stack_pool_put(p, c->items[--c->n]);
}
