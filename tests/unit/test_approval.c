/*
 * test_approval.c - the pure rules of approvals (src/core/approval.c):
 * each tier's boundaries, exact cents, the expiry computation (48 h cannot
 * be waited for in an end-to-end test), too late, and who may decide.
 */
#include "check.h"

#include "convene/approval.h"

static const int64_t tiers[3] = {100000, 2000000, 5000000}; /* ¥1,000 / 20,000 / 50,000 */

static void test_tiers(void)
{
    static const struct {
        double yuan;
        enum approval_tier want;
    } cases[] = {
        {0, APPROVAL_TIER_NONE},
        {0.01, APPROVAL_TIER_OFFICE_DIRECTOR},
        {999.99, APPROVAL_TIER_OFFICE_DIRECTOR},
        {1000, APPROVAL_TIER_IN_CHARGE},
        {1000.01, APPROVAL_TIER_IN_CHARGE},
        {19999, APPROVAL_TIER_IN_CHARGE},
        {19999.99, APPROVAL_TIER_IN_CHARGE},
        {20000, APPROVAL_TIER_PRINCIPAL},
        {50000, APPROVAL_TIER_PRINCIPAL},
        {50000.01, APPROVAL_TIER_COLLECTIVE},
        {50001, APPROVAL_TIER_COLLECTIVE},
        {1e9, APPROVAL_TIER_COLLECTIVE},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        int64_t cents = -1;
        CHECK_EQ_INT(approval_amount_cents(cases[i].yuan, &cents), 0);
        CHECK_EQ_INT(approval_budget_tier(cents, tiers), cases[i].want);
    }
    CHECK_EQ_STR(approval_tier_name(APPROVAL_TIER_COLLECTIVE), "collective");
    CHECK_EQ_STR(approval_tier_name(APPROVAL_TIER_IN_CHARGE), "in_charge");
    CHECK_EQ_STR(approval_tier_name(APPROVAL_TIER_NONE), "");
}

static void test_amounts(void)
{
    int64_t cents = 0;

    CHECK_EQ_INT(approval_amount_cents(999.99, &cents), 0);
    CHECK_EQ_INT(cents, 99999);
    CHECK_EQ_INT(approval_amount_cents(0.29, &cents), 0); /* 28.999999999999996 in binary */
    CHECK_EQ_INT(cents, 29);
    CHECK_EQ_INT(approval_amount_cents(12000, &cents), 0);
    CHECK_EQ_INT(cents, 1200000);
    CHECK_EQ_INT(approval_amount_cents(9999999999.99, &cents), 0);
    CHECK_EQ_INT(cents, 999999999999LL);
    /* Refused: a third decimal, negative, beyond the maximum, not a number. */
    CHECK_EQ_INT(approval_amount_cents(999.999, &cents), -1);
    CHECK_EQ_INT(approval_amount_cents(0.001, &cents), -1);
    CHECK_EQ_INT(approval_amount_cents(-0.01, &cents), -1);
    CHECK_EQ_INT(approval_amount_cents(1e11, &cents), -1);
    CHECK_EQ_INT(approval_amount_cents(0.0 / 0.0, &cents), -1);
}

static void test_expiry(void)
{
    const int64_t now = 1800000000;

    /* Far ahead: 48 h after the request. */
    CHECK_EQ_INT(approval_expires(now, now + 10 * 86400), now + 48 * 3600);
    /* Sooner: 2 h before the start. */
    CHECK_EQ_INT(approval_expires(now, now + 24 * 3600), now + 22 * 3600);
    /* The two meet exactly at a start 50 h ahead. */
    CHECK_EQ_INT(approval_expires(now, now + 50 * 3600), now + 48 * 3600);
    CHECK_EQ_INT(approval_expires(now, now + 50 * 3600 - 1), now + 48 * 3600 - 1);
    /* Too late once start - 2 h has come. */
    CHECK(!approval_too_late(now, now + 2 * 3600 + 1));
    CHECK(approval_too_late(now, now + 2 * 3600));
    CHECK(approval_too_late(now, now - 60));
}

static void test_rights(void)
{
    static const struct {
        const char *actor;
        int admin;
        const char *approver, *requested_by;
        int delegate;
        enum approval_right want;
    } cases[] = {
        {"per_d", 0, "per_d", "per_s", 0, APPROVAL_MAY},         /* the approver */
        {"per_x", 0, "per_d", "per_s", 1, APPROVAL_MAY},         /* their delegate */
        {"per_x", 0, "per_d", "per_s", 0, APPROVAL_NOT_YOURS},   /* another leader */
        {"", 1, "per_d", "per_s", 0, APPROVAL_MAY},              /* an admin token */
        {"per_a", 1, "per_d", "per_s", 0, APPROVAL_MAY},         /* an admin person */
        {"per_d", 0, "per_d", "per_d", 0, APPROVAL_REQUESTER},   /* requester = approver */
        {"per_s", 1, "per_d", "per_s", 0, APPROVAL_REQUESTER},   /* requester, though admin */
        {"per_s", 0, "per_d", "per_s", 1, APPROVAL_REQUESTER},   /* requester, though delegate */
        {"", 0, "per_d", "", 0, APPROVAL_NOT_YOURS},             /* a token of no one */
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
        CHECK_EQ_INT(approval_right_of(cases[i].actor, cases[i].admin, cases[i].approver,
                                       cases[i].requested_by, cases[i].delegate),
                     cases[i].want);
}

int main(void)
{
    test_tiers();
    test_amounts();
    test_expiry();
    test_rights();
    return check_finish();
}
