/*
 * fuzz_app.h - the fixture the API fuzzers share: one app on a temporary
 * database, seeded through the API with a small organisation (people, rooms,
 * a vehicle, two events, a block, a webhook, tokens of every role), and
 * placeholders ("@P0", "@ADMIN", ...) that inputs use to name the seeded
 * records, whose ids are random. The state is rebuilt every
 * FUZZ_RESET_EVERY inputs so the database cannot grow without bound.
 *
 * Nothing here touches the network: webhooks are allowed to private
 * addresses, so the URL check parses the URL and never resolves it.
 */
#ifndef CONVENE_FUZZ_APP_H
#define CONVENE_FUZZ_APP_H

#include <stddef.h>
#include <stdint.h>

#include "convene/api.h"
#include "convene/app.h"

#define FUZZ_RESET_EVERY 500

/* The process-wide app; opened on first use, rebuilt by fuzz_app_tick. */
struct app *fuzz_app_get(void);

/*
 * Counts one input; every FUZZ_RESET_EVERY inputs closes the app, removes
 * its files and seeds a fresh one. Call before using fuzz_app_get().
 */
void fuzz_app_tick(void);

/* The seeded admin's identity, for api_route's preauth. */
const struct auth *fuzz_app_admin(void);

/*
 * Copies data[0..size) with every placeholder replaced by the seeded
 * value it names; the copy is NUL-terminated (*out_len excludes the NUL)
 * and owned by the caller (free()).
 */
char *fuzz_app_expand(const uint8_t *data, size_t size, size_t *out_len);

/*
 * Copies len bytes into a fresh allocation of exactly len bytes (no NUL),
 * so AddressSanitizer catches any read past the end, as for a body that
 * h2o hands over. Returns NULL for len 0.
 */
char *fuzz_dup_exact(const char *s, size_t len);

#endif
