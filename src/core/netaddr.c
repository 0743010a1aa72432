/*
 * netaddr.c - address classification for the SSRF guard, checked after
 * DNS (at registration and again when curl opens each socket), so a name
 * that later resolves to 127.0.0.1 is still refused. IPv6 forms that
 * carry or reach an IPv4 address (mapped, NAT64) are judged by it; tunnel
 * prefixes (6to4, Teredo) are refused outright.
 */
#include "convene/netaddr.h"

#include <netinet/in.h>
#include <stdint.h>
#include <string.h>

static int ipv4_is_public(uint32_t a)
{
    static const struct {
        uint32_t net, mask;
    } blocked[] = {
        {0x00000000, 0xFF000000}, /* 0.0.0.0/8 "this network" */
        {0x0A000000, 0xFF000000}, /* 10/8 private */
        {0x64400000, 0xFFC00000}, /* 100.64/10 CGNAT */
        {0x7F000000, 0xFF000000}, /* 127/8 loopback */
        {0xA9FE0000, 0xFFFF0000}, /* 169.254/16 link-local (cloud metadata) */
        {0xAC100000, 0xFFF00000}, /* 172.16/12 private */
        {0xC0000000, 0xFFFFFF00}, /* 192.0.0/24 IETF */
        {0xC0000200, 0xFFFFFF00}, /* 192.0.2/24 documentation */
        {0xC0A80000, 0xFFFF0000}, /* 192.168/16 private */
        {0xC6120000, 0xFFFE0000}, /* 198.18/15 benchmarking */
        {0xC6336400, 0xFFFFFF00}, /* 198.51.100/24 documentation */
        {0xCB007100, 0xFFFFFF00}, /* 203.0.113/24 documentation */
        {0xE0000000, 0xF0000000}, /* 224/4 multicast */
        {0xF0000000, 0xF0000000}, /* 240/4 reserved and broadcast */
    };

    for (size_t i = 0; i < sizeof(blocked) / sizeof(blocked[0]); i++)
        if ((a & blocked[i].mask) == blocked[i].net)
            return 0;
    return 1;
}

static uint32_t ipv4_at(const unsigned char *b)
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

static int has_prefix(const unsigned char *b, const unsigned char *prefix, size_t n)
{
    return memcmp(b, prefix, n) == 0;
}

/*
 * NAT64 (RFC 6052, RFC 8215) reaches the IPv4 address it embeds, so it is
 * judged by that address. The well-known prefix 64:ff9b::/96 puts it in
 * the last 32 bits. In the local-use 64:ff9b:1::/48 the operator chooses
 * the prefix length: a /96 puts it last, a /48 in bytes 6-7 and 9-10
 * around the zero "u" octet. We cannot know which, so both readings must
 * be public.
 */
static int nat64_is_public(const unsigned char *b)
{
    static const unsigned char wkp[12] = {0x00, 0x64, 0xFF, 0x9B};
    static const unsigned char local[6] = {0x00, 0x64, 0xFF, 0x9B, 0x00, 0x01};

    if (has_prefix(b, wkp, 12))
        return ipv4_is_public(ipv4_at(b + 12));
    if (has_prefix(b, local, 6)) {
        const unsigned char as48[4] = {b[6], b[7], b[9], b[10]};
        return ipv4_is_public(ipv4_at(b + 12)) && ipv4_is_public(ipv4_at(as48));
    }
    return -1; /* not NAT64 */
}

static int ipv6_is_public(const unsigned char *b)
{
    static const unsigned char zero[12] = {0};
    static const unsigned char mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF};
    static const unsigned char translated[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0xFF, 0xFF, 0, 0};
    static const unsigned char teredo[4] = {0x20, 0x01, 0x00, 0x00};
    static const unsigned char discard[8] = {0x01, 0x00};
    int nat64;

    /*
     * ::ffff:a.b.c.d (mapped), ::ffff:0:a.b.c.d (SIIT translated) and the
     * deprecated ::a.b.c.d carry an IPv4 address: judge that.
     */
    if (has_prefix(b, mapped, 12) || has_prefix(b, translated, 12) || has_prefix(b, zero, 12))
        return ipv4_is_public(ipv4_at(b + 12));
    if ((nat64 = nat64_is_public(b)) >= 0)
        return nat64;
    /*
     * 6to4 (2002::/16) and Teredo (2001::/32) tunnel to an IPv4 address
     * written inside them (2002:7f00:1::, or Teredo's server and inverted
     * client), through relays we do not control: refused outright rather
     * than decoded, since no receiver of ours has a reason to use them.
     */
    if (b[0] == 0x20 && b[1] == 0x02)
        return 0;
    if (has_prefix(b, teredo, 4))
        return 0;
    if (has_prefix(b, discard, 8))             /* 100::/64 discard-only */
        return 0;
    if ((b[0] & 0xFE) == 0xFC)                 /* fc00::/7 unique local */
        return 0;
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0x80) /* fe80::/10 link-local */
        return 0;
    if (b[0] == 0xFE && (b[1] & 0xC0) == 0xC0) /* fec0::/10 site-local (deprecated) */
        return 0;
    if (b[0] == 0xFF)                          /* ff00::/8 multicast */
        return 0;
    if (b[0] == 0x20 && b[1] == 0x01 && b[2] == 0x0D && b[3] == 0xB8) /* 2001:db8::/32 docs */
        return 0;
    return 1;
}

int netaddr_is_public(const struct sockaddr *sa)
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *in = (const struct sockaddr_in *)(const void *)sa;
        return ipv4_is_public(ntohl(in->sin_addr.s_addr));
    }
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)(const void *)sa;
        return ipv6_is_public(in6->sin6_addr.s6_addr);
    }
    return 0;
}
