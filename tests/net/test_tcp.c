/* TCP over the reactor: every error path (refused, reset mid-read, write to a closed peer,
 * half-close both ways, zero-length I/O, close while waiting), bad input, options, and 1,000
 * concurrent connections with every byte verified, on every backend, with 1 and 2 workers. */
#include <errno.h>
#include <kobe.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <unistd.h>

#include "echo_task.h"
#include "net/tcp_internal.h"
#include "sys/poller.h"
#include "test.h"

static const char *backend = "epoll";

static int run_on(unsigned workers, void *(*fn)(void *), void *arg) {
    kobe_config cfg;
    kobe_config_init(&cfg);
    cfg.workers = workers;
    cfg.backend = backend;
    return kobe_run(&cfg, fn, arg, NULL);
}

/* A listener on a free loopback port; its address goes to *addr. */
static kobe_tcp_listener *listen_any(kobe_addr *addr) {
    kobe_tcp_listener *l;
    CHECK_EQ(kobe_tcp_listen(&l, "127.0.0.1:0", NULL), 0);
    CHECK_EQ(kobe_tcp_listener_addr(l, addr), 0);
    CHECK(kobe_addr_port(addr) > 0);
    return l;
}

/* ---- the echo soak: 1,000 connections, every byte checked ----------------------------------- */

#define CONNS 1000
#define MSGS  4

static void *acceptor(void *arg) {
    kobe_tcp_listener *l = arg;
    for (int i = 0; i < CONNS; i++) {
        kobe_tcp_stream *s;
        kobe_addr peer;
        CHECK_EQ(kobe_tcp_accept(l, &s, &peer), 0);
        CHECK_EQ(kobe_addr_family(&peer), AF_INET);
        CHECK_EQ(kobe_spawn(NULL, echo_stream, s), 0);
    }
    return NULL;
}

static kobe_addr soak_addr;
static atomic_long bytes_verified;

static void *client(void *arg) {
    uintptr_t id = (uintptr_t)arg;
    kobe_tcp_stream *s;
    CHECK_EQ(kobe_tcp_connect_addr(&s, &soak_addr, 10000), 0);
    char out[3000], in[3000];
    for (int m = 0; m < MSGS; m++) {
        size_t len = 1 + (id * 7919 + (uintptr_t)m * 104729) % sizeof out;
        for (size_t i = 0; i < len; i++) out[i] = (char)(id * 31 + (uintptr_t)m * 17 + i);
        CHECK_EQ(kobe_tcp_write_all(s, out, len, NULL), (ssize_t)len);
        size_t got = 0;
        CHECK_EQ(kobe_tcp_read_exact(s, in, len, &got), (ssize_t)len);
        CHECK_EQ(got, len);
        CHECK(memcmp(in, out, len) == 0);
        atomic_fetch_add(&bytes_verified, (long)len);
    }
    CHECK_EQ(kobe_tcp_shutdown(s, SHUT_WR), 0);
    CHECK_EQ(kobe_tcp_read(s, in, sizeof in), 0); /* the server closes after our EOF */
    CHECK_EQ(kobe_tcp_close(s), 0);
    return NULL;
}

static void *soak_main(void *arg) {
    (void)arg;
    kobe_tcp_listen_opts o = {.backlog = 2048};
    kobe_tcp_listener *l;
    CHECK_EQ(kobe_tcp_listen(&l, "127.0.0.1:0", &o), 0);
    CHECK_EQ(kobe_tcp_listener_addr(l, &soak_addr), 0);
    kobe_task *acc, *c[CONNS];
    CHECK_EQ(kobe_spawn(&acc, acceptor, l), 0);
    for (uintptr_t i = 0; i < CONNS; i++) CHECK_EQ(kobe_spawn(&c[i], client, (void *)i), 0);
    for (int i = 0; i < CONNS; i++) CHECK_EQ(kobe_join(c[i], NULL), 0);
    CHECK_EQ(kobe_join(acc, NULL), 0);
    CHECK_EQ(kobe_tcp_listener_close(l), 0);
    return NULL;
}

static void test_thousand_connections_every_backend(void) {
    struct rlimit rl;
    CHECK_EQ(getrlimit(RLIMIT_NOFILE, &rl), 0);
    if (rl.rlim_cur < 4 * CONNS && rl.rlim_max >= 4 * CONNS) {
        rl.rlim_cur = 4 * CONNS;
        CHECK_EQ(setrlimit(RLIMIT_NOFILE, &rl), 0);
    }
    CHECK(rl.rlim_cur >= 2 * CONNS + 64); /* the machine must allow the test at all */
    for (const char *const *b = poller_names(); *b; b++) {
        backend = *b;
        for (unsigned w = 1; w <= 2; w++) {
            atomic_store(&bytes_verified, 0);
            CHECK_EQ(run_on(w, soak_main, NULL), 0);
            long want = 0;
            for (uintptr_t id = 0; id < CONNS; id++)
                for (uintptr_t m = 0; m < MSGS; m++) want += 1 + (id * 7919 + m * 104729) % 3000;
            CHECK_EQ(atomic_load(&bytes_verified), want);
        }
    }
}

/* ---- error paths --------------------------------------------------------------------------- */

static void *refused_main(void *arg) {
    (void)arg;
    kobe_addr a;
    kobe_tcp_listener *l = listen_any(&a);
    CHECK_EQ(kobe_tcp_listener_close(l), 0); /* the port is free again: nobody listens */
    kobe_tcp_stream *s = (kobe_tcp_stream *)1;
    CHECK_EQ(kobe_tcp_connect_addr(&s, &a, 5000), -ECONNREFUSED);
    CHECK(s == NULL);
    char text[KOBE_ADDR_STRLEN];
    CHECK(kobe_addr_format(&a, text, sizeof text) > 0);
    CHECK_EQ(kobe_tcp_connect(&s, text, -1), -ECONNREFUSED);
    return NULL;
}

static void *reset_server(void *arg) {
    kobe_tcp_listener *l = arg;
    kobe_tcp_stream *s;
    CHECK_EQ(kobe_tcp_accept(l, &s, NULL), 0);
    char c;
    CHECK_EQ(kobe_tcp_read(s, &c, 1), 1); /* the client is now blocked in its read */
    CHECK_EQ(kobe_tcp_set_linger(s, 0), 0);
    CHECK_EQ(kobe_tcp_close(s), 0); /* linger 0: an RST, not a FIN */
    return NULL;
}

static void *reset_main(void *arg) {
    (void)arg;
    kobe_addr a;
    kobe_tcp_listener *l = listen_any(&a);
    kobe_task *srv;
    CHECK_EQ(kobe_spawn(&srv, reset_server, l), 0);
    kobe_tcp_stream *s;
    CHECK_EQ(kobe_tcp_connect_addr(&s, &a, 5000), 0);
    CHECK_EQ(kobe_tcp_write(s, "x", 1), 1);
    char buf[16];
    CHECK_EQ(kobe_tcp_read(s, buf, sizeof buf), -ECONNRESET);
    CHECK_EQ(kobe_join(srv, NULL), 0);
    CHECK_EQ(kobe_tcp_close(s), 0);
    CHECK_EQ(kobe_tcp_listener_close(l), 0);
    return NULL;
}

static void *close_server(void *arg) {
    kobe_tcp_listener *l = arg;
    kobe_tcp_stream *s;
    CHECK_EQ(kobe_tcp_accept(l, &s, NULL), 0);
    CHECK_EQ(kobe_tcp_close(s), 0);
    return NULL;
}

static void *closed_peer_main(void *arg) {
    (void)arg;
    kobe_addr a;
    kobe_tcp_listener *l = listen_any(&a);
    kobe_task *srv;
    CHECK_EQ(kobe_spawn(&srv, close_server, l), 0);
    kobe_tcp_stream *s;
    CHECK_EQ(kobe_tcp_connect_addr(&s, &a, 5000), 0);
    CHECK_EQ(kobe_join(srv, NULL), 0);
    char buf[4096] = {0};
    ssize_t rc = 0;
    /* The first writes may still be accepted by the kernel; then the peer's RST turns them into
     * errors. Never a SIGPIPE: the process is still here to check. */
    for (int i = 0; i < 1000 && rc >= 0; i++) rc = kobe_tcp_write(s, buf, sizeof buf);
    CHECK(rc == -EPIPE || rc == -ECONNRESET);
    CHECK_EQ(kobe_tcp_close(s), 0);
    CHECK_EQ(kobe_tcp_listener_close(l), 0);
    return NULL;
}

/* Half-close in both directions: each side's shutdown(SHUT_WR) is an EOF for the other, while the
 * other direction keeps working. */
static void *half_server(void *arg) {
    kobe_tcp_listener *l = arg;
    kobe_tcp_stream *s;
    char buf[64];
    CHECK_EQ(kobe_tcp_accept(l, &s, NULL), 0);
    CHECK_EQ(kobe_tcp_read_exact(s, buf, 5, NULL), 5);
    CHECK(memcmp(buf, "hello", 5) == 0);
    CHECK_EQ(kobe_tcp_read(s, buf, sizeof buf), 0); /* client half-closed */
    CHECK_EQ(kobe_tcp_write_all(s, "still here", 10, NULL), 10);
    CHECK_EQ(kobe_tcp_shutdown(s, SHUT_WR), 0);
    CHECK_EQ(kobe_tcp_close(s), 0);
    return NULL;
}

static void *half_close_main(void *arg) {
    (void)arg;
    kobe_addr a;
    kobe_tcp_listener *l = listen_any(&a);
    kobe_task *srv;
    CHECK_EQ(kobe_spawn(&srv, half_server, l), 0);
    kobe_tcp_stream *s;
    CHECK_EQ(kobe_tcp_connect_addr(&s, &a, 5000), 0);
    CHECK_EQ(kobe_tcp_write_all(s, "hello", 5, NULL), 5);
    CHECK_EQ(kobe_tcp_shutdown(s, SHUT_WR), 0);
    CHECK_EQ(kobe_tcp_write(s, "x", 1), -EPIPE); /* our side is closed for writing */
    char buf[64];
    size_t got = 0;
    CHECK_EQ(kobe_tcp_read_exact(s, buf, 10, &got), 10);
    CHECK(memcmp(buf, "still here", 10) == 0);
    CHECK_EQ(kobe_tcp_read(s, buf, sizeof buf), 0);
    /* Asking for more than the stream has left: -ENODATA, and what did come is reported. */
    CHECK_EQ(kobe_tcp_read_exact(s, buf, 3, &got), -ENODATA);
    CHECK_EQ(got, 0);
    CHECK_EQ(kobe_join(srv, NULL), 0);
    CHECK_EQ(kobe_tcp_close(s), 0);
    CHECK_EQ(kobe_tcp_listener_close(l), 0);
    return NULL;
}

static void *zero_server(void *arg) {
    kobe_tcp_listener *l = arg;
    kobe_tcp_stream *s;
    CHECK_EQ(kobe_tcp_accept(l, &s, NULL), 0);
    char buf[8];
    CHECK_EQ(kobe_tcp_read(s, buf, 0), 0);
    CHECK_EQ(kobe_tcp_read_exact(s, buf, 2, NULL), 2);
    CHECK(memcmp(buf, "ok", 2) == 0);
    CHECK_EQ(kobe_tcp_close(s), 0);
    return NULL;
}

static void *zero_length_main(void *arg) {
    (void)arg;
    kobe_addr a;
    kobe_tcp_listener *l = listen_any(&a);
    kobe_task *srv;
    CHECK_EQ(kobe_spawn(&srv, zero_server, l), 0);
    kobe_tcp_stream *s;
    CHECK_EQ(kobe_tcp_connect_addr(&s, &a, 5000), 0);
    CHECK_EQ(kobe_tcp_write(s, "", 0), 0);
    CHECK_EQ(kobe_tcp_write(s, NULL, 0), 0);
    struct iovec iov[2] = {{"o", 1}, {"k", 1}};
    CHECK_EQ(kobe_tcp_writev(s, iov, 0), 0);
    CHECK_EQ(kobe_tcp_writev(s, iov, 2), 2);
    CHECK_EQ(kobe_join(srv, NULL), 0);
    CHECK_EQ(kobe_tcp_close(s), 0);
    CHECK_EQ(kobe_tcp_listener_close(l), 0);
    return NULL;
}

/* Closing a stream or a listener that another task waits in wakes that task with -EBADF. */
static void *blocked_reader(void *arg) {
    kobe_tcp_stream *s = arg;
    char c;
    return (void *)(intptr_t)kobe_tcp_read(s, &c, 1);
}

static void *blocked_acceptor(void *arg) {
    kobe_tcp_stream *s;
    return (void *)(intptr_t)kobe_tcp_accept(arg, &s, NULL);
}

static void *close_while_waiting_main(void *arg) {
    (void)arg;
    kobe_addr a;
    kobe_tcp_listener *l = listen_any(&a);
    kobe_task *acc;
    CHECK_EQ(kobe_spawn(&acc, blocked_acceptor, l), 0);
    while (!io_source_has_waiter(l->src, IO_READ)) CHECK_EQ(kobe_yield(), 0);
    CHECK_EQ(kobe_tcp_listener_close(l), 0);
    void *r;
    CHECK_EQ(kobe_join(acc, &r), 0);
    CHECK_EQ((intptr_t)r, -EBADF);

    l = listen_any(&a);
    kobe_tcp_stream *c, *srv_side;
    CHECK_EQ(kobe_tcp_connect_addr(&c, &a, 5000), 0);
    CHECK_EQ(kobe_tcp_accept(l, &srv_side, NULL), 0);
    kobe_task *rd;
    CHECK_EQ(kobe_spawn(&rd, blocked_reader, c), 0);
    while (!io_source_has_waiter(c->src, IO_READ)) CHECK_EQ(kobe_yield(), 0);
    CHECK_EQ(kobe_tcp_close(c), 0);
    CHECK_EQ(kobe_join(rd, &r), 0);
    CHECK_EQ((intptr_t)r, -EBADF);
    CHECK_EQ(kobe_tcp_close(srv_side), 0);
    CHECK_EQ(kobe_tcp_listener_close(l), 0);
    return NULL;
}

static void test_error_paths(void) {
    for (const char *const *b = poller_names(); *b; b++) {
        backend = *b;
        for (unsigned w = 1; w <= 2; w++) {
            CHECK_EQ(run_on(w, refused_main, NULL), 0);
            CHECK_EQ(run_on(w, reset_main, NULL), 0);
            CHECK_EQ(run_on(w, closed_peer_main, NULL), 0);
            CHECK_EQ(run_on(w, half_close_main, NULL), 0);
            CHECK_EQ(run_on(w, zero_length_main, NULL), 0);
            CHECK_EQ(run_on(w, close_while_waiting_main, NULL), 0);
        }
    }
}

/* ---- connect timeout ------------------------------------------------------------------------ */

static void *timeout_main(void *arg) {
    (void)arg;
    /* A listener that never accepts, with its backlog filled: further SYNs are dropped, so a
     * connect can only time out. */
    kobe_tcp_listen_opts o = {.backlog = 1};
    kobe_tcp_listener *l;
    kobe_addr a;
    CHECK_EQ(kobe_tcp_listen(&l, "127.0.0.1:0", &o), 0);
    CHECK_EQ(kobe_tcp_listener_addr(l, &a), 0);
    kobe_tcp_stream *fill[8];
    int filled = 0, rc = 0;
    for (; filled < 8; filled++) {
        rc = kobe_tcp_connect_addr(&fill[filled], &a, 200);
        if (rc < 0) break;
    }
    CHECK_EQ(rc, -ETIMEDOUT); /* the backlog filled up within 8 connections */
    uint64_t t0 = kobe_now_ms();
    kobe_tcp_stream *s;
    CHECK_EQ(kobe_tcp_connect_addr(&s, &a, 100), -ETIMEDOUT);
    uint64_t dt = kobe_now_ms() - t0;
    CHECK(dt >= 99 && dt < 5000);
    /* The task deadline applies too, and the nearer of the two wins. */
    kobe_deadline d;
    CHECK_EQ(kobe_deadline_push(&d, 50), 0);
    t0 = kobe_now_ms();
    CHECK_EQ(kobe_tcp_connect_addr(&s, &a, 100000), -ETIMEDOUT);
    CHECK(kobe_now_ms() - t0 < 5000);
    CHECK_EQ(kobe_deadline_pop(&d), 0);
    for (int i = 0; i < filled; i++) CHECK_EQ(kobe_tcp_close(fill[i]), 0);
    CHECK_EQ(kobe_tcp_listener_close(l), 0);
    return NULL;
}

static void test_connect_timeout(void) {
    CHECK_EQ(run_on(1, timeout_main, NULL), 0);
}

/* ---- bad input ------------------------------------------------------------------------------ */

static void *bad_input_main(void *arg) {
    (void)arg;
    kobe_tcp_listener *l = (kobe_tcp_listener *)1;
    const char *bad[] = {"1.2.3.4:99999", "[::1", "", "1.2.3.4", ":80", "[::1]:", "x:y"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK_EQ(kobe_tcp_listen(&l, bad[i], NULL), -EINVAL);
        CHECK(l == NULL);
    }
    CHECK_EQ(kobe_tcp_listen(&l, NULL, NULL), -EINVAL);
    CHECK_EQ(kobe_tcp_listen(NULL, "127.0.0.1:0", NULL), -EINVAL);
    kobe_tcp_stream *s = (kobe_tcp_stream *)1;
    CHECK_EQ(kobe_tcp_connect(&s, "1.2.3.4:99999", 100), -EINVAL);
    CHECK(s == NULL);
    CHECK_EQ(kobe_tcp_connect(&s, "[::1", 100), -EINVAL);
    CHECK_EQ(kobe_tcp_connect(&s, "", 100), -EINVAL);
    CHECK_EQ(kobe_tcp_connect(&s, NULL, 100), -EINVAL);
    CHECK_EQ(kobe_tcp_connect(&s, "no-such-host.invalid:80", 1000), -ENOENT);
    CHECK_EQ(kobe_tcp_connect_addr(&s, NULL, 100), -EINVAL);
    CHECK_EQ(kobe_tcp_read(NULL, NULL, 0), -EINVAL);
    CHECK_EQ(kobe_tcp_write(NULL, "x", 1), -EINVAL);
    CHECK_EQ(kobe_tcp_close(NULL), -EINVAL);
    CHECK_EQ(kobe_tcp_accept(NULL, &s, NULL), -EINVAL);

    /* Options round trip, on a real connection; a negative buffer size is an error. */
    kobe_addr a;
    l = listen_any(&a);
    kobe_tcp_stream *c, *p;
    CHECK_EQ(kobe_tcp_connect_addr(&c, &a, 5000), 0);
    CHECK_EQ(kobe_tcp_accept(l, &p, NULL), 0);
    CHECK_EQ(kobe_tcp_shutdown(c, 12345), -EINVAL);
    bool on = false;
    CHECK_EQ(kobe_tcp_set_nodelay(c, true), 0);
    CHECK_EQ(kobe_tcp_nodelay(c, &on), 0);
    CHECK(on);
    CHECK_EQ(kobe_tcp_set_keepalive(c, true, 30), 0);
    CHECK_EQ(kobe_tcp_keepalive(c, &on), 0);
    CHECK(on);
    int v = 0;
    CHECK_EQ(kobe_tcp_set_linger(c, 3), 0);
    CHECK_EQ(kobe_tcp_linger(c, &v), 0);
    CHECK_EQ(v, 3);
    CHECK_EQ(kobe_tcp_set_recv_buffer(c, 65536), 0);
    CHECK_EQ(kobe_tcp_recv_buffer(c, &v), 0);
    CHECK(v >= 65536);
    CHECK_EQ(kobe_tcp_set_send_buffer(c, -1), -EINVAL);
    kobe_addr local, peer;
    CHECK_EQ(kobe_tcp_local_addr(c, &local), 0);
    CHECK_EQ(kobe_tcp_peer_addr(p, &peer), 0);
    CHECK_EQ(kobe_addr_port(&local), kobe_addr_port(&peer));
    CHECK(kobe_tcp_fd(c) >= 0);
    CHECK_EQ(kobe_tcp_close(c), 0);
    CHECK_EQ(kobe_tcp_close(p), 0);
    CHECK_EQ(kobe_tcp_listener_close(l), 0);
    return NULL;
}

static void test_bad_input(void) {
    CHECK_EQ(run_on(1, bad_input_main, NULL), 0);
    kobe_tcp_listener *l;
    CHECK_EQ(kobe_tcp_listen(&l, "127.0.0.1:0", NULL), -EPERM); /* outside a task */
}

/* ---- listener options: reuseport, IPv6, v6-only ------------------------------------------ */

static void *listen_options_main(void *arg) {
    (void)arg;
    /* Two listeners on one port only with SO_REUSEPORT. */
    kobe_tcp_listen_opts rp = {.flags = KOBE_TCP_REUSEPORT};
    kobe_tcp_listener *a, *b;
    kobe_addr at;
    CHECK_EQ(kobe_tcp_listen(&a, "127.0.0.1:0", &rp), 0);
    CHECK_EQ(kobe_tcp_listener_addr(a, &at), 0);
    CHECK_EQ(kobe_tcp_listen_addr(&b, &at, &rp), 0);
    CHECK_EQ(kobe_tcp_listener_close(b), 0);
    CHECK_EQ(kobe_tcp_listen_addr(&b, &at, NULL), -EADDRINUSE);
    CHECK_EQ(kobe_tcp_listener_close(a), 0);

    /* IPv6 loopback, when the machine has it; if not, it must say so precisely. */
    kobe_tcp_listener *l6;
    int rc = kobe_tcp_listen(&l6, "[::1]:0", NULL);
    if (rc != 0) {
        CHECK(rc == -EADDRNOTAVAIL || rc == -EAFNOSUPPORT);
        fprintf(stderr, "no IPv6 loopback here (%s): IPv6 cases not run\n", kobe_strerror(rc));
        return NULL;
    }
    kobe_addr a6;
    CHECK_EQ(kobe_tcp_listener_addr(l6, &a6), 0);
    CHECK_EQ(kobe_addr_family(&a6), AF_INET6);
    char text[KOBE_ADDR_STRLEN];
    CHECK(kobe_addr_format(&a6, text, sizeof text) > 0);
    kobe_tcp_stream *c, *s;
    CHECK_EQ(kobe_tcp_connect(&c, text, 5000), 0);
    kobe_addr peer;
    CHECK_EQ(kobe_tcp_accept(l6, &s, &peer), 0);
    CHECK_EQ(kobe_addr_family(&peer), AF_INET6);
    CHECK_EQ(kobe_tcp_write_all(c, "v6", 2, NULL), 2);
    char buf[2];
    CHECK_EQ(kobe_tcp_read_exact(s, buf, 2, NULL), 2);
    CHECK(memcmp(buf, "v6", 2) == 0);
    CHECK_EQ(kobe_tcp_close(c), 0);
    CHECK_EQ(kobe_tcp_close(s), 0);
    CHECK_EQ(kobe_tcp_listener_close(l6), 0);

    /* v6-only: an IPv4 client cannot reach a "[::]" listener that sets it. */
    kobe_tcp_listen_opts only = {.flags = KOBE_TCP_IPV6_ONLY};
    CHECK_EQ(kobe_tcp_listen(&l6, "[::]:0", &only), 0);
    CHECK_EQ(kobe_tcp_listener_addr(l6, &a6), 0);
    char v4[32];
    snprintf(v4, sizeof v4, "127.0.0.1:%d", kobe_addr_port(&a6));
    CHECK_EQ(kobe_tcp_connect(&c, v4, 5000), -ECONNREFUSED);
    CHECK_EQ(kobe_tcp_listener_close(l6), 0);
    return NULL;
}

static void test_listen_options(void) {
    CHECK_EQ(run_on(1, listen_options_main, NULL), 0);
}

TEST_MAIN(test_listen_options, test_thousand_connections_every_backend, test_error_paths,
          test_connect_timeout, test_bad_input)
