/*
 * server.c - libh2o glue. h2o parses HTTP/1.1 (keep-alive, pipelining,
 * bounded request size) and calls on_request with the whole body read;
 * we answer synchronously, so a request's memory lives exactly as long as
 * h2o's request pool. Only this file includes h2o.h, so the HTTP library
 * could be swapped without touching the API.
 */
#include "convene/http.h"
#include "convene/api.h"
#include "convene/metrics.h"
#include "convene/notify.h"
#include "convene/util.h"

#include <h2o.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct http_server {
    struct app *app;
    uv_loop_t *loop;
    h2o_globalconf_t config;
    h2o_context_t ctx;
    h2o_accept_ctx_t accept_ctx;
    uv_tcp_t listener;
    uv_timer_t drain_timer;
    uint64_t drain_started_us;
    void (*on_drained)(void *arg);
    void *drained_arg;
    int context_ready;
    int drain_forced; /* lingering connections were told to close */
    struct http_sink *sinks; /* open streaming responses, ended at shutdown */
};

/* h2o hands handlers this struct; ours carries the server back. */
struct request_handler {
    h2o_handler_t super; /* must be first */
    struct http_server *srv;
};

/* One accepted connection; the uv handle is first so h2o's close callback can free it. */
struct connection {
    uv_tcp_t tcp;
    struct http_server *srv;
};

static const char *reason_phrase(int status)
{
    switch (status) {
    case 200: return "OK";
    case 201: return "Created";
    case 204: return "No Content";
    case 304: return "Not Modified";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 405: return "Method Not Allowed";
    case 409: return "Conflict";
    case 412: return "Precondition Failed";
    case 413: return "Payload Too Large";
    case 422: return "Unprocessable Entity";
    case 429: return "Too Many Requests";
    case 503: return "Service Unavailable";
    default: return status >= 500 ? "Internal Server Error" : "OK";
    }
}

static void header_value(h2o_req_t *req, const h2o_token_t *token, const char **value,
                         size_t *len)
{
    ssize_t i = h2o_find_header(&req->headers, token, -1);

    if (i < 0) {
        *value = NULL;
        *len = 0;
    } else {
        *value = req->headers.entries[i].value.base;
        *len = req->headers.entries[i].value.len;
    }
}

static void header_by_name(h2o_req_t *req, const char *name, const char **value, size_t *len)
{
    ssize_t i = h2o_find_header_by_str(&req->headers, name, strlen(name), -1);

    *value = i < 0 ? NULL : req->headers.entries[i].value.base;
    *len = i < 0 ? 0 : req->headers.entries[i].value.len;
}

static void request_from_h2o(h2o_req_t *req, struct api_request *out)
{
    memset(out, 0, sizeof(*out));
    out->method = req->method.base;
    out->method_len = req->method.len;
    out->path = req->path_normalized.base;
    out->path_len = req->path_normalized.len;
    out->raw_path = req->path.base;
    out->raw_path_len = req->path.len;
    if (req->query_at != SIZE_MAX) {
        out->query = req->path.base + req->query_at + 1;
        out->query_len = req->path.len - req->query_at - 1;
    }
    header_value(req, H2O_TOKEN_AUTHORIZATION, &out->authorization, &out->authorization_len);
    header_value(req, H2O_TOKEN_IF_MATCH, &out->if_match, &out->if_match_len);
    header_value(req, H2O_TOKEN_IF_NONE_MATCH, &out->if_none_match, &out->if_none_match_len);
    header_value(req, H2O_TOKEN_CONTENT_TYPE, &out->content_type, &out->content_type_len);
    header_value(req, H2O_TOKEN_ACCEPT_ENCODING, &out->accept_encoding, &out->accept_encoding_len);
    header_value(req, H2O_TOKEN_ACCEPT, &out->accept, &out->accept_len);
    header_value(req, H2O_TOKEN_IF_MODIFIED_SINCE, &out->if_modified_since,
                 &out->if_modified_since_len);
    header_value(req, H2O_TOKEN_COOKIE, &out->cookie, &out->cookie_len);
    header_by_name(req, "x-csrf-token", &out->csrf_token, &out->csrf_token_len);
    header_by_name(req, "last-event-id", &out->last_event_id, &out->last_event_id_len);
    for (size_t i = 0; i != req->headers.size; i++)
        out->header_bytes += req->headers.entries[i].name->len + req->headers.entries[i].value.len;
    out->body = req->entity.base;
    out->body_len = req->entity.base ? req->entity.len : 0;
}

/* The path as logged: feed tokens are credentials and never reach a log file. */
static void log_access(const struct api_request *r, int status, uint64_t usec)
{
    static const char feeds[] = "/feeds/";
    char numbers[48], *p = numbers + sizeof(numbers);
    int feed = r->path_len >= sizeof(feeds) - 1 &&
               memcmp(r->path, feeds, sizeof(feeds) - 1) == 0;

    /* " STATUS USECus", written backwards from the end of the buffer. */
    *--p = 's';
    *--p = 'u';
    do
        *--p = (char)('0' + usec % 10);
    while ((usec /= 10) != 0);
    *--p = ' ';
    for (int i = 0, st = status < 0 || status > 999 ? 0 : status; i < 3; i++, st /= 10)
        *--p = (char)('0' + st % 10);
    *--p = ' ';
    struct log_piece pieces[] = {
        {"access ", 7},
        {r->method, r->method_len > 16 ? 16 : r->method_len},
        {" ", 1},
        {feed ? "/feeds/***" : r->path, feed ? 10 : (r->path_len > 512 ? 512 : r->path_len)},
        {p, (size_t)(numbers + sizeof(numbers) - p)},
    };
    log_pieces(pieces, ARRAY_SIZE(pieces));
}

static void add_header(h2o_req_t *req, const h2o_token_t *token, const char *value)
{
    h2o_add_header(&req->pool, &req->res.headers, token, NULL, value, strlen(value));
}

/* Writes a complete answer, then logs and counts it; frees res. */
static void send_answer(struct http_server *srv, h2o_req_t *req, const struct api_request *areq,
                        struct api_response *res, uint64_t started)
{
    req->res.status = res->status;
    req->res.reason = reason_phrase(res->status);
    if (res->content_type != NULL)
        add_header(req, H2O_TOKEN_CONTENT_TYPE, res->content_type);
    if (res->etag[0] != '\0')
        add_header(req, H2O_TOKEN_ETAG, res->etag);
    if (res->allow != NULL)
        add_header(req, H2O_TOKEN_ALLOW, res->allow);
    for (size_t i = 0; i < res->nheaders; i++)
        h2o_add_header_by_str(&req->pool, &req->res.headers, res->headers[i].name,
                              strlen(res->headers[i].name), 1, NULL, res->headers[i].value,
                              strlen(res->headers[i].value));
    if (res->status == 401)
        add_header(req, H2O_TOKEN_WWW_AUTHENTICATE, "Bearer");
    if (srv->ctx.shutdown_requested)
        req->http1_is_persistent = 0;
    /*
     * The whole body is known: say its length. Without it h2o 2.2 chunks
     * only 200s and ends every other response (201, 4xx) by closing the
     * connection. 204 and 304 carry no body and no Content-Length.
     */
    if (res->status != 204 && res->status != 304)
        req->res.content_length = res->body_len;
    /* h2o_send_inline copies the body into the request pool. */
    h2o_send_inline(req, res->body ? res->body : "", res->body_len);

    /* A successful write may have queued messages or moved a reminder. */
    if (res->status < 400 && !(areq->method_len == 3 && memcmp(areq->method, "GET", 3) == 0))
        notify_kick(srv->app->notify);

    uint64_t usec = clock_monotonic_us() - started;
    metrics_observe(srv->app->metrics, res->route_index, res->status, usec);
    log_access(areq, res->status, usec);
    api_response_free(res);
}

/* ---------------- answers computed on a worker thread (api_defer) ---------------- */

/*
 * h2o 2.2's HTTP/1 stops reading the socket and disarms the request
 * timeout while a request is processed, so the request stays valid until
 * we answer it, however long the work takes.
 */
struct deferred {
    uv_work_t work;
    struct http_server *srv;
    h2o_req_t *req;
    struct api_job *job;  /* owned until api_job_finish */
    const char *route;
    int route_index;
    uint64_t started;
};

static void on_deferred_work(uv_work_t *work)
{
    struct deferred *d = work->data;
    d->job->work(d->job);
}

static void on_deferred_done(uv_work_t *work, int status)
{
    struct deferred *d = work->data;
    struct api_request areq;
    struct api_response res;

    (void)status; /* nothing cancels these: the work always ran */
    request_from_h2o(d->req, &areq);
    memset(&res, 0, sizeof(res));
    api_job_finish(d->srv->app, &areq, d->job, &res);
    res.route = d->route;
    res.route_index = d->route_index;
    send_answer(d->srv, d->req, &areq, &res, d->started);
    free(d);
}

static void deferred_start(struct http_server *srv, h2o_req_t *req, struct api_response *res,
                           uint64_t started)
{
    struct deferred *d = xcalloc(1, sizeof(*d));

    d->srv = srv;
    d->req = req;
    d->job = res->job;
    d->route = res->route;
    d->route_index = res->route_index;
    d->started = started;
    d->work.data = d;
    res->job = NULL;
    api_response_free(res);
    uv_queue_work(srv->loop, &d->work, on_deferred_work, on_deferred_done);
}

/* ---------------- streaming responses (text/event-stream) ---------------- */

#define HTTP_SINK_MAX (256 * 1024) /* bytes waiting for a slow reader before it is dropped */

/*
 * One streaming response. h2o takes one buffer at a time and asks for the
 * next (proceed) once it is written: what the stream writes meanwhile
 * waits in `waiting`. Owned by the server; freed when h2o disposes of the
 * request (stop), or at once when the response is ended with nothing in
 * flight.
 */
struct http_sink {
    h2o_generator_t gen;        /* first: h2o hands it back */
    h2o_req_t *req;
    struct http_server *srv;
    struct api_stream *stream;  /* the writer; NULL once it is done with the sink */
    struct strbuf sending;      /* in h2o's hands until proceed */
    struct strbuf waiting;
    int writing, closing;
    h2o_socket_t *sock;         /* read for its end only */
    uv_stream_t *handle;        /* the socket's libuv handle (write_refused) */
    struct http_sink *prev, *next;
};

/*
 * Once a read has seen the peer reset the connection, libuv refuses every
 * write at once (UV_EPIPE) without calling back, and h2o 2.2 ignores the
 * refusal: the response would wait for that write forever and the
 * connection would never close. Finish the write as failed, exactly as
 * h2o's own completion does (clear the callback, call it with an error):
 * h2o then closes the connection.
 */
static void write_refused(h2o_socket_t *sock, uv_stream_t *handle)
{
    h2o_socket_cb cb;

    if (sock == NULL || handle == NULL || sock->_cb.write == NULL || uv_is_writable(handle))
        return;
    cb = sock->_cb.write;
    sock->_cb.write = NULL;
    cb(sock, h2o_socket_error_io);
}

struct handle_search {
    h2o_socket_t *sock;
    uv_stream_t *found;
};

/* h2o's libuv socket keeps itself in its handle's data. */
static void on_walk_handle(uv_handle_t *handle, void *arg)
{
    struct handle_search *s = arg;

    if (handle->type == UV_TCP && handle->data == s->sock)
        s->found = (uv_stream_t *)handle;
}

static void sink_unlink_free(struct http_sink *sink)
{
    struct http_server *srv = sink->srv;

    if (sink->prev != NULL)
        sink->prev->next = sink->next;
    else
        srv->sinks = sink->next;
    if (sink->next != NULL)
        sink->next->prev = sink->prev;
    strbuf_free(&sink->sending);
    strbuf_free(&sink->waiting);
    free(sink);
}

static void sink_flush(struct http_sink *sink)
{
    h2o_iovec_t buf;
    struct strbuf swap;

    if (sink->writing)
        return;
    if (sink->closing) {
        /* The last bytes go from the request's pool: the sink is freed now. */
        buf.len = sink->waiting.len;
        buf.base = buf.len ? h2o_mem_alloc_pool(&sink->req->pool, buf.len) : NULL;
        if (buf.len)
            memcpy(buf.base, sink->waiting.data, buf.len);
        h2o_req_t *req = sink->req;
        h2o_socket_t *sock = sink->sock;
        uv_stream_t *handle = sink->handle;
        sink_unlink_free(sink);
        h2o_send(req, &buf, buf.len ? 1 : 0, H2O_SEND_STATE_FINAL);
        write_refused(sock, handle); /* the client reset the connection: close it */
        return;
    }
    if (sink->waiting.len == 0)
        return;
    swap = sink->sending;
    sink->sending = sink->waiting;
    sink->waiting = swap;
    sink->waiting.len = 0;
    sink->waiting.overflow = 0;
    buf = h2o_iovec_init(sink->sending.data, sink->sending.len);
    sink->writing = 1;
    h2o_send(sink->req, &buf, 1, H2O_SEND_STATE_IN_PROGRESS);
}

static void on_sink_proceed(h2o_generator_t *gen, h2o_req_t *req)
{
    struct http_sink *sink = (struct http_sink *)gen;

    (void)req;
    sink->writing = 0;
    sink->sending.len = 0;
    sink_flush(sink);
}

/* The connection went away (a failed write, or the server closing it). */
static void on_sink_stop(h2o_generator_t *gen, h2o_req_t *req)
{
    struct http_sink *sink = (struct http_sink *)gen;
    struct api_stream *stream = sink->stream;

    (void)req;
    sink->stream = NULL;
    if (stream != NULL)
        stream->detach(stream);
    sink_unlink_free(sink);
}

int http_sink_write(struct http_sink *sink, const char *data, size_t len)
{
    if (sink->closing || strbuf_append(&sink->waiting, data, len) != 0 || sink->waiting.overflow)
        return -1;
    sink_flush(sink);
    return 0;
}

void http_sink_close(struct http_sink *sink)
{
    sink->stream = NULL;
    sink->closing = 1;
    sink_flush(sink);
}

/*
 * A stream's client sends nothing more; reading its socket anyway tells us
 * at once when it goes away (h2o does not read during a response), so its
 * slot under --max-streams is freed then, not at the next failed write.
 */
static void on_sink_readable(h2o_socket_t *sock, const char *err)
{
    /* h2o's HTTP/1 connection is the socket's data and begins with its h2o_conn_t. */
    h2o_context_t *ctx = ((h2o_conn_t *)sock->data)->ctx;
    struct http_server *srv = H2O_STRUCT_FROM_MEMBER(struct http_server, ctx, ctx);
    struct http_sink *sink = srv->sinks;

    if (err == NULL) {
        h2o_buffer_consume(&sock->input, sock->input->size);
        return;
    }
    h2o_socket_read_stop(sock);
    while (sink != NULL && sink->sock != sock)
        sink = sink->next;
    if (sink == NULL || sink->closing)
        return;
    struct api_stream *stream = sink->stream;
    sink->stream = NULL;
    if (stream != NULL)
        stream->detach(stream);
    http_sink_close(sink);
}

static void stream_start(struct http_server *srv, h2o_req_t *req, const struct api_request *areq,
                         struct api_response *res, uint64_t started)
{
    struct api_stream *stream = res->stream;
    struct http_sink *sink;

    res->stream = NULL;
    req->res.status = 200;
    req->res.reason = "OK";
    add_header(req, H2O_TOKEN_CONTENT_TYPE, "text/event-stream; charset=utf-8");
    add_header(req, H2O_TOKEN_CACHE_CONTROL, "no-cache");
    /* nginx in front would otherwise hold events back in its buffers. */
    h2o_add_header_by_str(&req->pool, &req->res.headers, H2O_STRLIT("x-accel-buffering"), 0,
                          NULL, H2O_STRLIT("no"));
    req->http1_is_persistent = 0; /* a stream ends its connection */
    sink = xcalloc(1, sizeof(*sink));
    sink->gen.proceed = on_sink_proceed;
    sink->gen.stop = on_sink_stop;
    sink->req = req;
    sink->srv = srv;
    sink->stream = stream;
    strbuf_init(&sink->sending, HTTP_SINK_MAX);
    strbuf_init(&sink->waiting, HTTP_SINK_MAX);
    sink->next = srv->sinks;
    if (srv->sinks != NULL)
        srv->sinks->prev = sink;
    srv->sinks = sink;
    h2o_start_response(req, &sink->gen);
    if ((sink->sock = req->conn->callbacks->get_socket(req->conn)) != NULL) {
        struct handle_search search = {sink->sock, NULL};
        uv_walk(srv->loop, on_walk_handle, &search);
        sink->handle = search.found;
        h2o_socket_read_start(sink->sock, on_sink_readable);
    }
    /* The headers go out now, with a comment, before the stream writes anything. */
    http_sink_write(sink, ":\n\n", 3);
    uint64_t usec = clock_monotonic_us() - started;
    metrics_observe(srv->app->metrics, res->route_index, 200, usec);
    log_access(areq, 200, usec);
    api_response_free(res);
    stream->attach(stream, sink);
}

/* Ends every stream (shutdown): their connections close once the last bytes are out. */
static void sinks_end(struct http_server *srv)
{
    struct http_sink *sink = srv->sinks, *next;

    for (; sink != NULL; sink = next) {
        struct api_stream *stream = sink->stream;
        next = sink->next;
        if (sink->closing)
            continue;
        sink->stream = NULL;
        if (stream != NULL)
            stream->detach(stream);
        http_sink_close(sink);
    }
}

static int on_request(h2o_handler_t *self, h2o_req_t *req)
{
    struct http_server *srv = ((struct request_handler *)self)->srv;
    uint64_t started = clock_monotonic_us();
    struct api_request areq;
    struct api_response res;

    request_from_h2o(req, &areq);
    memset(&res, 0, sizeof(res));
    api_dispatch(srv->app, &areq, NULL, &res);
    if (res.job != NULL) {
        deferred_start(srv, req, &res, started);
    } else if (res.stream != NULL && !srv->ctx.shutdown_requested) {
        stream_start(srv, req, &areq, &res, started);
    } else {
        if (res.stream != NULL) {
            res.stream->detach(res.stream);
            res.stream = NULL;
            free(res.body);
            res.body = xstrdup("{\"error\":{\"code\":\"unavailable\","
                               "\"message\":\"the service is stopping\"}}");
            res.body_len = strlen(res.body);
            res.status = 503;
        }
        send_answer(srv, req, &areq, &res, started);
    }
    return 0;
}

static void on_connection_closed(uv_handle_t *handle)
{
    struct connection *conn = (struct connection *)handle;
    conn->srv->app->open_connections--;
    free(conn);
}

static void on_accept(uv_stream_t *listener, int status)
{
    struct http_server *srv = listener->data;
    struct connection *conn;
    h2o_socket_t *sock;

    if (status != 0)
        return;
    conn = xcalloc(1, sizeof(*conn));
    conn->srv = srv;
    uv_tcp_init(srv->loop, &conn->tcp);
    if (uv_accept(listener, (uv_stream_t *)&conn->tcp) != 0) {
        uv_close((uv_handle_t *)&conn->tcp, (uv_close_cb)free);
        return;
    }
    uv_tcp_nodelay(&conn->tcp, 1);
    srv->app->open_connections++;
    sock = h2o_uv_socket_create((uv_stream_t *)&conn->tcp, on_connection_closed);
    h2o_accept(&srv->accept_ctx, sock);
}

static int listen_on(struct http_server *srv, const char *host, int port, int *bound)
{
    struct sockaddr_storage addr;
    int addrlen = sizeof(addr);
    int rc;

    uv_tcp_init(srv->loop, &srv->listener);
    srv->listener.data = srv;
    if (uv_ip4_addr(host, port, (struct sockaddr_in *)&addr) != 0 &&
        uv_ip6_addr(host, port, (struct sockaddr_in6 *)&addr) != 0) {
        log_error("cannot listen on '%s': not an IP address", host);
        return -1;
    }
    if ((rc = uv_tcp_bind(&srv->listener, (struct sockaddr *)&addr, 0)) != 0 ||
        (rc = uv_listen((uv_stream_t *)&srv->listener, 511, on_accept)) != 0) {
        log_error("cannot listen on %s:%d: %s", host, port, uv_strerror(rc));
        return -1;
    }
    uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&addr, &addrlen);
    *bound = ntohs(addr.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&addr)->sin6_port
                                              : ((struct sockaddr_in *)&addr)->sin_port);
    return 0;
}

int http_server_start(struct app *app, uv_loop_t *loop, struct http_server **out, int *port)
{
    struct http_server *srv = xcalloc(1, sizeof(*srv));
    h2o_hostconf_t *host;
    h2o_pathconf_t *path;
    struct request_handler *handler;

    srv->app = app;
    srv->loop = loop;
    h2o_config_init(&srv->config);
    srv->config.server_name = h2o_iovec_init(H2O_STRLIT("convene"));
    srv->config.max_request_entity_size = HTTP_MAX_ENTITY;
    srv->config.http1.req_timeout = HTTP_REQUEST_TIMEOUT_MS;
    srv->config.http1.upgrade_to_http2 = 0;
    /* No HTTP/2 here; its shutdown timer would outlive the context. */
    srv->config.http2.graceful_shutdown_timeout = 0;
    host = h2o_config_register_host(&srv->config, h2o_iovec_init(H2O_STRLIT("default")), 65535);
    path = h2o_config_register_path(host, "/", 0);
    handler = (struct request_handler *)h2o_create_handler(path, sizeof(*handler));
    handler->super.on_req = on_request;
    handler->srv = srv;

    h2o_context_init(&srv->ctx, loop, &srv->config);
    srv->context_ready = 1;
    srv->accept_ctx.ctx = &srv->ctx;
    srv->accept_ctx.hosts = srv->config.hosts;
    uv_timer_init(loop, &srv->drain_timer);
    if (listen_on(srv, app->cfg.listen_host, app->cfg.listen_port, port) != 0) {
        *out = srv; /* the caller closes the loop's handles and frees */
        return -1;
    }
    *out = srv;
    return 0;
}

static void on_drain_tick(uv_timer_t *timer)
{
    struct http_server *srv = timer->data;
    uint64_t waited_ms = (clock_monotonic_us() - srv->drain_started_us) / 1000;

    /*
     * Handlers answer within the loop turn that reads the request, so once
     * responses in flight have been written (a short grace), what is still
     * open waits for a request that will not be served: idle keep-alive
     * clients and ones stalled mid-request. They wait in h2o's request
     * timeout list (HTTP/1 in h2o 2.2 has no graceful-shutdown hook), and
     * expiring it makes h2o close and free them itself; closing their
     * handles behind its back at exit would leak them. An idle client used
     * to hold the exit back for the whole drain timeout.
     */
    if (srv->app->open_connections > 0 && !srv->drain_forced &&
        waited_ms >= HTTP_DRAIN_GRACE_MS) {
        log_info("shutdown: closing %lld idle or stalled connections",
                 (long long)srv->app->open_connections);
        srv->drain_forced = 1;
        h2o_timeout_run(srv->loop, &srv->ctx.http1.req_timeout, UINT64_MAX);
        return; /* the closes complete on the next ticks */
    }
    if (srv->app->open_connections > 0 && waited_ms < HTTP_DRAIN_TIMEOUT_MS)
        return;
    if (srv->app->open_connections > 0)
        log_error("shutdown: %lld connections still open after %d ms, leaving them",
                  (long long)srv->app->open_connections, HTTP_DRAIN_TIMEOUT_MS);
    uv_timer_stop(timer);
    srv->on_drained(srv->drained_arg);
}

void http_server_shutdown(struct http_server *srv, void (*on_drained)(void *arg), void *arg)
{
    srv->on_drained = on_drained;
    srv->drained_arg = arg;
    srv->drain_started_us = clock_monotonic_us();
    if (!uv_is_closing((uv_handle_t *)&srv->listener))
        uv_close((uv_handle_t *)&srv->listener, NULL);
    /* Idle keep-alive connections close now; busy ones after their response. */
    h2o_context_request_shutdown(&srv->ctx);
    sinks_end(srv);
    srv->drain_timer.data = srv;
    uv_timer_start(&srv->drain_timer, on_drain_tick, 0, 20);
}

/*
 * Drops timers still armed for connections that are gone. h2o 2.2.5
 * asserts that its timeouts are empty at dispose, but a request-shutdown
 * can leave entries behind; at exit nothing will fire them anyway.
 */
static void timeout_clear(h2o_timeout_t *timeout)
{
    while (!h2o_linklist_is_empty(&timeout->_entries)) {
        h2o_timeout_entry_t *entry =
            H2O_STRUCT_FROM_MEMBER(h2o_timeout_entry_t, _link, timeout->_entries.next);
        h2o_timeout_unlink(entry);
    }
}

void http_server_free(struct http_server *srv)
{
    if (srv == NULL)
        return;
    /* h2o closes its own timers here; ours and the listener follow, then the loop settles. */
    if (srv->context_ready) {
        timeout_clear(&srv->ctx.zero_timeout);
        timeout_clear(&srv->ctx.one_sec_timeout);
        timeout_clear(&srv->ctx.http1.req_timeout);
        timeout_clear(&srv->ctx.http2.idle_timeout);
        h2o_context_dispose(&srv->ctx);
    }
    if (!uv_is_closing((uv_handle_t *)&srv->listener))
        uv_close((uv_handle_t *)&srv->listener, NULL);
    if (!uv_is_closing((uv_handle_t *)&srv->drain_timer))
        uv_close((uv_handle_t *)&srv->drain_timer, NULL);
    /*
     * One pass finishes the closes above (handles embedded in srv) before
     * the free. Not UV_RUN_DEFAULT: the caller's signal handles and any
     * connection left after the drain timeout keep the loop alive, so it
     * would never return; the caller closes those afterwards.
     */
    uv_run(srv->loop, UV_RUN_NOWAIT);
    h2o_config_dispose(&srv->config);
    free(srv);
}
