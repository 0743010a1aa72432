/*
 * secretbox.c - AES-256-GCM sealing of short secrets (see secretbox.h). A
 * fresh random nonce per sealing; the tag authenticates the whole text, so
 * a changed byte or a wrong key is refused rather than yielding garbage.
 */
#include "convene/secretbox.h"
#include "convene/token.h"

#include <openssl/evp.h>
#include <string.h>

#define NONCE_LEN 12
#define TAG_LEN 16
#define PLAIN_MAX 256

int secretbox_is_sealed(const char *text)
{
    return text != NULL && strncmp(text, SECRETBOX_PREFIX, strlen(SECRETBOX_PREFIX)) == 0;
}

/* Encrypts (enc = 1) or decrypts in; with a tag to write or to check. Returns the length or -1. */
static int gcm(int enc, const unsigned char key[SECRETBOX_KEY_LEN],
               const unsigned char nonce[NONCE_LEN], const unsigned char *in, int len,
               unsigned char *out, unsigned char tag[TAG_LEN])
{
    EVP_CIPHER_CTX *ctx = EVP_CIPHER_CTX_new();
    int n = 0, fin = 0, ok;

    ok = ctx != NULL && EVP_CipherInit_ex(ctx, EVP_aes_256_gcm(), NULL, NULL, NULL, enc) &&
         EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, NONCE_LEN, NULL) &&
         EVP_CipherInit_ex(ctx, NULL, NULL, key, nonce, enc) &&
         EVP_CipherUpdate(ctx, out, &n, in, len) &&
         (enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, TAG_LEN, tag)) &&
         EVP_CipherFinal_ex(ctx, out + n, &fin) &&
         (!enc || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, TAG_LEN, tag));
    EVP_CIPHER_CTX_free(ctx);
    return ok ? n + fin : -1;
}

int secretbox_seal(const unsigned char key[SECRETBOX_KEY_LEN], const char *plain, char *out,
                   size_t cap)
{
    unsigned char raw[NONCE_LEN + PLAIN_MAX + TAG_LEN];
    size_t len = strlen(plain), prefix = strlen(SECRETBOX_PREFIX);

    if (len > PLAIN_MAX || cap < SECRETBOX_SEALED_MAX(len) ||
        token_random_bytes(raw, NONCE_LEN) != 0 ||
        gcm(1, key, raw, (const unsigned char *)plain, (int)len, raw + NONCE_LEN,
            raw + NONCE_LEN + len) != (int)len)
        return -1;
    memcpy(out, SECRETBOX_PREFIX, prefix);
    EVP_EncodeBlock((unsigned char *)out + prefix, raw, (int)(NONCE_LEN + len + TAG_LEN));
    return 0;
}

int secretbox_open(const unsigned char key[SECRETBOX_KEY_LEN], const char *text, char *out,
                   size_t cap)
{
    unsigned char raw[NONCE_LEN + PLAIN_MAX + TAG_LEN + 3];
    size_t enclen, prefix = strlen(SECRETBOX_PREFIX);
    int rawlen, len;

    if (!secretbox_is_sealed(text)) {
        if (strlen(text) >= cap)
            return -1;
        memcpy(out, text, strlen(text) + 1);
        return 0;
    }
    text += prefix;
    enclen = strlen(text);
    if (enclen == 0 || enclen % 4 != 0 || enclen / 4 * 3 > sizeof(raw))
        return -1;
    rawlen = EVP_DecodeBlock(raw, (const unsigned char *)text, (int)enclen);
    /* EVP_DecodeBlock counts padding as data. */
    rawlen -= (text[enclen - 1] == '=') + (text[enclen - 2] == '=');
    len = rawlen - NONCE_LEN - TAG_LEN;
    if (len < 0 || (size_t)len >= cap)
        return -1;
    if (gcm(0, key, raw, raw + NONCE_LEN, len, (unsigned char *)out, raw + NONCE_LEN + len) !=
        len) {
        memset(out, 0, cap); /* never leave unauthenticated bytes behind */
        return -1;
    }
    out[len] = '\0';
    return 0;
}
