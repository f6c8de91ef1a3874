/* SPDX-License-Identifier: MIT */
/* server.h - `cairn server`: the tracking server's entry point, what the CLI calls. */
#ifndef TRK_SERVER_H
#define TRK_SERVER_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include "cairn/auth.h"

/* --max-connections at most (http.h's HTTP_CONN_LIMIT_MAX: select(2) takes descriptors below
 * 1024, and the server keeps some for itself). */
#define CN_SERVER_CONN_LIMIT_MAX 960

typedef struct trk_config {
    const char *store_uri;     /* as cairn_open() takes it; NULL: the default store */
    const char *artifact_root; /* NULL: the store's default */
    const char *host;          /* NULL: 127.0.0.1 */
    int port;                  /* 0: a free one */
    int workers;               /* 0: trk_default_workers() */
    /* Host names (besides IP literals and localhost) requests may name, comma-separated;
     * "*" allows any. Against DNS rebinding. */
    const char *allowed_hosts;
    /* Origins (scheme://host[:port]) whose browsers may call the API, comma-separated; a
     * same-origin request is always allowed. */
    const char *cors_origins;
    FILE *access_log;              /* NULL: none */
    FILE *out;                     /* where the "listening on" line goes (stdout) */
    size_t max_body;               /* JSON bodies; 0: 64 MiB */
    uint64_t max_artifact_bytes;   /* one uploaded file; 0: 64 GiB */
    unsigned timeout_s;            /* idle connections; 0: 30 */
    unsigned conn_limit;           /* open connections; 0: CN_SERVER_CONN_LIMIT_MAX */
    unsigned per_ip_limit;         /* open connections per client address; 0: 256 */
    int grace_ms;                  /* how long SIGTERM waits for requests under way; 0: 10000 */
    bool auth;                     /* --auth: every API request needs credentials */
    cairn_perm default_permission; /* what a user may do without an explicit grant */
} trk_config;

/* Serves until SIGTERM or SIGINT; returns the exit code (0 after a clean stop), having printed
 * any error to stderr. */
int trk_serve(const trk_config *cfg);
/* The number of HTTP workers when not told: the online processors plus one. */
int trk_default_workers(void);
#endif
