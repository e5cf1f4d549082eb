/* Socket addresses (interface in kobe/net.h): strict numeric parsing of "a.b.c.d:port" and
 * "[v6%scope]:port", and formatting back to the same text.
 *
 * Nothing here blocks or resolves names: text that is not a numeric address is rejected, and
 * kobe_resolve handles names on the blocking pool. Every input is copied into a fixed local buffer
 * with a bounded length first, so no input length can overflow anything.
 */
#include "kobe/net.h"

#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

/* Room for the longest numeric host: a v4-mapped IPv6 address, '%', and an interface name or a
 * 10-digit index. Anything longer cannot be a numeric address, so it is rejected unread. */
#define HOST_MAX (INET6_ADDRSTRLEN + IF_NAMESIZE + 12)

/* A port: decimal digits only (no sign, space or "0x"), 0..65535. Returns it, or -1. */
static int parse_port(const char *s) {
    if (!*s) return -1;
    long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return -1;
        v = v * 10 + (*s - '0');
        if (v > 65535) return -1; /* stop before a long digit string could overflow */
    }
    return (int)v;
}

/* An IPv6 scope: a decimal interface index ("%2") or an interface name ("%eth0"). A string of
 * digits is always read as an index, so the result does not depend on which interfaces exist.
 * Index 0 means "no scope" to the kernel, so writing it explicitly is rejected as a mistake. */
static int parse_scope(const char *s, uint32_t *out) {
    if (!*s) return -EINVAL;
    if (strspn(s, "0123456789") == strlen(s)) {
        uint64_t v = 0;
        for (; *s; s++) {
            v = v * 10 + (uint64_t)(*s - '0');
            if (v > UINT32_MAX) return -EINVAL;
        }
        if (v == 0) return -EINVAL;
        *out = (uint32_t)v;
        return 0;
    }
    if (strlen(s) >= IF_NAMESIZE) return -EINVAL;
    unsigned idx = if_nametoindex(s);
    if (idx == 0) return -EINVAL; /* no such interface (or no way to ask): not an address */
    *out = idx;
    return 0;
}

/* Fills out from a numeric host. family says what the caller's syntax allows: AF_INET for a bare
 * host in "host:port", AF_INET6 for a bracketed one, AF_UNSPEC for kobe_addr_from_ip. The
 * sockaddr is built locally and copied in whole, so out never holds a half-written address.
 * host is modified (the '%' of a scope is cut). */
static int fill(kobe_addr *out, char *host, int port, int family) {
    if (family != AF_INET6) {
        struct sockaddr_in v4;
        memset(&v4, 0, sizeof v4);
        if (inet_pton(AF_INET, host, &v4.sin_addr) == 1) {
            v4.sin_family = AF_INET;
            v4.sin_port = htons((uint16_t)port);
            memcpy(&out->ss, &v4, sizeof v4);
            out->len = sizeof v4;
            return 0;
        }
        if (family == AF_INET) return -EINVAL;
    }
    struct sockaddr_in6 v6;
    memset(&v6, 0, sizeof v6);
    char *scope = strchr(host, '%');
    if (scope) *scope++ = 0;
    if (inet_pton(AF_INET6, host, &v6.sin6_addr) != 1) return -EINVAL;
    if (scope) {
        uint32_t idx = 0;
        if (parse_scope(scope, &idx) < 0) return -EINVAL;
        v6.sin6_scope_id = idx;
    }
    v6.sin6_family = AF_INET6;
    v6.sin6_port = htons((uint16_t)port);
    memcpy(&out->ss, &v6, sizeof v6);
    out->len = sizeof v6;
    return 0;
}

int kobe_addr_from_ip(kobe_addr *out, const char *ip, int port) {
    if (!out) return -EINVAL;
    memset(out, 0, sizeof *out);
    if (!ip || port < 0 || port > 65535) return -EINVAL;
    size_t n = strnlen(ip, HOST_MAX);
    if (n == 0 || n >= HOST_MAX) return -EINVAL;
    char host[HOST_MAX];
    memcpy(host, ip, n + 1); /* n < HOST_MAX, so this includes ip's NUL */
    int rc = fill(out, host, port, AF_UNSPEC);
    if (rc < 0) memset(out, 0, sizeof *out);
    return rc;
}

int kobe_addr_parse(kobe_addr *out, const char *text) {
    if (!out) return -EINVAL;
    memset(out, 0, sizeof *out);
    if (!text) return -EINVAL;
    /* Valid text is never longer than what kobe_addr_format writes, so longer input is garbage. */
    size_t n = strnlen(text, KOBE_ADDR_STRLEN);
    if (n == 0 || n >= KOBE_ADDR_STRLEN) return -EINVAL;
    char buf[KOBE_ADDR_STRLEN];
    memcpy(buf, text, n + 1);
    char *host, *port;
    int family;
    if (buf[0] == '[') {
        char *close = strchr(buf + 1, ']');
        if (!close || close[1] != ':') return -EINVAL;
        *close = 0;
        host = buf + 1;
        port = close + 2;
        family = AF_INET6; /* brackets are for IPv6 only: "[1.2.3.4]:80" is rejected */
    } else {
        /* Split at the first ':'. An unbracketed IPv6 address ("::1:80") then leaves colons in
         * the port, which the digit check rejects: it is ambiguous, so it must be bracketed. */
        char *colon = strchr(buf, ':');
        if (!colon) return -EINVAL;
        *colon = 0;
        host = buf;
        port = colon + 1;
        family = AF_INET;
    }
    int p = parse_port(port);
    if (p < 0) return -EINVAL;
    int rc = fill(out, host, p, family);
    if (rc < 0) memset(out, 0, sizeof *out);
    return rc;
}

int kobe_addr_family(const kobe_addr *a) {
    if (!a) return -EINVAL;
    /* The length is checked too: sock_bind hands it to bind(), so a corrupt one must not pass. */
    if (a->len > sizeof a->ss) return -EINVAL;
    switch (a->ss.ss_family) {
    case AF_INET: return a->len >= sizeof(struct sockaddr_in) ? AF_INET : -EINVAL;
    case AF_INET6: return a->len >= sizeof(struct sockaddr_in6) ? AF_INET6 : -EINVAL;
    default: return -EINVAL;
    }
}

int kobe_addr_port(const kobe_addr *a) {
    int f = kobe_addr_family(a);
    if (f < 0) return f;
    if (f == AF_INET) return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

int kobe_addr_format(const kobe_addr *a, char *buf, size_t size) {
    if (!buf) return -EINVAL;
    if (size > 0) buf[0] = 0; /* every failure leaves "" behind, never a truncated address */
    int f = kobe_addr_family(a);
    if (f < 0) return f;
    /* Composed locally and copied only when it fits, so buf never sees a partial address. The
     * scope is written as its index: it parses back to the same address without asking the
     * system, and stays correct if the interface is renamed. */
    char host[INET6_ADDRSTRLEN], text[KOBE_ADDR_STRLEN];
    int n;
    if (f == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->ss;
        if (!inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host)) return -EINVAL;
        n = snprintf(text, sizeof text, "%s:%u", host, (unsigned)ntohs(v4->sin_port));
    } else {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a->ss;
        if (!inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host)) return -EINVAL;
        if (v6->sin6_scope_id)
            n = snprintf(text, sizeof text, "[%s%%%lu]:%u", host, (unsigned long)v6->sin6_scope_id,
                         (unsigned)ntohs(v6->sin6_port));
        else
            n = snprintf(text, sizeof text, "[%s]:%u", host, (unsigned)ntohs(v6->sin6_port));
    }
    if (n < 0 || (size_t)n >= sizeof text) return -EINVAL; /* cannot happen: text is sized */
    if ((size_t)n >= size) return -ENOSPC;
    memcpy(buf, text, (size_t)n + 1);
    return n;
}
