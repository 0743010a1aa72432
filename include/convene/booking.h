/*
 * booking.h - the booking layer's public face (src/booking/): the domain
 * of a meeting's booking graph (planning a change, occupancy and
 * conflicts, preemption, trips and their driver rules, meal counts, audit
 * and outbox messages, the moving window). It takes parsed input and a
 * context and returns a result or a domain error; it never sees a request
 * or a reply. The HTTP handlers (src/api/) parse, call and render, and map
 * a booking_error's kind to a status (api_reply_booking_error).
 */
#ifndef CONVENE_BOOKING_H
#define CONVENE_BOOKING_H

#include <jansson.h>
#include <stdint.h>

#include "convene/app.h"
#include "convene/util.h"

/* What kind of refusal an error is; the API maps each to one HTTP status. */
enum booking_kind {
    BOOKING_OK = 0,
    BOOKING_MALFORMED,  /* a value of the wrong JSON type (400) */
    BOOKING_INVALID,    /* a value that breaks a rule (422) */
    BOOKING_FORBIDDEN,  /* the actor may not do this (403) */
    BOOKING_NOT_FOUND,  /* the thing changed does not exist (404) */
    BOOKING_CONFLICT,   /* clashes, duplicates, driver rules (409) */
    BOOKING_STALE,      /* the caller's version is not the stored one (412) */
    BOOKING_STORAGE,    /* the database failed (500) */
};

/*
 * A domain error: a stable code, the field it is about ("" when none), an
 * English message, and details (owned, may be NULL: e.g. the conflicts
 * array of a 409). Free details with booking_error_clear.
 */
struct booking_error {
    enum booking_kind kind;
    const char *code;
    char field[128];
    char message[256];
    json_t *details;
};

/* Who makes a change: a token's id and name, and the person it is bound to ("" if none). */
struct booking_actor {
    char token_id[ID_STR_MAX];
    char name[128];
    char person[ID_STR_MAX];
};

/* The context of one call into the layer. */
struct booking_ctx {
    struct app *app;
    const struct booking_actor *actor; /* NULL: convene itself (escalations, the window) */
    int64_t now;                       /* wall clock, seconds */
};

/* Fills err (details NULL); returns -1 so rules can `return booking_error_set(...)`. */
int booking_error_set(struct booking_error *err, enum booking_kind kind, const char *code,
                      const char *field, const char *fmt, ...)
    __attribute__((format(printf, 5, 6)));

/* Frees err->details; the rest needs no freeing. Accepts a zeroed error. */
void booking_error_clear(struct booking_error *err);

#endif
