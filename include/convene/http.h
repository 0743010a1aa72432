/*
 * http.h - the HTTP server on libh2o over libuv: accepts connections,
 * turns each request into an api_request for api_route, writes the
 * answer and one access-log line. Everything runs on the loop thread.
 */
#ifndef CONVENE_HTTP_H
#define CONVENE_HTTP_H

#include <uv.h>

#include "convene/app.h"

#define HTTP_REQUEST_TIMEOUT_MS 10000 /* headers, body, and keep-alive idle */
#define HTTP_MAX_ENTITY (2 * 1024 * 1024) /* h2o refuses beyond; we answer 413 above 1 MiB */
#define HTTP_DRAIN_TIMEOUT_MS 5000
#define HTTP_DRAIN_GRACE_MS 300 /* then idle keep-alive connections are closed */
#define HTTP_MAX_DEFERRED 64 /* requests waiting for the thread pool (password hashes) */

struct http_server;

/*
 * Binds app->cfg.listen_host:listen_port and starts accepting. Writes the
 * port actually bound (for port 0) to *port. Owner of *out: the caller,
 * released with http_server_free after the loop has stopped.
 */
int http_server_start(struct app *app, uv_loop_t *loop, struct http_server **out, int *port);

/*
 * Stops accepting, asks open connections to finish their current request
 * and close, then calls on_drained once none is left or the drain timeout
 * passed. on_drained runs on the loop.
 */
void http_server_shutdown(struct http_server *srv, void (*on_drained)(void *arg), void *arg);

/*
 * The writing end of a streaming response (struct api_stream in api.h).
 * http_sink_write queues bytes; they go out as the client reads. A reader
 * so slow that HTTP_SINK_MAX bytes are waiting gets -1: the writer should
 * then end the stream. After http_sink_close (the writer is done) or the
 * stream's detach (the connection is gone) the sink must not be used.
 */
struct http_sink;
int http_sink_write(struct http_sink *sink, const char *data, size_t len);
void http_sink_close(struct http_sink *sink);

/* Releases the h2o context and the server's handles; call once the loop has stopped. */
void http_server_free(struct http_server *srv);

#endif
