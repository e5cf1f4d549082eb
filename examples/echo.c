/* echo: a TCP echo server, tokio's first example.
 *
 * Accepts connections and writes back whatever each client sends, one task per connection, until
 * it is killed. The listen address is the first argument (default 127.0.0.1:8080).
 *
 *   $ ./build/examples/echo 127.0.0.1:8080 &
 *   $ printf 'hello\n' | nc -q1 127.0.0.1 8080
 *   hello
 *
 * It prints "listening on ADDR" once it accepts connections, and exits 1 with a message if it
 * cannot listen. KOBE_WORKERS sets the worker count (default: one per CPU). */
#include <errno.h>
#include <kobe.h>
#include <stdio.h>

static void *serve_client(void *arg) {
    kobe_tcp_stream *s = arg;
    char buf[4096];
    ssize_t n;
    kobe_tcp_set_nodelay(s, true);
    while ((n = kobe_tcp_read(s, buf, sizeof buf)) > 0)
        if (kobe_tcp_write_all(s, buf, (size_t)n, NULL) < 0) break;
    kobe_tcp_close(s);
    return NULL;
}

static void *serve(void *arg) {
    const char *addr = arg;
    kobe_tcp_listener *l;
    int rc = kobe_tcp_listen(&l, addr, NULL);
    if (rc < 0) {
        fprintf(stderr, "echo: cannot listen on %s: %s\n", addr, kobe_strerror(rc));
        return (void *)1;
    }
    kobe_addr bound;
    char text[KOBE_ADDR_STRLEN];
    kobe_tcp_listener_addr(l, &bound);
    kobe_addr_format(&bound, text, sizeof text);
    printf("listening on %s\n", text);
    fflush(stdout);
    for (;;) {
        kobe_tcp_stream *s;
        rc = kobe_tcp_accept(l, &s, NULL);
        if (rc == -ECANCELED) break; /* the runtime is shutting down */
        if (rc < 0) continue;        /* errors are values: a failed accept is not fatal */
        if (kobe_spawn(NULL, serve_client, s) < 0) kobe_tcp_close(s);
    }
    kobe_tcp_listener_close(l);
    return NULL;
}

int main(int argc, char **argv) {
    void *failed = NULL;
    int rc = kobe_run(NULL, serve, argc > 1 ? argv[1] : "127.0.0.1:8080", &failed);
    if (rc < 0) {
        fprintf(stderr, "echo: %s\n", kobe_strerror(rc));
        return 1;
    }
    return failed ? 1 : 0;
}
