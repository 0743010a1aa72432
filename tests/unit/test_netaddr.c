/*
 * test_netaddr.c - core/netaddr.c, the SSRF guard's address rule: a table
 * of IPv4 and IPv6 addresses with the verdict each must get, including the
 * IPv6 forms that carry or reach an IPv4 address (mapped, translated,
 * NAT64) and the tunnel prefixes refused outright (6to4, Teredo).
 */
#include "check.h"

#include "convene/netaddr.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <string.h>

static const struct {
    const char *addr;
    int is_public;
} cases[] = {
    /* IPv4 */
    {"8.8.8.8", 1},
    {"1.1.1.1", 1},
    {"93.184.216.34", 1},
    {"127.0.0.1", 0},
    {"127.255.255.254", 0},
    {"0.0.0.0", 0},
    {"10.1.2.3", 0},
    {"100.64.0.1", 0},
    {"100.128.0.1", 1}, /* just past CGNAT 100.64/10 */
    {"169.254.169.254", 0},
    {"172.16.0.1", 0},
    {"172.32.0.1", 1},  /* just past 172.16/12 */
    {"192.168.1.1", 0},
    {"198.18.0.1", 0},
    {"224.0.0.1", 0},
    {"255.255.255.255", 0},
    /* IPv6 natives */
    {"2606:4700:4700::1111", 1},
    {"2400:3200::1", 1},
    {"::", 0},
    {"::1", 0},
    {"fe80::1", 0},
    {"fc00::1", 0},
    {"fd12:3456::1", 0},
    {"fec0::1", 0},
    {"ff02::1", 0},
    {"2001:db8::1", 0},
    {"100::1", 0},       /* discard-only 100::/64 */
    {"100:0:0:1::1", 1}, /* outside it */
    /* IPv6 carrying an IPv4 address: judged by it */
    {"::ffff:127.0.0.1", 0},
    {"::ffff:10.0.0.1", 0},
    {"::ffff:8.8.8.8", 1},
    {"::127.0.0.1", 0},
    {"::ffff:0:127.0.0.1", 0}, /* SIIT translated */
    {"::ffff:0:8.8.8.8", 1},
    /* NAT64: the well-known prefix and the local-use /48 */
    {"64:ff9b::127.0.0.1", 0},
    {"64:ff9b::10.0.0.1", 0},
    {"64:ff9b::169.254.169.254", 0},
    {"64:ff9b::8.8.8.8", 1},
    {"64:ff9b:1::127.0.0.1", 0},     /* /96 reading private */
    {"64:ff9b:1::8.8.8.8", 0},       /* /48 reading is 0.0.0.0: refused */
    {"64:ff9b:1:808:8:808:808:808", 1}, /* 8.8.8.8 in both readings */
    {"64:ff9b:1:7f00:1:808:808:808", 0}, /* /48 reading 127.0.0.1 */
    {"64:ff9b:1:808:8:808:7f00:1", 0},   /* /96 reading 127.0.0.1 */
    {"64:ff9b:2::8.8.8.8", 1},          /* not a NAT64 prefix */
    /* 6to4 and Teredo: refused whatever they embed */
    {"2002:7f00:1::1", 0},
    {"2002:c0a8:101::1", 0},
    {"2002:808:808::1", 0},
    {"2001::1", 0},
    {"2001:0:4136:e378:8000:63bf:80ff:fffe", 0}, /* Teredo client for 127.0.0.1 */
    {"2001:0:53aa:64c:0:0:f7f7:f7f7", 0},
    {"2001:1::1", 1}, /* next to Teredo, not in it */
    {"2003::1", 1},   /* next to 6to4 */
};

static int verdict(const char *text)
{
    struct sockaddr_storage ss;

    memset(&ss, 0, sizeof(ss));
    if (strchr(text, ':') != NULL) {
        struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;
        in6->sin6_family = AF_INET6;
        if (inet_pton(AF_INET6, text, &in6->sin6_addr) != 1)
            return -1;
    } else {
        struct sockaddr_in *in = (struct sockaddr_in *)&ss;
        in->sin_family = AF_INET;
        if (inet_pton(AF_INET, text, &in->sin_addr) != 1)
            return -1;
    }
    return netaddr_is_public((const struct sockaddr *)&ss);
}

static void test_table(void)
{
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int got = verdict(cases[i].addr);
        CHECK_EQ_INT(got, cases[i].is_public);
        if (got != cases[i].is_public)
            fprintf(stderr, "    address: %s\n", cases[i].addr);
    }
}

/* Anything but IPv4 and IPv6 (a Unix socket, a zeroed address) is not public. */
static void test_other_families(void)
{
    struct sockaddr_storage ss;

    memset(&ss, 0, sizeof(ss));
    ss.ss_family = AF_UNIX;
    CHECK_EQ_INT(netaddr_is_public((const struct sockaddr *)&ss), 0);
    ss.ss_family = AF_UNSPEC;
    CHECK_EQ_INT(netaddr_is_public((const struct sockaddr *)&ss), 0);
}

int main(void)
{
    test_table();
    test_other_families();
    return check_finish();
}
