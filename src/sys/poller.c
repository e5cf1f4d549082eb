/* The table of poller backends: a new OS adds one file in src/sys/ and one line here
 * (docs/PORTING.md). */
#include "sys/poller.h"

#include <string.h>

#if defined(__linux__)
extern const poller_ops poller_epoll_ops;
#endif
extern const poller_ops poller_poll_ops;

static const poller_ops *const backends[] = {
#if defined(__linux__)
    &poller_epoll_ops, /* the first entry is the default */
#endif
    &poller_poll_ops,
};

#define NBACKENDS (sizeof backends / sizeof backends[0])

const poller_ops *poller_find(const char *name) {
    if (!name || !*name) return backends[0];
    for (size_t i = 0; i < NBACKENDS; i++)
        if (strcmp(backends[i]->name, name) == 0) return backends[i];
    return NULL;
}

const char *const *poller_names(void) {
    static const char *names[NBACKENDS + 1];
    for (size_t i = 0; i < NBACKENDS; i++) names[i] = backends[i]->name;
    names[NBACKENDS] = NULL;
    return names;
}

int poller_open(poller *p, const poller_ops *ops) {
    p->ops = ops;
    p->state = NULL;
    return ops->open(&p->state);
}

void poller_close(poller *p) {
    if (p->state) p->ops->close(p->state);
    p->state = NULL;
}
