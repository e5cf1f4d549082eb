/* System calls that return -errno instead of setting errno.
 *
 * glibc declares __errno_location() const, so a compiler may compute the address of errno once
 * and reuse it across a call that switches tasks; after the task migrates, that address is
 * another thread's errno. So errno is read only here, in functions kept out of line, in their own
 * translation unit, and never spanning a switch. Every one retries EINTR where retrying is right
 * (not for close, whose fd is gone either way). */
#ifndef KOBE_UTIL_SYS_H
#define KOBE_UTIL_SYS_H

#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/uio.h>

ssize_t sys_recv(int fd, void *buf, size_t n, int flags);
ssize_t sys_send(int fd, const void *buf, size_t n, int flags);
ssize_t sys_sendmsg(int fd, const struct msghdr *m, int flags);
ssize_t sys_recvfrom(int fd, void *buf, size_t n, int flags, struct sockaddr *a, socklen_t *alen);
ssize_t sys_sendto(int fd, const void *buf, size_t n, int flags, const struct sockaddr *a,
                   socklen_t alen);
int sys_accept(int fd, struct sockaddr *a, socklen_t *alen);
int sys_connect(int fd, const struct sockaddr *a, socklen_t alen);
int sys_shutdown(int fd, int how);

#endif
