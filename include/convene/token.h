/*
 * token.h - secrets: random API tokens and ids, their SHA-256 hashes,
 * derived feed tokens, and constant-time comparison. OpenSSL libcrypto.
 */
#ifndef CONVENE_TOKEN_H
#define CONVENE_TOKEN_H

#include <stddef.h>
#include <stdint.h>

#define TOKEN_HASH_LEN 32   /* SHA-256 */
#define TOKEN_RANDOM_BYTES 16 /* 128-bit secrets */
#define TOKEN_PREFIX "cvn_"
/* prefix + base64url of 16 bytes (22 chars) + NUL */
#define TOKEN_STR_MAX 40
#define ID_STR_MAX 32
#define FEED_KEY_LEN 32

/* Fills buf with n cryptographically random bytes; returns 0 or -1. */
int token_random_bytes(unsigned char *buf, size_t n);

/* Writes a new API token "cvn_<22 base64url chars>" into out[TOKEN_STR_MAX]. */
int token_generate(char out[TOKEN_STR_MAX]);

/*
 * Writes a new opaque id "<prefix>_<12 hex digits of the time in ms><12
 * random hex digits>" into out[ID_STR_MAX]: ids sort by when they were
 * made. -1 if the prefix is too long or no randomness could be had.
 */
#define ID_TIME_DIGITS 12
#define ID_RANDOM_BYTES 6
int token_id_generate(const char *prefix, char out[ID_STR_MAX]);

/* SHA-256 of a token string: what the database stores instead of the token. */
void token_hash(const char *token, size_t len, unsigned char out[TOKEN_HASH_LEN]);

/* Constant-time equality of two hashes: 1 if equal. */
int token_hash_equal(const unsigned char *a, const unsigned char *b);

/*
 * Derives the secret feed token of a calendar: base64url of the first 128
 * bits of HMAC-SHA256(key, "<kind>:<id>:<generation>"). Deriving rather than
 * storing means the database holds only the hash, yet the owner's feed URL
 * can be shown again; rotation bumps the generation.
 */
void token_feed_derive(const unsigned char key[FEED_KEY_LEN], const char *kind, const char *id,
                       int64_t generation, char out[TOKEN_STR_MAX]);

/* base64url without padding; out must hold 4*ceil(n/3)+1 bytes. */
size_t token_base64url(const unsigned char *in, size_t n, char *out);

/* Lower-case hex; out must hold 2n+1 bytes. */
void token_hex(const unsigned char *in, size_t n, char *out);

#endif
