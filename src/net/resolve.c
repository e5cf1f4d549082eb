/* Name resolution: getaddrinfo on the blocking pool, so a slow DNS answer never stalls a
 * worker. */
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "kobe/blocking.h"
#include "kobe/net.h"

typedef struct resolve_job {
    const char *host;
    char port[8];
    kobe_addr *out;
    size_t max;
    int rc;
} resolve_job;

static int map_gai_error(int e, int saved_errno) {
    switch (e) {
    case EAI_NONAME:
#ifdef EAI_NODATA
    case EAI_NODATA:
#endif
#ifdef EAI_ADDRFAMILY
    case EAI_ADDRFAMILY:
#endif
        return -ENOENT;
    case EAI_AGAIN: return -EAGAIN;
    case EAI_MEMORY: return -ENOMEM;
    case EAI_SYSTEM: return saved_errno ? -saved_errno : -EIO;
    default: return -EINVAL;
    }
}

static void *resolve_blocking(void *arg) {
    resolve_job *j = arg;
    struct addrinfo hints, *res = NULL;
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM; /* one entry per address, not one per socket type */
    hints.ai_flags =
        AI_NUMERICSERV; /* not AI_ADDRCONFIG: it hides localhost on a loopback-only host */
    int e = getaddrinfo(j->host, j->port, &hints, &res);
    if (e != 0) {
        j->rc = map_gai_error(e, errno);
        return NULL;
    }
    size_t n = 0;
    for (struct addrinfo *ai = res; ai && n < j->max; ai = ai->ai_next) {
        if ((ai->ai_family != AF_INET && ai->ai_family != AF_INET6) ||
            ai->ai_addrlen > sizeof j->out[n].ss)
            continue;
        memset(&j->out[n], 0, sizeof j->out[n]);
        memcpy(&j->out[n].ss, ai->ai_addr, ai->ai_addrlen);
        j->out[n].len = ai->ai_addrlen;
        n++;
    }
    freeaddrinfo(res);
    j->rc = n > 0 ? (int)n : -ENOENT;
    return NULL;
}

int kobe_resolve(const char *host, int port, kobe_addr *out, size_t max) {
    if (!host || !*host || !out || max == 0 || port < 0 || port > 65535) return -EINVAL;
    resolve_job j = {.host = host, .out = out, .max = max, .rc = -EIO};
    snprintf(j.port, sizeof j.port, "%d", port);
    int rc = kobe_spawn_blocking(resolve_blocking, &j, NULL);
    return rc < 0 ? rc : j.rc;
}

int kobe_resolve_hostport(const char *hostport, kobe_addr *out, size_t max) {
    if (!hostport || !out || max == 0) return -EINVAL;
    if (kobe_addr_parse(&out[0], hostport) == 0) return 1;
    /* Not numeric: split at the last colon; names never contain one. */
    const char *colon = strrchr(hostport, ':');
    if (!colon || colon == hostport || hostport[0] == '[') return -EINVAL;
    size_t hlen = (size_t)(colon - hostport);
    if (hlen >= 256) return -EINVAL;
    char host[256];
    memcpy(host, hostport, hlen);
    host[hlen] = 0;
    char *end;
    const char *p = colon + 1;
    if (*p < '0' || *p > '9') return -EINVAL;
    long port = strtol(p, &end, 10);
    if (*end || port < 0 || port > 65535) return -EINVAL;
    return kobe_resolve(host, (int)port, out, max);
}
