/*
 * approval.h - the pure rules of approvals (CONTRACT section 12): which
 * tier a budget falls in, when an approval expires, whether a booking is
 * too late to be decided, and who may decide. No store, no JSON: the
 * booking layer (src/booking/approvals.c) gathers the facts and asks.
 */
#ifndef CONVENE_APPROVAL_H
#define CONVENE_APPROVAL_H

#include <stdint.h>

#define APPROVAL_WINDOW_S (48 * 3600)  /* an approval is due within 48 h of the request */
#define APPROVAL_LEAD_S (2 * 3600)     /* and decided at least 2 h before the start */
#define APPROVAL_MAX_CENTS 1000000000000LL /* ¥10 billion: above any budget, exact in a double */

/* Who must approve a budget (OFFICE.md: the office's expenditure tiers). */
enum approval_tier {
    APPROVAL_TIER_NONE,            /* 0 or no budget */
    APPROVAL_TIER_OFFICE_DIRECTOR, /* below tier 1 */
    APPROVAL_TIER_IN_CHARGE,       /* below tier 2: the department's in-charge leader */
    APPROVAL_TIER_PRINCIPAL,       /* up to and including tier 3 */
    APPROVAL_TIER_COLLECTIVE,      /* above tier 3: decided by an office meeting (办公会) */
};

/* "office_director", "in_charge", "principal", "collective" ("" for none). */
const char *approval_tier_name(enum approval_tier tier);

/*
 * The tier of an amount in cents (fen) against the three boundaries in
 * cents, compared as integers so 999.99 and 1000 never meet in floating
 * point.
 */
enum approval_tier approval_budget_tier(int64_t cents, const int64_t tiers[3]);

/*
 * A JSON number of yuan as exact cents: 0 with *cents, or -1 when it is
 * negative, has more than two decimals, or exceeds APPROVAL_MAX_CENTS.
 */
int approval_amount_cents(double yuan, int64_t *cents);

/* When an approval requested at requested for an event starting at start expires. */
int64_t approval_expires(int64_t requested, int64_t start);

/* Whether a booking starting at start can no longer be decided in time at now. */
int approval_too_late(int64_t now, int64_t start);

/* Whether someone may decide an approval, and why not. */
enum approval_right {
    APPROVAL_MAY,
    APPROVAL_REQUESTER, /* the person who booked it: never, even as approver or admin */
    APPROVAL_NOT_YOURS, /* neither the approver, their delegate nor an admin */
};

/*
 * actor: the person the deciding token or session is bound to ("" if
 * none); admin: it has admin rights; delegate: a block on the approver
 * covering now names actor as delegate.
 */
enum approval_right approval_right_of(const char *actor, int admin, const char *approver,
                                      const char *requested_by, int delegate);

#endif
