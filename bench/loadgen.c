/* SPDX-License-Identifier: MIT */
/* loadgen.c - cairn-loadgen: an HTTP/1.1 keep-alive load generator over raw sockets, for
 * bench/bench_server.py and tests/e2e/test_server_load.py. T threads each drive their share of
 * N connections with epoll, one request in flight per connection (no pipelining); requests come
 * from templates with placeholders; it reports requests/s, latency percentiles, status codes
 * and errors, as a line or as JSON. libc and pthread only: run `cairn-loadgen --help`. */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "loadgen_http.h"
#include "base/banned.h"

#define MAX_TEMPLATES 32
#define MAX_TARGETS 16
#define MAX_HEADERS 16
#define MAX_STATUS 600
#define IN_MAX ((size_t)64 << 20) /* a response larger than this is an error */
#define CONNECT_TRIES 50          /* consecutive failed connects before a connection gives up */
#define RETRY_NS 100000000LL      /* 100 ms between connect attempts */
#define SAMPLE_BYTES 400          /* how much of an unexpected response is shown */

/* Latency histogram in microseconds: exact below 64 µs, then 32 buckets per power of two
 * (at most 3% relative error), up to 2^40 µs. */
#define H_SUB_BITS 5
#define H_SUB (1 << H_SUB_BITS)
#define H_BUCKETS (2 * H_SUB + (40 - H_SUB_BITS - 1) * H_SUB)

typedef struct hist {
    uint64_t count[H_BUCKETS];
    uint64_t n, sum_us, max_us;
} hist;

/* ---- small helpers ---- */

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("cairn-loadgen: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(1);
}

static void *xrealloc(void *p, size_t n)
{
    p = realloc(p, n ? n : 1);
    if (!p)
        die("out of memory (%zu bytes)", n);
    return p;
}

static char *xstrndup(const char *s, size_t n)
{
    char *p = xrealloc(NULL, n + 1);
    memcpy(p, s, n);
    p[n] = '\0';
    return p;
}

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

typedef struct buf {
    char *data;
    size_t len, cap;
} buf;

static void buf_grow(buf *b, size_t extra)
{
    if (b->len + extra + 1 <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap < b->len + extra + 1)
        cap *= 2;
    b->data = xrealloc(b->data, cap);
    b->cap = cap;
}

static void buf_add(buf *b, const char *s, size_t n)
{
    buf_grow(b, n);
    memcpy(b->data + b->len, s, n);
    b->len += n;
    b->data[b->len] = '\0';
}

static void buf_addf(buf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        die("bad format");
    buf_grow(b, (size_t)n);
    va_start(ap, fmt);
    vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

static char *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        die("cannot open '%s': %s", path, strerror(errno));
    buf b = {0};
    char chunk[65536];
    size_t n;
    while ((n = fread(chunk, 1, sizeof chunk, f)) > 0)
        buf_add(&b, chunk, n);
    if (ferror(f))
        die("cannot read '%s': %s", path, strerror(errno));
    fclose(f);
    buf_grow(&b, 0);
    if (len)
        *len = b.len;
    return b.data;
}

/* xorshift64*: per-thread, seeded from the thread's index. */
static uint64_t rng_next(uint64_t *s)
{
    uint64_t x = *s;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    *s = x;
    return x * 0x2545F4914F6CDD1DULL;
}

static int hist_bucket(uint64_t us)
{
    if (us < 2 * H_SUB)
        return (int)us;
    int msb = 63 - __builtin_clzll(us);
    if (msb >= 40)
        return H_BUCKETS - 1;
    int shift = msb - H_SUB_BITS;
    return 2 * H_SUB + (msb - H_SUB_BITS - 1) * H_SUB + (int)((us >> shift) & (H_SUB - 1));
}

/* The middle of bucket i, in µs. */
static double hist_value(int i)
{
    if (i < 2 * H_SUB)
        return i;
    int k = i - 2 * H_SUB;
    int msb = k / H_SUB + H_SUB_BITS + 1;
    int shift = msb - H_SUB_BITS;
    double lo = (double)(((uint64_t)(H_SUB + k % H_SUB)) << shift);
    return lo + (double)((uint64_t)1 << shift) / 2;
}

static void hist_add(hist *h, uint64_t us)
{
    h->count[hist_bucket(us)]++;
    h->n++;
    h->sum_us += us;
    if (us > h->max_us)
        h->max_us = us;
}

static void hist_merge(hist *into, const hist *h)
{
    for (int i = 0; i < H_BUCKETS; i++)
        into->count[i] += h->count[i];
    into->n += h->n;
    into->sum_us += h->sum_us;
    if (h->max_us > into->max_us)
        into->max_us = h->max_us;
}

/* The q-quantile (0 < q <= 1) in milliseconds. */
static double hist_ms(const hist *h, double q)
{
    if (h->n == 0)
        return 0;
    uint64_t rank = (uint64_t)ceil(q * (double)h->n);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (int i = 0; i < H_BUCKETS; i++) {
        seen += h->count[i];
        if (seen >= rank) {
            double v = hist_value(i);
            return (v > (double)h->max_us ? (double)h->max_us : v) / 1000.0;
        }
    }
    return (double)h->max_us / 1000.0;
}

/* ---- templates ---- */

enum seg_kind { SEG_TEXT, SEG_SEQ, SEG_STEP, SEG_TS, SEG_RUN, SEG_RAND };

typedef struct seg {
    enum seg_kind kind;
    const char *text; /* SEG_TEXT */
    size_t len;
    int index; /* SEG_STEP: which {{step}} of the template this is */
} seg;

typedef struct segs {
    seg *items;
    int n;
} segs;

typedef struct tmpl {
    char *name;
    double weight;
    char *method;
    segs path, body;
    bool has_body, uses_run;
    int n_step; /* {{step}} occurrences: step = seq * n_step + index */
} tmpl;

static const char *placeholder_names[] = {"seq", "step", "ts", "run", "rand"};

static void segs_add(segs *s, seg item)
{
    s->items = xrealloc(s->items, (size_t)(s->n + 1) * sizeof *s->items);
    s->items[s->n++] = item;
}

/* Splits text (kept, not copied) into literal runs and {{placeholders}}. */
static void parse_segs(tmpl *t, segs *s, const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    while (p < end) {
        const char *open = NULL;
        for (const char *q = p; q + 1 < end; q++)
            if (q[0] == '{' && q[1] == '{') {
                open = q;
                break;
            }
        const char *close = NULL;
        if (open)
            for (const char *q = open + 2; q + 1 < end; q++)
                if (q[0] == '}' && q[1] == '}') {
                    close = q;
                    break;
                }
        int kind = -1;
        if (close)
            for (int k = 0; k < 5; k++)
                if ((size_t)(close - open - 2) == strlen(placeholder_names[k]) &&
                    memcmp(open + 2, placeholder_names[k], (size_t)(close - open - 2)) == 0)
                    kind = k;
        if (kind < 0) {
            /* No (known) placeholder: the rest up to the next "{{" after this one is text. */
            const char *stop = open && close ? close + 2 : end;
            if (open && close)
                fprintf(stderr, "cairn-loadgen: warning: unknown placeholder '%.*s' left as text\n",
                        (int)(close + 2 - open), open);
            segs_add(s, (seg){SEG_TEXT, p, (size_t)(stop - p), 0});
            p = stop;
            continue;
        }
        if (open > p)
            segs_add(s, (seg){SEG_TEXT, p, (size_t)(open - p), 0});
        seg item = {(enum seg_kind)(SEG_SEQ + kind), NULL, 0, 0};
        if (item.kind == SEG_STEP)
            item.index = t->n_step++;
        if (item.kind == SEG_RUN)
            t->uses_run = true;
        segs_add(s, item);
        p = close + 2;
    }
}

/* Parses "[name=N] [weight=W] METHOD PATH [BODY|@FILE]" (text stays owned by the caller). */
/* Files whose text templates and run lists point into, freed at exit (so LeakSanitizer sees
 * a clean exit when the tool runs under the sanitizers in the tests). */
static char *kept[2 * MAX_TEMPLATES + 8];
static int n_kept;

static char *keep(char *text)
{
    if (n_kept < (int)(sizeof kept / sizeof kept[0]))
        kept[n_kept++] = text;
    return text;
}

static void parse_template(tmpl *t, char *spec, int number)
{
    char *p = spec;
    memset(t, 0, sizeof *t);
    t->weight = 1;
    for (;;) {
        while (*p == ' ' || *p == '\t')
            p++;
        char *word_end = p + strcspn(p, " \t");
        char *eq = memchr(p, '=', (size_t)(word_end - p));
        if (!eq)
            break;
        if (strncmp(p, "name=", 5) == 0) {
            t->name = xstrndup(eq + 1, (size_t)(word_end - eq - 1));
        } else if (strncmp(p, "weight=", 7) == 0) {
            char *e;
            t->weight = strtod(eq + 1, &e);
            if (e != word_end || !(t->weight > 0))
                die("request %d: weight must be a positive number", number);
        } else {
            die("request %d: unknown option '%.*s' (name=, weight=)", number, (int)(word_end - p),
                p);
        }
        p = word_end;
    }
    size_t mlen = strcspn(p, " \t");
    if (mlen == 0)
        die("request %d: expected 'METHOD PATH [BODY]', got '%s'", number, spec);
    t->method = xstrndup(p, mlen);
    p += mlen;
    while (*p == ' ' || *p == '\t')
        p++;
    size_t plen = strcspn(p, " \t\r\n");
    if (plen == 0 || p[0] != '/')
        die("request %d: the path must start with '/' ('%s')", number, spec);
    parse_segs(t, &t->path, p, plen);
    p += plen;
    if (*p == ' ' || *p == '\t')
        p++;
    size_t blen = strcspn(p, "\r\n");
    if (blen > 0) {
        t->has_body = true;
        if (p[0] == '@') {
            char *path = xstrndup(p + 1, blen - 1);
            size_t len;
            char *text = keep(read_file(path, &len));
            free(path);
            while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r'))
                len--;
            parse_segs(t, &t->body, text, len); /* text is kept for the process's life */
        } else {
            parse_segs(t, &t->body, p, blen);
        }
    }
    if (!t->name) {
        char name[64];
        snprintf(name, sizeof name, "%d", number);
        t->name = xstrndup(name, strlen(name));
    }
}

/* ---- configuration and shared state ---- */

typedef struct target {
    struct sockaddr_storage addr;
    socklen_t addr_len;
    char *host_header; /* host:port */
} target;

static struct {
    tmpl templates[MAX_TEMPLATES];
    int n_templates;
    double weight_sum;
    target targets[MAX_TARGETS];
    int n_targets;
    char **runs;
    int n_runs;
    const char *headers[MAX_HEADERS];
    int n_headers;
    int connections, threads;
    double duration_s;
    uint64_t max_requests;
    int64_t timeout_ns;
    const char *record_path;
    bool is_json;
} cfg;

static atomic_uint_fast64_t seq_counter; /* {{seq}}: requests built so far */
static atomic_uint_fast64_t run_counter; /* {{run}} round-robin */
static atomic_uint_fast64_t issued;      /* requests started, for --requests */
static atomic_int stop_flag;             /* SIGINT/SIGTERM or the deadline */
static int64_t deadline_ns;
static pthread_mutex_t out_lock = PTHREAD_MUTEX_INITIALIZER;
static FILE *record_file;
static int samples_shown;

enum err_kind { ERR_CONNECT, ERR_IO, ERR_CLOSED, ERR_TIMEOUT, ERR_PARSE, N_ERR };
static const char *err_names[N_ERR] = {"connect", "io", "closed", "timeout", "parse"};

typedef struct tstats {
    uint64_t done; /* requests answered (any status) */
    uint64_t ok;   /* 2xx */
    uint64_t errors;
    hist lat;
} tstats;

typedef struct stats {
    tstats per[MAX_TEMPLATES];
    uint64_t status[MAX_STATUS];
    uint64_t errors[N_ERR];
    uint64_t reconnects, bytes_out, bytes_in;
} stats;

/* ---- connections ---- */

enum conn_state { C_CONNECTING, C_WAIT, C_SENDING, C_READING, C_DONE };

typedef struct conn {
    int fd;
    int target;
    enum conn_state state;
    int failed_connects;
    int64_t retry_at_ns, started_ns;
    buf out, body, in;
    size_t out_off;
    lg_resp resp;
    int tmpl;
    uint64_t seq;
    int run; /* index into cfg.runs, or -1 */
    bool is_head;
    bool has_request; /* a request was sent on this connection (for "closed" vs idle close) */
} conn;

typedef struct worker {
    pthread_t thread;
    int index;
    int epfd;
    conn *conns;
    int n_conns;
    uint64_t rng;
    stats st;
    buf record;
} worker;

static void add_segs(buf *b, const segs *s, const tmpl *t, uint64_t seq, int run, int64_t ts,
                     uint64_t *rng)
{
    for (int i = 0; i < s->n; i++) {
        const seg *g = &s->items[i];
        switch (g->kind) {
        case SEG_TEXT: buf_add(b, g->text, g->len); break;
        case SEG_SEQ: buf_addf(b, "%llu", (unsigned long long)seq); break;
        case SEG_STEP:
            buf_addf(b, "%llu",
                     (unsigned long long)(seq * (uint64_t)t->n_step + (uint64_t)g->index));
            break;
        case SEG_TS: buf_addf(b, "%lld", (long long)ts); break;
        case SEG_RUN:
            if (run >= 0)
                buf_add(b, cfg.runs[run], strlen(cfg.runs[run]));
            break;
        case SEG_RAND:
            buf_addf(b, "%.6f", (double)(rng_next(rng) >> 11) * (1.0 / 9007199254740992.0));
            break;
        }
    }
}

/* Renders template ti into c->out for request number seq. */
static void build_request(conn *c, int ti, uint64_t seq, uint64_t *rng)
{
    const tmpl *t = &cfg.templates[ti];
    int run = -1;
    if (t->uses_run)
        run = (int)(atomic_fetch_add(&run_counter, 1) % (uint64_t)cfg.n_runs);
    int64_t ts = wall_ms();
    c->tmpl = ti;
    c->seq = seq;
    c->run = run;
    c->is_head = strcmp(t->method, "HEAD") == 0;
    c->body.len = 0;
    if (t->has_body)
        add_segs(&c->body, &t->body, t, seq, run, ts, rng);
    c->out.len = 0;
    c->out_off = 0;
    buf_add(&c->out, t->method, strlen(t->method));
    buf_add(&c->out, " ", 1);
    add_segs(&c->out, &t->path, t, seq, run, ts, rng);
    buf_addf(&c->out, " HTTP/1.1\r\nHost: %s\r\n", cfg.targets[c->target].host_header);
    for (int i = 0; i < cfg.n_headers; i++)
        buf_addf(&c->out, "%s\r\n", cfg.headers[i]);
    if (t->has_body)
        buf_addf(&c->out, "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
                 c->body.len);
    else
        buf_add(&c->out, "\r\n", 2);
    if (t->has_body)
        buf_add(&c->out, c->body.data, c->body.len);
}

static int pick_template(uint64_t *rng)
{
    if (cfg.n_templates == 1)
        return 0;
    double x = (double)(rng_next(rng) >> 11) * (1.0 / 9007199254740992.0) * cfg.weight_sum;
    for (int i = 0; i < cfg.n_templates; i++) {
        x -= cfg.templates[i].weight;
        if (x < 0)
            return i;
    }
    return cfg.n_templates - 1;
}

static void conn_close(worker *w, conn *c)
{
    if (c->fd >= 0) {
        epoll_ctl(w->epfd, EPOLL_CTL_DEL, c->fd, NULL);
        close(c->fd);
    }
    c->fd = -1;
    c->in.len = 0;
    c->has_request = false;
}

static void set_events(worker *w, conn *c, uint32_t events)
{
    struct epoll_event ev = {.events = events, .data.ptr = c};
    if (epoll_ctl(w->epfd, EPOLL_CTL_MOD, c->fd, &ev) != 0)
        die("epoll_ctl: %s", strerror(errno));
}

static void conn_open(worker *w, conn *c)
{
    const target *tg = &cfg.targets[c->target];
    c->fd = socket(tg->addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (c->fd < 0)
        die("socket: %s", strerror(errno));
    int one = 1;
    setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    c->state = C_CONNECTING;
    if (connect(c->fd, (const struct sockaddr *)&tg->addr, tg->addr_len) != 0 &&
        errno != EINPROGRESS) {
        close(c->fd);
        c->fd = -1;
        w->st.errors[ERR_CONNECT]++;
        c->state = C_WAIT;
        c->retry_at_ns = now_ns() + RETRY_NS;
        if (++c->failed_connects >= CONNECT_TRIES)
            c->state = C_DONE;
        return;
    }
    struct epoll_event ev = {.events = EPOLLOUT | EPOLLIN, .data.ptr = c};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, c->fd, &ev) != 0)
        die("epoll_ctl: %s", strerror(errno));
}

static bool should_stop(void)
{
    if (atomic_load(&stop_flag))
        return true;
    if (deadline_ns && now_ns() >= deadline_ns) {
        atomic_store(&stop_flag, 1);
        return true;
    }
    return false;
}

static void try_send(worker *w, conn *c);

/* Starts the next request on an open connection, or retires the connection. */
static void start_request(worker *w, conn *c)
{
    if (should_stop() || (cfg.max_requests && atomic_fetch_add(&issued, 1) >= cfg.max_requests)) {
        conn_close(w, c);
        c->state = C_DONE;
        return;
    }
    uint64_t seq = atomic_fetch_add(&seq_counter, 1) + 1;
    build_request(c, pick_template(&w->rng), seq, &w->rng);
    c->resp = (lg_resp)LG_RESP_INIT;
    c->in.len = 0;
    c->state = C_SENDING;
    c->has_request = true;
    c->started_ns = now_ns();
    try_send(w, c);
}

/* A request failed: count it, drop the connection and open a new one. */
static void request_failed(worker *w, conn *c, enum err_kind kind)
{
    w->st.errors[kind]++;
    if (c->has_request) {
        w->st.per[c->tmpl].errors++;
        if (record_file)
            buf_addf(&w->record, "error %d %llu %s\n", c->tmpl, (unsigned long long)c->seq,
                     c->run >= 0 ? cfg.runs[c->run] : "-");
    }
    conn_close(w, c);
    w->st.reconnects++;
    if (should_stop()) {
        c->state = C_DONE;
        return;
    }
    conn_open(w, c);
}

static void try_send(worker *w, conn *c)
{
    while (c->out_off < c->out.len) {
        ssize_t n = send(c->fd, c->out.data + c->out_off, c->out.len - c->out_off, MSG_NOSIGNAL);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK) {
                set_events(w, c, EPOLLOUT | EPOLLIN);
                return;
            }
            request_failed(w, c, ERR_IO);
            return;
        }
        c->out_off += (size_t)n;
        w->st.bytes_out += (uint64_t)n;
    }
    if (c->state == C_SENDING) {
        if (c->out.len > 0 && c->out_off == c->out.len) {
            c->state = C_READING;
        }
    }
}

static void show_sample(const conn *c)
{
    pthread_mutex_lock(&out_lock);
    if (samples_shown < 3) {
        samples_shown++;
        size_t n = c->resp.end < SAMPLE_BYTES ? c->resp.end : SAMPLE_BYTES;
        fprintf(stderr, "cairn-loadgen: request '%s' got status %d: %.*s%s\n",
                cfg.templates[c->tmpl].name, c->resp.status, (int)n, c->in.data,
                n < c->resp.end ? "..." : "");
    }
    pthread_mutex_unlock(&out_lock);
}

static void response_done(worker *w, conn *c)
{
    int64_t t = now_ns();
    tstats *ts = &w->st.per[c->tmpl];
    int status = c->resp.status;
    ts->done++;
    hist_add(&ts->lat, (uint64_t)(t - c->started_ns) / 1000);
    w->st.status[status < MAX_STATUS ? status : MAX_STATUS - 1]++;
    if (status >= 200 && status < 300)
        ts->ok++;
    else
        show_sample(c);
    if (record_file)
        buf_addf(&w->record, "%d %d %llu %s\n", status, c->tmpl, (unsigned long long)c->seq,
                 c->run >= 0 ? cfg.runs[c->run] : "-");
    if (c->in.len > c->resp.end) {
        /* Bytes after the response we did not ask for. */
        c->has_request = false;
        request_failed(w, c, ERR_PARSE);
        return;
    }
    if (c->resp.is_close) {
        conn_close(w, c);
        w->st.reconnects++;
        if (should_stop()) {
            c->state = C_DONE;
            return;
        }
        conn_open(w, c);
        return;
    }
    start_request(w, c);
}

static void on_readable(worker *w, conn *c)
{
    for (;;) {
        if (c->in.cap - c->in.len < 4096) {
            if (c->in.len > IN_MAX) {
                request_failed(w, c, ERR_PARSE);
                return;
            }
            buf_grow(&c->in, c->in.cap ? c->in.cap : 16384);
        }
        ssize_t n = recv(c->fd, c->in.data + c->in.len, c->in.cap - c->in.len - 1, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN || errno == EWOULDBLOCK)
                return;
            request_failed(w, c, c->state == C_READING ? ERR_IO : ERR_CLOSED);
            return;
        }
        if (n == 0) {
            if (c->state == C_READING && lg_resp_eof(&c->resp, c->in.len) == 1) {
                c->resp.is_close = true;
                response_done(w, c);
            } else if (c->has_request) {
                request_failed(w, c, ERR_CLOSED);
            } else {
                conn_close(w, c);
                conn_open(w, c);
            }
            return;
        }
        c->in.len += (size_t)n;
        w->st.bytes_in += (uint64_t)n;
        if (c->state != C_READING) {
            /* The server spoke before the request was sent: it can only be closing. */
            request_failed(w, c, ERR_PARSE);
            return;
        }
        int rc = lg_resp_parse(&c->resp, c->in.data, c->in.len, c->is_head);
        if (rc < 0) {
            request_failed(w, c, ERR_PARSE);
            return;
        }
        if (rc == 1) {
            response_done(w, c);
            return;
        }
    }
}

static void on_event(worker *w, conn *c, uint32_t events)
{
    if (c->state == C_CONNECTING) {
        int err = 0;
        socklen_t len = sizeof err;
        getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0 || (events & (EPOLLERR | EPOLLHUP))) {
            conn_close(w, c);
            w->st.errors[ERR_CONNECT]++;
            c->state = ++c->failed_connects >= CONNECT_TRIES ? C_DONE : C_WAIT;
            c->retry_at_ns = now_ns() + RETRY_NS;
            return;
        }
        if (!(events & EPOLLOUT))
            return;
        c->failed_connects = 0;
        set_events(w, c, EPOLLIN);
        start_request(w, c);
        return;
    }
    if (c->state == C_SENDING && (events & EPOLLOUT)) {
        try_send(w, c);
        if (c->state == C_READING)
            set_events(w, c, EPOLLIN);
        if (c->state != C_READING && c->state != C_SENDING)
            return;
    }
    if (events & (EPOLLIN | EPOLLHUP | EPOLLERR))
        on_readable(w, c);
}

static void *worker_main(void *arg)
{
    worker *w = arg;
    struct epoll_event events[256];
    w->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (w->epfd < 0)
        die("epoll_create1: %s", strerror(errno));
    for (int i = 0; i < w->n_conns; i++)
        conn_open(w, &w->conns[i]);
    for (;;) {
        int live = 0;
        int64_t t = now_ns();
        for (int i = 0; i < w->n_conns; i++) {
            conn *c = &w->conns[i];
            if (c->state == C_DONE)
                continue;
            live++;
            if (c->state == C_WAIT) {
                if (should_stop())
                    c->state = C_DONE;
                else if (t >= c->retry_at_ns)
                    conn_open(w, c);
            } else if ((c->state == C_SENDING || c->state == C_READING) &&
                       t - c->started_ns > cfg.timeout_ns) {
                request_failed(w, c, ERR_TIMEOUT);
            } else if (c->state == C_CONNECTING && should_stop()) {
                conn_close(w, c);
                c->state = C_DONE;
            }
        }
        if (live == 0)
            break;
        int n = epoll_wait(w->epfd, events, 256, 50);
        if (n < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < n; i++) {
            conn *c = events[i].data.ptr;
            if (c->fd >= 0 && c->state != C_DONE && c->state != C_WAIT)
                on_event(w, c, events[i].events);
        }
    }
    close(w->epfd);
    if (record_file && w->record.len) {
        pthread_mutex_lock(&out_lock);
        fwrite(w->record.data, 1, w->record.len, record_file);
        pthread_mutex_unlock(&out_lock);
    }
    return NULL;
}

/* ---- setup ---- */

static void add_target(const char *url)
{
    if (cfg.n_targets == MAX_TARGETS)
        die("too many --target (at most %d)", MAX_TARGETS);
    const char *p = url;
    if (strncmp(p, "http://", 7) == 0)
        p += 7;
    else if (strstr(p, "://"))
        die("target '%s': only http:// is supported", url);
    size_t hlen = strcspn(p, "/");
    char *hostport = xstrndup(p, hlen);
    char *colon = strrchr(hostport, ':');
    const char *port = "80";
    char *host = hostport;
    if (colon) {
        *colon = '\0';
        port = colon + 1;
    }
    if (host[0] == '[') {
        host++;
        char *rb = strchr(host, ']');
        if (rb)
            *rb = '\0';
    }
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM}, *res = NULL;
    int rc = getaddrinfo(host, port, &hints, &res);
    if (rc != 0)
        die("target '%s': %s", url, gai_strerror(rc));
    target *t = &cfg.targets[cfg.n_targets++];
    memcpy(&t->addr, res->ai_addr, res->ai_addrlen);
    t->addr_len = res->ai_addrlen;
    freeaddrinfo(res);
    t->host_header = xstrndup(p, hlen);
    free(hostport);
}

static void add_template(char *spec)
{
    if (cfg.n_templates == MAX_TEMPLATES)
        die("too many requests (at most %d templates)", MAX_TEMPLATES);
    parse_template(&cfg.templates[cfg.n_templates], spec, cfg.n_templates + 1);
    cfg.weight_sum += cfg.templates[cfg.n_templates].weight;
    cfg.n_templates++;
}

static void load_templates(const char *path)
{
    char *text = keep(read_file(path, NULL)); /* kept: templates point into it */
    char *line = text;
    while (*line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        char *p = line + strspn(line, " \t\r");
        if (*p && *p != '#')
            add_template(p);
        if (!nl)
            break;
        line = nl + 1;
    }
}

static void load_runs(const char *path)
{
    char *text = keep(read_file(path, NULL));
    char *line = text;
    while (*line) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        size_t len = strcspn(line, " \t\r");
        if (len > 0) {
            cfg.runs = xrealloc(cfg.runs, (size_t)(cfg.n_runs + 1) * sizeof *cfg.runs);
            line[len] = '\0';
            cfg.runs[cfg.n_runs++] = line;
        }
        if (!nl)
            break;
        line = nl + 1;
    }
}

static void free_config(void)
{
    for (int t = 0; t < cfg.n_templates; t++) {
        free(cfg.templates[t].name);
        free(cfg.templates[t].method);
        free(cfg.templates[t].path.items);
        free(cfg.templates[t].body.items);
    }
    for (int t = 0; t < cfg.n_targets; t++)
        free(cfg.targets[t].host_header);
    free(cfg.runs);
    for (int k = 0; k < n_kept; k++)
        free(kept[k]);
}

static void on_signal(int sig)
{
    (void)sig;
    atomic_store(&stop_flag, 1);
}

/* ---- output ---- */

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '"' || ch == '\\')
            fprintf(f, "\\%c", ch);
        else if (ch < 0x20)
            fprintf(f, "\\u%04x", ch);
        else
            fputc(ch, f);
    }
    fputc('"', f);
}

static void json_latency(FILE *f, const hist *h)
{
    fprintf(f,
            "{\"mean\": %.4f, \"p50\": %.4f, \"p90\": %.4f, \"p99\": %.4f, \"p999\": %.4f, "
            "\"max\": %.4f}",
            h->n ? (double)h->sum_us / (double)h->n / 1000.0 : 0.0, hist_ms(h, 0.5),
            hist_ms(h, 0.9), hist_ms(h, 0.99), hist_ms(h, 0.999), (double)h->max_us / 1000.0);
}

static void report(const stats *st, double seconds)
{
    hist all = {0};
    uint64_t done = 0, ok = 0, errors = 0;
    for (int i = 0; i < cfg.n_templates; i++) {
        hist_merge(&all, &st->per[i].lat);
        done += st->per[i].done;
        ok += st->per[i].ok;
    }
    for (int k = 0; k < N_ERR; k++)
        errors += st->errors[k];
    double rps = seconds > 0 ? (double)done / seconds : 0;
    if (cfg.is_json) {
        FILE *f = stdout;
        fprintf(f, "{\"requests\": %llu, \"ok\": %llu, \"non_2xx\": %llu, \"errors\": %llu, ",
                (unsigned long long)done, (unsigned long long)ok, (unsigned long long)(done - ok),
                (unsigned long long)errors);
        fprintf(f,
                "\"seconds\": %.6f, \"requests_per_s\": %.2f, \"connections\": %d, "
                "\"threads\": %d, \"latency_ms\": ",
                seconds, rps, cfg.connections, cfg.threads);
        json_latency(f, &all);
        fputs(", \"status\": {", f);
        bool first = true;
        for (int s = 0; s < MAX_STATUS; s++)
            if (st->status[s]) {
                fprintf(f, "%s\"%d\": %llu", first ? "" : ", ", s,
                        (unsigned long long)st->status[s]);
                first = false;
            }
        fputs("}, \"error_kinds\": {", f);
        for (int k = 0; k < N_ERR; k++)
            fprintf(f, "%s\"%s\": %llu", k ? ", " : "", err_names[k],
                    (unsigned long long)st->errors[k]);
        fprintf(f, "}, \"reconnects\": %llu, \"bytes_sent\": %llu, \"bytes_received\": %llu, ",
                (unsigned long long)st->reconnects, (unsigned long long)st->bytes_out,
                (unsigned long long)st->bytes_in);
        fputs("\"templates\": [", f);
        for (int i = 0; i < cfg.n_templates; i++) {
            const tstats *ts = &st->per[i];
            fprintf(f, "%s{\"name\": ", i ? ", " : "");
            json_str(f, cfg.templates[i].name);
            fprintf(f, ", \"requests\": %llu, \"ok\": %llu, \"errors\": %llu, \"latency_ms\": ",
                    (unsigned long long)ts->done, (unsigned long long)ts->ok,
                    (unsigned long long)ts->errors);
            json_latency(f, &ts->lat);
            fputc('}', f);
        }
        fputs("]}\n", f);
        return;
    }
    printf("%llu requests in %.2f s: %.1f req/s; latency p50 %.3f ms, p90 %.3f ms, p99 %.3f ms, "
           "max %.3f ms; 2xx %llu, other status %llu, errors %llu (%d connections, %d threads)\n",
           (unsigned long long)done, seconds, rps, hist_ms(&all, 0.5), hist_ms(&all, 0.9),
           hist_ms(&all, 0.99), (double)all.max_us / 1000.0, (unsigned long long)ok,
           (unsigned long long)(done - ok), (unsigned long long)errors, cfg.connections,
           cfg.threads);
    if (errors)
        for (int k = 0; k < N_ERR; k++)
            if (st->errors[k])
                printf("  errors %s: %llu\n", err_names[k], (unsigned long long)st->errors[k]);
    for (int s = 0; s < MAX_STATUS; s++)
        if (st->status[s] && (s < 200 || s >= 300))
            printf("  status %d: %llu\n", s, (unsigned long long)st->status[s]);
    if (cfg.n_templates > 1)
        for (int i = 0; i < cfg.n_templates; i++) {
            const tstats *ts = &st->per[i];
            printf("  %-12s %llu requests, %.1f req/s, p50 %.3f ms, p99 %.3f ms, 2xx %llu\n",
                   cfg.templates[i].name, (unsigned long long)ts->done,
                   seconds > 0 ? (double)ts->done / seconds : 0, hist_ms(&ts->lat, 0.5),
                   hist_ms(&ts->lat, 0.99), (unsigned long long)ts->ok);
        }
}

static const char usage[] =
    "usage: cairn-loadgen [options] --target URL (--request SPEC | --requests-file FILE)...\n"
    "\n"
    "Sends HTTP/1.1 requests over keep-alive connections and reports requests/s, latency\n"
    "percentiles, status codes and errors.\n"
    "\n"
    "  -t, --target URL        http://HOST:PORT; repeat to spread connections round-robin\n"
    "  -r, --request SPEC      [name=N] [weight=W] METHOD PATH [BODY | @FILE]; repeatable,\n"
    "                          each request picks a template at random by weight\n"
    "  -f, --requests-file F   one SPEC a line ('#' comments)\n"
    "  -c, --connections N     connections in all (default 16)\n"
    "  -T, --threads N         threads, each with its share of connections (default 1)\n"
    "  -d, --duration S        seconds to send for (default 5 unless --count is given)\n"
    "  -n, --count N           stop after N requests (with -d: whichever comes first)\n"
    "      --runs FILE         run ids, one a line, for {{run}}\n"
    "  -H, --header 'K: V'     an extra request header (repeatable)\n"
    "      --timeout MS        a request unanswered this long is an error (default 30000)\n"
    "      --record FILE       writes 'STATUS TEMPLATE SEQ RUN' per answered request\n"
    "                          ('error TEMPLATE SEQ RUN' per failed one); TEMPLATE counts from 0\n"
    "      --print N           prints N rendered requests to stdout and sends nothing\n"
    "      --json              the report as one JSON object\n"
    "\n"
    "Placeholders in PATH and BODY: {{seq}} the request's number (from 1, global),\n"
    "{{step}} seq * K + i for the i-th of the K {{step}}s of the template (unique per template),\n"
    "{{ts}} the wall clock in ms, {{run}} the next run id of --runs (round-robin, one per\n"
    "request), {{rand}} a uniform number in [0, 1). Bodies are sent as application/json.\n"
    "Requests still in flight when the time is up are waited for (up to --timeout).\n";

static uint64_t parse_count(const char *opt, const char *s)
{
    char *e;
    errno = 0;
    unsigned long long v = strtoull(s, &e, 10);
    if (errno || e == s || *e || s[0] == '-')
        die("%s: '%s' is not a count", opt, s);
    return v;
}

int main(int argc, char **argv)
{
    const char *runs_path = NULL;
    uint64_t print_n = 0;
    bool has_print = false, has_duration = false;
    cfg.connections = 16;
    cfg.threads = 1;
    cfg.duration_s = 5;
    cfg.timeout_ns = 30000LL * 1000000LL;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
#define OPT(s, l) (strcmp(a, s) == 0 || strcmp(a, l) == 0)
#define NEED()                                                                                     \
    do {                                                                                           \
        if (!v)                                                                                    \
            die("%s needs a value", a);                                                            \
        i++;                                                                                       \
    } while (0)
        if (OPT("-h", "--help")) {
            fputs(usage, stdout);
            return 0;
        } else if (OPT("-t", "--target")) {
            NEED();
            add_target(v);
        } else if (OPT("-r", "--request")) {
            NEED();
            add_template(keep(xstrndup(v, strlen(v))));
        } else if (OPT("-f", "--requests-file")) {
            NEED();
            load_templates(v);
        } else if (OPT("-c", "--connections")) {
            NEED();
            cfg.connections = (int)parse_count(a, v);
        } else if (OPT("-T", "--threads")) {
            NEED();
            cfg.threads = (int)parse_count(a, v);
        } else if (OPT("-d", "--duration")) {
            NEED();
            char *e;
            cfg.duration_s = strtod(v, &e);
            if (*e || e == v || !(cfg.duration_s > 0))
                die("%s: '%s' is not a positive number of seconds", a, v);
            has_duration = true;
        } else if (OPT("-n", "--count")) {
            NEED();
            cfg.max_requests = parse_count(a, v);
            if (cfg.max_requests == 0)
                die("%s must be at least 1", a);
        } else if (OPT("-H", "--header")) {
            NEED();
            if (cfg.n_headers == MAX_HEADERS)
                die("too many --header (at most %d)", MAX_HEADERS);
            if (!strchr(v, ':'))
                die("--header '%s': expected 'Name: value'", v);
            cfg.headers[cfg.n_headers++] = v;
        } else if (strcmp(a, "--runs") == 0) {
            NEED();
            runs_path = v;
        } else if (strcmp(a, "--timeout") == 0) {
            NEED();
            cfg.timeout_ns = (int64_t)parse_count(a, v) * 1000000LL;
        } else if (strcmp(a, "--record") == 0) {
            NEED();
            cfg.record_path = v;
        } else if (strcmp(a, "--print") == 0) {
            NEED();
            print_n = parse_count(a, v);
            has_print = true;
        } else if (strcmp(a, "--json") == 0) {
            cfg.is_json = true;
        } else {
            fprintf(stderr, "cairn-loadgen: unknown argument '%s'\n%s", a, usage);
            return 2;
        }
#undef OPT
#undef NEED
    }
    if (cfg.n_templates == 0) {
        fprintf(stderr, "cairn-loadgen: give at least one --request or --requests-file\n%s", usage);
        return 2;
    }
    if (runs_path)
        load_runs(runs_path);
    for (int i = 0; i < cfg.n_templates; i++)
        if (cfg.templates[i].uses_run && cfg.n_runs == 0)
            die("request '%s' uses {{run}}: give --runs FILE with at least one run id",
                cfg.templates[i].name);
    if (has_print) {
        conn c = {.fd = -1};
        uint64_t rng = 0x9E3779B97F4A7C15ULL;
        if (cfg.n_targets == 0)
            add_target("http://127.0.0.1:80");
        for (uint64_t k = 0; k < print_n; k++) {
            build_request(&c, pick_template(&rng), k + 1, &rng);
            fwrite(c.out.data, 1, c.out.len, stdout);
            fputs("\n", stdout);
        }
        free(c.out.data);
        free(c.body.data);
        free_config();
        return 0;
    }
    if (cfg.n_targets == 0) {
        fprintf(stderr, "cairn-loadgen: give at least one --target URL\n%s", usage);
        return 2;
    }
    if (cfg.connections < 1 || cfg.threads < 1)
        die("--connections and --threads must be at least 1");
    if (cfg.threads > cfg.connections)
        cfg.threads = cfg.connections;
    if (cfg.record_path) {
        record_file = fopen(cfg.record_path, "w");
        if (!record_file)
            die("cannot write '%s': %s", cfg.record_path, strerror(errno));
    }
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    worker *workers = calloc((size_t)cfg.threads, sizeof *workers);
    conn *conns = calloc((size_t)cfg.connections, sizeof *conns);
    if (!workers || !conns)
        die("out of memory");
    for (int i = 0; i < cfg.connections; i++) {
        conns[i].fd = -1;
        conns[i].target = i % cfg.n_targets;
    }
    int64_t start = now_ns();
    if (has_duration || !cfg.max_requests)
        deadline_ns = start + (int64_t)(cfg.duration_s * 1e9);
    for (int i = 0, first = 0; i < cfg.threads; i++) {
        worker *w = &workers[i];
        w->index = i;
        w->n_conns = cfg.connections / cfg.threads + (i < cfg.connections % cfg.threads);
        w->conns = conns + first;
        first += w->n_conns;
        w->rng = 0x9E3779B97F4A7C15ULL * (uint64_t)(i + 1);
        if (pthread_create(&w->thread, NULL, worker_main, w) != 0)
            die("pthread_create failed");
    }
    stats *total = calloc(1, sizeof *total);
    if (!total)
        die("out of memory");
    for (int i = 0; i < cfg.threads; i++) {
        worker *w = &workers[i];
        pthread_join(w->thread, NULL);
        for (int t = 0; t < cfg.n_templates; t++) {
            total->per[t].done += w->st.per[t].done;
            total->per[t].ok += w->st.per[t].ok;
            total->per[t].errors += w->st.per[t].errors;
            hist_merge(&total->per[t].lat, &w->st.per[t].lat);
        }
        for (int s = 0; s < MAX_STATUS; s++)
            total->status[s] += w->st.status[s];
        for (int k = 0; k < N_ERR; k++)
            total->errors[k] += w->st.errors[k];
        total->reconnects += w->st.reconnects;
        total->bytes_out += w->st.bytes_out;
        total->bytes_in += w->st.bytes_in;
    }
    double seconds = (double)(now_ns() - start) / 1e9;
    if (record_file && fclose(record_file) != 0)
        die("cannot write '%s': %s", cfg.record_path, strerror(errno));
    report(total, seconds);
    for (int i = 0; i < cfg.connections; i++) {
        free(conns[i].out.data);
        free(conns[i].body.data);
        free(conns[i].in.data);
        if (conns[i].fd >= 0)
            close(conns[i].fd);
    }
    for (int i = 0; i < cfg.threads; i++)
        free(workers[i].record.data);
    free(conns);
    free(workers);
    free(total);
    free_config();
    return 0;
}
