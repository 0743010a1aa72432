/*
 * visibility.c - the one rule of who sees what of a meeting (see
 * visibility.h). Pure: the callers gather the facts.
 */
#include "convene/visibility.h"

enum visibility visibility_decide(const struct viewer *v, int confidential, int attends,
                                  int on_trip, int approves)
{
    switch (v->kind) {
    case VIEWER_OFFICE:
        return VISIBLE_FULL;
    case VIEWER_CALENDAR:
        return confidential ? VISIBLE_BUSY : VISIBLE_FULL;
    case VIEWER_PERSON:
        break;
    }
    /* An approver cannot decide what they may not read; nor can the delegate deciding for them. */
    if (attends || approves)
        return VISIBLE_FULL;
    if (on_trip)
        return confidential ? VISIBLE_TRIP : VISIBLE_FULL;
    return VISIBLE_NONE;
}
