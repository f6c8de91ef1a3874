/* SPDX-License-Identifier: MIT */
/* cmd_explain.c - `cairn explain RUN`: parses the options, calls cairn_explain() and prints the
 * permutation importances, the SHAP ranking and the slices as tables, or the JSON. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cairn/explain.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char usage[] =
    "usage: cairn explain RUN [--data FILE] [--rows IDX] [--repeats N] [--top N] "
    "[--slices COL,...] [--seed N] [--no-log] [--json]\n";

static const char help[] =
    "\nExplains the model of a `cairn train` run on held-out rows: the run's validation rows\n"
    "by default (never its sealed test rows), or --rows of its data file, or another labelled\n"
    "file (--data). Reports, for the run's primary metric (its config's first):\n"
    "  permutation importance: each feature's values permuted among the rows --repeats times\n"
    "    (seeded); the metric's drop with its mean, std and a 95% t interval over the repeats;\n"
    "  TreeSHAP (xgboost runs): exact SHAP values from XGBoost, ranked by mean |SHAP|;\n"
    "  partial dependence of the --top features (sklearn's grid and definition);\n"
    "  error analysis by slice: the metric per category or quantile bin (5 bins) with a\n"
    "    bootstrap 95% interval; a slice significantly worse than the rest is flagged (z-test\n"
    "    for accuracy, else a bootstrap of the difference; Holm over the slices).\n"
    "Everything is logged on the run under explain/ (explain.json and SVG pictures).\n"
    "See docs/explain.md.\n\n"
    "options:\n"
    "      --data FILE       explain on this labelled CSV (rows the model trained on are\n"
    "                        refused)\n"
    "      --rows IDX        an index file of the rows to use (one row number a line); rows\n"
    "                        of the run's sealed test split are refused\n"
    "      --repeats N       permutations per feature (default 10, at most 1000)\n"
    "      --top N           features with partial dependence and default slices (default 5)\n"
    "      --slices COL,...  features to slice by (default: categorical features + the top)\n"
    "      --seed N          the permutations' and bootstrap's seed (default: the run's)\n"
    "      --no-log          do not log the results on the run\n"
    "      --json            print the whole result as JSON (explain/explain.json)\n"
    "  -h, --help            this help\n\n"
    "examples:\n"
    "  cairn explain RUN_ID --repeats 5 --top 3\n"
    "  cairn explain RUN_ID --slices 'mean radius' --json\n";

static bool parse_size(const char *arg, size_t lo, size_t hi, size_t *out)
{
    int64_t v;
    if (!cn_parse_int64(arg, &v) || v < (int64_t)lo || v > (int64_t)hi)
        return false;
    *out = (size_t)v;
    return true;
}

static void print_human(const cairn_explain_result *r)
{
    printf("run %s: %s, %s; %s rows (%zu); metric %s = %.4f (%s is better)\n", r->run_id,
           r->learner, r->task, r->rows, r->n_rows, r->metric, r->baseline,
           r->maximize ? "higher" : "lower");
    printf("\npermutation importance (drop in %s, %zu repeats, 95%% t CI):\n", r->metric,
           r->n_repeats);
    static const char *const ih[] = {"feature", "mean", "std", "95% CI"};
    cli_table *t = cli_table_new(4, ih);
    for (size_t i = 0; i < r->n_features; i++) {
        const cairn_explain_importance *it = &r->importance[i];
        char mean[32], std[32], ci[80];
        snprintf(mean, sizeof mean, "%.4f", it->mean);
        snprintf(std, sizeof std, "%.4f", it->std);
        snprintf(ci, sizeof ci, "[%.4f, %.4f]", it->ci_low, it->ci_high);
        const char *cells[] = {it->feature, mean, std, ci};
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    if (r->has_shap) {
        printf("\nTreeSHAP (mean |SHAP|, margin units):\n");
        static const char *const sh[] = {"feature", "mean |SHAP|"};
        t = cli_table_new(2, sh);
        for (size_t i = 0; i < r->n_features; i++) {
            char v[32];
            snprintf(v, sizeof v, "%.4f", r->shap_mean_abs[i]);
            const char *cells[] = {r->shap_features[i], v};
            cli_table_add(t, cells);
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
    }
    printf("\npartial dependence: %zu features (explain/partial_dependence.svg)\n", r->n_pd);
    if (r->n_slices) {
        printf("\n%s by slice (bootstrap 95%% CI; %s):\n", r->metric, r->test);
        const char *const slh[] = {"feature", "slice", "n",      r->metric,
                                   "95% CI",  "rest",  "p_holm", "flag"};
        t = cli_table_new(8, slh);
        for (size_t i = 0; i < r->n_slices; i++) {
            const cairn_explain_slice *s = &r->slices[i];
            char n[32], v[32], ci[80], rest[32], p[32];
            snprintf(n, sizeof n, "%zu", s->n);
            cli_format_value(s->metric, v, sizeof v);
            snprintf(ci, sizeof ci, "[%.4f, %.4f]", s->ci_low, s->ci_high);
            cli_format_value(s->rest, rest, sizeof rest);
            cli_format_value(s->p_holm, p, sizeof p);
            const char *cells[] = {s->feature, s->slice, n, v,
                                   ci,         rest,     p, s->worse ? "WORSE" : ""};
            cli_table_add(t, cells);
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
    }
    for (size_t i = 0; i < r->n_artifacts; i++)
        printf("%s%s", i ? ", " : "\nlogged: ", r->artifacts[i]);
    if (r->n_artifacts)
        printf("\n");
}

int cmd_explain(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'},    {"rows", required_argument, NULL, 'r'},
        {"repeats", required_argument, NULL, 'R'}, {"top", required_argument, NULL, 't'},
        {"slices", required_argument, NULL, 's'},  {"seed", required_argument, NULL, 'S'},
        {"no-log", no_argument, NULL, 'N'},        {"json", no_argument, NULL, 'j'},
        {"help", no_argument, NULL, 'h'},          {NULL, 0, NULL, 0}};
    cairn_explain_opts o = CAIRN_EXPLAIN_OPTS_INIT;
    bool json = false;
    char **slices = NULL;
    size_t n_slices = 0;
    char *slice_text = NULL;
    int c, code = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o.data = optarg; break;
        case 'r': o.rows = optarg; break;
        case 'R':
            if (!parse_size(optarg, 1, 1000, &o.n_repeats)) {
                code = cli_usage(usage,
                                 "--repeats '%s': expected a whole number from 1 to 1000 "
                                 "(permutations per feature)",
                                 optarg);
                goto done;
            }
            break;
        case 't':
            if (!parse_size(optarg, 1, 1000, &o.top)) {
                code =
                    cli_usage(usage, "--top '%s': expected a whole number from 1 to 1000", optarg);
                goto done;
            }
            break;
        case 's': slice_text = optarg; break;
        case 'S': {
            int64_t v;
            if (!cn_parse_int64(optarg, &v) || v < 0) {
                code = cli_usage(usage, "--seed '%s': expected a non-negative integer", optarg);
                goto done;
            }
            o.has_seed = true;
            o.seed = (uint64_t)v;
            break;
        }
        case 'N': o.no_log = true; break;
        case 'j': json = true; break;
        default: code = cli_other_option(c, usage, help, argv); goto done;
        }
    }
    if (optind >= argc) {
        code = cli_usage(usage, "RUN is required: the id of a `cairn train` run");
        goto done;
    }
    if (optind + 1 < argc) {
        code = cli_usage(usage, "unexpected argument '%s'", argv[optind + 1]);
        goto done;
    }
    if (slice_text) {
        slices = cn_xcalloc(strlen(slice_text) + 1, sizeof *slices);
        const char *p = slice_text;
        while (*p) {
            const char *comma = strchr(p, ',');
            size_t len = comma ? (size_t)(comma - p) : strlen(p);
            if (len == 0) {
                code = cli_usage(usage, "--slices '%s': an empty column name", slice_text);
                goto done;
            }
            slices[n_slices++] = cn_xstrndup(p, len);
            p += len + (comma ? 1 : 0);
        }
        o.slices = (const char *const *)slices;
        o.n_slices = n_slices;
    }
    cairn_ctx *ctx = cli_open_store_log(CAIRN_LOG_WARN);
    if (!ctx) {
        code = 1;
        goto done;
    }
    char *run_id = cli_run_resolve(ctx, argv[optind]);
    if (!run_id) {
        cairn_close(ctx);
        code = 1;
        goto done;
    }
    cairn_explain_result *r = NULL;
    if (cairn_explain(ctx, run_id, &o, &r) != CAIRN_OK)
        code = cli_fail(ctx);
    else if (json)
        fputs(r->json, stdout);
    else
        print_human(r);
    cairn_explain_result_free(r);
    cairn_free(run_id);
    cairn_close(ctx);
done:
    for (size_t i = 0; i < n_slices; i++)
        free(slices[i]);
    free(slices);
    return code;
}
