/* Accept when the process is out of file descriptors: it reports -EMFILE after a back-off (so a
 * loop that retries at once does not spin), and serves again as soon as descriptors free up. */
#include <errno.h>
#include <fcntl.h>
#include <kobe.h>
#include <sys/resource.h>
#include <unistd.h>

#include "test.h"

static void *emfile_main(void *arg) {
    (void)arg;
    kobe_tcp_listener *l;
    kobe_addr a;
    CHECK_EQ(kobe_tcp_listen(&l, "127.0.0.1:0", NULL), 0);
    CHECK_EQ(kobe_tcp_listener_addr(l, &a), 0);
    kobe_tcp_stream *c;
    CHECK_EQ(kobe_tcp_connect_addr(&c, &a, 5000), 0); /* pending in the backlog */

    struct rlimit old, low;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &old), 0);
    int probe = dup(0);
    CHECK(probe >= 0);
    close(probe);
    low = old;
    low.rlim_cur = (rlim_t)probe + 16;
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &low), 0);
    int hog[64], nhog = 0;
    int fd;
    while (nhog < 64 && (fd = dup(0)) >= 0) hog[nhog++] = fd;
    CHECK(nhog < 64); /* we did run out */

    kobe_tcp_stream *s;
    uint64_t t0 = kobe_now_ms();
    int calls = 0, rc = 0;
    while (kobe_now_ms() - t0 < 100) {
        rc = kobe_tcp_accept(l, &s, NULL);
        CHECK_EQ(rc, -EMFILE);
        calls++;
    }
    /* Backed off 5, 10, 20, 40, 80 ms: a handful of calls, not thousands. */
    CHECK(calls >= 2 && calls <= 8);

    for (int i = 0; i < nhog; i++) close(hog[i]);
    CHECK_EQ(setrlimit(RLIMIT_NOFILE, &old), 0);
    CHECK_EQ(kobe_tcp_accept(l, &s, NULL), 0); /* recovered */
    CHECK_EQ(kobe_tcp_write_all(c, "ping", 4, NULL), 4);
    char buf[4];
    CHECK_EQ(kobe_tcp_read_exact(s, buf, 4, NULL), 4);
    CHECK(memcmp(buf, "ping", 4) == 0);
    CHECK_EQ(kobe_tcp_close(s), 0);
    CHECK_EQ(kobe_tcp_close(c), 0);
    CHECK_EQ(kobe_tcp_listener_close(l), 0);
    return NULL;
}

static void test_emfile_backs_off_and_recovers(void) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    cfg.workers = 1;
    CHECK_EQ(kobe_run(&cfg, emfile_main, NULL, NULL), 0);
}

TEST_MAIN(test_emfile_backs_off_and_recovers)
