/*
 * taplink.h - one-tap links (CONTRACT section 14): {public-url}/t/{token},
 * each for one person's one action (a driver's acknowledgement of one trip,
 * an attendee's answer to one occurrence, an approver's decision of one
 * approval). Pure rules, no store.
 *
 * A token is derived, never stored: base64url of the first 128 bits of
 * HMAC-SHA256(link key, ref), where ref names the action ("ack:<trip>:
 * <driver>", "rsvp:<event>:<recurrence id>:<person>", "approve:<approval>:
 * <approver>") and the link key is
 * derived from the key file for this purpose only. The database keeps the
 * token's SHA-256 (to find the action when the link is opened) and, in a
 * delivery row, the ref and the byte offset where the URL goes; the sender
 * derives the URL again at each attempt. So a copy of the database holds
 * no usable link, yet every retry sends the same bytes.
 */
#ifndef CONVENE_TAPLINK_H
#define CONVENE_TAPLINK_H

#include <stddef.h>
#include <stdint.h>

#include "convene/token.h"

#define TAPLINK_KEY_LEN 32
#define TAPLINK_TOKEN_LEN 22 /* base64url of 16 bytes */
#define TAPLINK_REF_MAX 160  /* "rsvp:" + event id + recurrence id + person id */
#define TAPLINK_PATH "/t/"
#define TAPLINK_PATH_MAX 32  /* bytes a link adds to its base: "/t/" + token + NUL */

/* "ack:<trip>:<driver>" into out[TAPLINK_REF_MAX]; 0, or -1 if it does not fit. */
int taplink_ref_ack(const char *trip_id, const char *driver, char out[TAPLINK_REF_MAX]);
/* "rsvp:<event>:<recurrence id>:<person>" into out[TAPLINK_REF_MAX]; 0 or -1. */
int taplink_ref_rsvp(const char *event_id, const char *rid, const char *person,
                     char out[TAPLINK_REF_MAX]);

/* "approve:<approval>:<approver>" into out[TAPLINK_REF_MAX]; 0 or -1. */
int taplink_ref_approve(const char *approval_id, const char *approver,
                        char out[TAPLINK_REF_MAX]);

/* The token of ref under key: TAPLINK_TOKEN_LEN base64url characters and a NUL. */
void taplink_derive(const unsigned char key[TAPLINK_KEY_LEN], const char *ref,
                    char out[TAPLINK_TOKEN_LEN + 1]);

/*
 * Whether s (len bytes, not NUL-terminated) can be a token at all: exactly
 * TAPLINK_TOKEN_LEN base64url characters. Checked before anything is
 * hashed or looked up, so garbage of any length costs nothing.
 */
int taplink_token_plausible(const char *s, size_t len);

/*
 * body with url inserted at byte offset at: a new string (malloc'd, the
 * caller's), or NULL when at is past the end of body.
 */
char *taplink_body_insert(const char *body, int64_t at, const char *url);

/*
 * Finds marker in text (exactly once) and removes it, in place: the offset
 * where it was, or -1 when it is absent or appears more than once (the
 * text then is unchanged).
 */
int64_t taplink_marker_cut(char *text, const char *marker);

#endif
