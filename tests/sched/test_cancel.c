/* Cancellation: of a task suspended in a wait-queue, of a finished task, joining a cancelled
 * task, cancelling from a thread outside the runtime, and shutdown cancelling what is left. */
#include <errno.h>
#include <kobe.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#include "sched/sched.h"
#include "test.h"

static int run_with(unsigned workers, void *(*fn)(void *), void *arg) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    cfg.workers = workers;
    return kobe_run(&cfg, fn, arg, NULL);
}

static waitq q;

static bool queue_has_waiter(void) {
    spin_lock_acquire(&q.lock);
    bool r = !waitq_empty(&q);
    spin_unlock(&q.lock);
    return r;
}

static void *wait_forever(void *arg) {
    (void)arg;
    waiter w;
    spin_lock_acquire(&q.lock);
    return (void *)(intptr_t)waitq_wait_locked(&q, &w, TIME_NONE);
}

static void *cancel_waiting_main(void *arg) {
    (void)arg;
    waitq_init(&q);
    kobe_task *t;
    CHECK_EQ(kobe_spawn(&t, wait_forever, NULL), 0);
    while (!queue_has_waiter()) CHECK_EQ(kobe_yield(), 0);
    CHECK_EQ(kobe_cancel(t), 0);
    CHECK_EQ(kobe_cancel(t), 0); /* twice is harmless */
    void *r;
    CHECK_EQ(kobe_join(t, &r), -ECANCELED);
    CHECK_EQ((intptr_t)r, -ECANCELED); /* the wait itself reported it */
    CHECK(!queue_has_waiter());        /* and left nothing behind in the queue */
    return NULL;
}

static void test_cancel_suspended_in_waitq(void) {
    CHECK_EQ(run_with(1, cancel_waiting_main, NULL), 0);
    CHECK_EQ(run_with(2, cancel_waiting_main, NULL), 0);
}

static atomic_int body_done;

static void *returns_seven(void *arg) {
    (void)arg;
    atomic_store(&body_done, 1);
    return (void *)7;
}

static void *cancel_finished_main(void *arg) {
    (void)arg;
    atomic_store(&body_done, 0);
    kobe_task *t;
    CHECK_EQ(kobe_spawn(&t, returns_seven, NULL), 0);
    while (atomic_load_explicit(&t->state, memory_order_acquire) != TASK_DONE)
        CHECK_EQ(kobe_yield(), 0);
    CHECK_EQ(atomic_load(&body_done), 1);
    CHECK_EQ(kobe_cancel(t), 0); /* too late: no effect */
    void *r;
    CHECK_EQ(kobe_join(t, &r), 0);
    CHECK_EQ((uintptr_t)r, 7);
    return NULL;
}

static void test_cancel_finished(void) {
    CHECK_EQ(run_with(1, cancel_finished_main, NULL), 0);
    CHECK_EQ(run_with(2, cancel_finished_main, NULL), 0);
}

static void *yield_until_cancelled(void *arg) {
    (void)arg;
    int rc;
    while ((rc = kobe_yield()) == 0) {
    }
    CHECK_EQ(rc, -ECANCELED);
    CHECK(kobe_cancelled());
    /* Every later suspension point fails too, so unwinding code cannot block forever. */
    CHECK_EQ(kobe_yield(), -ECANCELED);
    return (void *)42;
}

static void *join_cancelled_main(void *arg) {
    (void)arg;
    kobe_task *t;
    CHECK_EQ(kobe_spawn(&t, yield_until_cancelled, NULL), 0);
    for (int i = 0; i < 10; i++) CHECK_EQ(kobe_yield(), 0);
    CHECK_EQ(kobe_cancel(t), 0);
    void *r = NULL;
    CHECK_EQ(kobe_join(t, &r), -ECANCELED);
    CHECK_EQ((uintptr_t)r, 42);
    return NULL;
}

static void test_join_cancelled(void) {
    CHECK_EQ(run_with(1, join_cancelled_main, NULL), 0);
    CHECK_EQ(run_with(2, join_cancelled_main, NULL), 0);
}

static void *foreign_canceller(void *arg) {
    kobe_task *t = arg;
    while (!queue_has_waiter()) sched_yield();
    CHECK_EQ(kobe_cancel(t), 0);
    return NULL;
}

static void *cancel_foreign_main(void *arg) {
    (void)arg;
    waitq_init(&q);
    kobe_task *t;
    CHECK_EQ(kobe_spawn(&t, wait_forever, NULL), 0);
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, foreign_canceller, t), 0);
    void *r;
    CHECK_EQ(kobe_join(t, &r), -ECANCELED);
    CHECK_EQ((intptr_t)r, -ECANCELED);
    CHECK_EQ(pthread_join(th, NULL), 0);
    return NULL;
}

static void test_cancel_from_foreign_thread(void) {
    for (int i = 0; i < 20; i++) {
        CHECK_EQ(run_with(1, cancel_foreign_main, NULL), 0);
        CHECK_EQ(run_with(2, cancel_foreign_main, NULL), 0);
    }
}

/* Shutdown: when main returns, tasks still waiting are cancelled and unwind; kobe_run returns
 * only after they finished, and frees them (ASan's leak check covers the freeing). */
static atomic_int unwound;

static void *wait_then_count(void *arg) {
    (void)arg;
    waiter w;
    spin_lock_acquire(&q.lock);
    int rc = waitq_wait_locked(&q, &w, TIME_NONE);
    CHECK_EQ(rc, -ECANCELED);
    atomic_fetch_add(&unwound, 1);
    return NULL;
}

static void *shutdown_main(void *arg) {
    (void)arg;
    waitq_init(&q);
    for (int i = 0; i < 50; i++) CHECK_EQ(kobe_spawn(NULL, wait_then_count, NULL), 0);
    kobe_task *h;
    CHECK_EQ(kobe_spawn(&h, wait_then_count, NULL), 0); /* a handle nobody joins */
    kobe_task_detach(h);
    return NULL;
}

static void test_shutdown_cancels_the_rest(void) {
    atomic_store(&unwound, 0);
    CHECK_EQ(run_with(2, shutdown_main, NULL), 0);
    CHECK_EQ(atomic_load(&unwound), 51);
}

TEST_MAIN(test_cancel_suspended_in_waitq, test_cancel_finished, test_join_cancelled,
          test_cancel_from_foreign_thread, test_shutdown_cancels_the_rest)
