/*
 * webhook_baseline.c - the reference for the reminder benchmark
 * (bench/reminder_bench.py): a plain libcurl multi client that POSTs
 * pre-recorded, already signed webhook requests to a receiver and reports
 * how many it delivered per second.
 *
 * It does what convene's sender does on the wire (src/notify/sender.c):
 * the same headers, POST bodies given with CURLOPT_POSTFIELDS, no
 * "Expect: 100-continue", keep-alive connections reused through the multi
 * handle, at most --concurrency transfers at once (convene: 8 per endpoint,
 * 64 overall; a benchmark with one endpoint is bound by the 8). It does
 * none of convene's bookkeeping: no database, no signing, no event loop
 * other than curl_multi_poll. That is the point: the ratio tells what the
 * durable queue around the same transfers costs.
 *
 * Input file, one record after another:
 *   URL \t webhook-id \t webhook-timestamp \t webhook-signature \t BODY_LENGTH \n
 *   BODY (exactly BODY_LENGTH bytes) \n
 *
 * Output (stdout), one line of key=value pairs:
 *   requests=N ok=N failed=N seconds=S per_second=R first_status=... connections=N
 *
 * Build: cc -O2 -Wall -Wextra -Werror -o webhook_baseline webhook_baseline.c -lcurl
 */
#define _POSIX_C_SOURCE 200809L

#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define DEFAULT_CONCURRENCY 8
#define HEADER_LINE_MAX 512
#define CONNECT_TIMEOUT_MS 5000L /* as convene's sender */
#define TOTAL_TIMEOUT_MS 15000L

struct request {
    const char *url;
    const char *id;
    const char *timestamp;
    const char *signature;
    const char *body;
    size_t body_len;
};

struct slot {
    CURL *easy;
    struct curl_slist *headers;
    size_t request; /* index of the request in flight */
};

static void die(const char *what)
{
    fprintf(stderr, "webhook_baseline: %s\n", what);
    exit(2);
}

static void *xmalloc(size_t size)
{
    void *p = malloc(size);

    if (p == NULL)
        die("out of memory");
    return p;
}

/* Reads the whole file; the records then point into this buffer. */
static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf;
    long size;

    if (f == NULL) {
        fprintf(stderr, "webhook_baseline: %s: %s\n", path, strerror(errno));
        exit(2);
    }
    if (fseek(f, 0, SEEK_END) != 0 || (size = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0)
        die("cannot size the input file");
    buf = xmalloc((size_t)size + 1);
    if (fread(buf, 1, (size_t)size, f) != (size_t)size)
        die("short read of the input file");
    buf[size] = '\0';
    fclose(f);
    *len = (size_t)size;
    return buf;
}

/* Cuts the next tab- or newline-terminated field out of the buffer. */
static char *next_field(char **p, char *end, char stop)
{
    char *start = *p, *q = memchr(start, stop, (size_t)(end - start));

    if (q == NULL)
        die("malformed record (missing field)");
    *q = '\0';
    *p = q + 1;
    return start;
}

static struct request *parse_requests(char *buf, size_t len, size_t *count)
{
    char *p = buf, *end = buf + len;
    size_t n = 0, cap = 1024;
    struct request *reqs = xmalloc(cap * sizeof(*reqs));

    while (p < end) {
        struct request *r;
        char *length, *stop;
        unsigned long long body_len;

        if (n == cap) {
            cap *= 2;
            reqs = realloc(reqs, cap * sizeof(*reqs));
            if (reqs == NULL)
                die("out of memory");
        }
        r = &reqs[n];
        r->url = next_field(&p, end, '\t');
        r->id = next_field(&p, end, '\t');
        r->timestamp = next_field(&p, end, '\t');
        r->signature = next_field(&p, end, '\t');
        length = next_field(&p, end, '\n');
        errno = 0;
        body_len = strtoull(length, &stop, 10);
        if (errno != 0 || *stop != '\0' || stop == length || body_len > (size_t)(end - p) ||
            (size_t)(end - p) - body_len < 1 || p[body_len] != '\n')
            die("malformed record (body length)");
        r->body = p;
        r->body_len = (size_t)body_len;
        p[body_len] = '\0';
        p += body_len + 1;
        n++;
    }
    *count = n;
    return reqs;
}

static double now_s(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t discard_body(char *data, size_t size, size_t nmemb, void *userp)
{
    (void)data;
    (void)userp;
    return size * nmemb;
}

static struct curl_slist *add_header(struct curl_slist *list, const char *name, const char *value)
{
    char line[HEADER_LINE_MAX];
    struct curl_slist *out;

    snprintf(line, sizeof(line), "%s: %s", name, value);
    out = curl_slist_append(list, line);
    if (out == NULL)
        die("out of memory");
    return out;
}

/* Points a slot's easy handle at request i; the handle and its connection are reused. */
static void prepare(struct slot *s, const struct request *r, size_t i)
{
    curl_slist_free_all(s->headers);
    s->headers = add_header(NULL, "Content-Type", "application/json");
    s->headers = add_header(s->headers, "webhook-id", r->id);
    s->headers = add_header(s->headers, "webhook-timestamp", r->timestamp);
    s->headers = add_header(s->headers, "webhook-signature", r->signature);
    s->headers = add_header(s->headers, "User-Agent", "webhook-baseline/1");
    s->headers = add_header(s->headers, "Expect", "");
    s->request = i;
    curl_easy_setopt(s->easy, CURLOPT_URL, r->url);
    curl_easy_setopt(s->easy, CURLOPT_HTTPHEADER, s->headers);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDS, r->body);
    curl_easy_setopt(s->easy, CURLOPT_POSTFIELDSIZE, (long)r->body_len);
}

static CURL *new_easy(struct slot *s)
{
    CURL *easy = curl_easy_init();

    if (easy == NULL)
        die("curl_easy_init failed");
    curl_easy_setopt(easy, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(easy, CURLOPT_FOLLOWLOCATION, 0L);
    curl_easy_setopt(easy, CURLOPT_PROXY, "");
    curl_easy_setopt(easy, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(easy, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_TIMEOUT_MS, TOTAL_TIMEOUT_MS);
    curl_easy_setopt(easy, CURLOPT_WRITEFUNCTION, discard_body);
    curl_easy_setopt(easy, CURLOPT_PRIVATE, s);
    return easy;
}

static void usage(void)
{
    fprintf(stderr, "usage: webhook_baseline [--concurrency N] FILE\n"
                    "  POSTs every recorded request in FILE, at most N at once (default %d)\n",
            DEFAULT_CONCURRENCY);
    exit(2);
}

int main(int argc, char **argv)
{
    const char *path = NULL;
    long concurrency = DEFAULT_CONCURRENCY;
    size_t len, count, next = 0, done = 0, ok = 0, failed = 0;
    long first_bad_status = 0;
    long connections = 0;

    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--concurrency") == 0 && i + 1 < argc) {
            char *stop;
            concurrency = strtol(argv[++i], &stop, 10);
            if (*stop != '\0' || concurrency < 1 || concurrency > 1024)
                usage();
        } else if (argv[i][0] == '-' || path != NULL) {
            usage();
        } else {
            path = argv[i];
        }
    }
    if (path == NULL)
        usage();

    char *buf = read_file(path, &len);
    struct request *reqs = parse_requests(buf, len, &count);
    if (count == 0)
        die("no requests in the input file");
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        die("curl_global_init failed");
    CURLM *multi = curl_multi_init();
    if (multi == NULL)
        die("curl_multi_init failed");

    size_t slots_n = (size_t)concurrency < count ? (size_t)concurrency : count;
    struct slot *slots = calloc(slots_n, sizeof(*slots));
    if (slots == NULL)
        die("out of memory");

    double started = now_s();
    for (size_t s = 0; s < slots_n; s++) {
        slots[s].easy = new_easy(&slots[s]);
        prepare(&slots[s], &reqs[next], next);
        next++;
        curl_multi_add_handle(multi, slots[s].easy);
    }
    while (done < count) {
        int running, queued;
        CURLMsg *msg;

        if (curl_multi_perform(multi, &running) != CURLM_OK)
            die("curl_multi_perform failed");
        while ((msg = curl_multi_info_read(multi, &queued)) != NULL) {
            struct slot *s;
            long status = 0, conns = 0;

            if (msg->msg != CURLMSG_DONE)
                continue;
            curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&s);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &status);
            curl_easy_getinfo(msg->easy_handle, CURLINFO_NUM_CONNECTS, &conns);
            connections += conns;
            if (msg->data.result == CURLE_OK && status >= 200 && status < 300) {
                ok++;
            } else {
                failed++;
                if (first_bad_status == 0)
                    first_bad_status = msg->data.result == CURLE_OK ? status : -1;
            }
            done++;
            curl_multi_remove_handle(multi, s->easy);
            if (next < count) {
                prepare(s, &reqs[next], next);
                next++;
                curl_multi_add_handle(multi, s->easy);
            }
        }
        if (done < count && curl_multi_poll(multi, NULL, 0, 1000, NULL) != CURLM_OK)
            die("curl_multi_poll failed");
    }
    double seconds = now_s() - started;

    printf("requests=%zu ok=%zu failed=%zu concurrency=%ld seconds=%.4f per_second=%.1f "
           "connections=%ld first_bad_status=%ld\n",
           count, ok, failed, concurrency, seconds, (double)count / seconds, connections,
           first_bad_status);
    for (size_t s = 0; s < slots_n; s++) {
        curl_easy_cleanup(slots[s].easy);
        curl_slist_free_all(slots[s].headers);
    }
    free(slots);
    curl_multi_cleanup(multi);
    curl_global_cleanup();
    free(reqs);
    free(buf);
    return failed == 0 ? 0 : 1;
}
