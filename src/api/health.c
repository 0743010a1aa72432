/*
 * health.c - GET /healthz (liveness, database reachable) and GET /metrics
 * (Prometheus text).
 */
#include "handlers.h"

#include "convene/metrics.h"
#include "convene/notify.h"
#include "convene/store.h"
#include "convene/util.h"

#include <string.h>

void api_healthz(struct api_call *call)
{
    /* The database answering is what "healthy" means for this service. */
    if (store_size_bytes(call->app->store) < 0) {
        api_reply_error(call, 503, "unavailable", NULL, "the database does not answer");
        return;
    }
    api_reply_json(call, 200, json_pack("{s:s}", "status", "ok"), -1);
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
                  "convene_schema_version %d\n",
                  (long long)store_size_bytes(app->store), (long long)app->open_connections,
                  (double)(clock_monotonic_us() - app->started_us) / 1e6,
                  store_schema_version(app->store));
    notify_metrics_render(app->notify, &sb);
    api_reply_empty(call, 200);
    call->res->content_type = "text/plain; version=0.0.4; charset=utf-8";
    call->res->body = strbuf_detach(&sb, &call->res->body_len);
}
