/* SPDX-License-Identifier: MIT */
/* cli.h - the one header of the CLI's shared helpers (util.c): the command table type, store
 * opening from the global options, error printing, group help from synopsis lines, option
 * parsing, metric lines, tables, and lookups by id, name or prefix. The CLI sees only
 * include/cairn and src/base. */
#ifndef CLI_H
#define CLI_H
#include <stdbool.h>
#include <stdio.h>
#include "cairn/cairn.h"
#include "cairn/hpo.h"
#include "cairn/learn.h"
#include "cairn/registry.h"
#include "cairn/tracking.h"
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
/* Prints a context's log lines up to max_level to stderr ("cairn: warning: ..."). */
void cli_log_to_stderr(cairn_ctx *ctx, cairn_log_level max_level);
/* The same with open options (opts->artifact_root: --artifacts when NULL); on failure the
 * error is printed, then hint (may be NULL) as "cairn: hint: ...", and NULL returned. */
cairn_ctx *cli_open_store_with(const cairn_open_opts *opts, cairn_log_level max_level,
                               const char *hint);
/* Loads MODEL (a file, runs:/RUN_ID/model or models:/NAME@ALIAS) into *m, with *ref its
 * resolution and *ctx the context it needs (the store for runs:/ and models:/). Returns 0, or
 * 1 after printing the error; either way the caller frees *m, *ref and *ctx (each may be
 * empty). */
int cli_load_model(const char *spec, cairn_ctx **ctx, cairn_model_ref *ref, cairn_model **m);
/* Prints "cairn: error: <msg>" to stderr; returns 1. */
int cli_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "cairn: error: <errmsg(ctx)>"; returns 1. */
int cli_fail(cairn_ctx *ctx);
/* Prints a usage error and returns 2. */
int cli_usage(const char *usage, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Opens a server's --access-log PATH: appended to, line-buffered; "-" is stderr; NULL is none.
 * Returns 0 with *out set and *owned the file to fclose() afterwards (NULL for stderr or none),
 * else prints why and returns the exit status. */
int cli_access_log_open(const char *path, FILE **out, FILE **owned);
/* For what getopt_long returned that a verb does not handle itself: 'h' prints usage and help
 * (may be NULL) to stdout and returns 0; ':' (a missing value) and anything else print a usage
 * error naming the option and return 2. */
int cli_other_option(int c, const char *usage, const char *help, char **argv);
/* For an unknown "--name[=value]": the long option of usage or help (their "--word"s) at most
 * two edits away, as "--word" in out; false when there is none. */
bool cli_option_nearest(const char *arg, const char *usage, const char *help, char *out,
                        size_t size);
/* Formats epoch milliseconds as "2026-11-26 06:12:03" (local time) into out. */
void cli_format_time(int64_t ms, char *out, size_t size);

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

/* The output of a listing: a table with headers, or with json {"<key>": [...]} whose items
 * the caller writes to w. */
typedef struct cli_listing {
    cn_jsonw w;
    cli_table *table; /* NULL with json */
} cli_listing;
void cli_listing_begin(cli_listing *l, bool json, const char *key, size_t n_cols,
                       const char *const *headers);
/* One page of a listing: searches with query and adds the items to l; *n is their count and
 * *next the token of the page after (a new string, NULL on the last page). Returns 0, or the
 * exit code with the error printed. */
typedef int (*cli_page_fn)(cairn_ctx *ctx, void *query, cli_listing *l, size_t *n, char **next);
/* Lists page after page of up to 1000 items until the last, or until max (0: all) items are
 * shown, setting the query's *page_token (borrowed by each call, NULL at the end) and
 * *max_results before each page; then prints the table or ends the JSON (unless a page
 * failed) and releases l. Returns the exit code. */
int cli_listing_pages(cairn_ctx *ctx, cli_listing *l, cli_page_fn page, void *query,
                      const char **page_token, int64_t *max_results, int64_t max);
/* Ends a listing whose items the caller added: prints the table, or ends and writes the JSON;
 * releases l. Returns 0, or 1 when the output could not be written (the error printed). */
int cli_listing_end(cli_listing *l);

/* A group's synopsis: one line per form, "cairn <group> <verb> ...". `cairn <group> --help`
 * prints them as "usage: " / "   or: " lines (the same lines as docs/cli/cairn-<group>.md). */
/* The help of one verb ("create", or "user add" in a group with sub-verbs): a paragraph that
 * says what it does, "options:" with every option of its usage lines, and "examples:" with
 * command lines that work (the conventions: docs/cli/README.md). */
typedef struct cli_verb_help {
    const char *verb;
    const char *text;
} cli_verb_help;

typedef struct cli_synopsis {
    const char *const *lines;
    size_t n;
    const cli_verb_help *helps; /* may be NULL: each verb prints its own help */
    size_t n_helps;
} cli_synopsis;

/* Prints usage and then help to stdout (--help); help NULL is the help of the verb that
 * cli_group_main runs, from its synopsis' helps, if it has one. */
void cli_help(const char *usage, const char *help);

/* Handles `cairn <group>` with no verb or --help (the synopsis and the verb table), else
 * runs the verb argv[1] names; an unknown verb prints the same help to stderr and an error,
 * and returns 2. */
int cli_group_main(const char *group, const cli_synopsis *syn, const cli_command *verbs,
                   size_t n_verbs, int argc, char **argv);
/* The usage text of one verb: its synopsis lines as "usage: ..." (a static buffer). */
const char *cli_verb_usage(const cli_synopsis *syn, const char *verb);

/* Parses the options of a verb that takes only --help and (when allow_json) --json, and
 * n_args arguments (at least n_args when at_least). Returns -1 to go on with the arguments
 * at argv[optind], else the exit code: 0 after --help, 2 after a usage error. */
int cli_simple_args(int argc, char **argv, const char *usage, bool allow_json, int n_args,
                    bool at_least, bool *json);
/* As cli_simple_args without --json, with one option that takes a value: --<option> VALUE sets
 * *value (left as it was when absent). Takes exactly n_args arguments. */
int cli_value_args(int argc, char **argv, const char *usage, const char *option, const char **value,
                   int n_args);

/* Splits "key=value" at the first '='; false (usage error) when there is none or the key is
 * empty. *key is a new string (free it), *value points into arg. */
bool cli_split_kv(const char *arg, char **key, const char **value);
/* Parses a positive count for --max; false when it is not a whole number in [1, max]. */
bool cli_parse_count(const char *arg, int64_t max, int64_t *out);
/* Parses a memory size: bytes, or a number with K, M, G or T (powers of 1024; "512M", "1.5G",
 * "2GiB"); false when it is not a positive size below 2^60. */
bool cli_parse_bytes(const char *arg, int64_t *out);
/* `cairn model profile` (cmd_model_profile.c), usage its synopsis line. */
int cmd_model_profile(const char *usage, int argc, char **argv);
/* `cairn model card` (cmd_model_card.c) and `cairn model promote` (cmd_model_promote.c). */
int cmd_model_card(const char *usage, int argc, char **argv);
int cmd_model_promote(const char *usage, int argc, char **argv);
/* "NAME@VERSION" or models:/NAME/VERSION into its parts; false when it is neither. */
bool cli_parse_name_version(const char *arg, char *name, size_t name_size, int64_t *version);
/* `cairn model show MODEL` (cmd_model_show.c): what a model file, runs:/RUN_ID/model or
 * models:/NAME@ALIAS holds; returns the exit code. */
int cli_model_show_file(const char *spec, bool json);

/* Finds an experiment by id (an argument of only digits) or name; deleted ones too.
 * Prints the error and returns NULL when there is none. */
cairn_experiment *cli_experiment_find(cairn_ctx *ctx, const char *id_or_name);
/* Loads the run named by its id or a unique prefix of at least 6 characters (deleted runs
 * too); free it with cairn_run_record_free(). Prints the error (unknown, ambiguous with the
 * candidates) and returns NULL otherwise. */
cairn_run_record *cli_run_load(cairn_ctx *ctx, const char *id_or_prefix);
/* The full id of the run named by its id or a unique prefix (cairn_run_resolve); free it with
 * cairn_free(). Prints the error and returns NULL otherwise. */
char *cli_run_resolve(cairn_ctx *ctx, const char *id_or_prefix);

/* For the filter and order-by expressions of a runs search over the experiments ids (n 0:
 * every experiment; labels their names, NULL: the ids) in view: prints "cairn: note: no run in
 * experiment 'Default' has metric 'acx' (did you mean 'metrics.acc'?)" to stderr for each
 * metric, param or tag they name that no run there has. */
void cli_note_missing_keys(cairn_ctx *ctx, const char *const *ids, const char *const *labels,
                           size_t n, cairn_view view, const char *const *exprs, size_t n_exprs);

/* s itself when it has at most max_chars characters, else its first max_chars - 1 characters
 * and "…" written to out (size >= 4 * max_chars + 1): keeps table columns narrow. */
const char *cli_clip(const char *s, size_t max_chars, char *out, size_t size);
/* "1h02m", "3m04s", "12s", "850ms": a duration for tables. */
void cli_format_duration(int64_t ms, char *out, size_t size);
/* A metric value for tables: up to 6 significant digits, "NaN", "Infinity", "-Infinity". */
void cli_format_value(double v, char *out, size_t size);
/* A trial's parameter for tables: a continuous float to 6 significant digits (the study and
 * the run keep every digit), anything else as cairn_space_format_value writes it. */
void cli_format_param(const cairn_space *space, size_t i, double v, char *out, size_t size);

/* cairn tune and cairn worker (cmd_tune.c): runs study's trials over argv with to (signals,
 * progress filled in here), printing the progress line (unless quiet) and the summary table;
 * returns the exit code (1 with the error printed). */
int cli_tune_run(cairn_ctx *ctx, cairn_study *study, cairn_tune_opts *to, bool quiet, int argc,
                 char **argv);
/* A study whose stored sampler is plain "auto" is opened again (must_exist) with
 * "auto:trials=budget", so that auto chooses by the target; otherwise *study stays. On an
 * error *study is NULL and ctx says why. */
cairn_status cli_study_auto_budget(cairn_ctx *ctx, const char *name, cairn_study_opts *so,
                                   int64_t budget, cairn_study **study);
/* --retries N: 0 to 100 into *out and -1, else the usage error's exit code. */
int cli_parse_retries(const char *arg, const char *usage_text, int *out);
/* Seconds ("1.5") as milliseconds (at least 1); false unless 0 < seconds <= a year. */
bool cli_parse_seconds(const char *arg, int64_t *ms);

int cmd_run(int argc, char **argv);
int cmd_pipeline(int argc, char **argv);
int cmd_tune(int argc, char **argv);
int cmd_worker(int argc, char **argv);
int cmd_study(int argc, char **argv);
int cmd_exp(int argc, char **argv);
int cmd_runs(int argc, char **argv);
int cmd_init(int argc, char **argv);
int cmd_data(int argc, char **argv);
int cmd_eval(int argc, char **argv);
int cmd_train(int argc, char **argv);
int cmd_automl(int argc, char **argv);
int cmd_ablate(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_model(int argc, char **argv);
int cmd_server(int argc, char **argv);
int cmd_auth(int argc, char **argv);
int cmd_drift(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_predict(int argc, char **argv);
int cmd_explain(int argc, char **argv);
#endif
