/* errno-free system call wrappers (see sys.h for why they exist and live here). */
#include "util/sys.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>

#define NOINLINE __attribute__((noinline))

NOINLINE ssize_t sys_recv(int fd, void *buf, size_t n, int flags) {
    ssize_t r;
    while ((r = recv(fd, buf, n, flags)) < 0 && errno == EINTR) {
    }
    return r < 0 ? -errno : r;
}

NOINLINE ssize_t sys_send(int fd, const void *buf, size_t n, int flags) {
    ssize_t r;
    while ((r = send(fd, buf, n, flags | MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    return r < 0 ? -errno : r;
}

NOINLINE ssize_t sys_sendmsg(int fd, const struct msghdr *m, int flags) {
    ssize_t r;
    while ((r = sendmsg(fd, m, flags | MSG_NOSIGNAL)) < 0 && errno == EINTR) {
    }
    return r < 0 ? -errno : r;
}

NOINLINE ssize_t sys_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a,
                              socklen_t *alen) {
    ssize_t r;
    while ((r = recvfrom(fd, buf, n, flags, a, alen)) < 0 && errno == EINTR) {
    }
    return r < 0 ? -errno : r;
}

NOINLINE ssize_t sys_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a,
                            socklen_t alen) {
    ssize_t r;
    while ((r = sendto(fd, buf, n, flags | MSG_NOSIGNAL, a, alen)) < 0 && errno == EINTR) {
    }
    return r < 0 ? -errno : r;
}

NOINLINE int sys_accept(int fd, struct sockaddr *a, socklen_t *alen) {
    int r;
    while ((r = accept4(fd, a, alen, SOCK_NONBLOCK | SOCK_CLOEXEC)) < 0 && errno == EINTR) {
    }
    return r < 0 ? -errno : r;
}

/* A connect interrupted by a signal goes on in the background: report it as in progress. */
NOINLINE int sys_connect(int fd, const struct sockaddr *a, socklen_t alen) {
    if (connect(fd, a, alen) == 0) return 0;
    return errno == EINTR ? -EINPROGRESS : -errno;
}

NOINLINE int sys_shutdown(int fd, int how) {
    return shutdown(fd, how) < 0 ? -errno : 0;
}
