/* A task body shared by the network tests: echoes a stream until the peer's end of stream,
 * checking every call, then closes it. */
#ifndef KOBE_TEST_ECHO_TASK_H
#define KOBE_TEST_ECHO_TASK_H

#include <kobe.h>

#include "test.h"

static inline void *echo_stream(void *arg) {
    kobe_tcp_stream *s = arg;
    char buf[8192];
    ssize_t n;
    while ((n = kobe_tcp_read(s, buf, sizeof buf)) > 0)
        CHECK_EQ(kobe_tcp_write_all(s, buf, (size_t)n, NULL), n);
    CHECK_EQ(n, 0);
    CHECK_EQ(kobe_tcp_close(s), 0);
    return NULL;
}

#endif
