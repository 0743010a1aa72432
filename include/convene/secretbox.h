/*
 * secretbox.h - sealing short secrets for storage: AES-256-GCM under a key
 * kept outside the database, so a copy of the database alone (a backup, a
 * support bundle) does not reveal them. Used for webhook signing secrets,
 * which cannot be hashed: signing needs them.
 */
#ifndef CONVENE_SECRETBOX_H
#define CONVENE_SECRETBOX_H

#include <stddef.h>

#define SECRETBOX_KEY_LEN 32
#define SECRETBOX_PREFIX "enc1:"
/* Sealed text of a secret of n bytes: prefix, base64 of nonce (12) + ciphertext (n) + tag (16). */
#define SECRETBOX_SEALED_MAX(n) (sizeof(SECRETBOX_PREFIX) + 4 * (((n) + 28 + 2) / 3) + 1)

/* Seals plain into out (NUL-terminated text). 0, or -1 if cap is too small or OpenSSL fails. */
int secretbox_seal(const unsigned char key[SECRETBOX_KEY_LEN], const char *plain, char *out,
                   size_t cap);

/*
 * Opens text sealed by secretbox_seal into out. Text without the prefix
 * (stored before sealing existed) is copied as it is. -1 when the text was
 * altered, the key is wrong, or out is too small.
 */
int secretbox_open(const unsigned char key[SECRETBOX_KEY_LEN], const char *text, char *out,
                   size_t cap);

/* Whether text is sealed. */
int secretbox_is_sealed(const char *text);

#endif
