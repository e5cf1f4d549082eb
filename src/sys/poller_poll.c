/* The poll(2) backend: the portable baseline, and the worked example of docs/PORTING.md.
 *
 * poll() is level-triggered and has no kernel-side registration: every wait passes the whole
 * set. So this backend keeps the registrations in a table under a mutex, and each wait copies
 * the armed ones into a pollfd array. Three consequences shape the code:
 *   - Oneshot per direction: once a direction is reported it is disarmed, or a writable socket
 *     would make every wait return at once; the reactor re-arms it (modify) before suspending.
 *   - A change made while another thread sits in poll() must reach it: the changer writes a byte
 *     to a self-pipe that is always in the set, and the waiter rebuilds its array.
 *   - Results are checked against the table after poll() returns: an fd removed (or re-added
 *     under a new token) meanwhile reports nothing, so after remove() no event for it escapes.
 * wait() is called by one thread at a time (the reactor's driver); every other call may come
 * from any thread. */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sys/poller.h"

typedef struct reg {
    int fd;
    uint64_t token;
    unsigned interest; /* armed directions */
} reg;

typedef struct poll_state {
    pthread_mutex_t lock;
    reg *regs; /* dense */
    size_t nregs, cap;
    int *index; /* fd -> position in regs, or -1 */
    size_t index_len;
    bool waiting; /* a thread is inside poll(): changes must wake it */
    int pipe_r, pipe_w;
    struct pollfd *pfds; /* the waiter's own, rebuilt each wait */
    uint64_t *tokens;
    size_t pcap;
} poll_state;

static int set_flags(int fd) {
    int fl = fcntl(fd, F_GETFL);
    if (fl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) < 0) return -errno;
    if (fcntl(fd, F_SETFD, FD_CLOEXEC) < 0) return -errno;
    return 0;
}

static int pl_open(void **out) {
    poll_state *s = calloc(1, sizeof *s);
    if (!s) return -ENOMEM;
    int p[2];
    if (pipe(p) < 0) {
        int e = errno;
        free(s);
        return -e;
    }
    int rc = set_flags(p[0]);
    if (rc == 0) rc = set_flags(p[1]);
    if (rc < 0) {
        close(p[0]);
        close(p[1]);
        free(s);
        return rc;
    }
    s->pipe_r = p[0];
    s->pipe_w = p[1];
    pthread_mutex_init(&s->lock, NULL);
    *out = s;
    return 0;
}

static void pl_close(void *state) {
    poll_state *s = state;
    close(s->pipe_r);
    close(s->pipe_w);
    pthread_mutex_destroy(&s->lock);
    free(s->regs);
    free(s->index);
    free(s->pfds);
    free(s->tokens);
    free(s);
}

static void poke(poll_state *s) {
    char c = 1;
    (void)!write(s->pipe_w, &c, 1); /* a full pipe already holds a pending wake */
}

static int pl_wake(void *state) {
    poke(state);
    return 0;
}

static reg *find(poll_state *s, int fd) {
    if (fd < 0 || (size_t)fd >= s->index_len || s->index[fd] < 0) return NULL;
    return &s->regs[s->index[fd]];
}

/* With the lock held: the table changed; make a waiter in poll() see it. */
static void changed(poll_state *s) {
    if (s->waiting) poke(s);
}

static int pl_add(void *state, int fd, uint64_t token, unsigned interest) {
    poll_state *s = state;
    if (fd < 0 || fcntl(fd, F_GETFD) < 0) return -EBADF;
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    if (find(s, fd)) {
        rc = -EEXIST;
        goto out;
    }
    if ((size_t)fd >= s->index_len) {
        size_t n = s->index_len ? s->index_len : 64;
        while (n <= (size_t)fd) n *= 2;
        int *ix = realloc(s->index, n * sizeof *ix);
        if (!ix) {
            rc = -ENOMEM;
            goto out;
        }
        for (size_t i = s->index_len; i < n; i++) ix[i] = -1;
        s->index = ix;
        s->index_len = n;
    }
    if (s->nregs == s->cap) {
        size_t n = s->cap ? s->cap * 2 : 64;
        reg *r = realloc(s->regs, n * sizeof *r);
        if (!r) {
            rc = -ENOMEM;
            goto out;
        }
        s->regs = r;
        s->cap = n;
    }
    s->regs[s->nregs] = (reg){fd, token, interest & (POLLER_READ | POLLER_WRITE)};
    s->index[fd] = (int)s->nregs++;
    changed(s);
out:
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int pl_modify(void *state, int fd, uint64_t token, unsigned interest) {
    poll_state *s = state;
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    reg *r = find(s, fd);
    if (!r) {
        rc = -ENOENT;
    } else {
        r->token = token;
        r->interest = interest & (POLLER_READ | POLLER_WRITE);
        changed(s);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int pl_remove(void *state, int fd) {
    poll_state *s = state;
    int rc = 0;
    pthread_mutex_lock(&s->lock);
    reg *r = find(s, fd);
    if (!r) {
        rc = -ENOENT;
    } else {
        size_t at = (size_t)s->index[fd];
        s->regs[at] = s->regs[--s->nregs]; /* move the last one into the hole */
        s->index[s->regs[at].fd] = (int)at;
        s->index[fd] = -1;
        changed(s);
    }
    pthread_mutex_unlock(&s->lock);
    return rc;
}

static int pl_wait(void *state, poller_event *out, int max, int timeout_ms) {
    poll_state *s = state;
    pthread_mutex_lock(&s->lock);
    size_t need = s->nregs + 1;
    if (need > s->pcap) {
        struct pollfd *p = realloc(s->pfds, need * sizeof *p);
        if (p) s->pfds = p;
        uint64_t *t = p ? realloc(s->tokens, need * sizeof *t) : NULL;
        if (t) s->tokens = t;
        if (!p || !t) {
            pthread_mutex_unlock(&s->lock);
            return -ENOMEM;
        }
        s->pcap = need;
    }
    nfds_t n = 0;
    s->pfds[n++] = (struct pollfd){.fd = s->pipe_r, .events = POLLIN};
    for (size_t i = 0; i < s->nregs; i++) {
        /* Unarmed fds stay out: poll() would report their hang-up on every call. */
        if (!s->regs[i].interest) continue;
        short ev = 0;
        if (s->regs[i].interest & POLLER_READ) ev |= POLLIN;
        if (s->regs[i].interest & POLLER_WRITE) ev |= POLLOUT;
        s->pfds[n] = (struct pollfd){.fd = s->regs[i].fd, .events = ev};
        s->tokens[n] = s->regs[i].token;
        n++;
    }
    s->waiting = true;
    pthread_mutex_unlock(&s->lock);

    int rc = poll(s->pfds, n, timeout_ms);
    int err = errno;

    pthread_mutex_lock(&s->lock);
    s->waiting = false;
    int k = 0;
    if (rc > 0) {
        if (s->pfds[0].revents) {
            char buf[64];
            while (read(s->pipe_r, buf, sizeof buf) > 0) {
            }
        }
        for (nfds_t i = 1; i < n && k < max; i++) {
            short re = s->pfds[i].revents;
            if (!re) continue;
            reg *r = find(s, s->pfds[i].fd);
            if (!r || r->token != s->tokens[i]) continue; /* removed or replaced meanwhile */
            unsigned ready = 0;
            if (re & POLLIN) ready |= POLLER_READ;
            if (re & POLLOUT) ready |= POLLER_WRITE;
            if (re & (POLLERR | POLLNVAL)) ready |= POLLER_ERROR | POLLER_READ | POLLER_WRITE;
            if (re & POLLHUP) ready |= POLLER_HUP | POLLER_READ | POLLER_WRITE;
            if (ready & (POLLER_ERROR | POLLER_HUP))
                r->interest = 0; /* reported in full: re-armed on demand */
            else
                r->interest &= ~ready;
            out[k].token = r->token;
            out[k].ready = ready;
            k++;
        }
    }
    pthread_mutex_unlock(&s->lock);
    if (rc < 0 && err != EINTR) return -err;
    return k;
}

const poller_ops poller_poll_ops = {
    .name = "poll",
    .flags = 0,
    .open = pl_open,
    .close = pl_close,
    .add = pl_add,
    .modify = pl_modify,
    .remove = pl_remove,
    .wait = pl_wait,
    .wake = pl_wake,
};
