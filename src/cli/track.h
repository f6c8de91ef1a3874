/* SPDX-License-Identifier: MIT */
/* track.h - helpers shared by the tracking command groups (cmd_exp.c, cmd_runs.c): synopsis
 * help, KEY=VALUE and count arguments, experiment and run lookup by what users type. */
#ifndef CLI_TRACK_H
#define CLI_TRACK_H
#include <stdbool.h>
#include <stdio.h>
#include "cli.h"
#include "cairn/tracking.h"

/* A group's synopsis: one line per form, "cairn <group> <verb> ...". `cairn <group> --help`
 * prints them as "usage: " / "   or: " lines (the same lines as docs/cli/cairn-<group>.md). */
typedef struct cli_synopsis {
    const char *const *lines;
    size_t n;
} cli_synopsis;

/* Handles `cairn <group>` with no verb or --help (the synopsis and the verb table), else
 * hands over to cli_dispatch(). */
int cli_group_main(const char *group, const cli_synopsis *syn, const cli_command *verbs,
                   size_t n_verbs, int argc, char **argv);
/* The usage text of one verb: its synopsis lines as "usage: ..." (a static buffer). */
const char *cli_verb_usage(const cli_synopsis *syn, const char *verb);

/* The usage error for what getopt_long returned as c ('?' or ':'); returns 2. */
int cli_bad_option(const char *usage, int c, char **argv);

/* Parses the options of a verb that takes only --help and (when allow_json) --json, and
 * n_args arguments (at least n_args when at_least). Returns -1 to go on with the arguments
 * at argv[optind], else the exit code: 0 after --help, 2 after a usage error. */
int cli_simple_args(int argc, char **argv, const char *usage, bool allow_json, int n_args,
                    bool at_least, bool *json);

/* Splits "key=value" at the first '='; false (usage error) when there is none or the key is
 * empty. *key is a new string (free it), *value points into arg. */
bool cli_split_kv(const char *arg, char **key, const char **value);
/* Parses a positive count for --max; false when it is not a whole number in [1, max]. */
bool cli_parse_count(const char *arg, int64_t max, int64_t *out);

/* Finds an experiment by id (an argument of only digits) or name; deleted ones too.
 * Prints the error and returns NULL when there is none. */
cairn_experiment *cli_experiment_find(cairn_ctx *ctx, const char *id_or_name);
/* Loads the run named by its id or a unique prefix of at least 6 characters (deleted runs
 * too); free it with cairn_run_record_free(). Prints the error (unknown, ambiguous with the
 * candidates) and returns NULL otherwise. */
cairn_run_record *cli_run_load(cairn_ctx *ctx, const char *id_or_prefix);

/* s itself when it has at most max_chars characters, else its first max_chars - 1 characters
 * and "…" written to out (size >= 4 * max_chars + 1): keeps table columns narrow. */
const char *cli_clip(const char *s, size_t max_chars, char *out, size_t size);
/* "1h02m", "3m04s", "12s", "850ms": a duration for tables. */
void cli_format_duration(int64_t ms, char *out, size_t size);
/* A metric value for tables: up to 6 significant digits, "NaN", "Infinity", "-Infinity". */
void cli_format_value(double v, char *out, size_t size);
#endif
