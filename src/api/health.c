/*
 * health.c - GET /healthz (liveness, database reachable, how far the
 * working calendar reaches) and GET /metrics (Prometheus text).
 */
#include "handlers.h"

#include "convene/event_docs.h"
#include "convene/feed.h"
#include "convene/metrics.h"
#include "convene/notify.h"
#include "convene/store.h"
#include "convene/util.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/*
 * {"status":"ok","calendar_until":"2026-12-31"} plus "warnings" while the
 * working calendar runs out within WORKCAL_WARN_DAYS: the service works
 * either way (200), but someone has to load next year's holidays.
 */
static json_t *health_render(struct app *app)
{
    const struct workcal *wc = app_workcal(app);
    json_t *out = json_pack("{s:s}", "status", "ok");
    struct local_time last;
    char until[TIME_DATE_STR], warning[1024];

    if (workcal_covered_until(wc, &last) == 0) {
        time_date_format(&last, until);
        json_object_set_new(out, "calendar_until", json_string(until));
    } else {
        json_object_set_new(out, "calendar_until", json_null());
    }
    if (app_workcal_warning(app, warning, sizeof(warning)))
        json_object_set_new(out, "warnings", json_pack("[s]", warning));
    return out;
}

void api_healthz(struct api_call *call)
{
    /* The database answering is what "healthy" means for this service. */
    if (store_size_bytes(call->app->store) < 0) {
        api_reply_error(call, 503, "unavailable", NULL, "the database does not answer");
        return;
    }
    api_reply_json(call, 200, health_render(call->app), -1);
}

/* Resident set size from /proc/self/statm, or -1. */
static long long resident_bytes(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long long pages = -1, resident = -1;

    if (f == NULL)
        return -1;
    if (fscanf(f, "%lld %lld", &pages, &resident) != 2)
        resident = -1;
    fclose(f);
    return resident < 0 ? -1 : resident * sysconf(_SC_PAGESIZE);
}

/* The read caches: how well they serve and what they hold (memory is the thing to watch). */
static void cache_metrics_render(struct app *app, struct strbuf *sb)
{
    uint64_t hits, misses;
    size_t docs, doc_bytes, feeds, feed_bytes;

    event_docs_stats(app->event_docs, &hits, &misses, &docs, &doc_bytes);
    feed_cache_stats(app->feeds, &feeds, &feed_bytes);
    strbuf_printf(sb,
                  "# HELP convene_event_cache_requests_total Parsed-document cache lookups.\n"
                  "# TYPE convene_event_cache_requests_total counter\n"
                  "convene_event_cache_requests_total{result=\"hit\"} %llu\n"
                  "convene_event_cache_requests_total{result=\"miss\"} %llu\n"
                  "# HELP convene_event_cache_entries Event documents held parsed.\n"
                  "# TYPE convene_event_cache_entries gauge\n"
                  "convene_event_cache_entries %zu\n"
                  "# HELP convene_event_cache_bytes Estimated bytes they take (budget 16 MiB).\n"
                  "# TYPE convene_event_cache_bytes gauge\n"
                  "convene_event_cache_bytes %zu\n"
                  "# HELP convene_feed_cache_entries Rendered feeds held.\n"
                  "# TYPE convene_feed_cache_entries gauge\n"
                  "convene_feed_cache_entries %zu\n"
                  "# HELP convene_feed_cache_bytes Bytes of the rendered feeds held (plain and gzip bodies).\n"
                  "# TYPE convene_feed_cache_bytes gauge\n"
                  "convene_feed_cache_bytes %zu\n"
                  "# HELP process_resident_memory_bytes Resident memory of the service.\n"
                  "# TYPE process_resident_memory_bytes gauge\n"
                  "process_resident_memory_bytes %lld\n",
                  (unsigned long long)hits, (unsigned long long)misses, docs, doc_bytes, feeds,
                  feed_bytes, resident_bytes());
}

/* The connection caps and what they refused (http/server.c keeps the counts). */
static void connection_metrics_render(const struct conn_stats *c, struct strbuf *sb)
{
    strbuf_printf(sb,
                  "# HELP convene_connections_refused_total Connections closed at accept, by cap.\n"
                  "# TYPE convene_connections_refused_total counter\n"
                  "convene_connections_refused_total{reason=\"total\"} %llu\n"
                  "convene_connections_refused_total{reason=\"per_client\"} %llu\n"
                  "# HELP convene_connections_max Connections the service keeps open at most.\n"
                  "# TYPE convene_connections_max gauge\n"
                  "convene_connections_max %lld\n"
                  "# HELP convene_connections_max_per_client Of them, from one client address.\n"
                  "# TYPE convene_connections_max_per_client gauge\n"
                  "convene_connections_max_per_client %lld\n"
                  "# HELP convene_open_files_limit The process's open-file limit (RLIMIT_NOFILE).\n"
                  "# TYPE convene_open_files_limit gauge\n"
                  "convene_open_files_limit %lld\n",
                  (unsigned long long)c->refused_total, (unsigned long long)c->refused_per_client,
                  (long long)c->max_total, (long long)c->max_per_client,
                  (long long)c->open_files_limit);
}

/* Group commit of write requests (http/commit_group.c keeps the counts). */
static void commit_metrics_render(const struct commit_stats *c, struct strbuf *sb)
{
    strbuf_printf(sb,
                  "# HELP convene_commit_groups_total Transactions that committed a group of "
                  "write requests.\n"
                  "# TYPE convene_commit_groups_total counter\n"
                  "convene_commit_groups_total %llu\n"
                  "# HELP convene_commit_group_members_total Write requests applied in them.\n"
                  "# TYPE convene_commit_group_members_total counter\n"
                  "convene_commit_group_members_total %llu\n"
                  "# HELP convene_commit_group_largest Members of the largest group so far.\n"
                  "# TYPE convene_commit_group_largest gauge\n"
                  "convene_commit_group_largest %llu\n"
                  "# HELP convene_commit_groups_cut_total Groups committed at a bound while "
                  "requests still waited.\n"
                  "# TYPE convene_commit_groups_cut_total counter\n"
                  "convene_commit_groups_cut_total %llu\n"
                  "# HELP convene_commit_groups_failed_total Groups whose BEGIN or COMMIT "
                  "failed (every member answered 500).\n"
                  "# TYPE convene_commit_groups_failed_total counter\n"
                  "convene_commit_groups_failed_total %llu\n",
                  (unsigned long long)c->groups, (unsigned long long)c->members,
                  (unsigned long long)c->largest, (unsigned long long)c->cut,
                  (unsigned long long)c->failed);
}

/* WAL checkpoints: on their thread, or on the loop once that fell behind (store/checkpoint.c). */
static void checkpoint_metrics_render(struct store *st, struct strbuf *sb)
{
    uint64_t thread, loop;

    store_checkpoint_counts(st, &thread, &loop);
    strbuf_printf(sb,
                  "# HELP convene_wal_checkpoints_total WAL checkpoints completed, by where "
                  "they ran.\n"
                  "# TYPE convene_wal_checkpoints_total counter\n"
                  "convene_wal_checkpoints_total{on=\"thread\"} %llu\n"
                  "convene_wal_checkpoints_total{on=\"loop\"} %llu\n",
                  (unsigned long long)thread, (unsigned long long)loop);
}

void api_metrics(struct api_call *call)
{
    struct app *app = call->app;
    struct strbuf sb;

    strbuf_init(&sb, 4 * 1024 * 1024);
    metrics_render(app->metrics, &sb);
    strbuf_printf(&sb,
                  "# HELP convene_db_size_bytes Size of the SQLite database file.\n"
                  "# TYPE convene_db_size_bytes gauge\n"
                  "convene_db_size_bytes %lld\n"
                  "# HELP convene_open_connections HTTP connections currently open.\n"
                  "# TYPE convene_open_connections gauge\n"
                  "convene_open_connections %lld\n"
                  "# HELP convene_uptime_seconds Seconds since the service started.\n"
                  "# TYPE convene_uptime_seconds gauge\n"
                  "convene_uptime_seconds %.3f\n"
                  "# HELP convene_schema_version Database schema version.\n"
                  "# TYPE convene_schema_version gauge\n"
                  "convene_schema_version %d\n"
                  "# HELP convene_workcal_covered_until_timestamp_seconds When the working "
                  "calendar runs out (midnight after its last day, --tz); 0 when it is empty.\n"
                  "# TYPE convene_workcal_covered_until_timestamp_seconds gauge\n"
                  "convene_workcal_covered_until_timestamp_seconds %lld\n",
                  (long long)store_size_bytes(app->store), (long long)app->open_connections,
                  (double)(clock_monotonic_us() - app->started_us) / 1e6,
                  store_schema_version(app->store),
                  (long long)app_workcal_covered_until_utc(app));
    connection_metrics_render(&app->conn_stats, &sb);
    commit_metrics_render(&app->commit_stats, &sb);
    checkpoint_metrics_render(app->store, &sb);
    cache_metrics_render(app, &sb);
    notify_metrics_render(app->notify, &sb);
    api_reply_empty(call, 200);
    call->res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    call->res->body = strbuf_detach(&sb, &call->res->body_len);
}
