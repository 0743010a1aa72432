/*
 * netaddr.h - is an address one a webhook may reach? The SSRF guard
 * refuses loopback, private, link-local, CGNAT, multicast, reserved and
 * IPv4-mapped/compatible/translated forms of those, NAT64 addresses whose
 * embedded IPv4 is one of those, and 6to4 and Teredo addresses outright,
 * unless private webhooks are allowed.
 */
#ifndef CONVENE_NETADDR_H
#define CONVENE_NETADDR_H

#include <sys/socket.h>

/* 1 if the address is public (routable on the internet), 0 otherwise. */
int netaddr_is_public(const struct sockaddr *sa);

#endif
