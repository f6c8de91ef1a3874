/* SPDX-License-Identifier: MIT */
/* cli.h - what the command files share: the command table type, store opening from the
 * global options, error printing. The CLI sees only include/cairn and src/base. */
#ifndef CLI_H
#define CLI_H
#include <stdbool.h>
#include <stdio.h>
#include "cairn/cairn.h"
#include "cairn/train.h"
#include "base/jsonw.h"

typedef struct cli_command {
    const char *name;
    int (*fn)(int argc, char **argv); /* argv[0] is the command name; returns the exit code */
    const char *summary;
} cli_command;

/* Global options, parsed by main before the command. */
extern const char *cli_store_uri;     /* --store, else $CAIRN_STORE, else default */
extern const char *cli_artifact_root; /* --artifacts */

/* Opens the store named by the global options; prints the error and returns NULL on failure. */
cairn_ctx *cli_open_store(void);
/* The same, with the library's log lines up to max_level printed to stderr as
 * "cairn: error|warning|note: <msg>". */
cairn_ctx *cli_open_store_log(cairn_log_level max_level);
/* Prints "cairn: error: <msg>" to stderr; returns 1. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "cairn: error: <errmsg(ctx)>"; returns 1. */
int cli_fail(cairn_ctx *ctx);
/* Prints a usage error and returns 2. */
int cli_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Dispatches argv[1] through a verb table; prints the table on --help or an unknown verb. */
int cli_dispatch(const char *group, const cli_command *verbs, size_t n_verbs, int argc,
                 char **argv);
/* As cli_dispatch(), but `cairn <group> --help` prints the verbs' usages (each "usage: ...\n",
 * shown as one "usage: " line and "   or: " lines) before the verb table. */
int cli_dispatch_usages(const char *group, const char *const *usages, size_t n_usages,
                        const cli_command *verbs, size_t n_verbs, int argc, char **argv);
/* For what getopt_long returned that a verb does not handle itself: 'h' prints usage and help
 * to stdout and returns 0; ':' (a missing value) and anything else print a usage error and
 * return 2. */
int cli_other_option(int c, const char *usage, const char *help, char **argv);
/* Formats epoch milliseconds as "2026-11-26 06:12:03" (local time) into out. */
void cli_format_time(int64_t ms, char *out, size_t size);

/* Writes s as a JSON string (quotes, backslashes and control characters escaped). */
void cli_json_str(FILE *out, const char *s);
/* Metrics with their 95% intervals (cairn train, cairn eval): one "  name  value  95% CI
 * [low, high]" line each on stdout, or a JSON object of {value, ci_low, ci_high} under key. */
void cli_print_scored(const cairn_scored_metric *m, size_t n);
void cli_write_scored(cn_jsonw *w, const char *key, const cairn_scored_metric *m, size_t n);

/* A simple column-aligned text table for human output. */
typedef struct cli_table cli_table;
cli_table *cli_table_new(size_t n_cols, const char *const *headers);
void cli_table_add(cli_table *t, const char *const *cells); /* n_cols cells, copied */
void cli_table_print(cli_table *t, FILE *out);
void cli_table_free(cli_table *t);

int cmd_run(int argc, char **argv);
int cmd_exp(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_train(int argc, char **argv);
#endif
