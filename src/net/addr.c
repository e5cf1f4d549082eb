/* Socket addresses: strict numeric parsing of "a.b.c.d:port" and "[v6]:port", and formatting.
 * Names are not parsed here: kobe_resolve handles them on the blocking pool. */
#include <arpa/inet.h>
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kobe/net.h"

/* A decimal port, digits only, 0..65535; -1 when malformed. */
static int parse_port(const char *s) {
    if (!*s) return -1;
    long v = 0;
    for (const char *p = s; *p; p++) {
        if (*p < '0' || *p > '9') return -1;
        v = v * 10 + (*p - '0');
        if (v > 65535) return -1;
    }
    return (int)v;
}

int kobe_addr_from_ip(kobe_addr *out, const char *ip, int port) {
    if (!out || !ip || port < 0 || port > 65535) return -EINVAL;
    memset(out, 0, sizeof *out);
    struct sockaddr_in *v4 = (struct sockaddr_in *)&out->ss;
    if (inet_pton(AF_INET, ip, &v4->sin_addr) == 1) {
        v4->sin_family = AF_INET;
        v4->sin_port = htons((uint16_t)port);
        out->len = sizeof *v4;
        return 0;
    }
    struct sockaddr_in6 *v6 = (struct sockaddr_in6 *)&out->ss;
    char host[INET6_ADDRSTRLEN + IF_NAMESIZE + 2];
    if (strlen(ip) >= sizeof host) return -EINVAL;
    strcpy(host, ip);
    char *scope = strchr(host, '%');
    if (scope) *scope++ = 0;
    if (inet_pton(AF_INET6, host, &v6->sin6_addr) != 1) {
        memset(out, 0, sizeof *out);
        return -EINVAL;
    }
    if (scope) {
        /* "%eth0" names an interface, "%2" gives its index directly. */
        unsigned idx = 0;
        size_t digits = strspn(scope, "0123456789");
        if (*scope && digits == strlen(scope) && digits <= 9)
            idx = (unsigned)strtoul(scope, NULL, 10);
        else if (*scope)
            idx = if_nametoindex(scope);
        if (!idx) {
            memset(out, 0, sizeof *out);
            return -EINVAL;
        }
        v6->sin6_scope_id = idx;
    }
    v6->sin6_family = AF_INET6;
    v6->sin6_port = htons((uint16_t)port);
    out->len = sizeof *v6;
    return 0;
}

int kobe_addr_parse(kobe_addr *out, const char *text) {
    if (!out) return -EINVAL;
    memset(out, 0, sizeof *out);
    if (!text || !*text) return -EINVAL;
    size_t len = strnlen(text, KOBE_ADDR_STRLEN + 1);
    if (len > KOBE_ADDR_STRLEN) return -EINVAL;
    char buf[KOBE_ADDR_STRLEN + 1];
    memcpy(buf, text, len);
    buf[len] = 0;
    char *host, *port;
    if (buf[0] == '[') {
        char *close = strchr(buf, ']');
        if (!close || close[1] != ':') return -EINVAL;
        *close = 0;
        host = buf + 1;
        port = close + 2;
        if (!strchr(host, ':')) return -EINVAL; /* brackets are for IPv6 only */
    } else {
        char *colon = strchr(buf, ':');
        if (!colon || strchr(colon + 1, ':')) return -EINVAL; /* bare IPv6 is ambiguous */
        *colon = 0;
        host = buf;
        port = colon + 1;
        struct in_addr tmp;
        if (inet_pton(AF_INET, host, &tmp) != 1) return -EINVAL;
    }
    int p = parse_port(port);
    if (p < 0 || !*host) return -EINVAL;
    return kobe_addr_from_ip(out, host, p);
}

int kobe_addr_family(const kobe_addr *a) {
    if (!a || a->len == 0) return -EINVAL;
    int f = a->ss.ss_family;
    return f == AF_INET || f == AF_INET6 ? f : -EINVAL;
}

int kobe_addr_port(const kobe_addr *a) {
    int f = kobe_addr_family(a);
    if (f < 0) return f;
    if (f == AF_INET) return ntohs(((const struct sockaddr_in *)&a->ss)->sin_port);
    return ntohs(((const struct sockaddr_in6 *)&a->ss)->sin6_port);
}

int kobe_addr_format(const kobe_addr *a, char *buf, size_t size) {
    if (!buf && size) return -EINVAL;
    int f = kobe_addr_family(a);
    if (f < 0) {
        if (size) buf[0] = 0;
        return f;
    }
    char host[INET6_ADDRSTRLEN], scope[IF_NAMESIZE + 2] = "";
    int n;
    if (f == AF_INET) {
        const struct sockaddr_in *v4 = (const struct sockaddr_in *)&a->ss;
        inet_ntop(AF_INET, &v4->sin_addr, host, sizeof host);
        n = snprintf(buf, size, "%s:%d", host, ntohs(v4->sin_port));
    } else {
        const struct sockaddr_in6 *v6 = (const struct sockaddr_in6 *)&a->ss;
        inet_ntop(AF_INET6, &v6->sin6_addr, host, sizeof host);
        if (v6->sin6_scope_id) snprintf(scope, sizeof scope, "%%%u", v6->sin6_scope_id);
        n = snprintf(buf, size, "[%s%s]:%d", host, scope, ntohs(v6->sin6_port));
    }
    if (n < 0 || (size_t)n >= size) {
        if (size) buf[0] = 0;
        return -ENOSPC;
    }
    return n;
}
