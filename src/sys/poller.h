/* The poller: kobe's whole porting surface for I/O readiness.
 *
 * A poller is one OS event queue for the whole runtime (never one per thread): any worker may
 * wait on it, and any thread may interrupt that wait with wake(). Each backend is one file in
 * src/sys/ that fills in a poller_ops table; poller.c lists the tables. Nothing above src/sys/
 * touches epoll, poll or kqueue directly.
 *
 * Contract every backend keeps (docs/PORTING.md explains it at length):
 *   - add() registers fd under an opaque 64-bit token with an interest set (POLLER_READ,
 *     POLLER_WRITE). Events for the fd come back with that token until remove().
 *   - Readiness is reported "at least once": after an interested direction becomes ready, a later
 *     or current wait() reports it. A backend may report more often than needed (the reactor
 *     tolerates spurious events). A level-triggered backend disarms a direction once it reported
 *     it, to avoid busy loops; the reactor calls modify() to re-arm when a task is about to
 *     suspend on that direction. Backends that never need re-arming (edge-triggered epoll) say so
 *     with POLLER_EDGE in flags, and the reactor then skips those modify() calls.
 *   - wait() blocks up to timeout_ms (-1 forever, 0 polls), fills at most max events and returns
 *     their count; it returns 0 on EINTR or when woken. Errors are negative errno values.
 *   - wake() is async-signal-safe in spirit: callable from any thread at any time, including
 *     while another thread is inside wait(), which then returns promptly. Wakes are coalesced;
 *     a wake with no waiter makes the next wait() return at once.
 *   - add(), modify() and remove() are callable from any thread, also while another thread
 *     is inside wait(); the change takes effect for that wait or the next one.
 *   - Error and hang-up conditions are reported as POLLER_ERROR / POLLER_HUP bits; a backend also
 *     sets READ and WRITE with them so that waiters of both directions retry their syscall and see
 *     the error there.
 */
#ifndef KOBE_SYS_POLLER_H
#define KOBE_SYS_POLLER_H

#include <stdint.h>

enum {
    POLLER_READ = 1u << 0,
    POLLER_WRITE = 1u << 1,
    POLLER_ERROR = 1u << 2,
    POLLER_HUP = 1u << 3,
};

enum {
    POLLER_EDGE = 1u << 0, /* readiness never needs re-arming through modify() */
};

typedef struct poller_event {
    uint64_t token;
    unsigned ready; /* POLLER_* bits */
} poller_event;

typedef struct poller_ops {
    const char *name;
    unsigned flags;
    int (*open)(void **state);
    void (*close)(void *state);
    int (*add)(void *state, int fd, uint64_t token, unsigned interest);
    int (*modify)(void *state, int fd, uint64_t token, unsigned interest);
    int (*remove)(void *state, int fd);
    int (*wait)(void *state, poller_event *events, int max, int timeout_ms);
    int (*wake)(void *state);
} poller_ops;

/* A poller instance: the ops table plus the backend's private state. */
typedef struct poller {
    const poller_ops *ops;
    void *state;
} poller;

/* Looks a backend up by name ("epoll", "poll"); NULL or "" picks the platform default.
 * Returns NULL for an unknown name. */
const poller_ops *poller_find(const char *name);

/* Names of all compiled-in backends, NULL-terminated, for messages and tests. */
const char *const *poller_names(void);

int poller_open(poller *p, const poller_ops *ops);
void poller_close(poller *p);

#endif
