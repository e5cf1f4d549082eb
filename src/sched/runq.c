/* A worker's local run queue: a bounded ring, pushed and popped by its owner, stolen from by
 * others.
 *
 * head and tail are free-running 32-bit counters (index = counter % RUNQ_SIZE). Only the owner
 * writes tail (release), so stealers that load it (acquire) see the slots written before it.
 * Everyone who removes tasks, the owner included, claims them by advancing head with a CAS: a
 * stealer first copies the candidates out, then CASes; if the CAS fails the copies are discarded
 * and it retries, so a slot overwritten by the owner in between is never used. Slots are atomics
 * (relaxed) only so that this benign copy-then-validate race is well-defined C.
 */
#include "sched/sched.h"

uint32_t runq_len(runq *q) {
    uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
    uint32_t t = atomic_load_explicit(&q->tail, memory_order_acquire);
    return t - h;
}

/* Pushes t. When the ring is full, claims its older half plus t as a batch for the global
 * queue instead: *overflow receives the batch (linked through ->next, oldest first) and
 * *noverflow its length, and the function returns false. */
bool runq_push(runq *q, kobe_task *t, kobe_task **overflow, unsigned *noverflow) {
    for (;;) {
        uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
        uint32_t tl = atomic_load_explicit(&q->tail, memory_order_relaxed);
        if (tl - h < RUNQ_SIZE) {
            atomic_store_explicit(&q->slots[tl % RUNQ_SIZE], t, memory_order_relaxed);
            atomic_store_explicit(&q->tail, tl + 1, memory_order_release);
            return true;
        }
        /* Full: move half to the global queue, so the cost of a burst is amortised. */
        const uint32_t n = RUNQ_SIZE / 2;
        kobe_task *batch[RUNQ_SIZE / 2];
        for (uint32_t i = 0; i < n; i++)
            batch[i] = atomic_load_explicit(&q->slots[(h + i) % RUNQ_SIZE], memory_order_relaxed);
        if (!atomic_compare_exchange_strong_explicit(&q->head, &h, h + n, memory_order_acq_rel,
                                                     memory_order_acquire))
            continue; /* a stealer made room meanwhile */
        for (uint32_t i = 0; i + 1 < n; i++) batch[i]->next = batch[i + 1];
        batch[n - 1]->next = t;
        t->next = NULL;
        *overflow = batch[0];
        *noverflow = n + 1;
        return false;
    }
}

kobe_task *runq_pop(runq *q) {
    for (;;) {
        uint32_t h = atomic_load_explicit(&q->head, memory_order_acquire);
        uint32_t tl = atomic_load_explicit(&q->tail, memory_order_relaxed);
        if (h == tl) return NULL;
        kobe_task *t = atomic_load_explicit(&q->slots[h % RUNQ_SIZE], memory_order_relaxed);
        if (atomic_compare_exchange_weak_explicit(&q->head, &h, h + 1, memory_order_acq_rel,
                                                  memory_order_acquire))
            return t;
    }
}

/* Steals half of src's tasks into dst, which must be empty and owned by the caller. Returns one
 * of them to run at once (the rest are published in dst), or NULL; *nstolen gets the count. */
kobe_task *runq_steal(runq *dst, runq *src, unsigned *nstolen) {
    uint32_t dt = atomic_load_explicit(&dst->tail, memory_order_relaxed);
    for (;;) {
        uint32_t h = atomic_load_explicit(&src->head, memory_order_acquire);
        uint32_t tl = atomic_load_explicit(&src->tail, memory_order_acquire);
        uint32_t n = tl - h;
        n = n - n / 2;
        if (n == 0) {
            *nstolen = 0;
            return NULL;
        }
        if (n > RUNQ_SIZE / 2) continue; /* head and tail read at different moments */
        for (uint32_t i = 0; i < n; i++) {
            kobe_task *t =
                atomic_load_explicit(&src->slots[(h + i) % RUNQ_SIZE], memory_order_relaxed);
            atomic_store_explicit(&dst->slots[(dt + i) % RUNQ_SIZE], t, memory_order_relaxed);
        }
        if (!atomic_compare_exchange_strong_explicit(&src->head, &h, h + n, memory_order_acq_rel,
                                                     memory_order_acquire))
            continue;
        *nstolen = n;
        n--;
        kobe_task *first =
            atomic_load_explicit(&dst->slots[(dt + n) % RUNQ_SIZE], memory_order_relaxed);
        if (n > 0) atomic_store_explicit(&dst->tail, dt + n, memory_order_release);
        return first;
    }
}
