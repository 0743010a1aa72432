/*
 * conn_limit.h - how many HTTP connections the service holds open: in all,
 * and per client address, so one client cannot take every descriptor and
 * leave others unanswered (CONTRACT section 15). An IPv6 client is counted
 * by its /64, which one host or subscriber usually holds whole; an
 * IPv4-mapped IPv6 address counts as its IPv4 address. Pure: counts only;
 * the HTTP server asks before it hands a connection to h2o.
 */
#ifndef CONVENE_CONN_LIMIT_H
#define CONVENE_CONN_LIMIT_H

#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/*
 * Descriptors kept out of the HTTP budget: stdio and the log, the listener
 * and the loop's own (epoll, signals, timers), SQLite (database, WAL and
 * shared memory; a backup's copy), calendar files, and for each of the 64
 * webhook attempts in flight a socket plus curl's resolver pair.
 */
#define CONN_FD_RESERVE 256
/* The automatic per-client cap: an eighth of the total, at most this. */
#define CONN_PER_CLIENT_MAX_AUTO 4096

/* A client address as counted: family and the address (IPv4) or its /64 (IPv6). */
struct conn_key {
    uint64_t bits;
    int family; /* AF_INET or AF_INET6; 0 for an address not counted (a Unix socket) */
};

enum conn_verdict {
    CONN_ADMITTED,
    CONN_OVER_TOTAL,      /* every slot is taken */
    CONN_OVER_PER_CLIENT, /* this address holds its share */
};

struct conn_limit;

/*
 * The caps for an open-file limit of nofile descriptors. want_total and
 * want_per_client are the configured values, 0 for automatic. The total is
 * at most nofile less CONN_FD_RESERVE (half of nofile when that leaves
 * too little); *lowered is set when want_total asked for more.
 */
void conn_limit_caps(uint64_t nofile, size_t want_total, size_t want_per_client, size_t *total,
                     size_t *per_client, int *lowered);

/* Owner: the caller, released with conn_limit_free. seed keys the address hash. */
struct conn_limit *conn_limit_new(size_t max_total, size_t max_per_client, uint64_t seed);
void conn_limit_free(struct conn_limit *cl);

/* The key sa is counted under. */
void conn_limit_key(const struct sockaddr *sa, struct conn_key *key);

/* Counts a new connection from key when the caps allow it; otherwise says which cap refused it. */
enum conn_verdict conn_limit_admit(struct conn_limit *cl, const struct conn_key *key);

/* Gives back the slot of an admitted connection that has closed. */
void conn_limit_release(struct conn_limit *cl, const struct conn_key *key);

/* Connections open in all, and from key's address. */
size_t conn_limit_open(const struct conn_limit *cl);
size_t conn_limit_open_from(const struct conn_limit *cl, const struct conn_key *key);

#endif
