/* SPDX-License-Identifier: MIT */
/* seed_store.c - cairn_seed_store: fills a store with experiments and runs from a compact spec,
 * through the public API, for the e2e tests of `cairn exp` and `cairn runs`.
 *
 *   cairn_seed_store STORE [LINE...]     (no LINE: lines are read from stdin)
 *
 * One command a line, words split at blanks ("double quotes" keep blanks); '#' starts a comment:
 *   exp NAME [KEY=VALUE]...                experiment with tags
 *   run EXP [name=N] [start=MS] [user=U]   starts a run (EXP created if missing); prints its id
 *   param KEY VALUE | tag KEY VALUE
 *   metric KEY VALUE [STEP [TIMESTAMP_MS]] VALUE may be nan, inf, -inf
 *   input NAME DIGEST [CONTEXT]            a dataset input with source /data/NAME
 *   artifact PATH TEXT                     an artifact file holding TEXT
 *   finish STATUS [END_MS]                 FINISHED, FAILED, KILLED, ... */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/tracking.h"
#include "base/banned.h"

#define MAX_WORDS 32

static cairn_ctx *ctx;
static cairn_run *run;
static int line_no;

static int fail(const char *what)
{
    fprintf(stderr, "cairn_seed_store: line %d: %s: %s\n", line_no, what,
            ctx ? cairn_errmsg(ctx) : "");
    return 1;
}

/* Splits line in place into words; returns their count or -1 when there are too many. */
static int split(char *line, char **words)
{
    int n = 0;
    char *p = line;
    for (;;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            p++;
        if (!*p || *p == '#')
            return n;
        if (n == MAX_WORDS)
            return -1;
        if (*p == '"') {
            words[n++] = ++p;
            while (*p && *p != '"')
                p++;
        } else {
            words[n++] = p;
            while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
                p++;
        }
        if (!*p)
            return n;
        *p++ = '\0';
    }
}

static const char *opt(char **words, int n, const char *name)
{
    size_t len = strlen(name);
    for (int i = 2; i < n; i++)
        if (strncmp(words[i], name, len) == 0 && words[i][len] == '=')
            return words[i] + len + 1;
    return NULL;
}

static int end_run(void)
{
    cairn_status rc = run ? cairn_run_flush(run) : CAIRN_OK;
    cairn_run_free(run);
    run = NULL;
    return rc == CAIRN_OK ? 0 : fail("flush");
}

static int command(char **w, int n)
{
    const char *cmd = w[0];
    if (strcmp(cmd, "exp") == 0 && n >= 2) {
        cairn_tag tags[MAX_WORDS];
        size_t n_tags = 0;
        for (int i = 2; i < n; i++) {
            char *eq = strchr(w[i], '=');
            if (!eq)
                return fail("expected KEY=VALUE");
            *eq = '\0';
            tags[n_tags++] = (cairn_tag){w[i], eq + 1};
        }
        char *id = NULL;
        if (cairn_experiment_create(ctx, w[1], NULL, tags, n_tags, &id) != CAIRN_OK)
            return fail("exp");
        cairn_free(id);
        return 0;
    }
    if (strcmp(cmd, "run") == 0 && n >= 2) {
        if (end_run() != 0)
            return 1;
        cairn_run_opts o = CAIRN_RUN_OPTS_INIT;
        const char *start = opt(w, n, "start");
        o.experiment = w[1];
        o.name = opt(w, n, "name");
        o.user = opt(w, n, "user");
        o.start_ms = start ? strtoll(start, NULL, 10) : 0;
        if (cairn_run_start(ctx, &o, &run) != CAIRN_OK)
            return fail("run");
        printf("%s\n", cairn_run_id(run));
        return 0;
    }
    if (!run)
        return fail("no run started");
    if (strcmp(cmd, "param") == 0 && n == 3)
        return cairn_run_log_param(run, w[1], w[2]) == CAIRN_OK ? 0 : fail("param");
    if (strcmp(cmd, "tag") == 0 && n == 3)
        return cairn_run_set_tag(run, w[1], w[2]) == CAIRN_OK ? 0 : fail("tag");
    if (strcmp(cmd, "metric") == 0 && n >= 3 && n <= 5) {
        cairn_metric m = {w[1], strtod(w[2], NULL), n == 5 ? strtoll(w[4], NULL, 10) : 0,
                          n >= 4 ? strtoll(w[3], NULL, 10) : 0};
        return cairn_run_log_metrics(run, &m, 1) == CAIRN_OK ? 0 : fail("metric");
    }
    if (strcmp(cmd, "input") == 0 && (n == 3 || n == 4)) {
        char source[512];
        snprintf(source, sizeof source, "/data/%s", w[1]);
        cairn_dataset_input in = {w[1], w[2], "local", source, NULL, NULL, n == 4 ? w[3] : NULL};
        return cairn_run_log_input(run, &in) == CAIRN_OK ? 0 : fail("input");
    }
    if (strcmp(cmd, "artifact") == 0 && n == 3)
        return cairn_run_log_artifact_bytes(run, w[1], w[2], strlen(w[2])) == CAIRN_OK
                   ? 0
                   : fail("artifact");
    if (strcmp(cmd, "finish") == 0 && (n == 2 || n == 3)) {
        cairn_run_status st;
        if (cairn_run_status_parse(ctx, w[1], &st) != CAIRN_OK)
            return fail("finish");
        if (cairn_run_flush(run) != CAIRN_OK)
            return fail("flush");
        int64_t end_ms = n == 3 ? strtoll(w[2], NULL, 10) : 0;
        return cairn_run_set_status(run, st, end_ms) == CAIRN_OK ? 0 : fail("finish");
    }
    return fail("unknown command or wrong number of words");
}

static int do_line(char *line)
{
    char *words[MAX_WORDS];
    line_no++;
    int n = split(line, words);
    if (n < 0)
        return fail("too many words");
    return n == 0 ? 0 : command(words, n);
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: cairn_seed_store STORE [LINE...]\n");
        return 2;
    }
    int rc = 0;
    if (cairn_open(argv[1], NULL, &ctx) != CAIRN_OK) {
        rc = fail("open");
        goto done;
    }
    if (argc > 2) {
        for (int i = 2; i < argc && rc == 0; i++)
            rc = do_line(argv[i]);
    } else {
        char line[8192];
        while (rc == 0 && fgets(line, sizeof line, stdin))
            rc = do_line(line);
    }
    if (rc == 0)
        rc = end_run();
    else
        end_run();
done:
    cairn_close(ctx);
    return rc;
}
