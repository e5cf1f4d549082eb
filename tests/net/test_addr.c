/* Address parsing and formatting: every accepted and rejected form, round trips, tiny buffers,
 * and input of any length, without a crash or an overflow (ASan watches). */
#include <errno.h>
#include <kobe.h>
#include <netinet/in.h>
#include <stdlib.h>

#include "test.h"

static void test_accepted(void) {
    struct {
        const char *in, *out;
        int family, port;
    } ok[] = {
        {"1.2.3.4:80", "1.2.3.4:80", AF_INET, 80},
        {"127.0.0.1:0", "127.0.0.1:0", AF_INET, 0},
        {"0.0.0.0:65535", "0.0.0.0:65535", AF_INET, 65535},
        {"[::1]:8080", "[::1]:8080", AF_INET6, 8080},
        {"[::]:1", "[::]:1", AF_INET6, 1},
        {"[2001:db8::1]:443", "[2001:db8::1]:443", AF_INET6, 443},
        {"[fe80::1%1]:80", "[fe80::1%1]:80", AF_INET6, 80},
        {"[::ffff:1.2.3.4]:9", "[::ffff:1.2.3.4]:9", AF_INET6, 9},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        kobe_addr a;
        CHECK_EQ(kobe_addr_parse(&a, ok[i].in), 0);
        CHECK_EQ(kobe_addr_family(&a), ok[i].family);
        CHECK_EQ(kobe_addr_port(&a), ok[i].port);
        char buf[KOBE_ADDR_STRLEN];
        int n = kobe_addr_format(&a, buf, sizeof buf);
        CHECK_EQ(n, (int)strlen(ok[i].out));
        CHECK(strcmp(buf, ok[i].out) == 0);
        kobe_addr b; /* and back again */
        CHECK_EQ(kobe_addr_parse(&b, buf), 0);
        CHECK_EQ(b.len, a.len);
        CHECK(memcmp(&a.ss, &b.ss, a.len) == 0);
    }
    kobe_addr a;
    CHECK_EQ(kobe_addr_from_ip(&a, "10.0.0.1", 7), 0);
    CHECK_EQ(kobe_addr_port(&a), 7);
    CHECK_EQ(kobe_addr_from_ip(&a, "::1", 7), 0);
    CHECK_EQ(kobe_addr_family(&a), AF_INET6);
}

static void test_rejected(void) {
    const char *bad[] = {"",
                         ":80",
                         "1.2.3.4",
                         "1.2.3.4:",
                         "1.2.3.4:99999",
                         "1.2.3.4:-1",
                         "1.2.3.4:80x",
                         "1.2.3.4: 80",
                         "[::1",
                         "[::1]",
                         "[::1]80",
                         "::1:80",
                         "localhost:80",
                         "1.2.3:80",
                         "256.1.1.1:80",
                         "[1.2.3.4]:80",
                         "[::1]:+80",
                         "[::1]:0x50",
                         " 1.2.3.4:80",
                         "[fe80::1%]:80",
                         "[fe80::1%nosuchif0]:80",
                         "1.2.3.4:080000"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        kobe_addr a;
        if (kobe_addr_parse(&a, bad[i]) != -EINVAL) {
            fprintf(stderr, "accepted: \"%s\"\n", bad[i]);
            CHECK(0);
        }
        CHECK_EQ(a.len, 0); /* left empty, not half-filled */
    }
    CHECK_EQ(kobe_addr_parse(NULL, "1.2.3.4:80"), -EINVAL);
    kobe_addr a;
    CHECK_EQ(kobe_addr_parse(&a, NULL), -EINVAL);
    CHECK_EQ(kobe_addr_from_ip(&a, "1.2.3.4", 65536), -EINVAL);
    CHECK_EQ(kobe_addr_from_ip(&a, "1.2.3.4", -1), -EINVAL);
    CHECK_EQ(kobe_addr_from_ip(&a, "nope", 1), -EINVAL);
    /* Input of any length: a 100 KB string of garbage, and one of digits. */
    size_t big = 100 * 1024;
    char *s = malloc(big + 1);
    for (size_t i = 0; i < big; i++) s[i] = (char)('!' + i % 90);
    s[big] = 0;
    CHECK_EQ(kobe_addr_parse(&a, s), -EINVAL);
    memset(s, '9', big);
    s[3] = ':';
    CHECK_EQ(kobe_addr_parse(&a, s), -EINVAL);
    free(s);
}

static void test_format_edges(void) {
    kobe_addr a;
    CHECK_EQ(kobe_addr_parse(&a, "[2001:db8::1]:443"), 0);
    char buf[8] = "xxxxxxx";
    CHECK_EQ(kobe_addr_format(&a, buf, sizeof buf), -ENOSPC);
    CHECK_EQ(buf[0], 0); /* no truncated address left behind */
    CHECK_EQ(kobe_addr_format(&a, buf, 0), -ENOSPC);
    CHECK_EQ(kobe_addr_format(NULL, buf, sizeof buf), -EINVAL);
    kobe_addr empty;
    memset(&empty, 0, sizeof empty);
    CHECK_EQ(kobe_addr_format(&empty, buf, sizeof buf), -EINVAL);
    CHECK_EQ(kobe_addr_port(&empty), -EINVAL);
    CHECK_EQ(kobe_addr_family(NULL), -EINVAL);
    char exact[18]; /* "[2001:db8::1]:443" is 17 characters */
    CHECK_EQ(kobe_addr_format(&a, exact, sizeof exact), 17);
}

TEST_MAIN(test_accepted, test_rejected, test_format_edges)
