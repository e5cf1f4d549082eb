/* Address parsing and formatting (src/net/addr.c): every accepted and rejected form, round trips,
 * ports and families, tiny output buffers, and input of any length or content.
 *
 * Inputs and outputs live in heap blocks of their exact size, so ASan reports any read past an
 * input's NUL or any write past a buffer's end, not just a crash.
 */
#include <errno.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#include "kobe/net.h"
#include "test.h"

/* Parses text from an exact-size heap copy. On failure the address must be left empty. */
static int parse(kobe_addr *a, const char *text) {
    char *copy = strdup(text);
    CHECK(copy);
    memset(a, 0xab, sizeof *a); /* stale contents must not survive a failed parse */
    int rc = kobe_addr_parse(a, copy);
    free(copy);
    if (rc < 0) CHECK_EQ(a->len, 0);
    return rc;
}

/* Formats a and checks the result against want, then checks it parses back to the same bytes. */
static void check_text(const kobe_addr *a, const char *want) {
    char buf[KOBE_ADDR_STRLEN];
    int n = kobe_addr_format(a, buf, sizeof buf);
    if (n < 0 || strcmp(buf, want) != 0) {
        fprintf(stderr, "formatted \"%s\" (%d), want \"%s\"\n", n < 0 ? "" : buf, n, want);
        CHECK(0);
    }
    CHECK_EQ(n, strlen(want));
    kobe_addr b;
    CHECK_EQ(parse(&b, buf), 0);
    CHECK_EQ(b.len, a->len);
    CHECK(memcmp(&a->ss, &b.ss, a->len) == 0);
}

static void test_accepted(void) {
    struct {
        const char *in, *out;
        int family, port;
    } ok[] = {
        {"1.2.3.4:80", "1.2.3.4:80", AF_INET, 80},
        {"127.0.0.1:0", "127.0.0.1:0", AF_INET, 0},
        {"0.0.0.0:65535", "0.0.0.0:65535", AF_INET, 65535},
        {"255.255.255.255:1", "255.255.255.255:1", AF_INET, 1},
        {"1.2.3.4:0080", "1.2.3.4:80", AF_INET, 80}, /* leading zeros are still decimal */
        {"[::1]:80", "[::1]:80", AF_INET6, 80},
        {"[::1]:8080", "[::1]:8080", AF_INET6, 8080},
        {"[::]:1", "[::]:1", AF_INET6, 1},
        {"[2001:db8::1]:443", "[2001:db8::1]:443", AF_INET6, 443},
        {"[2001:DB8:0:0:0:0:0:1]:443", "[2001:db8::1]:443", AF_INET6, 443},
        {"[fe80::1%1]:80", "[fe80::1%1]:80", AF_INET6, 80},
        {"[fe80::1%4294967295]:80", "[fe80::1%4294967295]:80", AF_INET6, 80},
        {"[::ffff:1.2.3.4]:9", "[::ffff:1.2.3.4]:9", AF_INET6, 9},
        {"[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535",
         "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff]:65535", AF_INET6, 65535},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        kobe_addr a;
        if (parse(&a, ok[i].in) != 0) {
            fprintf(stderr, "rejected: \"%s\"\n", ok[i].in);
            CHECK(0);
        }
        CHECK_EQ(kobe_addr_family(&a), ok[i].family);
        CHECK_EQ(kobe_addr_port(&a), ok[i].port);
        CHECK_EQ(a.len, ok[i].family == AF_INET ? sizeof(struct sockaddr_in)
                                                : sizeof(struct sockaddr_in6));
        check_text(&a, ok[i].out);
    }
}

/* "%lo" names the loopback interface by name; the scope is its index, formatted as a number. */
static void test_scope_by_name(void) {
    kobe_addr a;
    unsigned idx = if_nametoindex("lo");
    if (idx == 0) { /* no "lo" here (macOS calls it lo0): the name must then be refused */
        fprintf(stderr, "no interface \"lo\": checking that it is rejected\n");
        CHECK_EQ(parse(&a, "[fe80::1%lo]:80"), -EINVAL);
        return;
    }
    CHECK_EQ(parse(&a, "[fe80::1%lo]:80"), 0);
    CHECK_EQ(((const struct sockaddr_in6 *)&a.ss)->sin6_scope_id, idx);
    char want[64];
    snprintf(want, sizeof want, "[fe80::1%%%u]:80", idx);
    check_text(&a, want);
}

static void test_rejected(void) {
    const char *bad[] = {
        "",
        ":80",
        "1.2.3.4",
        "1.2.3.4:",
        "1.2.3.4:99999",
        "1.2.3.4:65536",
        "1.2.3.4:-1",
        "1.2.3.4:+80",
        "1.2.3.4:80x",
        "1.2.3.4: 80",
        "1.2.3.4:80 ",
        "1.2.3.4 :80",
        " 1.2.3.4:80",
        "1.2.3.4:0x50",
        "1.2.3.4:080000",
        "1.2.3.4:99999999999999999999999",
        "1.2.3.4:80:80",
        "1.2.3:80",
        "1.2.3.4.5:80",
        "256.1.1.1:80",
        "01.2.3.4:80",
        "1.2.3.4%lo:80",
        "[::1",
        "[::1]",
        "[::1]:",
        "[::1]80",
        "[::1]:80]",
        "[::1]:-80",
        "[[::1]]:80",
        "[]:80",
        "[:::1]:80",
        "::1:80",
        "::1",
        "[1.2.3.4]:80",
        "[::1]:+80",
        "[::1]:0x50",
        "[fe80::1%]:80",
        "[fe80::1%0]:80",
        "[fe80::1%4294967296]:80",
        "[fe80::1%nosuchif0]:80",
        "[fe80::1%averyveryverylonginterfacename]:80",
        "localhost:80",
        "example.com:443",
        "[localhost]:80",
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kobe_addr a;
        int rc = parse(&a, bad[i]);
        if (rc != -EINVAL) {
            fprintf(stderr, "\"%s\" gave %d, want -EINVAL\n", bad[i], rc);
            CHECK(0);
        }
    }
    kobe_addr a;
    CHECK_EQ(kobe_addr_parse(NULL, "1.2.3.4:80"), -EINVAL);
    memset(&a, 0xab, sizeof a);
    CHECK_EQ(kobe_addr_parse(&a, NULL), -EINVAL);
    CHECK_EQ(a.len, 0);
}

/* The longest text parse looks at is KOBE_ADDR_STRLEN - 1 characters: a valid address padded
 * with leading port zeros to exactly that length parses, one more character does not. */
static void test_length_limit(void) {
    char text[KOBE_ADDR_STRLEN + 1];
    size_t len = KOBE_ADDR_STRLEN - 1;
    memset(text, '0', len);
    memcpy(text, "1.2.3.4:", 8);
    text[len - 2] = '8';
    text[len] = 0;
    kobe_addr a;
    CHECK_EQ(parse(&a, text), 0);
    CHECK_EQ(kobe_addr_port(&a), 80);
    memmove(text + 9, text + 8, len - 8 + 1); /* one more zero */
    text[8] = '0';
    CHECK_EQ(strlen(text), KOBE_ADDR_STRLEN);
    CHECK_EQ(parse(&a, text), -EINVAL);
}

/* A small fixed-seed generator, so every run tries the same inputs. */
static uint32_t next_rand(uint32_t *seed) {
    *seed = *seed * 1103515245u + 12345u;
    return *seed >> 16;
}

/* 100 KB strings: garbage, digits around a colon, and an endless bracket. Nothing may be read or
 * written out of bounds, and all are rejected. */
static void test_huge_input(void) {
    size_t big = 100 * 1024;
    char *s = malloc(big + 1);
    CHECK(s);
    uint32_t seed = 12345;
    for (size_t i = 0; i < big; i++) {
        s[i] = (char)(1 + next_rand(&seed) % 255); /* any byte but NUL */
    }
    s[big] = 0;
    kobe_addr a;
    CHECK_EQ(parse(&a, s), -EINVAL);
    memset(s, '9', big);
    s[3] = ':';
    CHECK_EQ(parse(&a, s), -EINVAL);
    memcpy(s, "1.2.3.4:", 8);
    memset(s + 8, '0', big - 8);
    CHECK_EQ(parse(&a, s), -EINVAL); /* numerically port 0, but no address is this long */
    memset(s, ':', big);
    s[0] = '[';
    CHECK_EQ(parse(&a, s), -EINVAL);
    CHECK_EQ(kobe_addr_from_ip(&a, s, 80), -EINVAL);
    CHECK_EQ(a.len, 0);
    free(s);
}

/* Valid addresses with a few random characters replaced, inserted or deleted, and now and then a
 * string of random characters: each is either rejected with an empty address, or accepted and
 * then formats to text that parses back to the same bytes. */
static void test_random_forms(void) {
    const char alphabet[] = "0123456789abcdef.:[]% x";
    const char *seeds[] = {"1.2.3.4:80",       "[::1]:8080",
                           "[fe80::1%1]:80",   "255.255.255.255:65535",
                           "[2001:db8::ff]:0", "[::ffff:10.0.0.1]:443"};
    uint32_t seed = 777;
    int accepted = 0, rejected = 0;
    for (int iter = 0; iter < 20000; iter++) {
        char text[KOBE_ADDR_STRLEN + 16];
        size_t len;
        if (iter % 8 == 0) {
            len = next_rand(&seed) % (sizeof text - 1);
            for (size_t i = 0; i < len; i++)
                text[i] = alphabet[next_rand(&seed) % (sizeof alphabet - 1)];
        } else {
            const char *from = seeds[next_rand(&seed) % (sizeof seeds / sizeof seeds[0])];
            len = strlen(from);
            memcpy(text, from, len);
            for (int edits = 1 + (int)(next_rand(&seed) % 3); edits > 0; edits--) {
                size_t at = next_rand(&seed) % (len + 1);
                char c = alphabet[next_rand(&seed) % (sizeof alphabet - 1)];
                switch (next_rand(&seed) % 3) {
                case 0: /* replace */
                    if (at < len) text[at] = c;
                    break;
                case 1: /* insert */
                    memmove(text + at + 1, text + at, len - at);
                    text[at] = c;
                    len++;
                    break;
                default: /* delete */
                    if (at < len) {
                        memmove(text + at, text + at + 1, len - at - 1);
                        len--;
                    }
                }
            }
        }
        text[len] = 0;
        kobe_addr a;
        int rc = parse(&a, text);
        CHECK(rc == 0 || rc == -EINVAL);
        if (rc < 0) {
            rejected++;
            continue;
        }
        accepted++;
        char buf[KOBE_ADDR_STRLEN];
        int n = kobe_addr_format(&a, buf, sizeof buf);
        CHECK(n > 0);
        check_text(&a, buf);
    }
    CHECK(accepted > 100 && rejected > 100); /* the generator reaches both outcomes */
}

static void test_from_ip(void) {
    kobe_addr a;
    CHECK_EQ(kobe_addr_from_ip(&a, "10.0.0.1", 7), 0);
    CHECK_EQ(kobe_addr_family(&a), AF_INET);
    CHECK_EQ(kobe_addr_port(&a), 7);
    check_text(&a, "10.0.0.1:7");
    CHECK_EQ(kobe_addr_from_ip(&a, "::1", 65535), 0);
    CHECK_EQ(kobe_addr_family(&a), AF_INET6);
    check_text(&a, "[::1]:65535");
    CHECK_EQ(kobe_addr_from_ip(&a, "fe80::2%7", 0), 0);
    check_text(&a, "[fe80::2%7]:0");

    const char *bad[] = {"", "[::1]", "1.2.3.4:80", "nope", "1.2.3.4%1", " ::1", "::1 "};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        memset(&a, 0xab, sizeof a);
        CHECK_EQ(kobe_addr_from_ip(&a, bad[i], 1), -EINVAL);
        CHECK_EQ(a.len, 0);
    }
    CHECK_EQ(kobe_addr_from_ip(&a, "1.2.3.4", 65536), -EINVAL);
    CHECK_EQ(kobe_addr_from_ip(&a, "1.2.3.4", -1), -EINVAL);
    CHECK_EQ(kobe_addr_from_ip(&a, NULL, 1), -EINVAL);
    CHECK_EQ(kobe_addr_from_ip(NULL, "1.2.3.4", 1), -EINVAL);
}

/* Addresses that did not come from parse: empty, of another family, or with a length that does
 * not match their family. None may be taken for a usable address. */
static void test_invalid_addresses(void) {
    kobe_addr a;
    memset(&a, 0, sizeof a);
    char buf[KOBE_ADDR_STRLEN] = "x";
    CHECK_EQ(kobe_addr_family(&a), -EINVAL);
    CHECK_EQ(kobe_addr_port(&a), -EINVAL);
    CHECK_EQ(kobe_addr_format(&a, buf, sizeof buf), -EINVAL);
    CHECK_EQ(buf[0], 0);
    CHECK_EQ(kobe_addr_family(NULL), -EINVAL);
    CHECK_EQ(kobe_addr_port(NULL), -EINVAL);
    buf[0] = 'x';
    CHECK_EQ(kobe_addr_format(NULL, buf, sizeof buf), -EINVAL);
    CHECK_EQ(buf[0], 0);

    a.ss.ss_family = AF_UNIX;
    a.len = sizeof a.ss;
    CHECK_EQ(kobe_addr_family(&a), -EINVAL);
    CHECK_EQ(kobe_addr_port(&a), -EINVAL);

    CHECK_EQ(parse(&a, "[::1]:80"), 0);
    a.len = sizeof(struct sockaddr_in); /* too short for IPv6 */
    CHECK_EQ(kobe_addr_family(&a), -EINVAL);
    a.len = sizeof a.ss + 1; /* longer than the storage: bind() would read past it */
    CHECK_EQ(kobe_addr_family(&a), -EINVAL);
    CHECK_EQ(kobe_addr_format(&a, buf, sizeof buf), -EINVAL);
}

/* Every buffer size from 0 to one past the text: too small gives -ENOSPC and "", and nothing is
 * written past size (each buffer is a heap block of exactly that size). */
static void check_all_sizes(const kobe_addr *a, const char *want) {
    size_t len = strlen(want);
    for (size_t size = 0; size <= len + 1; size++) {
        char *buf = malloc(size ? size : 1);
        CHECK(buf);
        memset(buf, 'x', size ? size : 1);
        int n = kobe_addr_format(a, buf, size);
        if (size == 0) {
            CHECK_EQ(n, -ENOSPC);
            CHECK_EQ(buf[0], 'x'); /* size 0: not even the NUL is written */
        } else if (size <= len) {
            CHECK_EQ(n, -ENOSPC);
            CHECK_EQ(buf[0], 0);
        } else {
            CHECK_EQ(n, len);
            CHECK(strcmp(buf, want) == 0);
        }
        free(buf);
    }
}

static void test_format_sizes(void) {
    const char *forms[] = {"1.2.3.4:5", "255.255.255.255:65535", "[::]:0",
                           "[ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff%4294967295]:65535"};
    for (size_t i = 0; i < sizeof forms / sizeof forms[0]; i++) {
        kobe_addr a;
        CHECK_EQ(parse(&a, forms[i]), 0);
        CHECK(strlen(forms[i]) < KOBE_ADDR_STRLEN);
        check_all_sizes(&a, forms[i]);
    }
    kobe_addr a;
    CHECK_EQ(parse(&a, "1.2.3.4:5"), 0);
    CHECK_EQ(kobe_addr_format(&a, NULL, 0), -EINVAL);
    CHECK_EQ(kobe_addr_format(&a, NULL, 64), -EINVAL);
}

TEST_MAIN(test_accepted, test_scope_by_name, test_rejected, test_length_limit, test_huge_input,
          test_random_forms, test_from_ip, test_invalid_addresses, test_format_sizes)
