/* Socket plumbing shared by TCP and UDP (interface in sock.h): non-blocking close-on-exec
 * sockets, binding with listener options, local and peer addresses, and option setters and
 * getters, all on raw fds and all returning 0 or -errno.
 */
#include "net/sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* macOS counts SO_LINGER in clock ticks; SO_LINGER_SEC is the same option in seconds. */
#ifdef SO_LINGER_SEC
#define LINGER_OPT SO_LINGER_SEC
#else
#define LINGER_OPT SO_LINGER
#endif

/* Closes an fd we are giving up on and returns the error that made us give up. close()'s own
 * result is not reported: err is the cause, and the fd is released even when close fails. */
static int fail_closed(int fd, int err) {
    close(fd);
    return err;
}

static int set_int(int fd, int level, int name, int v) {
    if (fd < 0) return -EINVAL;
    return setsockopt(fd, level, name, &v, sizeof v) < 0 ? -errno : 0;
}

static int get_int(int fd, int level, int name, int *v) {
    if (fd < 0 || !v) return -EINVAL;
    int got = 0;
    socklen_t len = sizeof got;
    if (getsockopt(fd, level, name, &got, &len) < 0) return -errno;
    *v = got;
    return 0;
}

static int get_bool(int fd, int level, int name, bool *on) {
    if (!on) return -EINVAL;
    int v = 0, rc = get_int(fd, level, name, &v);
    if (rc == 0) *on = v != 0;
    return rc;
}

#if !defined(SOCK_NONBLOCK) || !defined(SOCK_CLOEXEC)
/* For systems without socket() flags. Another thread's fork+exec between socket() and here can
 * still inherit the fd; only the flags close that window, which is why they are preferred. */
static int set_fd_flags(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -errno;
    int fdfl = fcntl(fd, F_GETFD);
    if (fdfl < 0 || fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC) < 0) return -errno;
    return 0;
}
#endif

int sock_open(int family, int type) {
    if (family != AF_INET && family != AF_INET6) return -EINVAL;
    if (type != SOCK_STREAM && type != SOCK_DGRAM) return -EINVAL;
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
#else
    int fd = socket(family, type, 0);
    if (fd < 0) return -errno;
    int rc = set_fd_flags(fd);
    if (rc < 0) return fail_closed(fd, rc);
#endif
#ifdef SO_NOSIGPIPE
    /* Writes also pass MSG_NOSIGNAL where it exists; this covers systems that only have this. */
    int nosig = set_int(fd, SOL_SOCKET, SO_NOSIGPIPE, 1);
    if (nosig < 0) return fail_closed(fd, nosig);
#endif
    return fd;
}

/* Sets IPV6_V6ONLY either way rather than leaving the system default, so "[::]:port" means the
 * same on every host (Linux's default follows a sysctl; the BSDs default to v6-only). */
static int set_v6only(int fd, bool on) {
    int rc = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, on);
    /* Some systems (OpenBSD) have no dual-stack sockets and refuse to clear the flag; the socket
     * is then v6-only, which is all they offer, so that refusal is not an error. */
    return on ? rc : 0;
}

int sock_bind(const kobe_addr *addr, int type, const sock_listen_opts *opts) {
    static const sock_listen_opts defaults; /* all off, backlog SOMAXCONN */
    if (!opts) opts = &defaults;
    int family = kobe_addr_family(addr);
    if (family < 0) return family;
#ifndef SO_REUSEPORT
    if (opts->reuseport) return -EOPNOTSUPP; /* before creating anything */
#endif
    int fd = sock_open(family, type);
    if (fd < 0) return fd;
    int rc = 0;
    if (opts->reuseaddr) rc = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
#ifdef SO_REUSEPORT
    if (rc == 0 && opts->reuseport) rc = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
#endif
    if (rc == 0 && family == AF_INET6) rc = set_v6only(fd, opts->ipv6_only);
    if (rc == 0 && bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0) rc = -errno;
    if (rc == 0 && type == SOCK_STREAM) {
        int backlog = opts->backlog > 0 ? opts->backlog : SOMAXCONN;
        if (listen(fd, backlog) < 0) rc = -errno;
    }
    return rc < 0 ? fail_closed(fd, rc) : fd;
}

static int name_of(int fd, kobe_addr *out, bool peer) {
    if (fd < 0 || !out) return -EINVAL;
    memset(out, 0, sizeof *out);
    socklen_t len = sizeof out->ss;
    int r = peer ? getpeername(fd, (struct sockaddr *)&out->ss, &len)
                 : getsockname(fd, (struct sockaddr *)&out->ss, &len);
    if (r < 0) {
        int e = errno;
        memset(out, 0, sizeof *out);
        return -e;
    }
    out->len = len < sizeof out->ss ? len : sizeof out->ss; /* len reports the full size */
    return 0;
}

int sock_local_addr(int fd, kobe_addr *out) {
    return name_of(fd, out, false);
}

int sock_peer_addr(int fd, kobe_addr *out) {
    return name_of(fd, out, true);
}

int sock_set_nodelay(int fd, bool on) {
    return set_int(fd, IPPROTO_TCP, TCP_NODELAY, on);
}

int sock_get_nodelay(int fd, bool *on) {
    return get_bool(fd, IPPROTO_TCP, TCP_NODELAY, on);
}

int sock_set_keepalive(int fd, bool on, int idle_secs) {
    int rc = set_int(fd, SOL_SOCKET, SO_KEEPALIVE, on);
    if (rc < 0 || !on || idle_secs <= 0) return rc;
#if defined(TCP_KEEPIDLE)
    return set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, idle_secs);
#elif defined(TCP_KEEPALIVE)
    return set_int(fd, IPPROTO_TCP, TCP_KEEPALIVE, idle_secs); /* macOS's name for it */
#else
    return 0; /* no way to choose the idle time here: the system default applies */
#endif
}

int sock_get_keepalive(int fd, bool *on) {
    return get_bool(fd, SOL_SOCKET, SO_KEEPALIVE, on);
}

int sock_set_linger(int fd, int secs) {
    if (fd < 0) return -EINVAL;
    struct linger l;
    memset(&l, 0, sizeof l);
    l.l_onoff = secs >= 0;
    l.l_linger = secs >= 0 ? secs : 0;
    return setsockopt(fd, SOL_SOCKET, LINGER_OPT, &l, sizeof l) < 0 ? -errno : 0;
}

int sock_get_linger(int fd, int *secs) {
    if (fd < 0 || !secs) return -EINVAL;
    struct linger l;
    memset(&l, 0, sizeof l);
    socklen_t len = sizeof l;
    if (getsockopt(fd, SOL_SOCKET, LINGER_OPT, &l, &len) < 0) return -errno;
    *secs = l.l_onoff ? l.l_linger : -1;
    return 0;
}

int sock_set_recv_buffer(int fd, int bytes) {
    return bytes < 0 ? -EINVAL : set_int(fd, SOL_SOCKET, SO_RCVBUF, bytes);
}

int sock_get_recv_buffer(int fd, int *bytes) {
    return get_int(fd, SOL_SOCKET, SO_RCVBUF, bytes);
}

int sock_set_send_buffer(int fd, int bytes) {
    return bytes < 0 ? -EINVAL : set_int(fd, SOL_SOCKET, SO_SNDBUF, bytes);
}

int sock_get_send_buffer(int fd, int *bytes) {
    return get_int(fd, SOL_SOCKET, SO_SNDBUF, bytes);
}

int sock_set_broadcast(int fd, bool on) {
    return set_int(fd, SOL_SOCKET, SO_BROADCAST, on);
}

int sock_get_broadcast(int fd, bool *on) {
    return get_bool(fd, SOL_SOCKET, SO_BROADCAST, on);
}

int sock_set_ttl(int fd, int ttl) {
    if (fd < 0 || ttl < 1 || ttl > 255) return -EINVAL;
    kobe_addr local;
    int rc = sock_local_addr(fd, &local);
    if (rc < 0) return rc;
    if (local.ss.ss_family != AF_INET6) return set_int(fd, IPPROTO_IP, IP_TTL, ttl);
    rc = set_int(fd, IPPROTO_IPV6, IPV6_UNICAST_HOPS, ttl);
    /* A dual-stack socket sends to IPv4-mapped peers with the IPv4 TTL. Systems that keep no
     * such TTL on an IPv6 socket refuse this, and then there is nothing more to set. */
    if (rc == 0) (void)set_int(fd, IPPROTO_IP, IP_TTL, ttl);
    return rc;
}

int sock_take_error(int fd) {
    int err = 0, rc = get_int(fd, SOL_SOCKET, SO_ERROR, &err);
    if (rc < 0) return rc;
    return err > 0 ? -err : 0;
}
