/* The poller contract (src/sys/poller.h), checked on every compiled-in backend: tokens, readiness
 * at least once, oneshot re-arming for level-triggered backends, modify, remove, hang-up, wake from
 * another thread (before and during a wait), and changes made while another thread waits. */
#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <sys/socket.h>
#include <unistd.h>

#include "sys/poller.h"
#include "test.h"

static const poller_ops *ops;

static int wait_for(poller *p, poller_event *ev, int max, int timeout_ms) {
    int n = p->ops->wait(p->state, ev, max, timeout_ms);
    CHECK(n >= 0);
    return n;
}

/* Waits (bounded) until an event with token shows up; returns its ready bits, 0 on time-out. */
static unsigned expect(poller *p, uint64_t token, unsigned bits) {
    poller_event ev[16];
    for (int round = 0; round < 50; round++) {
        int n = wait_for(p, ev, 16, 100);
        for (int i = 0; i < n; i++)
            if (ev[i].token == token && (ev[i].ready & bits)) return ev[i].ready;
    }
    return 0;
}

/* Asserts no event with token arrives within a short poll. */
static void expect_none(poller *p, uint64_t token) {
    poller_event ev[16];
    int n = wait_for(p, ev, 16, 20);
    for (int i = 0; i < n; i++) CHECK(ev[i].token != token);
}

static void test_basics(void) {
    poller p;
    CHECK_EQ(poller_open(&p, ops), 0);
    int sv[2];
    CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
    CHECK_EQ(p.ops->add(p.state, sv[0], 42, POLLER_READ | POLLER_WRITE), 0);
    CHECK(expect(&p, 42, POLLER_WRITE) & POLLER_WRITE); /* a fresh socket is writable */
    /* Timeout 0 with nothing newly ready returns promptly. */
    if (!(ops->flags & POLLER_EDGE)) CHECK_EQ(p.ops->modify(p.state, sv[0], 42, POLLER_READ), 0);
    expect_none(&p, 42);
    CHECK_EQ(write(sv[1], "x", 1), 1);
    CHECK(expect(&p, 42, POLLER_READ) & POLLER_READ);
    if (ops->flags & POLLER_EDGE) {
        /* Edge-triggered: nothing new, no event; new data, a new event. */
        expect_none(&p, 42);
        CHECK_EQ(write(sv[1], "y", 1), 1);
        CHECK(expect(&p, 42, POLLER_READ));
    } else {
        /* Oneshot: reported once, then silent until re-armed, though still readable. */
        expect_none(&p, 42);
        CHECK_EQ(p.ops->modify(p.state, sv[0], 42, POLLER_READ), 0);
        CHECK(expect(&p, 42, POLLER_READ));
    }
    /* A new token through modify is what later events carry. */
    CHECK_EQ(p.ops->modify(p.state, sv[0], 43, POLLER_READ), 0);
    CHECK_EQ(write(sv[1], "z", 1), 1);
    CHECK(expect(&p, 43, POLLER_READ));
    /* Removed: no events, however ready the fd is. */
    CHECK_EQ(p.ops->remove(p.state, sv[0]), 0);
    CHECK_EQ(write(sv[1], "w", 1), 1);
    expect_none(&p, 43);
    CHECK(p.ops->remove(p.state, sv[0]) < 0);
    /* A peer that closes is a hang-up, seen by a reader. */
    CHECK_EQ(p.ops->add(p.state, sv[0], 44, POLLER_READ), 0);
    close(sv[1]);
    CHECK(expect(&p, 44, POLLER_READ | POLLER_HUP));
    CHECK_EQ(p.ops->remove(p.state, sv[0]), 0);
    close(sv[0]);
    /* Bad fds are errors, not crashes. */
    CHECK(p.ops->add(p.state, -1, 1, POLLER_READ) < 0);
    CHECK(p.ops->add(p.state, 123456, 1, POLLER_READ) < 0);
    poller_close(&p);
}

static void test_wake_before_wait(void) {
    poller p;
    CHECK_EQ(poller_open(&p, ops), 0);
    CHECK_EQ(p.ops->wake(p.state), 0);
    CHECK_EQ(p.ops->wake(p.state), 0); /* coalesced */
    poller_event ev[4];
    CHECK_EQ(wait_for(&p, ev, 4, 10000), 0); /* returns at once, not after 10 s */
    poller_close(&p);
}

static poller shared;
static atomic_int in_wait, woken, want_token;

static void *waiter_thread(void *arg) {
    (void)arg;
    poller_event ev[4];
    atomic_store(&in_wait, 1);
    while (!atomic_load(&woken)) {
        int n = wait_for(&shared, ev, 4, -1);
        for (int i = 0; i < n; i++)
            if (ev[i].token == 7) atomic_store(&woken, 2);
        /* An empty return is a wake; when waiting for an fd, it may also just be the backend
         * picking up a change ("that wait or the next"): keep waiting then. */
        if (n == 0 && !atomic_load(&want_token)) atomic_store(&woken, 1);
    }
    return NULL;
}

static void test_wake_from_another_thread(void) {
    for (int round = 0; round < 50; round++) {
        CHECK_EQ(poller_open(&shared, ops), 0);
        atomic_store(&in_wait, 0);
        atomic_store(&woken, 0);
        pthread_t th;
        CHECK_EQ(pthread_create(&th, NULL, waiter_thread, NULL), 0);
        while (!atomic_load(&in_wait)) sched_yield();
        /* Whether the waiter is already inside wait() or about to enter it, it must return. */
        CHECK_EQ(shared.ops->wake(shared.state), 0);
        CHECK_EQ(pthread_join(th, NULL), 0);
        CHECK_EQ(atomic_load(&woken), 1);
        poller_close(&shared);
    }
}

static void test_add_while_another_thread_waits(void) {
    for (int round = 0; round < 20; round++) {
        CHECK_EQ(poller_open(&shared, ops), 0);
        atomic_store(&in_wait, 0);
        atomic_store(&woken, 0);
        atomic_store(&want_token, 1);
        int sv[2];
        CHECK_EQ(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
        CHECK_EQ(write(sv[1], "x", 1), 1); /* readable before it is even added */
        pthread_t th;
        CHECK_EQ(pthread_create(&th, NULL, waiter_thread, NULL), 0);
        while (!atomic_load(&in_wait)) sched_yield();
        /* Added while the waiter may be blocked with no timeout: it must see the event. */
        CHECK_EQ(shared.ops->add(shared.state, sv[0], 7, POLLER_READ), 0);
        CHECK_EQ(pthread_join(th, NULL), 0);
        CHECK_EQ(atomic_load(&woken), 2);
        CHECK_EQ(shared.ops->remove(shared.state, sv[0]), 0);
        close(sv[0]);
        close(sv[1]);
        poller_close(&shared);
    }
    atomic_store(&want_token, 0);
}

static void for_each_backend(void (*fn)(void)) {
    int n = 0;
    for (const char *const *name = poller_names(); *name; name++, n++) {
        ops = poller_find(*name);
        CHECK(ops != NULL);
        fprintf(stderr, "   backend %s\n", *name);
        fn();
    }
    CHECK(n >= 2); /* epoll and poll on Linux */
}

static void test_all_basics(void) {
    for_each_backend(test_basics);
    CHECK(poller_find("nope") == NULL);
    CHECK(poller_find(NULL) == poller_find(poller_names()[0]));
    CHECK(poller_find("") == poller_find(poller_names()[0]));
}
static void test_all_wake_before_wait(void) {
    for_each_backend(test_wake_before_wait);
}
static void test_all_wake_from_another_thread(void) {
    for_each_backend(test_wake_from_another_thread);
}
static void test_all_add_while_waiting(void) {
    for_each_backend(test_add_while_another_thread_waits);
}

TEST_MAIN(test_all_basics, test_all_wake_before_wait, test_all_wake_from_another_thread,
          test_all_add_while_waiting)
