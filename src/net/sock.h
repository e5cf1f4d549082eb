/* Socket plumbing shared by TCP and UDP: creating non-blocking sockets and setting options.
 *
 * Everything here works on a raw fd, never suspends, and returns 0 or -errno. The public TCP and
 * UDP calls wrap these; nothing here knows about tasks or the reactor.
 */
#ifndef KOBE_NET_SOCK_H
#define KOBE_NET_SOCK_H

#include <stdbool.h>
#include <stddef.h>

#include "kobe/net.h"

/* A non-blocking, close-on-exec socket of family (AF_INET or AF_INET6) and type (SOCK_STREAM or
 * SOCK_DGRAM); anything else is -EINVAL. Where the platform has SO_NOSIGPIPE it is set, so a
 * write to a closed peer never raises SIGPIPE. Returns the fd or -errno. */
int sock_open(int family, int type);

/* Options for sock_listen, all optional. */
typedef struct sock_listen_opts {
    int backlog;    /* <= 0: SOMAXCONN */
    bool reuseaddr; /* SO_REUSEADDR */
    bool reuseport; /* SO_REUSEPORT; -EOPNOTSUPP where the platform lacks it */
    bool ipv6_only; /* IPV6_V6ONLY, only meaningful for AF_INET6 */
} sock_listen_opts;

/* Creates a socket of type (SOCK_STREAM or SOCK_DGRAM), applies opts, binds it to addr and, for
 * a stream socket, listens. Returns the fd or -errno; no fd is leaked on failure. */
int sock_bind(const kobe_addr *addr, int type, const sock_listen_opts *opts);

/* Local and peer address of a socket. */
int sock_local_addr(int fd, kobe_addr *out);
int sock_peer_addr(int fd, kobe_addr *out);

/* Options. Each returns 0 or -errno (-EINVAL for a negative size or fd). Buffer getters may
 * report more than was set: the kernel doubles the value for its bookkeeping. */
int sock_set_nodelay(int fd, bool on);
int sock_get_nodelay(int fd, bool *on);
int sock_set_keepalive(int fd, bool on, int idle_secs); /* idle_secs <= 0: system default */
int sock_get_keepalive(int fd, bool *on);
int sock_set_linger(int fd, int secs);  /* secs < 0 turns lingering off */
int sock_get_linger(int fd, int *secs); /* -1 when off */
int sock_set_recv_buffer(int fd, int bytes);
int sock_get_recv_buffer(int fd, int *bytes);
int sock_set_send_buffer(int fd, int bytes);
int sock_get_send_buffer(int fd, int *bytes);
int sock_set_broadcast(int fd, bool on);
int sock_get_broadcast(int fd, bool *on);
int sock_set_ttl(int fd, int ttl); /* 1..255; on an IPv6 socket, the hop limit */

/* The pending error of a socket (SO_ERROR) as -errno, or 0. Used to finish a non-blocking
 * connect. */
int sock_take_error(int fd);

#endif
