/* SPDX-License-Identifier: MIT */
/* store_fixture.h - opens the store the store-backed unit tests run against: PostgreSQL when
 * CAIRN_TEST_PG is set (scripts/with-pg.sh sets it), else a fresh SQLite file in a temp folder. */
#ifndef STORE_FIXTURE_H
#define STORE_FIXTURE_H
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cairn/tracking.h"

static char fixture_dir[256];

static void fixture_cleanup(void)
{
    if (fixture_dir[0]) {
        char cmd[300];
        snprintf(cmd, sizeof cmd, "rm -rf '%s'", fixture_dir);
        if (system(cmd) != 0)
            fprintf(stderr, "# could not remove %s\n", fixture_dir);
    }
}

/* A new context on the test store (read_only: opened so); aborts the test binary when it
 * cannot open. */
static inline cairn_ctx *fixture_open_mode(bool read_only)
{
    if (!fixture_dir[0]) {
        snprintf(fixture_dir, sizeof fixture_dir, "/tmp/cairn-test-XXXXXX");
        if (!mkdtemp(fixture_dir)) {
            perror("mkdtemp");
            exit(1);
        }
        atexit(fixture_cleanup);
    }
    char uri[512], root[300];
    const char *pg = getenv("CAIRN_TEST_PG");
    if (pg && *pg)
        snprintf(uri, sizeof uri, "%s", pg);
    else
        snprintf(uri, sizeof uri, "sqlite://%s/cairn.db", fixture_dir);
    snprintf(root, sizeof root, "%s/artifacts", fixture_dir);
    cairn_open_opts opts = CAIRN_OPEN_OPTS_INIT;
    opts.artifact_root = root;
    opts.read_only = read_only;
    cairn_ctx *ctx = NULL;
    if (cairn_open(uri, &opts, &ctx) != CAIRN_OK) {
        fprintf(stderr, "# cannot open %s: %s\n", uri, cairn_errmsg(ctx));
        exit(1);
    }
    return ctx;
}

static inline cairn_ctx *fixture_open(void)
{
    return fixture_open_mode(false);
}

static inline cairn_ctx *fixture_open_read_only(void)
{
    return fixture_open_mode(true);
}

/* A name unique to this process, so tests sharing one PostgreSQL database do not collide. */
static const char *fixture_name(const char *base)
{
    static char names[64][128];
    static int next;
    char *out = names[next++ % 64];
    snprintf(out, 128, "%s-%d-%d", base, (int)getpid(), next);
    return out;
}

/* The value of tag key on a run record, or NULL. */
static inline const char *fixture_tag(const cairn_run_record *rec, const char *key)
{
    for (size_t i = 0; i < rec->n_tags; i++)
        if (strcmp(rec->tags[i].key, key) == 0)
            return rec->tags[i].value;
    return NULL;
}
#endif
