/* Configuration: each field falls back to its environment variable, then to its default; the
 * config struct wins over the environment; malformed values are defaults, not crashes. */
#include <errno.h>
#include <kobe.h>
#include <stdlib.h>
#include <unistd.h>

#include "io/reactor.h"
#include "sched/sched.h"
#include "test.h"

typedef struct seen {
    unsigned workers;
    size_t stack_size;
    const char *backend;
    unsigned budget;
} seen;

static void *observe(void *arg) {
    seen *s = arg;
    kobe_runtime *rt = kobe_runtime_current();
    s->workers = rt->nworkers;
    s->stack_size = rt->stacks.size;
    s->backend = reactor_backend(rt->reactor);
    s->budget = rt->budget;
    return NULL;
}

static seen run_env(const kobe_config *cfg) {
    seen s = {0};
    CHECK_EQ(kobe_run(cfg, observe, &s, NULL), 0);
    return s;
}

static void test_defaults(void) {
    unsetenv("KOBE_WORKERS");
    unsetenv("KOBE_STACK_SIZE");
    unsetenv("KOBE_BACKEND");
    seen s = run_env(NULL);
    CHECK_EQ(s.workers, (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
    CHECK_EQ(s.stack_size, 256 * 1024);
    CHECK(strcmp(s.backend, "epoll") == 0);
    CHECK_EQ(s.budget, 128);
}

static void test_environment(void) {
    setenv("KOBE_WORKERS", "3", 1);
    setenv("KOBE_STACK_SIZE", "64k", 1);
    setenv("KOBE_BACKEND", "poll", 1);
    seen s = run_env(NULL);
    CHECK_EQ(s.workers, 3);
    CHECK_EQ(s.stack_size, 64 * 1024);
    CHECK(strcmp(s.backend, "poll") == 0);
    /* The struct wins over the environment. */
    kobe_config cfg;
    kobe_config_init(&cfg);
    cfg.workers = 1;
    cfg.stack_size = 1 << 20;
    cfg.backend = "epoll";
    cfg.budget = 7;
    s = run_env(&cfg);
    CHECK_EQ(s.workers, 1);
    CHECK_EQ(s.stack_size, 1 << 20);
    CHECK(strcmp(s.backend, "epoll") == 0);
    CHECK_EQ(s.budget, 7);
    /* Malformed values fall back to the defaults; an unknown backend named explicitly is an
     * error, named in the environment too (a typo must not silently pick another backend). */
    setenv("KOBE_WORKERS", "lots", 1);
    setenv("KOBE_STACK_SIZE", "12q", 1);
    unsetenv("KOBE_BACKEND");
    s = run_env(NULL);
    CHECK_EQ(s.workers, (unsigned)sysconf(_SC_NPROCESSORS_ONLN));
    CHECK_EQ(s.stack_size, 256 * 1024);
    setenv("KOBE_BACKEND", "kqueue-on-linux", 1);
    CHECK_EQ(kobe_run(NULL, observe, &s, NULL), -EINVAL);
    unsetenv("KOBE_BACKEND");
    unsetenv("KOBE_WORKERS");
    unsetenv("KOBE_STACK_SIZE");
}

TEST_MAIN(test_defaults, test_environment)
