/*
 * test_conn_limit.c - core/conn_limit.c: the caps derived from the
 * open-file limit, the per-address and total counts (IPv6 by /64, mapped
 * IPv4 as IPv4), and the table staying exact through heavy churn, checked
 * against a plain array model.
 */
#include "check.h"

#include "convene/conn_limit.h"
#include "convene/util.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

static void key4(const char *ip, struct conn_key *key)
{
    struct sockaddr_in sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin_family = AF_INET;
    inet_pton(AF_INET, ip, &sa.sin_addr);
    conn_limit_key((struct sockaddr *)&sa, key);
}

static void key6(const char *ip, struct conn_key *key)
{
    struct sockaddr_in6 sa;

    memset(&sa, 0, sizeof(sa));
    sa.sin6_family = AF_INET6;
    inet_pton(AF_INET6, ip, &sa.sin6_addr);
    conn_limit_key((struct sockaddr *)&sa, key);
}

static void test_caps(void)
{
    size_t total, per_client;
    int lowered;

    /* This machine's limit: automatic caps. */
    conn_limit_caps(20000, 0, 0, &total, &per_client, &lowered);
    CHECK_EQ_INT(total, 20000 - CONN_FD_RESERVE);
    CHECK_EQ_INT(per_client, (20000 - CONN_FD_RESERVE) / 8);
    CHECK_EQ_INT(lowered, 0);
    /* A large limit: the per-client share stops at 4096. */
    conn_limit_caps(1048576, 0, 0, &total, &per_client, &lowered);
    CHECK_EQ_INT(total, 1048576 - CONN_FD_RESERVE);
    CHECK_EQ_INT(per_client, CONN_PER_CLIENT_MAX_AUTO);
    /* A small one (ulimit -n 300): half for HTTP, still serving. */
    conn_limit_caps(300, 0, 0, &total, &per_client, &lowered);
    CHECK_EQ_INT(total, 150);
    CHECK_EQ_INT(per_client, 18);
    conn_limit_caps(3, 0, 0, &total, &per_client, &lowered);
    CHECK_EQ_INT(total, 1);
    CHECK_EQ_INT(per_client, 1);
    /* Configured values within the limit are kept; beyond it, lowered and said so. */
    conn_limit_caps(20000, 100, 10, &total, &per_client, &lowered);
    CHECK_EQ_INT(total, 100);
    CHECK_EQ_INT(per_client, 10);
    CHECK_EQ_INT(lowered, 0);
    conn_limit_caps(1024, 5000, 0, &total, &per_client, &lowered);
    CHECK_EQ_INT(total, 1024 - CONN_FD_RESERVE);
    CHECK_EQ_INT(per_client, (1024 - CONN_FD_RESERVE) / 8);
    CHECK_EQ_INT(lowered, 1);
    /* A per-client cap over the total is the total. */
    conn_limit_caps(20000, 50, 80, &total, &per_client, &lowered);
    CHECK_EQ_INT(per_client, 50);
}

static void test_keys(void)
{
    struct conn_key a, b;
    struct sockaddr_un {
        sa_family_t family;
        char path[16];
    } unix_sa = {AF_UNIX, "/tmp/x"};

    key4("10.1.2.3", &a);
    key6("::ffff:10.1.2.3", &b);
    CHECK_EQ_INT(a.family, AF_INET);
    CHECK_EQ_INT(b.family, AF_INET);
    CHECK(a.bits == b.bits);
    /* One /64 is one client; the next /64 is another. */
    key6("2001:db8:1:2::1", &a);
    key6("2001:db8:1:2:ffff:ffff:ffff:ffff", &b);
    CHECK_EQ_INT(a.family, AF_INET6);
    CHECK(a.bits == b.bits);
    key6("2001:db8:1:3::1", &b);
    CHECK(a.bits != b.bits);
    /* 0.0.0.1 and ::1's /64 (all zero) differ by family. */
    key4("0.0.0.0", &a);
    key6("::1", &b);
    CHECK(a.family != b.family);
    conn_limit_key((struct sockaddr *)&unix_sa, &a);
    CHECK_EQ_INT(a.family, 0);
}

static void test_admit_and_release(void)
{
    struct conn_limit *cl = conn_limit_new(5, 2, 42);
    struct conn_key a, b, c, d, unix_key = {0, 0};

    key4("127.0.0.1", &a);
    key4("127.0.0.2", &b);
    key6("2001:db8::1", &c);
    key6("2001:db8::2", &d); /* the same /64 as c */
    CHECK_EQ_INT(conn_limit_admit(cl, &a), CONN_ADMITTED);
    CHECK_EQ_INT(conn_limit_admit(cl, &a), CONN_ADMITTED);
    CHECK_EQ_INT(conn_limit_admit(cl, &a), CONN_OVER_PER_CLIENT);
    CHECK_EQ_INT(conn_limit_open_from(cl, &a), 2);
    CHECK_EQ_INT(conn_limit_admit(cl, &c), CONN_ADMITTED);
    CHECK_EQ_INT(conn_limit_admit(cl, &d), CONN_ADMITTED);
    CHECK_EQ_INT(conn_limit_admit(cl, &c), CONN_OVER_PER_CLIENT);
    CHECK_EQ_INT(conn_limit_admit(cl, &b), CONN_ADMITTED);
    CHECK_EQ_INT(conn_limit_open(cl), 5);
    /* Full: even an address with nothing open waits. */
    CHECK_EQ_INT(conn_limit_admit(cl, &b), CONN_OVER_TOTAL);
    CHECK_EQ_INT(conn_limit_admit(cl, &unix_key), CONN_OVER_TOTAL);
    conn_limit_release(cl, &a);
    CHECK_EQ_INT(conn_limit_open(cl), 4);
    CHECK_EQ_INT(conn_limit_open_from(cl, &a), 1);
    CHECK_EQ_INT(conn_limit_admit(cl, &b), CONN_ADMITTED);
    CHECK_EQ_INT(conn_limit_open_from(cl, &b), 2);
    /* Releasing what was never admitted changes no address's count. */
    conn_limit_release(cl, &b);
    conn_limit_release(cl, &b);
    conn_limit_release(cl, &b);
    CHECK_EQ_INT(conn_limit_open_from(cl, &b), 0);
    CHECK_EQ_INT(conn_limit_open_from(cl, &c), 2);
    conn_limit_free(cl);
    conn_limit_free(NULL);
}

/*
 * Random admits and releases over many addresses, forcing growth and
 * backward-shift deletions, compared at every step with a plain count
 * per address.
 */
static void test_churn_against_model(void)
{
    enum { ADDRS = 3000, STEPS = 200000, PER = 3, TOTAL = 4000 };
    static size_t model[ADDRS];
    struct conn_limit *cl = conn_limit_new(TOTAL, PER, 7);
    size_t open = 0, mismatches = 0;
    unsigned seed = 12345;

    for (int step = 0; step < STEPS; step++) {
        seed = seed * 1103515245u + 12345u;
        size_t i = (seed >> 8) % ADDRS;
        struct conn_key k = {0x20010db800000000ULL + i * 0x10000ULL, AF_INET6};
        if ((seed >> 4) % 3 != 0) {
            enum conn_verdict v = conn_limit_admit(cl, &k);
            enum conn_verdict want = open >= TOTAL       ? CONN_OVER_TOTAL
                                     : model[i] >= PER ? CONN_OVER_PER_CLIENT
                                                        : CONN_ADMITTED;
            mismatches += v != want;
            if (want == CONN_ADMITTED) {
                model[i]++;
                open++;
            }
        } else if (model[i] > 0) {
            conn_limit_release(cl, &k);
            model[i]--;
            open--;
        }
        if (step % 997 == 0)
            for (size_t j = 0; j < ADDRS; j++) {
                struct conn_key kj = {0x20010db800000000ULL + j * 0x10000ULL, AF_INET6};
                mismatches += conn_limit_open_from(cl, &kj) != model[j];
            }
    }
    CHECK_EQ_INT(mismatches, 0);
    CHECK_EQ_INT(conn_limit_open(cl), open);
    /* Everything given back leaves an empty table. */
    for (size_t j = 0; j < ADDRS; j++) {
        struct conn_key kj = {0x20010db800000000ULL + j * 0x10000ULL, AF_INET6};
        while (model[j] > 0) {
            conn_limit_release(cl, &kj);
            model[j]--;
        }
        CHECK_EQ_INT(conn_limit_open_from(cl, &kj), 0);
    }
    CHECK_EQ_INT(conn_limit_open(cl), 0);
    conn_limit_free(cl);
}

int main(void)
{
    test_caps();
    test_keys();
    test_admit_and_release();
    test_churn_against_model();
    return check_finish();
}
