/*
 * approval.c - the pure rules of approvals (see approval.h). Amounts are
 * compared in cents as integers: a boundary such as ¥1,000 must not
 * depend on how 999.99 rounds as a double.
 */
#include "convene/approval.h"

#include <math.h>
#include <string.h>

const char *approval_tier_name(enum approval_tier tier)
{
    switch (tier) {
    case APPROVAL_TIER_OFFICE_DIRECTOR:
        return "office_director";
    case APPROVAL_TIER_IN_CHARGE:
        return "in_charge";
    case APPROVAL_TIER_PRINCIPAL:
        return "principal";
    case APPROVAL_TIER_COLLECTIVE:
        return "collective";
    case APPROVAL_TIER_NONE:
        break;
    }
    return "";
}

enum approval_tier approval_budget_tier(int64_t cents, const int64_t tiers[3])
{
    if (cents <= 0)
        return APPROVAL_TIER_NONE;
    if (cents < tiers[0])
        return APPROVAL_TIER_OFFICE_DIRECTOR;
    if (cents < tiers[1])
        return APPROVAL_TIER_IN_CHARGE;
    if (cents <= tiers[2])
        return APPROVAL_TIER_PRINCIPAL;
    return APPROVAL_TIER_COLLECTIVE;
}

int approval_amount_cents(double yuan, int64_t *cents)
{
    double scaled, whole;

    if (!isfinite(yuan) || yuan < 0)
        return -1;
    scaled = yuan * 100.0;
    whole = nearbyint(scaled);
    /*
     * 999.99 * 100 is 99998.99999999999 in binary: the nearest integer is
     * the amount meant. A third decimal (0.001 yuan) moves it by at least
     * 0.1 cent; below APPROVAL_MAX_CENTS one multiplication errs by under
     * 0.001 cent, so a hundredth of a cent tells the two apart.
     */
    if (whole > (double)APPROVAL_MAX_CENTS || fabs(scaled - whole) > 0.01)
        return -1;
    *cents = (int64_t)whole;
    return 0;
}

int64_t approval_expires(int64_t requested, int64_t start)
{
    int64_t by_request = requested + APPROVAL_WINDOW_S, by_start = start - APPROVAL_LEAD_S;

    return by_request < by_start ? by_request : by_start;
}

int approval_too_late(int64_t now, int64_t start)
{
    return now >= start - APPROVAL_LEAD_S;
}

enum approval_right approval_right_of(const char *actor, int admin, const char *approver,
                                      const char *requested_by, int delegate)
{
    int someone = actor != NULL && actor[0] != '\0';

    if (someone && requested_by != NULL && strcmp(actor, requested_by) == 0)
        return APPROVAL_REQUESTER;
    if (admin || delegate || (someone && strcmp(actor, approver) == 0))
        return APPROVAL_MAY;
    return APPROVAL_NOT_YOURS;
}
