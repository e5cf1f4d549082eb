/* Death tests: a task that overflows its stack kills the process with a message naming it.
 * Each case runs in a forked child; the parent checks how it died and what it said. */
#include <errno.h>
#include <kobe.h>
#include <signal.h>
#include <stdint.h>
#include <sys/wait.h>
#include <unistd.h>

#include "sched/sched.h"
#include "test.h"

static volatile char sink;

static int recurse(int depth) {
    volatile char frame[512];
    frame[0] = (char)depth;
    frame[511] = (char)depth;
    if (depth > 100000000) return frame[0];
    return recurse(depth + 1) + frame[511];
}

static void *deep(void *arg) {
    (void)arg;
    sink = (char)recurse(0);
    return NULL;
}

static void *overflow_main(void *arg) {
    kobe_task *t;
    kobe_task_attr attr = {.name = "deep-diver"};
    kobe_spawn_attr(&t, &attr, (kobe_task_fn)arg, NULL);
    kobe_join(t, NULL);
    return NULL;
}

/* Overwrites the word at the far end of its own stack, as an overflow that jumped over the guard
 * (or had none) would: only the canary check on the next switch can see it. */
static void *scribble(void *arg) {
    (void)arg;
    *(volatile uint64_t *)sched_current()->stack->lo = 0x5a5a5a5a5a5a5a5aull;
    kobe_yield();
    return NULL;
}

/* Runs fn in a child under a runtime with a 64 KiB stack; returns its stderr and status. */
static int run_child(kobe_task_fn fn, const char *guard, char *out, size_t outsz) {
    int pfd[2];
    CHECK_EQ(pipe(pfd), 0);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) {
        dup2(pfd[1], 2);
        close(pfd[0]);
        if (guard) setenv("KOBE_STACK_GUARD", guard, 1);
        kobe_config cfg;
        kobe_config_init(&cfg);
        cfg.workers = 1;
        cfg.stack_size = 64 * 1024;
        kobe_run(&cfg, overflow_main, (void *)fn, NULL);
        _exit(0); /* not reached when the overflow is caught */
    }
    close(pfd[1]);
    size_t n = 0;
    ssize_t r;
    while (n + 1 < outsz && (r = read(pfd[0], out + n, outsz - 1 - n)) > 0) n += (size_t)r;
    out[n] = 0;
    close(pfd[0]);
    int status;
    CHECK_EQ(waitpid(pid, &status, 0), pid);
    return status;
}

static void test_guard_page_overflow_names_the_task(void) {
    char out[8192];
    int status = run_child(deep, NULL, out, sizeof out);
    CHECK(WIFSIGNALED(status));
    CHECK_EQ(WTERMSIG(status), SIGABRT);
    CHECK(strstr(out, "stack overflow in task 'deep-diver'") != NULL);
}

static void test_mprotect_guard_overflow_names_the_task(void) {
    char out[8192];
    int status = run_child(deep, "mprotect", out, sizeof out);
    CHECK(WIFSIGNALED(status));
    CHECK_EQ(WTERMSIG(status), SIGABRT);
    CHECK(strstr(out, "stack overflow in task 'deep-diver'") != NULL);
}

static void test_canary_overwrite_names_the_task(void) {
    char out[8192];
    int status = run_child(scribble, "none", out, sizeof out);
    CHECK(WIFSIGNALED(status));
    CHECK_EQ(WTERMSIG(status), SIGABRT);
    CHECK(strstr(out, "canary overwritten") != NULL);
    CHECK(strstr(out, "'deep-diver'") != NULL);
}

TEST_MAIN(test_guard_page_overflow_names_the_task, test_mprotect_guard_overflow_names_the_task,
          test_canary_overwrite_names_the_task)
