/* Minimal test harness: each test file is one executable that ctest runs in its own process with
 * a timeout. A failed CHECK prints where and why, then exits 1, so a failure is never silent. */
#ifndef KOBE_TEST_H
#define KOBE_TEST_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                                                \
    do {                                                                                           \
        if (!(cond)) {                                                                             \
            fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond);               \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

/* CHECK_EQ prints both sides as long long, which covers every integer the tests compare. */
#define CHECK_EQ(a, b)                                                                             \
    do {                                                                                           \
        long long check_a_ = (long long)(a), check_b_ = (long long)(b);                            \
        if (check_a_ != check_b_) {                                                                \
            fprintf(stderr, "%s:%d: CHECK_EQ failed: %s == %s (%lld != %lld)\n", __FILE__,         \
                    __LINE__, #a, #b, check_a_, check_b_);                                         \
            exit(1);                                                                               \
        }                                                                                          \
    } while (0)

typedef void (*test_fn)(void);
struct test_case {
    const char *name;
    test_fn fn;
};

/* TEST_MAIN(t1, t2, ...) runs the named cases in order, or only the one named by argv[1]. */
#define TEST_MAIN(...)                                                                             \
    int main(int argc, char **argv) {                                                              \
        test_fn fns[] = {__VA_ARGS__};                                                             \
        const char *names = #__VA_ARGS__;                                                          \
        return test_run_all(argc, argv, fns, sizeof fns / sizeof fns[0], names);                   \
    }

static inline int test_run_all(int argc, char **argv, test_fn *fns, size_t n, const char *names) {
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", names);
    char *save = NULL, *tok = strtok_r(buf, ", ", &save);
    for (size_t i = 0; i < n && tok; i++, tok = strtok_r(NULL, ", ", &save)) {
        if (argc > 1 && strcmp(argv[1], tok) != 0) continue;
        fprintf(stderr, "-- %s\n", tok);
        fns[i]();
    }
    return 0;
}

#endif
