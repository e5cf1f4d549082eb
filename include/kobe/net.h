/* Socket addresses: parsing "host:port" and "[v6]:port" text, formatting, and name resolution.
 *
 * Parsing is numeric only and never blocks: "127.0.0.1:80", "[::1]:8080", "[fe80::1%eth0]:80".
 * kobe_resolve() turns a host name into addresses on the blocking pool (it suspends the task).
 */
#ifndef KOBE_NET_H
#define KOBE_NET_H

#include <stddef.h>
#include <sys/socket.h>

#ifdef __cplusplus
extern "C" {
#endif

/* An IPv4 or IPv6 socket address. Plain data: copy it freely. */
typedef struct kobe_addr {
    socklen_t len; /* 0 for an empty address */
    struct sockaddr_storage ss;
} kobe_addr;

/* Longest text kobe_addr_format can produce, with its NUL: "[v6%scope]:65535". */
#define KOBE_ADDR_STRLEN 80

/* Parses a numeric "a.b.c.d:port" or "[v6]:port" (port 0..65535, decimal, required).
 * Returns 0, or -EINVAL for NULL, "", a missing or out-of-range port, an unclosed bracket, or a
 * host that is not a numeric address (use kobe_resolve for names). */
int kobe_addr_parse(kobe_addr *out, const char *text);

/* Builds an address from a numeric host ("1.2.3.4", "::1", no brackets) and a port.
 * Returns 0 or -EINVAL. */
int kobe_addr_from_ip(kobe_addr *out, const char *ip, int port);

/* Writes "a.b.c.d:port" or "[v6]:port" into buf (an IPv6 scope as its index: "[fe80::1%2]:80").
 * Returns the text's length, -EINVAL for a NULL buf or a NULL or unsupported address, -ENOSPC if
 * buf is too small (buf then holds "" when size > 0): never a cut-off address. */
int kobe_addr_format(const kobe_addr *a, char *buf, size_t size);

/* The port in host byte order, or -EINVAL. */
int kobe_addr_port(const kobe_addr *a);

/* The address family (AF_INET or AF_INET6), or -EINVAL. */
int kobe_addr_family(const kobe_addr *a);

/* Resolves host (a name or a numeric address) to at most max addresses with the given port, on
 * the blocking pool (the task suspends; outside a task the thread blocks). Returns how many were
 * written (>= 1), or -EINVAL (NULL host or out, max == 0, port out of range), -ENOENT (no such
 * host), -EAGAIN (temporary failure), -ENOMEM. */
int kobe_resolve(const char *host, int port, kobe_addr *out, size_t max);

/* Splits "host:port" / "[v6]:port" and resolves it, trying the numeric parse first. Returns as
 * kobe_resolve. */
int kobe_resolve_hostport(const char *hostport, kobe_addr *out, size_t max);

#ifdef __cplusplus
}
#endif

#endif
