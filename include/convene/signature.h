/*
 * signature.h - Standard Webhooks signing: secrets "whsec_<base64>" and
 * "v1,<base64 HMAC-SHA256(key, id.timestamp.body)>".
 */
#ifndef CONVENE_SIGNATURE_H
#define CONVENE_SIGNATURE_H

#include <stddef.h>
#include <stdint.h>

#define SIGNATURE_SECRET_BYTES 32
#define SIGNATURE_MAX 64 /* "v1," + 44 base64 chars + NUL */

/* A new secret "whsec_" + base64 of 32 random bytes into out (>= 64 bytes). 0 or -1. */
int signature_secret_new(char *out, size_t cap);

/* Signs; writes "v1,<base64>" into out[SIGNATURE_MAX]. -1 if the secret is malformed. */
int signature_sign(const char *secret, const char *msg_id, int64_t timestamp, const char *body,
                   size_t body_len, char out[SIGNATURE_MAX]);

#endif
