/* TCP listeners and streams over the reactor. Each operation tries its system call first and
 * suspends on the reactor only on EAGAIN (io_retry); names are resolved on the blocking pool. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "io/reactor.h"
#include "kobe/tcp.h"
#include "kobe/time.h"
#include "net/sock.h"
#include "net/tcp_internal.h"
#include "sched/sched.h"
#include "util/sys.h"

/* One attempt of an operation on fd: a count, or -errno (-EAGAIN: wait for readiness). */
typedef ssize_t (*io_attempt)(int fd, void *ctx);

/* Runs attempt until it does not say -EAGAIN, waiting on direction d of src in between. A
 * cancelled task fails at once: the call is a suspension point whether or not it would suspend.
 * Success spends budget, so a loop of operations that never wait still lets others run.
 * want > 0 marks a stream transfer of that many bytes: one that moves fewer has drained the
 * kernel's buffer, so the next call waits for an event instead of trying a doomed syscall. */
static ssize_t io_retry(io_source *src, enum io_dir d, io_attempt attempt, void *ctx, size_t want,
                        uint64_t deadline) {
    kobe_task *t = sched_current();
    if (!t) return -EPERM;
    if (sched_check_cancel(t)) return -ECANCELED;
    if (!io_source_enter(src)) return -EBADF;
    ssize_t rc;
    for (;;) {
        uint32_t seq = io_source_seq(src, d);
        rc = want && io_source_drained(src, d, seq) ? -EAGAIN : attempt(src->fd, ctx);
        if (rc != -EAGAIN) {
            if (want && rc > 0 && (size_t)rc < want) io_source_mark_drained(src, d, seq);
            break;
        }
        rc = reactor_await(src, d, seq, deadline);
        if (rc < 0) break;
    }
    io_source_leave(src);
    if (rc >= 0) sched_budget_spend();
    return rc;
}

static reactor *current_reactor(void) {
    kobe_task *t = sched_current();
    return t ? t->rt->reactor : NULL;
}

/* ---- listeners ----------------------------------------------------------------------------- */

int kobe_tcp_listen_addr(kobe_tcp_listener **out, const kobe_addr *addr,
                         const kobe_tcp_listen_opts *opts) {
    if (!out || !addr) return -EINVAL;
    *out = NULL;
    reactor *r = current_reactor();
    if (!r) return -EPERM;
    sock_listen_opts so = {.backlog = 0, .reuseaddr = true};
    if (opts) {
        so.backlog = opts->backlog;
        so.reuseaddr = !(opts->flags & KOBE_TCP_NO_REUSEADDR);
        so.reuseport = opts->flags & KOBE_TCP_REUSEPORT;
        so.ipv6_only = opts->flags & KOBE_TCP_IPV6_ONLY;
    }
    kobe_tcp_listener *l = malloc(sizeof *l);
    if (!l) return -ENOMEM;
    int fd = sock_bind(addr, SOCK_STREAM, &so);
    if (fd < 0) {
        free(l);
        return fd;
    }
    int rc = reactor_register(r, fd, &l->src);
    if (rc < 0) {
        close(fd);
        free(l);
        return rc;
    }
    atomic_init(&l->backoff_ms, 0);
    *out = l;
    return 0;
}

int kobe_tcp_listen(kobe_tcp_listener **out, const char *text, const kobe_tcp_listen_opts *opts) {
    if (!out) return -EINVAL;
    *out = NULL;
    kobe_addr a;
    int rc = kobe_addr_parse(&a, text);
    if (rc < 0) return rc;
    return kobe_tcp_listen_addr(out, &a, opts);
}

int kobe_tcp_listener_addr(kobe_tcp_listener *l, kobe_addr *out) {
    if (!l || !out) return -EINVAL;
    return sock_local_addr(l->src->fd, out);
}

typedef struct accept_ctx {
    kobe_addr peer;
} accept_ctx;

static ssize_t try_accept(int fd, void *ctx) {
    accept_ctx *a = ctx;
    a->peer.len = sizeof a->peer.ss;
    return sys_accept(fd, (struct sockaddr *)&a->peer.ss, &a->peer.len);
}

static bool out_of_resources(ssize_t rc) {
    return rc == -EMFILE || rc == -ENFILE || rc == -ENOBUFS || rc == -ENOMEM;
}

int kobe_tcp_accept(kobe_tcp_listener *l, kobe_tcp_stream **out, kobe_addr *peer) {
    if (!l || !out) return -EINVAL;
    *out = NULL;
    reactor *r = current_reactor();
    if (!r) return -EPERM;
    accept_ctx a;
    ssize_t fd = io_retry(l->src, IO_READ, try_accept, &a, 0, TIME_NONE);
    if (out_of_resources(fd)) {
        /* The pending connection stays queued and the listener stays readable: retrying at
         * once would spin. Back off, doubling, so the loop keeps serving without burning CPU. */
        unsigned b = atomic_load_explicit(&l->backoff_ms, memory_order_relaxed);
        b = b ? (b * 2 > 1000 ? 1000 : b * 2) : 5;
        atomic_store_explicit(&l->backoff_ms, b, memory_order_relaxed);
        int rc = kobe_sleep_ms(b);
        return rc < 0 ? rc : (int)fd;
    }
    if (fd < 0) return (int)fd;
    atomic_store_explicit(&l->backoff_ms, 0, memory_order_relaxed);
    kobe_tcp_stream *s = malloc(sizeof *s);
    int rc = s ? reactor_register(r, (int)fd, &s->src) : -ENOMEM;
    if (rc < 0) {
        close((int)fd);
        free(s);
        return rc;
    }
    if (peer) *peer = a.peer;
    *out = s;
    return 0;
}

int kobe_tcp_listener_close(kobe_tcp_listener *l) {
    if (!l) return -EINVAL;
    reactor_close(l->src);
    free(l);
    return 0;
}

/* ---- connecting ---------------------------------------------------------------------------- */

/* Waits for a non-blocking connect on src to finish, then says how it ended. */
static int connect_finish(io_source *src, uint32_t seq, uint64_t deadline) {
    for (;;) {
        int rc = reactor_await(src, IO_WRITE, seq, deadline);
        if (rc < 0) return rc;
        seq = io_source_seq(src, IO_WRITE);
        if ((rc = sock_take_error(src->fd)) < 0) return rc;
        kobe_addr peer;
        if (sock_peer_addr(src->fd, &peer) == 0) return 0;
        /* Woken, but neither connected nor failed yet: a stale event. Wait again. */
    }
}

static int connect_one(kobe_tcp_stream **out, const kobe_addr *addr, uint64_t deadline) {
    reactor *r = current_reactor();
    int family = kobe_addr_family(addr);
    if (family < 0) return family;
    int fd = sock_open(family, SOCK_STREAM);
    if (fd < 0) return fd;
    kobe_tcp_stream *s = malloc(sizeof *s);
    int rc = s ? reactor_register(r, fd, &s->src) : -ENOMEM;
    if (rc < 0) {
        close(fd);
        free(s);
        return rc;
    }
    uint32_t seq = io_source_seq(s->src, IO_WRITE);
    rc = sys_connect(fd, (const struct sockaddr *)&addr->ss, addr->len);
    if (rc == -EINPROGRESS) rc = connect_finish(s->src, seq, deadline);
    if (rc < 0) {
        reactor_close(s->src);
        free(s);
        return rc;
    }
    *out = s;
    return 0;
}

int kobe_tcp_connect_addr(kobe_tcp_stream **out, const kobe_addr *addr, int64_t timeout_ms) {
    if (!out || !addr) return -EINVAL;
    *out = NULL;
    kobe_task *t = sched_current();
    if (!t) return -EPERM;
    if (sched_check_cancel(t)) return -ECANCELED;
    int rc = connect_one(out, addr, time_deadline_in(timeout_ms));
    if (rc == 0) sched_budget_spend();
    return rc;
}

int kobe_tcp_connect(kobe_tcp_stream **out, const char *hostport, int64_t timeout_ms) {
    if (!out || !hostport) return -EINVAL;
    *out = NULL;
    kobe_task *t = sched_current();
    if (!t) return -EPERM;
    if (sched_check_cancel(t)) return -ECANCELED;
    uint64_t deadline = time_deadline_in(timeout_ms);
    kobe_addr addrs[8];
    int n = kobe_resolve_hostport(hostport, addrs, 8);
    if (n < 0) return n;
    int rc = -ECONNREFUSED;
    /* Each address in turn, as the resolver ordered them, all within the one deadline. */
    for (int i = 0; i < n; i++) {
        rc = connect_one(out, &addrs[i], deadline);
        if (rc == 0 || rc == -ETIMEDOUT || rc == -ECANCELED) break;
    }
    if (rc == 0) sched_budget_spend();
    return rc;
}

/* ---- reading and writing ------------------------------------------------------------------- */

typedef struct buf_ctx {
    void *buf;
    size_t n;
} buf_ctx;

static ssize_t try_read(int fd, void *ctx) {
    buf_ctx *b = ctx;
    return sys_recv(fd, b->buf, b->n, 0);
}

static ssize_t try_write(int fd, void *ctx) {
    buf_ctx *b = ctx;
    return sys_send(fd, b->buf, b->n, 0);
}

ssize_t kobe_tcp_read(kobe_tcp_stream *s, void *buf, size_t n) {
    if (!s || (!buf && n)) return -EINVAL;
    if (n == 0) return sched_current() ? 0 : -EPERM;
    buf_ctx b = {buf, n};
    return io_retry(s->src, IO_READ, try_read, &b, n, TIME_NONE);
}

ssize_t kobe_tcp_write(kobe_tcp_stream *s, const void *buf, size_t n) {
    if (!s || (!buf && n)) return -EINVAL;
    if (n == 0) return sched_current() ? 0 : -EPERM;
    buf_ctx b = {(void *)buf, n};
    return io_retry(s->src, IO_WRITE, try_write, &b, n, TIME_NONE);
}

ssize_t kobe_tcp_read_exact(kobe_tcp_stream *s, void *buf, size_t n, size_t *got) {
    size_t done = 0;
    ssize_t rc = 0;
    if (got) *got = 0;
    if (!s || (!buf && n)) return -EINVAL;
    while (done < n) {
        rc = kobe_tcp_read(s, (char *)buf + done, n - done);
        if (rc <= 0) break;
        done += (size_t)rc;
    }
    if (got) *got = done;
    if (done == n) return (ssize_t)n;
    return rc == 0 ? -ENODATA : rc;
}

ssize_t kobe_tcp_write_all(kobe_tcp_stream *s, const void *buf, size_t n, size_t *sent) {
    size_t done = 0;
    ssize_t rc = 0;
    if (sent) *sent = 0;
    if (!s || (!buf && n)) return -EINVAL;
    while (done < n) {
        rc = kobe_tcp_write(s, (const char *)buf + done, n - done);
        if (rc < 0) break;
        done += (size_t)rc;
    }
    if (sent) *sent = done;
    return done == n ? (ssize_t)n : rc;
}

typedef struct iov_ctx {
    const struct iovec *iov;
    int iovcnt;
} iov_ctx;

static ssize_t try_writev(int fd, void *ctx) {
    iov_ctx *v = ctx;
    struct msghdr m;
    memset(&m, 0, sizeof m);
    m.msg_iov = (struct iovec *)v->iov;
    m.msg_iovlen = (size_t)v->iovcnt;
    return sys_sendmsg(fd, &m, 0);
}

ssize_t kobe_tcp_writev(kobe_tcp_stream *s, const struct iovec *iov, int iovcnt) {
    if (!s || iovcnt < 0 || (!iov && iovcnt)) return -EINVAL;
    size_t total = 0;
    for (int i = 0; i < iovcnt; i++) {
        if (!iov[i].iov_base && iov[i].iov_len) return -EINVAL;
        total += iov[i].iov_len;
    }
    if (total == 0) return sched_current() ? 0 : -EPERM;
    iov_ctx v = {iov, iovcnt};
    return io_retry(s->src, IO_WRITE, try_writev, &v, total, TIME_NONE);
}

int kobe_tcp_shutdown(kobe_tcp_stream *s, int how) {
    if (!s || (how != SHUT_RD && how != SHUT_WR && how != SHUT_RDWR)) return -EINVAL;
    return sys_shutdown(s->src->fd, how);
}

int kobe_tcp_close(kobe_tcp_stream *s) {
    if (!s) return -EINVAL;
    reactor_close(s->src);
    free(s);
    return 0;
}

/* ---- addresses and options ----------------------------------------------------------------- */

int kobe_tcp_local_addr(kobe_tcp_stream *s, kobe_addr *out) {
    return s && out ? sock_local_addr(s->src->fd, out) : -EINVAL;
}
int kobe_tcp_peer_addr(kobe_tcp_stream *s, kobe_addr *out) {
    return s && out ? sock_peer_addr(s->src->fd, out) : -EINVAL;
}
int kobe_tcp_set_nodelay(kobe_tcp_stream *s, bool on) {
    return s ? sock_set_nodelay(s->src->fd, on) : -EINVAL;
}
int kobe_tcp_nodelay(kobe_tcp_stream *s, bool *on) {
    return s ? sock_get_nodelay(s->src->fd, on) : -EINVAL;
}
int kobe_tcp_set_keepalive(kobe_tcp_stream *s, bool on, int idle_secs) {
    return s ? sock_set_keepalive(s->src->fd, on, idle_secs) : -EINVAL;
}
int kobe_tcp_keepalive(kobe_tcp_stream *s, bool *on) {
    return s ? sock_get_keepalive(s->src->fd, on) : -EINVAL;
}
int kobe_tcp_set_linger(kobe_tcp_stream *s, int secs) {
    return s ? sock_set_linger(s->src->fd, secs) : -EINVAL;
}
int kobe_tcp_linger(kobe_tcp_stream *s, int *secs) {
    return s ? sock_get_linger(s->src->fd, secs) : -EINVAL;
}
int kobe_tcp_set_recv_buffer(kobe_tcp_stream *s, int bytes) {
    return s ? sock_set_recv_buffer(s->src->fd, bytes) : -EINVAL;
}
int kobe_tcp_recv_buffer(kobe_tcp_stream *s, int *bytes) {
    return s ? sock_get_recv_buffer(s->src->fd, bytes) : -EINVAL;
}
int kobe_tcp_set_send_buffer(kobe_tcp_stream *s, int bytes) {
    return s ? sock_set_send_buffer(s->src->fd, bytes) : -EINVAL;
}
int kobe_tcp_send_buffer(kobe_tcp_stream *s, int *bytes) {
    return s ? sock_get_send_buffer(s->src->fd, bytes) : -EINVAL;
}
int kobe_tcp_fd(kobe_tcp_stream *s) {
    return s ? s->src->fd : -EINVAL;
}
