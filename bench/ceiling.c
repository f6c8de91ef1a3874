/* SPDX-License-Identifier: MIT */
/* ceiling.c - cairn-ceiling: the least an HTTP server on libmicrohttpd can do per request, so
 * bench/bench_server.py can measure the machine's ceiling with the same load generator and
 * configuration as `cairn server` (4 single-threaded daemons with epoll, each on a listening
 * socket of its own on the one port (SO_REUSEPORT), keep-alive, backlog 1024; --pool: one
 * daemon with an internal thread pool of N sharing one socket, the layout cairn used before).
 * Every request, any method and path, gets 200 and the body {} after its request body has been
 * read.
 *
 *   cairn-ceiling [--port N] [--threads N] [--pool] [--chunked] [--close]
 *
 * Binds 127.0.0.1; prints "listening on http://127.0.0.1:PORT" on stderr (--port 0 picks a
 * free port); on SIGINT or SIGTERM prints "served N requests, M body bytes" and exits 0.
 * --chunked answers with a chunked body and --close with Connection: close (to test the load
 * generator's parser). */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <unistd.h>

#include <microhttpd.h>

#include "base/banned.h"

static atomic_uint_fast64_t n_requests;
static atomic_uint_fast64_t n_body_bytes;
static volatile sig_atomic_t is_stopping;
static struct MHD_Response *reply;
static bool is_chunked, is_close, is_pool;

/* Per request state: libmicrohttpd calls the handler first with the headers, then with each
 * piece of the body, then once more with upload_data_size 0. Queueing a reply in the first
 * call, before the body is read, makes libmicrohttpd 0.9.75 close the connection afterwards;
 * so the reply is queued in the last call. */
typedef struct request {
    uint64_t body_bytes;
} request;

static ssize_t chunked_body(void *cls, uint64_t pos, char *out, size_t max)
{
    (void)cls;
    static const char text[] = "{\"ok\": true, \"chunked\": \"yes\"}";
    size_t len = sizeof text - 1;
    if (pos >= len)
        return MHD_CONTENT_READER_END_OF_STREAM;
    /* A few bytes per call, so the reply has several chunks. */
    size_t n = len - (size_t)pos < 7 ? len - (size_t)pos : 7;
    if (n > max)
        n = max;
    memcpy(out, text + pos, n);
    return (ssize_t)n;
}

static enum MHD_Result on_request(void *cls, struct MHD_Connection *connection, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_data_size, void **con_cls)
{
    (void)cls, (void)url, (void)method, (void)version, (void)upload_data;
    request *req = *con_cls;
    if (!req) {
        req = calloc(1, sizeof *req);
        if (!req)
            return MHD_NO;
        *con_cls = req;
        return MHD_YES;
    }
    if (*upload_data_size > 0) {
        req->body_bytes += *upload_data_size;
        *upload_data_size = 0;
        return MHD_YES;
    }
    atomic_fetch_add(&n_requests, 1);
    atomic_fetch_add(&n_body_bytes, req->body_bytes);
    if (is_chunked) {
        struct MHD_Response *r =
            MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, 64, chunked_body, NULL, NULL);
        if (!r)
            return MHD_NO;
        MHD_add_response_header(r, "Content-Type", "application/json");
        enum MHD_Result rc = MHD_queue_response(connection, MHD_HTTP_OK, r);
        MHD_destroy_response(r);
        return rc;
    }
    return MHD_queue_response(connection, MHD_HTTP_OK, reply);
}

static void on_completed(void *cls, struct MHD_Connection *connection, void **con_cls,
                         enum MHD_RequestTerminationCode toe)
{
    (void)cls, (void)connection, (void)toe;
    free(*con_cls);
    *con_cls = NULL;
}

static void on_signal(int sig)
{
    (void)sig;
    is_stopping = 1;
}

static long parse_number(const char *opt, const char *s, long max)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < 0 || v > max) {
        fprintf(stderr, "cairn-ceiling: error: %s: '%s' is not a number from 0 to %ld\n", opt, s,
                max);
        exit(2);
    }
    return v;
}

int main(int argc, char **argv)
{
    long port = 0, threads = 4; /* as `cairn server` (trk_config.workers) */
    for (int i = 1; i < argc; i++) {
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(argv[i], "--port") == 0 && v) {
            port = parse_number("--port", v, 65535);
            i++;
        } else if (strcmp(argv[i], "--threads") == 0 && v) {
            threads = parse_number("--threads", v, 256);
            i++;
        } else if (strcmp(argv[i], "--pool") == 0) {
            is_pool = true;
        } else if (strcmp(argv[i], "--chunked") == 0) {
            is_chunked = true;
        } else if (strcmp(argv[i], "--close") == 0) {
            is_close = true;
        } else {
            fprintf(stderr, "usage: cairn-ceiling [--port N] [--threads N] [--pool] [--chunked] "
                            "[--close]\n");
            return strcmp(argv[i], "--help") == 0 ? 0 : 2;
        }
    }
    if (threads < 1)
        threads = 1;
    static const char body[] = "{}";
    reply = MHD_create_response_from_buffer(sizeof body - 1, (void *)body, MHD_RESPMEM_PERSISTENT);
    if (!reply) {
        fprintf(stderr, "cairn-ceiling: error: cannot create the reply\n");
        return 1;
    }
    MHD_add_response_header(reply, "Content-Type", "application/json");
    if (is_close)
        MHD_add_response_header(reply, "Connection", "close");

    /* Block the stop signals before the daemon's threads start, so they inherit the mask and
     * only sigsuspend() below takes them. */
    sigset_t stop_set, old_set;
    sigemptyset(&stop_set);
    sigaddset(&stop_set, SIGINT);
    sigaddset(&stop_set, SIGTERM);
    struct sigaction sa = {.sa_handler = on_signal};
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    pthread_sigmask(SIG_BLOCK, &stop_set, &old_set);

    struct sockaddr_in addr = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d[256] = {0};
    int n_d = is_pool ? 1 : (int)threads;
    for (int i = 0; i < n_d; i++) {
        d[i] = MHD_start_daemon(
            MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ITC, (uint16_t)port, NULL,
            NULL, on_request, NULL, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr,
            MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)(is_pool ? threads : 1),
            MHD_OPTION_LISTENING_ADDRESS_REUSE, (unsigned int)(is_pool ? 0 : 1),
            MHD_OPTION_CONNECTION_LIMIT, (unsigned int)1000, MHD_OPTION_CONNECTION_TIMEOUT,
            (unsigned int)60, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
            MHD_OPTION_LISTEN_BACKLOG_SIZE, 1024u, MHD_OPTION_END);
        if (!d[i]) {
            fprintf(stderr, "cairn-ceiling: error: cannot listen on 127.0.0.1:%ld\n", port);
            return 1;
        }
        if (i == 0) { /* port 0: the others take the port the first was given */
            const union MHD_DaemonInfo *info = MHD_get_daemon_info(d[0], MHD_DAEMON_INFO_BIND_PORT);
            port = info ? info->port : port;
            addr.sin_port = htons((uint16_t)port);
        }
    }
    fprintf(stderr, "listening on http://127.0.0.1:%ld\n", port);
    fflush(stderr);

    while (!is_stopping)
        sigsuspend(&old_set);
    for (int i = 0; i < n_d; i++)
        MHD_stop_daemon(d[i]);
    MHD_destroy_response(reply);
    fprintf(stderr, "served %llu requests, %llu body bytes\n",
            (unsigned long long)atomic_load(&n_requests),
            (unsigned long long)atomic_load(&n_body_bytes));
    return 0;
}
