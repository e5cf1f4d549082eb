/* The hierarchical timer wheel (design in wheel.h).
 *
 * Placement: a timer due at d, on a wheel whose time is now, goes to the level of the highest
 * 6-bit digit in which d and now differ, in the slot given by d's digit at that level. Every
 * timer of a level-L slot shares d's digits above L with now, so when time reaches the start of
 * that slot, all of them are due within its span and cascade one level down (or fire).
 * Deadlines beyond the wheel's range (more than 64^6 ms ahead) park in the top level, in the slot
 * of the range's end, and are re-placed when time reaches it. */
#include "time/wheel.h"

#include <string.h>

#define LEVEL_BITS 6
#define SLOT_MASK  (WHEEL_SLOTS - 1)
#define RANGE_BITS (LEVEL_BITS * WHEEL_LEVELS) /* 36 bits of ms: about 2.2 years */

void wheel_init(wheel *w, uint64_t now_ms) {
    memset(w, 0, sizeof *w);
    w->now = now_ms;
}

void wheel_timer_init(wheel_timer *t) {
    t->next = t->prev = NULL;
    t->level = -1;
    t->slot = 0;
}

static int level_for(uint64_t now, uint64_t deadline) {
    uint64_t diff = (now ^ deadline) | SLOT_MASK; /* level 0 at least */
    int bit = 63 - __builtin_clzll(diff);
    int level = bit / LEVEL_BITS;
    return level < WHEEL_LEVELS ? level : WHEEL_LEVELS - 1;
}

static void place(wheel *w, wheel_timer *t) {
    uint64_t d = t->deadline;
    if (d < w->now) d = w->now; /* overdue: the current level-0 slot fires next */
    if (d - w->now >= ((uint64_t)1 << RANGE_BITS)) {
        /* Beyond the range: wait in the top level's last reachable slot, and be re-placed
         * (with the true deadline) when time gets there. */
        d = w->now + ((uint64_t)1 << RANGE_BITS) - 1;
    }
    int level = level_for(w->now, d);
    int slot = (int)((d >> (level * LEVEL_BITS)) & SLOT_MASK);
    t->level = level;
    t->slot = slot;
    t->prev = NULL;
    t->next = w->slots[level][slot];
    if (t->next) t->next->prev = t;
    w->slots[level][slot] = t;
    w->occupied[level] |= (uint64_t)1 << slot;
}

void wheel_insert(wheel *w, wheel_timer *t, uint64_t deadline_ms) {
    t->deadline = deadline_ms;
    place(w, t);
    w->count++;
}

static void unlink_timer(wheel *w, wheel_timer *t) {
    if (t->prev)
        t->prev->next = t->next;
    else
        w->slots[t->level][t->slot] = t->next;
    if (t->next) t->next->prev = t->prev;
    if (!w->slots[t->level][t->slot]) w->occupied[t->level] &= ~((uint64_t)1 << t->slot);
    t->next = t->prev = NULL;
    t->level = -1;
}

void wheel_remove(wheel *w, wheel_timer *t) {
    if (t->level < 0) return;
    unlink_timer(w, t);
    w->count--;
}

static int pos_of(const wheel *w, int level) {
    return (int)((w->now >> (level * LEVEL_BITS)) & SLOT_MASK);
}

/* The first time >= now at which level L's digit is s. Slots after the level's position are in
 * its current rotation; slots at or before it are in the next (only the top level has those:
 * timers beyond its rotation's end; and level 0's own position holds what is due now). */
static uint64_t slot_start(const wheel *w, int level, int slot) {
    unsigned shift = (unsigned)(level * LEVEL_BITS);
    uint64_t span = (uint64_t)1 << (shift + LEVEL_BITS);
    uint64_t start = (w->now & ~(span - 1)) | ((uint64_t)slot << shift);
    if (level == 0 && slot == pos_of(w, 0)) return w->now;
    if (slot <= pos_of(w, level)) start += span;
    return start;
}

/* The level's occupied slot that comes first in time, or -1 when the level is empty. */
static int first_slot(const wheel *w, int level) {
    uint64_t occ = w->occupied[level];
    if (!occ) return -1;
    int pos = pos_of(w, level);
    uint64_t from = level == 0 ? pos : pos + 1; /* level 0's own slot is due now */
    uint64_t ahead = from < 64 ? occ & (~(uint64_t)0 << from) : 0;
    return __builtin_ctzll(ahead ? ahead : occ);
}

uint64_t wheel_next_deadline(const wheel *w) {
    /* The lowest non-empty level holds the earliest timers: every timer of a higher level is due
     * after the whole current span of the levels below. Level 0 slots hold one ms each; a higher
     * slot's timers differ below its span, so its list is scanned for the exact minimum (lists
     * are short: a slot spans 64^L ms of a 64^(L+1) ms rotation). */
    for (int level = 0; level < WHEEL_LEVELS; level++) {
        int slot = first_slot(w, level);
        if (slot < 0) continue;
        uint64_t best = UINT64_MAX;
        for (const wheel_timer *t = w->slots[level][slot]; t; t = t->next)
            if (t->deadline < best) best = t->deadline;
        return best;
    }
    return UINT64_MAX;
}

/* The expired list, built in deadline order. Slots are emptied in time order, so a timer almost
 * always goes at the tail; only overdue ones (inserted after their deadline) need a search. */
typedef struct expired_list {
    wheel_timer *head, *tail;
} expired_list;

static void expired_push(expired_list *l, wheel_timer *t) {
    t->next = NULL;
    if (!l->tail || l->tail->deadline <= t->deadline) {
        if (l->tail)
            l->tail->next = t;
        else
            l->head = t;
        l->tail = t;
        return;
    }
    wheel_timer **pp = &l->head;
    while ((*pp)->deadline <= t->deadline) pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
}

/* Sorts a list by deadline (merge sort: no allocation, O(n log n)). */
static wheel_timer *sort_by_deadline(wheel_timer *head) {
    if (!head || !head->next) return head;
    wheel_timer *slow = head, *fast = head->next;
    while (fast && fast->next) {
        slow = slow->next;
        fast = fast->next->next;
    }
    wheel_timer *b = slow->next;
    slow->next = NULL;
    wheel_timer *a = sort_by_deadline(head);
    b = sort_by_deadline(b);
    wheel_timer *out = NULL, **tail = &out;
    while (a && b) {
        wheel_timer **pick = a->deadline <= b->deadline ? &a : &b;
        *tail = *pick;
        tail = &(*pick)->next;
        *pick = (*pick)->next;
    }
    *tail = a ? a : b;
    return out;
}

/* A jump longer than the wheel's whole range: slot-by-slot advancing would re-place far timers
 * once per top-level rotation, so take every timer out, fire the due ones, place the rest anew. */
static wheel_timer *rebuild(wheel *w, uint64_t now_ms) {
    wheel_timer *all = NULL;
    for (int level = 0; level < WHEEL_LEVELS; level++) {
        for (int slot = 0; slot < WHEEL_SLOTS; slot++) {
            wheel_timer *t = w->slots[level][slot];
            while (t) {
                wheel_timer *next = t->next;
                t->next = all;
                all = t;
                t = next;
            }
            w->slots[level][slot] = NULL;
        }
        w->occupied[level] = 0;
    }
    w->now = now_ms;
    wheel_timer *due = NULL;
    while (all) {
        wheel_timer *t = all;
        all = t->next;
        if (t->deadline <= now_ms) {
            t->level = -1;
            t->prev = NULL;
            t->next = due;
            due = t;
            w->count--;
        } else {
            place(w, t);
        }
    }
    return sort_by_deadline(due);
}

wheel_timer *wheel_advance(wheel *w, uint64_t now_ms) {
    expired_list expired = {NULL, NULL};
    if (now_ms < w->now) return NULL;
    if (now_ms - w->now >= ((uint64_t)1 << RANGE_BITS)) return rebuild(w, now_ms);
    for (;;) {
        /* Find the earliest occupied slot start across levels that is <= now_ms. */
        int best_level = -1, best_slot = -1;
        uint64_t best_start = UINT64_MAX;
        for (int level = 0; level < WHEEL_LEVELS; level++) {
            int slot = first_slot(w, level);
            if (slot < 0) continue;
            uint64_t start = slot_start(w, level, slot);
            if (start < best_start) {
                best_start = start;
                best_level = level;
                best_slot = slot;
            }
        }
        if (best_level < 0 || best_start > now_ms) break;
        /* Move time to that slot and empty it: level-0 timers fire, the rest cascade down. */
        w->now = best_start;
        wheel_timer *t = w->slots[best_level][best_slot];
        w->slots[best_level][best_slot] = NULL;
        w->occupied[best_level] &= ~((uint64_t)1 << best_slot);
        while (t) {
            wheel_timer *next = t->next;
            if (t->deadline <= w->now) {
                t->level = -1;
                t->prev = NULL;
                w->count--;
                expired_push(&expired, t);
            } else {
                place(w, t);
            }
            t = next;
        }
    }
    w->now = now_ms;
    return expired.head;
}
