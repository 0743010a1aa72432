/*
 * metrics.c - fixed-size counters: no allocation after start, so observing
 * a request costs a few increments on the loop thread.
 */
#include "convene/metrics.h"
#include "convene/api.h"

#include <stdlib.h>
#include <string.h>

#define STATUS_SLOTS 16

static const double bucket_bounds[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                       0.05,   0.1,   0.25,   0.5,   1.0,  2.5};
#define NBUCKETS (sizeof(bucket_bounds) / sizeof(bucket_bounds[0]))

struct route_stats {
    struct {
        int status;
        uint64_t count;
    } statuses[STATUS_SLOTS];
    uint64_t buckets[NBUCKETS]; /* non-cumulative; summed when rendered */
    uint64_t count;
    double sum_seconds;
};

struct metrics {
    size_t nroutes;             /* routes + 1 slot for unmatched requests */
    struct route_stats *routes;
};

struct metrics *metrics_new(size_t nroutes)
{
    struct metrics *m = xcalloc(1, sizeof(*m));
    m->nroutes = nroutes + 1;
    m->routes = xcalloc(m->nroutes, sizeof(m->routes[0]));
    return m;
}

void metrics_free(struct metrics *m)
{
    if (m == NULL)
        return;
    free(m->routes);
    free(m);
}

void metrics_observe(struct metrics *m, int route_index, int status, uint64_t usec)
{
    size_t idx = route_index < 0 ? m->nroutes - 1 : (size_t)route_index;
    struct route_stats *r = &m->routes[idx];
    double seconds = (double)usec / 1e6;
    size_t b;

    for (size_t i = 0; i < STATUS_SLOTS; i++) {
        if (r->statuses[i].status == status || r->statuses[i].status == 0) {
            r->statuses[i].status = status;
            r->statuses[i].count++;
            break;
        }
        /* More than STATUS_SLOTS distinct statuses on one route: fold into the last. */
        if (i == STATUS_SLOTS - 1)
            r->statuses[i].count++;
    }
    for (b = 0; b < NBUCKETS && seconds > bucket_bounds[b]; b++)
        ;
    if (b < NBUCKETS)
        r->buckets[b]++;
    r->count++;
    r->sum_seconds += seconds;
}

static void route_labels(const struct metrics *m, size_t i, const char **method,
                         const char **route)
{
    if (i == m->nroutes - 1) {
        *method = "";
        *route = "unmatched";
    } else {
        *method = api_route_method(i);
        *route = api_route_pattern(i);
    }
}

void metrics_render(const struct metrics *m, struct strbuf *out)
{
    const char *method, *route;

    strbuf_puts(out, "# HELP convene_http_requests_total HTTP requests by route and status.\n"
                     "# TYPE convene_http_requests_total counter\n");
    for (size_t i = 0; i < m->nroutes; i++) {
        route_labels(m, i, &method, &route);
        for (size_t s = 0; s < STATUS_SLOTS && m->routes[i].statuses[s].status; s++)
            strbuf_printf(out,
                          "convene_http_requests_total{method=\"%s\",route=\"%s\",status=\"%d\"} "
                          "%llu\n",
                          method, route, m->routes[i].statuses[s].status,
                          (unsigned long long)m->routes[i].statuses[s].count);
    }
    strbuf_puts(out, "# HELP convene_http_request_duration_seconds Time to answer a request.\n"
                     "# TYPE convene_http_request_duration_seconds histogram\n");
    for (size_t i = 0; i < m->nroutes; i++) {
        const struct route_stats *r = &m->routes[i];
        uint64_t cumulative = 0;
        if (r->count == 0)
            continue;
        route_labels(m, i, &method, &route);
        for (size_t b = 0; b < NBUCKETS; b++) {
            cumulative += r->buckets[b];
            strbuf_printf(out,
                          "convene_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\","
                          "le=\"%g\"} %llu\n",
                          method, route, bucket_bounds[b], (unsigned long long)cumulative);
        }
        strbuf_printf(out,
                      "convene_http_request_duration_seconds_bucket{method=\"%s\",route=\"%s\","
                      "le=\"+Inf\"} %llu\n"
                      "convene_http_request_duration_seconds_sum{method=\"%s\",route=\"%s\"} %.6f\n"
                      "convene_http_request_duration_seconds_count{method=\"%s\",route=\"%s\"} "
                      "%llu\n",
                      method, route, (unsigned long long)r->count, method, route, r->sum_seconds,
                      method, route, (unsigned long long)r->count);
    }
}
