/*
 * metrics.h - request counters and latency histograms per route and
 * status, rendered in the Prometheus text exposition format.
 */
#ifndef CONVENE_METRICS_H
#define CONVENE_METRICS_H

#include <stddef.h>
#include <stdint.h>

#include "convene/util.h"

struct metrics;

/* Owner: the caller; free with metrics_free. */
struct metrics *metrics_new(size_t nroutes);
void metrics_free(struct metrics *m);

/* Records one finished request; route_index -1 for unmatched paths. */
void metrics_observe(struct metrics *m, int route_index, int status, uint64_t usec);

/* Appends the request families (counters and histograms). */
void metrics_render(const struct metrics *m, struct strbuf *out);

#endif
