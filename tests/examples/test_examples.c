/* The examples, tested black-box as a user runs them: their exit codes, what they print, and for
 * the echo server, every byte that comes back over real sockets. */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "test.h"

#ifndef EXAMPLES_DIR
#error "EXAMPLES_DIR must name the folder of the built examples"
#endif

typedef struct proc {
    pid_t pid;
    int out; /* the child's stdout and stderr, merged */
} proc;

static proc spawn(const char *const argv[], const char *const env[]) {
    int p[2];
    CHECK_EQ(pipe(p), 0);
    proc r = {.pid = fork()};
    CHECK(r.pid >= 0);
    if (r.pid == 0) {
        dup2(p[1], 1);
        dup2(p[1], 2);
        close(p[0]);
        for (const char *const *e = env; e && *e; e++) putenv((char *)*e);
        execv(argv[0], (char *const *)argv);
        _exit(127);
    }
    close(p[1]);
    r.out = p[0];
    return r;
}

/* Reads everything the child prints until it exits; returns its exit status. */
static int finish(proc *p, char *buf, size_t size) {
    size_t n = 0;
    ssize_t r;
    while (n + 1 < size && (r = read(p->out, buf + n, size - 1 - n)) > 0) n += (size_t)r;
    buf[n] = 0;
    close(p->out);
    int status;
    CHECK_EQ(waitpid(p->pid, &status, 0), p->pid);
    return status;
}

static void test_demo_runs_and_exits_zero(void) {
    const char *argv[] = {EXAMPLES_DIR "/demo", NULL};
    const char *workers[] = {"KOBE_WORKERS=1", "KOBE_WORKERS=2", NULL};
    for (int i = 0; workers[i]; i++) {
        const char *env[] = {workers[i], "KOBE_STATS=1", NULL};
        proc p = spawn(argv, env);
        static char out[1 << 16];
        int status = finish(&p, out, sizeof out);
        CHECK(WIFEXITED(status));
        CHECK_EQ(WEXITSTATUS(status), 0);
        CHECK(strstr(out, "demo: all good") != NULL);
        CHECK(strstr(out, "4096 leaves counted") != NULL);
        CHECK(strstr(out, "Operation canceled") != NULL);
        /* KOBE_STATS=1: the counters at shutdown, on stderr; KOBE_WORKERS was obeyed. */
        char want[32];
        snprintf(want, sizeof want, "kobe stats: workers %d", i + 1);
        CHECK(strstr(out, want) != NULL);
        CHECK(strstr(out, "spawned") != NULL);
    }
}

/* Starts the echo server on a free port; returns the process and fills addr. */
static proc start_echo(struct sockaddr_in *addr) {
    const char *argv[] = {EXAMPLES_DIR "/echo", "127.0.0.1:0", NULL};
    const char *env[] = {"KOBE_WORKERS=2", NULL};
    proc p = spawn(argv, env);
    char line[256];
    size_t n = 0;
    while (n + 1 < sizeof line && read(p.out, line + n, 1) == 1 && line[n] != '\n') n++;
    line[n] = 0;
    unsigned a, b, c, d, port;
    CHECK(sscanf(line, "listening on %u.%u.%u.%u:%u", &a, &b, &c, &d, &port) == 5);
    memset(addr, 0, sizeof *addr);
    addr->sin_family = AF_INET;
    addr->sin_port = htons((uint16_t)port);
    addr->sin_addr.s_addr = htonl((a << 24) | (b << 16) | (c << 8) | d);
    return p;
}

static int dial(const struct sockaddr_in *addr) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    CHECK(fd >= 0);
    CHECK_EQ(connect(fd, (const struct sockaddr *)addr, sizeof *addr), 0);
    return fd;
}

typedef struct reader {
    int fd;
    char *buf;
    size_t want, got;
} reader;

static void *read_all(void *arg) {
    reader *r = arg;
    ssize_t n;
    while (r->got < r->want && (n = read(r->fd, r->buf + r->got, r->want - r->got)) > 0)
        r->got += (size_t)n;
    return NULL;
}

static void test_echo_returns_every_byte(void) {
    struct sockaddr_in addr;
    proc p = start_echo(&addr);
    /* Small messages on many connections. */
    int fds[50];
    for (int i = 0; i < 50; i++) fds[i] = dial(&addr);
    for (int round = 0; round < 20; round++) {
        for (int i = 0; i < 50; i++) {
            char msg[32];
            int len = snprintf(msg, sizeof msg, "conn %d round %d", i, round);
            CHECK_EQ(write(fds[i], msg, (size_t)len), len);
            char back[32];
            size_t got = 0;
            while (got < (size_t)len) {
                ssize_t n = read(fds[i], back + got, (size_t)len - got);
                CHECK(n > 0);
                got += (size_t)n;
            }
            CHECK(memcmp(back, msg, (size_t)len) == 0);
        }
    }
    for (int i = 0; i < 50; i++) close(fds[i]);

    /* A megabyte at once: more than any socket buffer, so the server's writes must wait for
     * our reads while our writes wait for its. Read on another thread. */
    size_t big = 1 << 20;
    char *out = malloc(big), *in = malloc(big);
    for (size_t i = 0; i < big; i++) out[i] = (char)(i * 131 + 7);
    int fd = dial(&addr);
    reader r = {.fd = fd, .buf = in, .want = big};
    pthread_t th;
    CHECK_EQ(pthread_create(&th, NULL, read_all, &r), 0);
    size_t sent = 0;
    while (sent < big) {
        ssize_t n = write(fd, out + sent, big - sent);
        CHECK(n > 0);
        sent += (size_t)n;
    }
    CHECK_EQ(pthread_join(th, NULL), 0);
    CHECK_EQ(r.got, big);
    CHECK(memcmp(in, out, big) == 0);
    /* Half-close: the server sees end of stream, closes, and we see it too. */
    CHECK_EQ(shutdown(fd, SHUT_WR), 0);
    char c;
    CHECK_EQ(read(fd, &c, 1), 0);
    close(fd);
    free(out);
    free(in);

    /* A client that vanishes mid-stream (reset) does not take the server down. */
    fd = dial(&addr);
    struct linger lg = {1, 0};
    CHECK_EQ(setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof lg), 0);
    CHECK_EQ(write(fd, "bye", 3), 3);
    close(fd);
    fd = dial(&addr);
    CHECK_EQ(write(fd, "still?", 6), 6);
    char back[6];
    size_t got = 0;
    while (got < 6) {
        ssize_t n = read(fd, back + got, 6 - got);
        CHECK(n > 0);
        got += (size_t)n;
    }
    CHECK(memcmp(back, "still?", 6) == 0);
    close(fd);

    CHECK_EQ(kill(p.pid, SIGTERM), 0);
    char rest[4096];
    int status = finish(&p, rest, sizeof rest);
    CHECK(WIFSIGNALED(status));
    CHECK_EQ(WTERMSIG(status), SIGTERM);
}

static void test_echo_rejects_a_bad_address(void) {
    const char *bad[] = {"1.2.3.4:99999", "[::1", "", "nonsense"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        const char *argv[] = {EXAMPLES_DIR "/echo", bad[i], NULL};
        proc p = spawn(argv, NULL);
        char out[4096];
        int status = finish(&p, out, sizeof out);
        CHECK(WIFEXITED(status));
        CHECK_EQ(WEXITSTATUS(status), 1);
        CHECK(strstr(out, "echo: cannot listen on") != NULL);
        CHECK(strstr(out, "Invalid argument") != NULL);
    }
}

TEST_MAIN(test_demo_runs_and_exits_zero, test_echo_returns_every_byte,
          test_echo_rejects_a_bad_address)
