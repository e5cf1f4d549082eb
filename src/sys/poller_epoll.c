/* The epoll backend (Linux): edge-triggered, so a registration is made once for both directions
 * and never re-armed; wake() writes an eventfd that sits in the same epoll set. */
#if defined(__linux__)

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "sys/poller.h"

#define WAKE_TOKEN UINT64_MAX /* never a reactor token: those carry a small index */
#define BATCH      256

typedef struct epoll_state {
    int ep;
    int wake_fd;
} epoll_state;

static int ep_open(void **out) {
    epoll_state *s = malloc(sizeof *s);
    if (!s) return -ENOMEM;
    s->ep = epoll_create1(EPOLL_CLOEXEC);
    if (s->ep < 0) goto fail_ep;
    s->wake_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (s->wake_fd < 0) goto fail_ev;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLET, .data.u64 = WAKE_TOKEN};
    if (epoll_ctl(s->ep, EPOLL_CTL_ADD, s->wake_fd, &ev) < 0) goto fail_ctl;
    *out = s;
    return 0;
fail_ctl:;
    int e = errno;
    close(s->wake_fd);
    errno = e;
fail_ev:
    e = errno;
    close(s->ep);
    errno = e;
fail_ep:
    e = errno;
    free(s);
    return -e;
}

static void ep_close(void *state) {
    epoll_state *s = state;
    close(s->wake_fd);
    close(s->ep);
    free(s);
}

static uint32_t events_of(unsigned interest) {
    uint32_t e = EPOLLET | EPOLLRDHUP;
    if (interest & POLLER_READ) e |= EPOLLIN;
    if (interest & POLLER_WRITE) e |= EPOLLOUT;
    return e;
}

static int ep_ctl(void *state, int op, int fd, uint64_t token, unsigned interest) {
    epoll_state *s = state;
    struct epoll_event ev = {.events = events_of(interest), .data.u64 = token};
    return epoll_ctl(s->ep, op, fd, &ev) < 0 ? -errno : 0;
}

static int ep_add(void *state, int fd, uint64_t token, unsigned interest) {
    return ep_ctl(state, EPOLL_CTL_ADD, fd, token, interest);
}

static int ep_modify(void *state, int fd, uint64_t token, unsigned interest) {
    return ep_ctl(state, EPOLL_CTL_MOD, fd, token, interest);
}

static int ep_remove(void *state, int fd) {
    epoll_state *s = state;
    struct epoll_event ev = {0}; /* kernels before 2.6.9 wanted a non-NULL event */
    return epoll_ctl(s->ep, EPOLL_CTL_DEL, fd, &ev) < 0 ? -errno : 0;
}

static int ep_wait(void *state, poller_event *out, int max, int timeout_ms) {
    epoll_state *s = state;
    struct epoll_event evs[BATCH];
    int n = epoll_wait(s->ep, evs, max < BATCH ? max : BATCH, timeout_ms);
    if (n < 0) return errno == EINTR ? 0 : -errno;
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (evs[i].data.u64 == WAKE_TOKEN) {
            uint64_t v;
            (void)!read(s->wake_fd, &v, sizeof v); /* reset the counter; EAGAIN is fine */
            continue;
        }
        uint32_t e = evs[i].events;
        unsigned ready = 0;
        if (e & EPOLLIN) ready |= POLLER_READ;
        if (e & EPOLLOUT) ready |= POLLER_WRITE;
        if (e & EPOLLRDHUP) ready |= POLLER_HUP | POLLER_READ;
        if (e & EPOLLHUP) ready |= POLLER_HUP | POLLER_READ | POLLER_WRITE;
        if (e & EPOLLERR) ready |= POLLER_ERROR | POLLER_READ | POLLER_WRITE;
        out[k].token = evs[i].data.u64;
        out[k].ready = ready;
        k++;
    }
    return k;
}

static int ep_wake(void *state) {
    epoll_state *s = state;
    uint64_t one = 1;
    /* EAGAIN means the counter is already huge: a wake is pending anyway. */
    return write(s->wake_fd, &one, sizeof one) < 0 && errno != EAGAIN ? -errno : 0;
}

const poller_ops poller_epoll_ops = {
    .name = "epoll",
    .flags = POLLER_EDGE,
    .open = ep_open,
    .close = ep_close,
    .add = ep_add,
    .modify = ep_modify,
    .remove = ep_remove,
    .wait = ep_wait,
    .wake = ep_wake,
};

#endif
