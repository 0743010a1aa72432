/*
 * error.c - the booking layer's domain errors (booking.h): what a rule
 * refused, said once, for the API to render in its own terms.
 */
#include "convene/booking.h"

#include <stdarg.h>
#include <stdio.h>

int booking_error_set(struct booking_error *err, enum booking_kind kind, const char *code,
                      const char *field, const char *fmt, ...)
{
    va_list ap;

    err->kind = kind;
    err->code = code;
    err->details = NULL;
    snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof(err->message), fmt, ap);
    va_end(ap);
    return -1;
}

void booking_error_clear(struct booking_error *err)
{
    json_decref(err->details);
    err->details = NULL;
}
