/* Socket plumbing shared by TCP and UDP (interface in sock.h): non-blocking close-on-exec
 * sockets, binding with options, addresses, and the option setters and getters. */
#include "net/sock.h"

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

int sock_open(int family, int type) {
    if (family != AF_INET && family != AF_INET6) return -EINVAL;
#if defined(SOCK_NONBLOCK) && defined(SOCK_CLOEXEC)
    int fd = socket(family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
#else
    int fd = socket(family, type, 0);
    if (fd < 0) return -errno;
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0 || fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) {
        int e = errno;
        close(fd);
        return -e;
    }
#endif
#ifdef SO_NOSIGPIPE
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_NOSIGPIPE, &one, sizeof one); /* writes use MSG_NOSIGNAL too */
#endif
    return fd;
}

static int set_int(int fd, int level, int name, int v) {
    if (fd < 0) return -EBADF;
    return setsockopt(fd, level, name, &v, sizeof v) < 0 ? -errno : 0;
}

static int get_int(int fd, int level, int name, int *v) {
    if (fd < 0) return -EBADF;
    if (!v) return -EINVAL;
    socklen_t len = sizeof *v;
    return getsockopt(fd, level, name, v, &len) < 0 ? -errno : 0;
}

int sock_bind(const kobe_addr *addr, int type, const sock_listen_opts *opts) {
    int family = kobe_addr_family(addr);
    if (family < 0) return family;
    int fd = sock_open(family, type);
    if (fd < 0) return fd;
    int rc = 0;
    if (opts && opts->reuseaddr) rc = set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1);
    if (rc == 0 && opts && opts->reuseport) {
#ifdef SO_REUSEPORT
        rc = set_int(fd, SOL_SOCKET, SO_REUSEPORT, 1);
#else
        rc = -EOPNOTSUPP;
#endif
    }
    if (rc == 0 && family == AF_INET6 && opts)
        rc = set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, opts->ipv6_only ? 1 : 0);
    if (rc == 0 && bind(fd, (const struct sockaddr *)&addr->ss, addr->len) < 0) rc = -errno;
    if (rc == 0 && type == SOCK_STREAM) {
        int backlog = opts && opts->backlog > 0 ? opts->backlog : SOMAXCONN;
        if (listen(fd, backlog) < 0) rc = -errno;
    }
    if (rc < 0) close(fd);
    return rc < 0 ? rc : fd;
}

static int name_of(int fd, kobe_addr *out, bool peer) {
    if (fd < 0) return -EBADF;
    if (!out) return -EINVAL;
    memset(out, 0, sizeof *out);
    socklen_t len = sizeof out->ss;
    int r = peer ? getpeername(fd, (struct sockaddr *)&out->ss, &len)
                 : getsockname(fd, (struct sockaddr *)&out->ss, &len);
    if (r < 0) return -errno;
    out->len = len;
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
    int v = 0, rc = on ? get_int(fd, IPPROTO_TCP, TCP_NODELAY, &v) : -EINVAL;
    if (rc == 0) *on = v != 0;
    return rc;
}

int sock_set_keepalive(int fd, bool on, int idle_secs) {
    int rc = set_int(fd, SOL_SOCKET, SO_KEEPALIVE, on);
#ifdef TCP_KEEPIDLE
    if (rc == 0 && on && idle_secs > 0) rc = set_int(fd, IPPROTO_TCP, TCP_KEEPIDLE, idle_secs);
#else
    (void)idle_secs;
#endif
    return rc;
}

int sock_get_keepalive(int fd, bool *on) {
    int v = 0, rc = on ? get_int(fd, SOL_SOCKET, SO_KEEPALIVE, &v) : -EINVAL;
    if (rc == 0) *on = v != 0;
    return rc;
}

int sock_set_linger(int fd, int secs) {
    if (fd < 0) return -EBADF;
    struct linger l = {.l_onoff = secs >= 0, .l_linger = secs >= 0 ? secs : 0};
    return setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof l) < 0 ? -errno : 0;
}

int sock_get_linger(int fd, int *secs) {
    if (fd < 0) return -EBADF;
    if (!secs) return -EINVAL;
    struct linger l;
    socklen_t len = sizeof l;
    if (getsockopt(fd, SOL_SOCKET, SO_LINGER, &l, &len) < 0) return -errno;
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
    int v = 0, rc = on ? get_int(fd, SOL_SOCKET, SO_BROADCAST, &v) : -EINVAL;
    if (rc == 0) *on = v != 0;
    return rc;
}

int sock_set_ttl(int fd, int ttl) {
    return ttl < 0 || ttl > 255 ? -EINVAL : set_int(fd, IPPROTO_IP, IP_TTL, ttl);
}

int sock_take_error(int fd) {
    int err = 0, rc = get_int(fd, SOL_SOCKET, SO_ERROR, &err);
    return rc < 0 ? rc : -err;
}
