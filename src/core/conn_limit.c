/*
 * conn_limit.c - connection counts per client address, in an open
 * addressing table (linear probing, deletion by backward shift, so no
 * tombstones pile up under churn). The table holds only addresses with a
 * connection open: at most max_total of them, each a few words.
 *
 * The hash is keyed by a secret seed: the addresses are the client's
 * choice (an IPv6 attacker has 65536 /64s in a /48), and with a known hash
 * they could be picked to collide into one long probe run.
 */
#include "convene/conn_limit.h"
#include "convene/util.h"

#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>

#define INITIAL_SLOTS 64

struct slot {
    struct conn_key key;
    size_t count; /* 0: the slot is free */
};

struct conn_limit {
    size_t max_total, max_per_client;
    size_t open;        /* connections counted, all addresses */
    size_t used;        /* slots holding an address */
    size_t mask;        /* slots - 1; slots is a power of two */
    struct slot *slots; /* owned */
    uint64_t seed;
};

void conn_limit_caps(uint64_t nofile, size_t want_total, size_t want_per_client, size_t *total,
                     size_t *per_client, int *lowered)
{
    /* A tiny limit (ulimit -n 300) still serves, with half for HTTP. */
    uint64_t budget = nofile > 2 * CONN_FD_RESERVE ? nofile - CONN_FD_RESERVE : nofile / 2;
    size_t auto_per_client;

    if (budget < 1)
        budget = 1;
    if (budget > SIZE_MAX / 2)
        budget = SIZE_MAX / 2;
    *lowered = want_total > budget;
    *total = want_total == 0 || *lowered ? (size_t)budget : want_total;
    auto_per_client = *total / 8 < CONN_PER_CLIENT_MAX_AUTO ? *total / 8 : CONN_PER_CLIENT_MAX_AUTO;
    if (auto_per_client < 1)
        auto_per_client = 1;
    *per_client = want_per_client == 0 ? auto_per_client
                  : want_per_client > *total ? *total : want_per_client;
}

struct conn_limit *conn_limit_new(size_t max_total, size_t max_per_client, uint64_t seed)
{
    struct conn_limit *cl = xcalloc(1, sizeof(*cl));

    cl->max_total = max_total;
    cl->max_per_client = max_per_client;
    cl->mask = INITIAL_SLOTS - 1;
    cl->slots = xcalloc(INITIAL_SLOTS, sizeof(*cl->slots));
    cl->seed = seed;
    return cl;
}

void conn_limit_free(struct conn_limit *cl)
{
    if (cl == NULL)
        return;
    free(cl->slots);
    free(cl);
}

static uint64_t load64(const unsigned char *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = v << 8 | p[i];
    return v;
}

void conn_limit_key(const struct sockaddr *sa, struct conn_key *key)
{
    static const unsigned char v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    memset(key, 0, sizeof(*key));
    if (sa->sa_family == AF_INET) {
        key->family = AF_INET;
        key->bits = ntohl(((const struct sockaddr_in *)sa)->sin_addr.s_addr);
    } else if (sa->sa_family == AF_INET6) {
        const unsigned char *a = ((const struct sockaddr_in6 *)sa)->sin6_addr.s6_addr;
        if (memcmp(a, v4_mapped, sizeof(v4_mapped)) == 0) {
            key->family = AF_INET;
            key->bits = (uint64_t)a[12] << 24 | (uint64_t)a[13] << 16 | (uint64_t)a[14] << 8 | a[15];
        } else {
            key->family = AF_INET6;
            key->bits = load64(a);
        }
    }
}

/* A keyed mix (splitmix64's finaliser over key ^ seed): every input bit moves every output bit. */
static size_t slot_of(const struct conn_limit *cl, const struct conn_key *key)
{
    uint64_t z = key->bits ^ cl->seed ^ ((uint64_t)key->family << 56);

    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    z ^= z >> 31;
    return (size_t)z & cl->mask;
}

static int same_key(const struct conn_key *a, const struct conn_key *b)
{
    return a->family == b->family && a->bits == b->bits;
}

/* The slot holding key, or the free slot where it would go. */
static struct slot *find(const struct conn_limit *cl, const struct conn_key *key)
{
    size_t i = slot_of(cl, key);

    while (cl->slots[i].count != 0 && !same_key(&cl->slots[i].key, key))
        i = (i + 1) & cl->mask;
    return &cl->slots[i];
}

/* Doubles the table once it is half full, so probe runs stay short. */
static void grow(struct conn_limit *cl)
{
    struct slot *old = cl->slots;
    size_t nold = cl->mask + 1;

    cl->mask = nold * 2 - 1;
    cl->slots = xcalloc(nold * 2, sizeof(*cl->slots));
    for (size_t i = 0; i < nold; i++)
        if (old[i].count != 0)
            *find(cl, &old[i].key) = old[i];
    free(old);
}

enum conn_verdict conn_limit_admit(struct conn_limit *cl, const struct conn_key *key)
{
    struct slot *s;

    if (cl->open >= cl->max_total)
        return CONN_OVER_TOTAL;
    if (key->family == 0) {
        cl->open++;
        return CONN_ADMITTED;
    }
    s = find(cl, key);
    if (s->count >= cl->max_per_client)
        return CONN_OVER_PER_CLIENT;
    if (s->count == 0) {
        if (2 * (cl->used + 1) > cl->mask + 1) {
            grow(cl);
            s = find(cl, key);
        }
        s->key = *key;
        cl->used++;
    }
    s->count++;
    cl->open++;
    return CONN_ADMITTED;
}

/*
 * Frees slot i and moves later entries of its probe run back into the gap,
 * so a lookup never stops early at a hole (Knuth's algorithm R).
 */
static void remove_at(struct conn_limit *cl, size_t i)
{
    size_t j = i;

    cl->slots[i].count = 0;
    for (;;) {
        j = (j + 1) & cl->mask;
        if (cl->slots[j].count == 0)
            return;
        size_t home = slot_of(cl, &cl->slots[j].key);
        /* Entry j may move to i when its home is not cyclically within (i, j]. */
        if (i <= j ? (home <= i || home > j) : (home <= i && home > j)) {
            cl->slots[i] = cl->slots[j];
            cl->slots[j].count = 0;
            i = j;
        }
    }
}

void conn_limit_release(struct conn_limit *cl, const struct conn_key *key)
{
    struct slot *s;

    if (key->family == 0) {
        if (cl->open > 0)
            cl->open--;
        return;
    }
    s = find(cl, key);
    if (s->count == 0)
        return; /* not counted: nothing to give back */
    cl->open--;
    if (--s->count == 0) {
        cl->used--;
        remove_at(cl, (size_t)(s - cl->slots));
    }
}

size_t conn_limit_open(const struct conn_limit *cl)
{
    return cl->open;
}

size_t conn_limit_open_from(const struct conn_limit *cl, const struct conn_key *key)
{
    return key->family == 0 ? 0 : find(cl, key)->count;
}
