/* TCP: listeners and streams. Every call that would block suspends only the calling task, and
 * honours the task's deadline (kobe/time.h): past it, the call returns -ETIMEDOUT.
 *
 * Errors are values, never signals: a write to a closed peer returns -EPIPE (SIGPIPE is never
 * raised), a reset peer -ECONNRESET. Closing a stream or listener while another task waits in
 * it wakes that task with -EBADF. Calls on a stream after kobe_tcp_close returned are invalid
 * (the handle is freed), like any use after free.
 *
 * These calls need a task; outside one they return -EPERM. */
#ifndef KOBE_TCP_H
#define KOBE_TCP_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>
#include <sys/uio.h>

#include "kobe/net.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct kobe_tcp_listener kobe_tcp_listener;
typedef struct kobe_tcp_stream kobe_tcp_stream;

enum {
    KOBE_TCP_REUSEPORT = 1u << 0,    /* SO_REUSEPORT: several listeners share the port */
    KOBE_TCP_IPV6_ONLY = 1u << 1,    /* IPV6_V6ONLY on an IPv6 listener */
    KOBE_TCP_NO_REUSEADDR = 1u << 2, /* SO_REUSEADDR is on by default, as in Rust and Go */
};

/* Zero means default for every field. */
typedef struct kobe_tcp_listen_opts {
    int backlog; /* <= 0: SOMAXCONN */
    unsigned flags;
} kobe_tcp_listen_opts;

/* Listens on "a.b.c.d:port" or "[v6]:port" (numeric; port 0 picks a free port, readable with
 * kobe_tcp_listener_addr). Returns 0, -EINVAL (NULL or malformed address), -EADDRINUSE, ... */
int kobe_tcp_listen(kobe_tcp_listener **out, const char *addr, const kobe_tcp_listen_opts *opts);
int kobe_tcp_listen_addr(kobe_tcp_listener **out, const kobe_addr *addr,
                         const kobe_tcp_listen_opts *opts);
int kobe_tcp_listener_addr(kobe_tcp_listener *l, kobe_addr *out);

/* Waits for a connection. peer (optional) receives its address. When the process is out of file
 * descriptors (-EMFILE, -ENFILE) or memory (-ENOBUFS, -ENOMEM), accept waits a back-off (5 ms,
 * doubling to 1 s, reset by a success) before returning the error, so a loop that retries at
 * once keeps serving without spinning. */
int kobe_tcp_accept(kobe_tcp_listener *l, kobe_tcp_stream **out, kobe_addr *peer);

/* Closes the listener; tasks waiting in accept wake with -EBADF. */
int kobe_tcp_listener_close(kobe_tcp_listener *l);

/* Connects to "host:port" (a name is resolved on the blocking pool; each address is tried in
 * turn) within timeout_ms (< 0: no limit of its own; the task deadline still applies). Returns 0,
 * -ETIMEDOUT, -ECONNREFUSED, -ENETUNREACH, -ENOENT (unknown host), -EINVAL. */
int kobe_tcp_connect(kobe_tcp_stream **out, const char *hostport, int64_t timeout_ms);
int kobe_tcp_connect_addr(kobe_tcp_stream **out, const kobe_addr *addr, int64_t timeout_ms);

/* Reads at most n bytes: the count (>= 1), 0 at end of stream (or when n is 0), or -errno. */
ssize_t kobe_tcp_read(kobe_tcp_stream *s, void *buf, size_t n);

/* Reads exactly n bytes: n, or -ENODATA when the stream ended first (*got, if non-NULL, says how
 * many bytes did arrive, and they are in buf), or another -errno. */
ssize_t kobe_tcp_read_exact(kobe_tcp_stream *s, void *buf, size_t n, size_t *got);

/* Writes at most n bytes: the count (>= 1; 0 when n is 0), or -errno. */
ssize_t kobe_tcp_write(kobe_tcp_stream *s, const void *buf, size_t n);

/* Writes all n bytes, through partial writes: n, or -errno (then *sent, if non-NULL, says how
 * many bytes were handed to the kernel before the error). */
ssize_t kobe_tcp_write_all(kobe_tcp_stream *s, const void *buf, size_t n, size_t *sent);

/* Writes the buffers in order, at most once through (a partial count is possible). */
ssize_t kobe_tcp_writev(kobe_tcp_stream *s, const struct iovec *iov, int iovcnt);

/* Half-close: SHUT_RD, SHUT_WR (the peer reads end of stream) or SHUT_RDWR. */
int kobe_tcp_shutdown(kobe_tcp_stream *s, int how);

/* Closes the stream and frees it; tasks waiting in it wake with -EBADF. */
int kobe_tcp_close(kobe_tcp_stream *s);

int kobe_tcp_local_addr(kobe_tcp_stream *s, kobe_addr *out);
int kobe_tcp_peer_addr(kobe_tcp_stream *s, kobe_addr *out);

/* Socket options, as net2 offered them. Each returns 0 or -errno. */
int kobe_tcp_set_nodelay(kobe_tcp_stream *s, bool on);
int kobe_tcp_nodelay(kobe_tcp_stream *s, bool *on);
int kobe_tcp_set_keepalive(kobe_tcp_stream *s, bool on, int idle_secs);
int kobe_tcp_keepalive(kobe_tcp_stream *s, bool *on);
int kobe_tcp_set_linger(kobe_tcp_stream *s, int secs); /* < 0: off */
int kobe_tcp_linger(kobe_tcp_stream *s, int *secs);
int kobe_tcp_set_recv_buffer(kobe_tcp_stream *s, int bytes);
int kobe_tcp_recv_buffer(kobe_tcp_stream *s, int *bytes);
int kobe_tcp_set_send_buffer(kobe_tcp_stream *s, int bytes);
int kobe_tcp_send_buffer(kobe_tcp_stream *s, int *bytes);

/* The underlying descriptor, for options kobe does not wrap; do not close it or change its
 * blocking mode. */
int kobe_tcp_fd(kobe_tcp_stream *s);

#ifdef __cplusplus
}
#endif

#endif
