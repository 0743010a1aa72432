/*
 * server.c - libh2o glue. h2o parses HTTP/1.1 (keep-alive, pipelining,
 * bounded request size) and calls on_request with the whole body read;
 * a read is answered there and then, a write later in the same turn of the
 * loop, once the commit group it joined has committed (commit_group.c), so
 * a request's memory lives exactly as long as h2o's request pool. Only this
 * file includes h2o.h, so the HTTP library could be swapped without
 * touching the API.
 *
 * Around h2o, three guards (CONTRACT section 15):
 * - at accept, connection caps (total and per client address) from the
 *   open-file limit: a connection over a cap is answered 429/503 and closed
 *   before h2o sees it;
 * - a gate on the socket's read callback checks each request head with
 *   h2o's own parser before h2o acts on it (framing.c), answering what h2o
 *   would take ambiguously (two lengths: smuggling) or refuse in plain text;
 * - a filter on h2o's fallback path turns the errors h2o still generates
 *   itself (broken or oversized bodies) into the JSON error shape.
 */
#include "convene/http.h"
#include "convene/api.h"
#include "convene/commit_group.h"
#include "convene/conn_limit.h"
#include "convene/framing.h"
#include "convene/metrics.h"
#include "convene/notify.h"
#include "convene/util.h"

#include <h2o.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>

_Static_assert(HTTP_MAX_HEADERS == H2O_MAX_HEADERS, "framing.c reads heads as h2o does");
_Static_assert(HTTP_MAX_HEAD == H2O_MAX_REQLEN, "framing.c reads heads as h2o does");

/* RLIMIT_NOFILE when the hard limit is unlimited (Linux refuses more than nr_open anyway). */
#define NOFILE_CEILING 1048576

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
    struct conn_limit *limit; /* owned: connections counted against the caps */
    char *busy[2];            /* owned: the 503 (total) and 429 (per client) answers */
    size_t busy_len[2];
    int64_t refusals_logged_at; /* second of the last "refused" log line */
    int deferred;     /* requests waiting for the thread pool */
    struct http_sink *sinks; /* open streaming responses, ended at shutdown */
    struct commit_group *group; /* owned: write requests waiting for their group's COMMIT */
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
    h2o_socket_t *sock;     /* h2o's socket over tcp; NULL once h2o disposed of it */
    h2o_socket_cb h2o_read; /* h2o's read callback, called behind the gate */
    h2o_socket_cb h2o_sent; /* h2o's callback for the response being written */
    size_t head_len;        /* the next request's head as the gate measured it; 0 unknown */
    size_t request_len;     /* bytes of the request being answered (head, body); 0 unknown */
    int persistent;         /* whether h2o keeps the connection after this response */
    struct conn_key key;    /* the client address, as counted against the caps */
    char *refusal;          /* owned: the error the gate is writing */
};

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

/* Ours, not h2o's server_name: see http_server_start. */
static void add_server_header(h2o_req_t *req)
{
    h2o_add_header(&req->pool, &req->res.headers, H2O_TOKEN_SERVER, NULL, H2O_STRLIT("convene"));
}

/* ---------------- the gate: request heads checked before h2o parses them ---------------- */

static void on_read_gate(h2o_socket_t *sock, const char *err);
static void on_sent_gate(h2o_socket_t *sock, const char *err);

/* Our connection behind an h2o socket (its on_close data, set at accept). */
static struct connection *connection_of(h2o_socket_t *sock)
{
    return sock->on_close.data;
}

/*
 * h2o closed the socket, and with it the descriptor (uv_close closes it at
 * once; only the handle's memory waits for the loop): the slot is free for
 * the next client now, not a loop turn later.
 */
static void on_socket_disposed(void *data)
{
    struct connection *conn = data;

    conn->sock = NULL;
    conn_limit_release(conn->srv->limit, &conn->key);
}

static void peer_name(struct connection *conn, char *out, size_t cap)
{
    struct sockaddr_storage sa;
    int len = sizeof(sa);

    snprintf(out, cap, "?");
    if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&sa, &len) != 0)
        return;
    if (sa.ss_family == AF_INET6)
        uv_ip6_name((struct sockaddr_in6 *)&sa, out, cap);
    else if (sa.ss_family == AF_INET)
        uv_ip4_name((struct sockaddr_in *)&sa, out, cap);
}

/*
 * Puts the gate in front of h2o's read callback. h2o sets the callback
 * each time it starts reading a request (h2o_socket_read_start: at accept,
 * after each response), and has no hook of its own for this, so the gate
 * goes back in after each of those points.
 */
static void gate_wrap_read(struct connection *conn)
{
    h2o_socket_t *sock = conn->sock;

    if (sock != NULL && sock->_cb.read != NULL && sock->_cb.read != on_read_gate) {
        conn->h2o_read = sock->_cb.read;
        sock->_cb.read = on_read_gate;
    }
}

/* Lingering close: reads and drops what the client still sends until it closes. */
static void on_linger_read(h2o_socket_t *sock, const char *err)
{
    if (err != NULL) {
        connection_of(sock)->h2o_read(sock, err); /* h2o closes its connection */
        return;
    }
    h2o_buffer_consume(&sock->input, sock->input->size);
}

/*
 * The refusal is out: half-close and drain. Closing at once with unread
 * bytes (the rest of a huge head) makes the kernel send a reset, which can
 * destroy the answer before the client reads it. h2o's request timeout,
 * armed since the head began, bounds the wait.
 */
static void on_refusal_sent(h2o_socket_t *sock, const char *err)
{
    struct connection *conn = connection_of(sock);

    if (err != NULL) {
        conn->h2o_read(sock, err);
        return;
    }
    shutdown(h2o_socket_get_fd(sock), SHUT_WR);
    h2o_socket_read_start(sock, on_linger_read);
}

/* Answers a refused head outside h2o, which waits for a request that will not come. */
static void gate_refuse(struct connection *conn, const struct http_refusal *r)
{
    h2o_iovec_t buf;
    char peer[64];

    peer_name(conn, peer, sizeof(peer));
    log_info("http: refused a request from %s: %d %s", peer, r->status, r->message);
    metrics_observe(conn->srv->app->metrics, -1, r->status, 0);
    free(conn->refusal);
    conn->refusal = http_error_response(r, &buf.len);
    buf.base = conn->refusal;
    h2o_socket_read_stop(conn->sock);
    h2o_socket_write(conn->sock, &buf, 1, on_refusal_sent);
}

/* The verdict on the head offset bytes into the input; notes its length when it is sound. */
static enum http_head_verdict gate_judge(struct connection *conn, size_t offset,
                                         struct http_refusal *r)
{
    h2o_buffer_t *in = conn->sock->input;
    size_t head_len;
    enum http_head_verdict v = http_head_check(in->bytes + offset, in->size - offset, &head_len, r);

    if (v == HTTP_HEAD_OK)
        conn->head_len = head_len;
    return v;
}

static void on_read_gate(h2o_socket_t *sock, const char *err)
{
    struct connection *conn = connection_of(sock);
    struct http_refusal r;

    if (err == NULL && gate_judge(conn, 0, &r) == HTTP_HEAD_REFUSE) {
        gate_refuse(conn, &r);
        return;
    }
    conn->h2o_read(sock, err);
}

/*
 * A response is out. h2o now drops the request from its input and parses
 * what follows at once (pipelining), before the gate could go back in:
 * so the next head is checked here first. A refused one is cut off the
 * input, h2o goes on to wait for a request, and the refusal is written.
 */
static void on_sent_gate(h2o_socket_t *sock, const char *err)
{
    struct connection *conn = connection_of(sock);
    h2o_socket_cb sent = conn->h2o_sent;
    size_t done = conn->request_len;
    struct http_refusal r;
    int refused = 0;

    conn->h2o_sent = NULL;
    conn->head_len = 0;
    if (err == NULL && conn->persistent && done > 0 && sock->input->size > done &&
        gate_judge(conn, done, &r) == HTTP_HEAD_REFUSE) {
        refused = 1;
        sock->input->size = done;
    }
    sent(sock, err);
    if (refused && conn->sock != NULL)
        gate_refuse(conn, &r);
    else
        gate_wrap_read(conn);
}

/* The bytes of the request just answered: its head, and its body when it had one. */
static size_t request_length(struct connection *conn, const h2o_req_t *req)
{
    const h2o_buffer_t *in = conn->sock->input;
    size_t head_len = conn->head_len;

    conn->head_len = 0;
    if (req->entity.base == NULL)
        return head_len;
    /* The body lies in the input right after the head (chunks decoded in place). */
    if (req->entity.base < in->bytes || req->entity.base + req->entity.len > in->bytes + in->size)
        return 0;
    return (size_t)(req->entity.base + req->entity.len - in->bytes);
}

/* After on_request wrote its response: check what follows once it is sent. */
static void gate_wrap_sent(h2o_req_t *req)
{
    h2o_socket_t *sock = req->conn->callbacks->get_socket(req->conn);
    struct connection *conn = sock ? connection_of(sock) : NULL;

    if (conn == NULL || sock->_cb.write == NULL || sock->_cb.write == on_sent_gate)
        return;
    conn->request_len = request_length(conn, req);
    conn->persistent = req->http1_is_persistent;
    conn->h2o_sent = sock->_cb.write;
    sock->_cb.write = on_sent_gate;
}

/* ---------------- errors h2o answers itself ---------------- */

/*
 * h2o answers a broken or oversized body, a bad Content-Length or an
 * unknown Expect itself (h2o_send_error_generic) with a plain-text body, on
 * the host's fallback path, which serves nothing else: this stream swaps
 * the body for the JSON error and the reason for the right phrase.
 */
struct error_filter {
    h2o_filter_t super; /* must be first */
    struct http_server *srv;
};

struct error_stream {
    h2o_ostream_t super; /* must be first */
    struct http_server *srv;
};

static void on_h2o_error_send(h2o_ostream_t *self, h2o_req_t *req, h2o_iovec_t *bufs,
                              size_t bufcnt, h2o_send_state_t state)
{
    struct http_server *srv = ((struct error_stream *)self)->srv;
    char said[256];
    size_t n = 0, len;
    struct http_refusal r;
    struct api_request logged;

    for (size_t i = 0; i < bufcnt && n < sizeof(said) - 1; i++) {
        size_t take = bufs[i].len < sizeof(said) - 1 - n ? bufs[i].len : sizeof(said) - 1 - n;
        memcpy(said + n, bufs[i].base, take);
        n += take;
    }
    said[n] = '\0';
    http_h2o_error(req->res.status, said, &r);
    char *body = http_error_body(&r, &len);
    h2o_iovec_t out = h2o_strdup(&req->pool, body, len);
    free(body);
    req->res.reason = http_reason_phrase(req->res.status);
    memset(&req->res.headers, 0, sizeof(req->res.headers));
    add_server_header(req);
    add_header(req, H2O_TOKEN_CONTENT_TYPE, "application/json; charset=utf-8");
    req->res.content_length = len;

    /* Logged like any request; the normalised path, so a feed token is masked however spelt. */
    memset(&logged, 0, sizeof(logged));
    logged.method = req->input.method.base;
    logged.method_len = req->input.method.len;
    logged.path = req->path_normalized.base ? req->path_normalized.base : req->input.path.base;
    logged.path_len = req->path_normalized.base ? req->path_normalized.len : req->input.path.len;
    log_access(&logged, req->res.status, 0);
    metrics_observe(srv->app->metrics, -1, req->res.status, 0);
    h2o_ostream_send_next(self, req, &out, bufcnt > 0 ? 1 : 0, state);
}

static void on_h2o_error_setup(h2o_filter_t *self, h2o_req_t *req, h2o_ostream_t **slot)
{
    struct error_stream *stream =
        (struct error_stream *)h2o_add_ostream(req, sizeof(*stream), slot);

    stream->srv = ((struct error_filter *)self)->srv;
    stream->super.do_send = on_h2o_error_send;
    h2o_setup_next_ostream(req, &stream->super.next);
}

/* ---------------- requests ---------------- */

/*
 * A cached body goes out without a copy. Its pin is an h2o shared chunk
 * holding a reference to it, made at its first send; each response links
 * the pin to its request pool (no allocation), so the bytes stay until the
 * last response using them is disposed of, even after the cache let go.
 */
static void pin_dispose(void *pin)
{
    shared_body_release(*(struct shared_body **)pin);
}

static void pin_release(void *pin)
{
    h2o_mem_release_shared(pin);
}

static void send_shared(h2o_req_t *req, struct shared_body *body)
{
    static h2o_generator_t generator = {NULL, NULL}; /* one final buffer: nothing to proceed */
    h2o_iovec_t buf = h2o_iovec_init(body->data, body->len);

    if (body->pin == NULL) {
        struct shared_body **pin = h2o_mem_alloc_shared(NULL, sizeof(*pin), pin_dispose);
        *pin = body;
        shared_body_retain(body);
        body->pin = pin;
        body->unpin = pin_release;
    }
    h2o_mem_link_shared(&req->pool, body->pin);
    h2o_start_response(req, &generator);
    /* As h2o_send_inline: HEAD gets the headers (and the length) only. */
    if (h2o_memis(req->input.method.base, req->input.method.len, H2O_STRLIT("HEAD")))
        h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
    else
        h2o_send(req, &buf, 1, H2O_SEND_STATE_FINAL);
}

/*
 * A response without a body (304, 204, an empty 200) as the headers alone.
 * h2o_send_inline would hand libuv a trailing buffer of length 0, which
 * libuv writes in a second write(2) after waiting for the socket to be
 * writable: two system calls more per 304 than per full body (6, not 4).
 */
static void send_headers_only(h2o_req_t *req)
{
    static h2o_generator_t generator = {NULL, NULL};

    h2o_start_response(req, &generator);
    h2o_send(req, NULL, 0, H2O_SEND_STATE_FINAL);
}

/*
 * Writes a complete answer, then logs and counts it; frees res. schedule_notify: tell
 * the notifier about a successful write (a commit group does it once for
 * all its members instead).
 */
static void send_answer(struct http_server *srv, h2o_req_t *req, const struct api_request *areq,
                        struct api_response *res, uint64_t started, int schedule_notify)
{
    req->res.status = res->status;
    req->res.reason = http_reason_phrase(res->status);
    add_server_header(req);
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
    if (res->shared != NULL)
        send_shared(req, res->shared);
    else if (res->body_len == 0)
        send_headers_only(req);
    else /* h2o_send_inline copies the body into the request pool. */
        h2o_send_inline(req, res->body ? res->body : "", res->body_len);
    gate_wrap_sent(req);

    /* A successful write may have queued messages or moved a reminder. */
    if (schedule_notify && res->status < 400 &&
        !(areq->method_len == 3 && memcmp(areq->method, "GET", 3) == 0))
        notify_schedule(srv->app->notify);

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
    d->srv->deferred--;
    send_answer(d->srv, d->req, &areq, &res, d->started, 1);
    free(d);
}

static void deferred_start(struct http_server *srv, h2o_req_t *req, const struct api_request *areq,
                           struct api_response *res, uint64_t started)
{
    struct deferred *d;

    /*
     * Each job holds a request and, while it runs, tens of MiB (Argon2id):
     * a flood of sign-ins waits its turn up to a bound, then is told to retry.
     */
    if (srv->deferred >= HTTP_MAX_DEFERRED) {
        res->job->free(res->job);
        res->job = NULL;
        free(res->body);
        res->body = xstrdup("{\"error\":{\"code\":\"busy\","
                            "\"message\":\"too many requests are waiting: retry shortly\"}}");
        res->body_len = strlen(res->body);
        res->content_type = "application/json; charset=utf-8";
        res->status = 503;
        res->nheaders = 0;
        snprintf(res->headers[0].value, sizeof(res->headers[0].value), "1");
        res->headers[0].name = "Retry-After";
        res->nheaders = 1;
        send_answer(srv, req, areq, res, started, 1);
        return;
    }
    srv->deferred++;
    d = xcalloc(1, sizeof(*d));

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

/* Sends what the router made of a request: an answer, a deferred job or a stream. */
static void answer(struct http_server *srv, h2o_req_t *req, const struct api_request *areq,
                   struct api_response *res, uint64_t started, int schedule_notify)
{
    if (res->job != NULL) {
        deferred_start(srv, req, areq, res, started);
    } else if (res->stream != NULL && !srv->ctx.shutdown_requested) {
        stream_start(srv, req, areq, res, started);
    } else {
        if (res->stream != NULL) {
            res->stream->detach(res->stream);
            res->stream = NULL;
            free(res->body);
            res->body = xstrdup("{\"error\":{\"code\":\"unavailable\","
                                "\"message\":\"the service is stopping\"}}");
            res->body_len = strlen(res->body);
            res->status = 503;
        }
        send_answer(srv, req, areq, res, started, schedule_notify);
    }
}

/* ---------------- write requests, committed in groups (commit_group.c) ---------------- */

/*
 * A write request waiting for its group. It lives in the request's pool:
 * h2o 2.2's HTTP/1 neither reads nor times out a connection while its
 * request is being answered, so the request stays valid until we answer.
 */
struct grouped {
    struct commit_group_member member; /* first: the group hands it back */
    struct http_server *srv;
    h2o_req_t *req;
    struct api_request areq; /* points into req */
    struct api_response res;
    uint64_t started;
};

/* Whether a request may change something: every method but GET and HEAD. */
static int request_writes(const struct api_request *areq)
{
    return !(areq->method_len == 3 && memcmp(areq->method, "GET", 3) == 0) &&
           !(areq->method_len == 4 && memcmp(areq->method, "HEAD", 4) == 0);
}

static int on_group_apply(struct commit_group_member *m, void *arg)
{
    struct grouped *g = (struct grouped *)m;

    (void)arg;
    api_route(g->srv->app, &g->areq, NULL, &g->res);
    return g->res.status;
}

/* The group's COMMIT failed: whatever the member was told before, nothing of it was kept. */
static void grouped_fail(struct grouped *g)
{
    struct api_call call;
    const char *route = g->res.route;
    int route_index = g->res.route_index;

    api_response_free(&g->res);
    memset(&g->res, 0, sizeof(g->res));
    g->res.route = route;
    g->res.route_index = route_index;
    memset(&call, 0, sizeof(call));
    call.app = g->srv->app;
    call.req = &g->areq;
    call.res = &g->res;
    api_reply_store_error(&call);
}

static void on_group_answer(struct commit_group_member *m, int committed, void *arg)
{
    struct grouped *g = (struct grouped *)m;

    (void)arg;
    if (!committed)
        grouped_fail(g);
    answer(g->srv, g->req, &g->areq, &g->res, g->started, 0);
}

/* Once per committed group: the outbox and reminders moved (fan-out, change streams, timers). */
static void on_group_committed(void *arg)
{
    struct http_server *srv = arg;

    notify_schedule(srv->app->notify);
}

static const struct commit_group_ops group_ops = {
    .apply = on_group_apply,
    .answer = on_group_answer,
    .committed = on_group_committed,
};

static void group_queue(struct http_server *srv, h2o_req_t *req, const struct api_request *areq,
                        uint64_t started)
{
    struct grouped *g = h2o_mem_alloc_pool(&req->pool, sizeof(*g));

    memset(g, 0, sizeof(*g));
    g->srv = srv;
    g->req = req;
    g->areq = *areq;
    g->started = started;
    commit_group_add(srv->group, &g->member);
}

/*
 * Reads are answered at once; a write joins the commit group of this turn
 * of the loop and is answered after its COMMIT.
 */
static int on_request(h2o_handler_t *self, h2o_req_t *req)
{
    struct http_server *srv = ((struct request_handler *)self)->srv;
    uint64_t started = clock_monotonic_us();
    struct api_request areq;
    struct api_response res;

    request_from_h2o(req, &areq);
    if (request_writes(&areq)) {
        group_queue(srv, req, &areq, started);
        return 0;
    }
    memset(&res, 0, sizeof(res));
    api_route(srv->app, &areq, NULL, &res);
    answer(srv, req, &areq, &res, started, 1);
    return 0;
}

/* ---------------- accepting, within the caps ---------------- */

static void on_connection_closed(uv_handle_t *handle)
{
    struct connection *conn = (struct connection *)handle;

    conn->srv->app->open_connections--;
    free(conn->refusal);
    free(conn);
}

/*
 * Over a cap: a short JSON answer if the socket takes it now, then close,
 * before h2o allocates anything. The count of refusals is logged once a
 * second at most: a flood would otherwise fill the log.
 */
static void refuse_connection(struct http_server *srv, struct connection *conn,
                              enum conn_verdict verdict)
{
    struct conn_stats *stats = &srv->app->conn_stats;
    int per_client = verdict == CONN_OVER_PER_CLIENT;
    uv_buf_t buf = uv_buf_init(srv->busy[per_client], (unsigned)srv->busy_len[per_client]);
    int64_t now = clock_wall_s();
    char peer[64];

    if (per_client)
        stats->refused_per_client++;
    else
        stats->refused_total++;
    if (now != srv->refusals_logged_at) {
        srv->refusals_logged_at = now;
        peer_name(conn, peer, sizeof(peer));
        log_info("http: refused a connection from %s: %s (refused so far: %llu over the total, "
                 "%llu over the per-client cap)",
                 peer, per_client ? "it holds its share of connections" : "all connections in use",
                 (unsigned long long)stats->refused_total,
                 (unsigned long long)stats->refused_per_client);
    }
    (void)uv_try_write((uv_stream_t *)&conn->tcp, &buf, 1); /* best effort: never waited for */
    uv_close((uv_handle_t *)&conn->tcp, (uv_close_cb)free);
}

static void on_accept(uv_stream_t *listener, int status)
{
    struct http_server *srv = listener->data;
    struct connection *conn;
    struct sockaddr_storage peer;
    int peer_len = sizeof(peer);
    enum conn_verdict verdict;
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
    if (uv_tcp_getpeername(&conn->tcp, (struct sockaddr *)&peer, &peer_len) == 0)
        conn_limit_key((struct sockaddr *)&peer, &conn->key);
    verdict = conn_limit_admit(srv->limit, &conn->key);
    if (verdict != CONN_ADMITTED) {
        refuse_connection(srv, conn, verdict);
        return;
    }
    uv_tcp_nodelay(&conn->tcp, 1);
    srv->app->open_connections++;
    sock = h2o_uv_socket_create((uv_stream_t *)&conn->tcp, on_connection_closed);
    conn->sock = sock;
    sock->on_close.cb = on_socket_disposed;
    sock->on_close.data = conn;
    h2o_accept(&srv->accept_ctx, sock);
    gate_wrap_read(conn);
}

/* Raises the soft open-file limit to the hard one; returns the limit in force. */
static uint64_t open_files_limit(void)
{
    struct rlimit rl;

    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return 1024;
    if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < rl.rlim_max) {
        struct rlimit want = rl;
        want.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max > NOFILE_CEILING
                            ? NOFILE_CEILING
                            : rl.rlim_max;
        if (want.rlim_cur > rl.rlim_cur && setrlimit(RLIMIT_NOFILE, &want) == 0)
            rl = want;
    }
    return rl.rlim_cur == RLIM_INFINITY ? NOFILE_CEILING : (uint64_t)rl.rlim_cur;
}

/* The caps from the open-file limit and the options; the answers for refused connections. */
static void caps_init(struct http_server *srv)
{
    const struct config *cfg = &srv->app->cfg;
    struct conn_stats *stats = &srv->app->conn_stats;
    static const struct http_refusal busy[2] = {
        {503, "too_many_connections", "every connection the service keeps is in use: retry shortly"},
        {429, "too_many_connections",
         "this address holds its share of connections: close or reuse some"},
    };
    uint64_t nofile = open_files_limit(), seed = 0;
    size_t total, per_client;
    int lowered;

    conn_limit_caps(nofile, (size_t)cfg->max_connections, (size_t)cfg->max_connections_per_client,
                    &total, &per_client, &lowered);
    if (lowered)
        log_error("--max-connections %d is more than the open-file limit allows (%llu less %d "
                  "kept): using %zu",
                  cfg->max_connections, (unsigned long long)nofile, CONN_FD_RESERVE, total);
    log_info("connections: at most %zu, %zu per client address (open-file limit %llu, the rest "
             "kept for the database, logs and webhooks)",
             total, per_client, (unsigned long long)nofile);
    /* Without randomness the seed stays 0: the caps hold, only collisions get easier to aim. */
    uv_random(NULL, NULL, &seed, sizeof(seed), 0, NULL);
    srv->limit = conn_limit_new(total, per_client, seed);
    stats->max_total = (int64_t)total;
    stats->max_per_client = (int64_t)per_client;
    stats->open_files_limit = (int64_t)nofile;
    for (int i = 0; i < 2; i++)
        srv->busy[i] = http_error_response(&busy[i], &srv->busy_len[i]);
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
    struct error_filter *filter;

    srv->app = app;
    srv->loop = loop;
    h2o_config_init(&srv->config);
    /*
     * No server name for h2o: it would print "Server: %s" with sprintf on
     * every response (700 instructions, 4% of a 304); add_server_header
     * adds the same header as the others are added.
     */
    srv->config.server_name = h2o_iovec_init(NULL, 0);
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
    /* The fallback path serves only the errors h2o generates before a path is chosen. */
    filter = (struct error_filter *)h2o_create_filter(&host->fallback_path, sizeof(*filter));
    filter->super.on_setup_ostream = on_h2o_error_setup;
    filter->srv = srv;
    caps_init(srv);

    h2o_context_init(&srv->ctx, loop, &srv->config);
    srv->context_ready = 1;
    srv->accept_ctx.ctx = &srv->ctx;
    srv->accept_ctx.hosts = srv->config.hosts;
    uv_timer_init(loop, &srv->drain_timer);
    srv->group = commit_group_new(loop, app->store, &group_ops, srv, &app->commit_stats);
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
    /* Requests still queued (none after a drain) are answered while h2o can still write. */
    commit_group_close(srv->group);
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
    conn_limit_free(srv->limit);
    free(srv->busy[0]);
    free(srv->busy[1]);
    free(srv);
}
