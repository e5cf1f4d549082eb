/* Stack overflow reporting: a task that runs off its stack must die with its name, not with a
 * bare "Segmentation fault".
 *
 * Two nets: the guard page below each stack, caught here by a SIGSEGV/SIGBUS handler running on
 * a per-worker alternate signal stack (the faulting stack is unusable); and the canary at the
 * stack's far end, checked after every switch out of a task, for stacks without a guard or
 * frames that jumped over it. Either way the process aborts: the task's memory is corrupt or
 * about to be, and nothing can unwind it safely. Faults that are not a task's overflow go to the
 * handler that was installed before ours (or the default action). */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sched/sched.h"

static struct sigaction prev_segv, prev_bus;
static pthread_once_t install_once = PTHREAD_ONCE_INIT;
static int install_rc;

/* Only async-signal-safe calls from here on: write(2) and abort(). */
static void say(const char *s) {
    size_t n = strlen(s);
    while (n > 0) {
        ssize_t w = write(2, s, n);
        if (w <= 0) return;
        s += w;
        n -= (size_t)w;
    }
}

static void say_task(const char *what, kobe_task *t) {
    char id[24], *p = id + sizeof id;
    *--p = 0;
    uint64_t v = t->id;
    do *--p = (char)('0' + v % 10);
    while ((v /= 10) && p > id);
    say("kobe: ");
    say(what);
    say(" in task '");
    say(t->name[0] ? t->name : "(unnamed)");
    say("' (id ");
    say(p);
    say("): increase the stack size (kobe_config.stack_size or KOBE_STACK_SIZE)\n");
}

static void on_fault(int sig, siginfo_t *si, void *uc) {
    worker *w = sched_worker();
    kobe_task *t = w ? w->current : NULL;
    if (t && t->stack && stack_in_guard(&w->rt->stacks, t->stack, si->si_addr)) {
        say_task("stack overflow", t);
        signal(SIGABRT, SIG_DFL);
        abort();
    }
    struct sigaction *prev = sig == SIGSEGV ? &prev_segv : &prev_bus;
    if (prev->sa_flags & SA_SIGINFO) {
        if (prev->sa_sigaction) {
            prev->sa_sigaction(sig, si, uc);
            return;
        }
    } else if (prev->sa_handler != SIG_DFL && prev->sa_handler != SIG_IGN) {
        prev->sa_handler(sig);
        return;
    }
    /* Default action: re-raise with it restored, so the process dies of this signal. */
    signal(sig, SIG_DFL);
    raise(sig);
}

static void install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_fault;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    if (sigaction(SIGSEGV, &sa, &prev_segv) < 0 || sigaction(SIGBUS, &sa, &prev_bus) < 0)
        install_rc = -errno;
}

int overflow_install(void) {
    pthread_once(&install_once, install);
    return install_rc;
}

int overflow_thread_init(worker *w) {
    size_t size = 64 * 1024; /* the handler is small, but sanitizers' handlers are not */
    w->altstack = malloc(size);
    if (!w->altstack) return -ENOMEM;
    stack_t ss = {.ss_sp = w->altstack, .ss_size = size, .ss_flags = 0};
    if (sigaltstack(&ss, &w->old_altstack) < 0) {
        free(w->altstack);
        w->altstack = NULL;
        return -errno;
    }
    return 0;
}

void overflow_thread_fini(worker *w) {
    if (!w->altstack) return;
    /* Give the thread back the alternate stack it had (worker 0 is the caller's thread). */
    sigaltstack(&w->old_altstack, NULL);
    free(w->altstack);
    w->altstack = NULL;
}

void overflow_check_canary(worker *w, kobe_task *t) {
    (void)w;
    if (stack_canary_ok(t->stack)) return;
    say_task("stack overflow (canary overwritten)", t);
    abort();
}
