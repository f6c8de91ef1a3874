/* SPDX-License-Identifier: MIT */
/* cmd_ablate.c - `cairn ablate --config FILE --factor KEY=VALUE ...`: parses the options,
 * calls cairn_ablate() and prints each factor's effect with its interval, p-values and
 * verdict (or JSON with the per-seed scores), and writes the forest plot with --plot. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cairn/train.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char usage[] =
    "usage: cairn ablate --config FILE --factor KEY=VALUE [--factor KEY=VALUE]... "
    "[--seeds N | --folds K] [--name NAME] [--experiment NAME] [--plot FILE] [--json]\n";

static const char help[] =
    "\nTrains the config (the baseline) and each one-factor change (the config with KEY set\n"
    "to VALUE, as `cairn train -p KEY=VALUE`) over the same N seeds (each seed draws the split\n"
    "and the learner's randomness; scored on its validation rows) or the same K folds of\n"
    "cross-validation on the train + validation rows. Every arm x seed is a run tagged\n"
    "cairn.ablation=NAME. Each factor's effect is the mean paired difference from the\n"
    "baseline in the config's first metric, with a 95% t-interval, the paired t-test\n"
    "(primary) and the Wilcoxon signed-rank test, Holm-adjusted across the factors; the\n"
    "verdict is better, worse or no evidence at alpha 0.05. See docs/automl.md.\n\n"
    "options:\n"
    "  -c, --config FILE         the baseline experiment config (required)\n"
    "  -f, --factor KEY=VALUE    a one-factor change (repeatable)\n"
    "      --seeds N             seeds (default 5): the config's seed, +1, ...\n"
    "      --folds K             K-fold CV instead of seeds\n"
    "  -n, --name NAME           the ablation's name (default ablate-<time>)\n"
    "  -e, --experiment NAME     the runs' experiment (default: the config's)\n"
    "      --plot FILE           write the forest plot (SVG) to FILE\n"
    "      --json                print the result as JSON\n"
    "  -h, --help                this help\n\n"
    "examples:\n"
    "  cairn ablate -c examples/configs/breast_cancer_xgboost.yaml -f max_depth=2 -f eta=0.05\n"
    "  cairn ablate -c experiment-config.yaml -f max_depth=2 --folds 5 --plot forest.svg\n";

static void kdouble(cn_jsonw *w, const char *key, double v)
{
    cn_jsonw_key(w, key);
    cn_jsonw_double_or_null(w, v);
}

static void print_json(const cairn_ablate_result *r, const char *plot)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "name", r->name);
    cn_jsonw_kstring(&w, "metric", r->metric);
    cn_jsonw_kstring(&w, "direction", r->maximize ? "maximize" : "minimize");
    cn_jsonw_kstring(&w, "unit", r->unit);
    cn_jsonw_kint(&w, "n", (int64_t)r->arms[0].n);
    kdouble(&w, "alpha", r->alpha);
    cn_jsonw_kstring(&w, "primary_test", "paired-t");
    cn_jsonw_kstring(&w, "plot", plot);
    cn_jsonw_key(&w, "arms");
    cn_jsonw_array_begin(&w);
    for (size_t a = 0; a < r->n_arms; a++) {
        const cairn_ablate_arm *arm = &r->arms[a];
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "key", arm->key);
        cn_jsonw_kstring(&w, "value", arm->value);
        cn_jsonw_key(&w, "scores");
        cn_jsonw_array_begin(&w);
        for (size_t i = 0; i < arm->n; i++)
            cn_jsonw_double_or_null(&w, arm->scores[i]);
        cn_jsonw_array_end(&w);
        cn_jsonw_key(&w, "run_ids");
        cn_jsonw_array_begin(&w);
        for (size_t i = 0; i < arm->n; i++)
            if (i == 0 || strcmp(arm->run_ids[i], arm->run_ids[i - 1]) != 0)
                cn_jsonw_string(&w, arm->run_ids[i]);
        cn_jsonw_array_end(&w);
        kdouble(&w, "mean", arm->mean);
        if (a > 0) {
            kdouble(&w, "effect", arm->effect);
            kdouble(&w, "ci_low", arm->ci_low);
            kdouble(&w, "ci_high", arm->ci_high);
            kdouble(&w, "t", arm->t);
            kdouble(&w, "p_ttest", arm->p_t);
            kdouble(&w, "wilcoxon", arm->w);
            kdouble(&w, "p_wilcoxon", arm->p_wilcoxon);
            kdouble(&w, "p_holm", arm->p_holm);
        }
        cn_jsonw_kstring(&w, "verdict", arm->verdict);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_jsonw_release(&w);
}

static void fmt(double v, char *out, size_t size)
{
    if (isnan(v))
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%.4g", v);
}

static void print_human(const cairn_ablate_result *r, const char *plot)
{
    const cairn_ablate_arm *b = &r->arms[0];
    printf("ablation %s: %s (%s is better) over %zu %ss, paired; baseline mean %.4f\n", r->name,
           r->metric, r->maximize ? "higher" : "lower", b->n, r->unit, b->mean);
    static const char *const headers[] = {"factor", "mean",  "effect", "95% CI",
                                          "p (t)",  "p (W)", "p Holm", "verdict"};
    cli_table *t = cli_table_new(8, headers);
    for (size_t a = 1; a < r->n_arms; a++) {
        const cairn_ablate_arm *arm = &r->arms[a];
        char *factor = cn_asprintf("%s=%s", arm->key, arm->value);
        char mean[32], effect[32], ci[80], pt[32], pw[32], ph[32], lo[32], hi[32];
        fmt(arm->mean, mean, sizeof mean);
        fmt(arm->effect, effect, sizeof effect);
        fmt(arm->ci_low, lo, sizeof lo);
        fmt(arm->ci_high, hi, sizeof hi);
        snprintf(ci, sizeof ci, "[%s, %s]", lo, hi);
        fmt(arm->p_t, pt, sizeof pt);
        fmt(arm->p_wilcoxon, pw, sizeof pw);
        fmt(arm->p_holm, ph, sizeof ph);
        const char *cells[] = {factor, mean, effect, ci, pt, pw, ph, arm->verdict};
        cli_table_add(t, cells);
        free(factor);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    printf("primary test: paired t (Wilcoxon alongside); Holm across %zu factors, alpha %g\n",
           r->n_arms - 1, r->alpha);
    if (plot)
        printf("plot: %s\n", plot);
}

int cmd_ablate(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"config", required_argument, NULL, 'c'}, {"factor", required_argument, NULL, 'f'},
        {"seeds", required_argument, NULL, 's'},  {"folds", required_argument, NULL, 'k'},
        {"name", required_argument, NULL, 'n'},   {"experiment", required_argument, NULL, 'e'},
        {"plot", required_argument, NULL, 'P'},   {"json", no_argument, NULL, 'J'},
        {"help", no_argument, NULL, 'h'},         {NULL, 0, NULL, 0}};
    cairn_ablate_opts o = CAIRN_ABLATE_OPTS_INIT;
    const char **keys = cn_xcalloc((size_t)argc + 1, sizeof *keys);
    const char **values = cn_xcalloc((size_t)argc + 1, sizeof *values);
    char **owned = cn_xcalloc((size_t)argc + 1, sizeof *owned);
    const char *plot = NULL;
    bool json = false;
    int c, code = 0;
    int64_t v;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:f:n:e:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o.config = optarg; break;
        case 'f': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                code = cli_usage(usage, "--factor '%s': expected KEY=VALUE", optarg);
                goto done;
            }
            owned[o.n_factors] = cn_xstrndup(optarg, (size_t)(eq - optarg));
            keys[o.n_factors] = owned[o.n_factors];
            values[o.n_factors] = eq + 1;
            o.n_factors++;
            break;
        }
        case 's':
            if (!cn_parse_int64(optarg, &v) || v < 2 || v > 1000) {
                code =
                    cli_usage(usage, "--seeds '%s': a paired test needs 2 to 1000 seeds", optarg);
                goto done;
            }
            o.n_seeds = (int)v;
            break;
        case 'k':
            if (!cn_parse_int64(optarg, &v) || v < 2 || v > 100) {
                code =
                    cli_usage(usage, "--folds '%s': cross-validation needs 2 to 100 folds", optarg);
                goto done;
            }
            o.n_folds = (int)v;
            break;
        case 'n': o.name = optarg; break;
        case 'e': o.experiment = optarg; break;
        case 'P': plot = optarg; break;
        case 'J': json = true; break;
        default: code = cli_other_option(c, usage, help, argv); goto done;
        }
    }
    if (optind < argc) {
        code = cli_usage(usage, "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    if (!o.config) {
        code = cli_usage(usage, "--config FILE is required");
        goto done;
    }
    if (o.n_factors == 0) {
        code = cli_usage(usage, "at least one --factor KEY=VALUE is required");
        goto done;
    }
    if (o.n_seeds && o.n_folds) {
        code = cli_usage(usage, "--seeds and --folds: choose one");
        goto done;
    }
    o.factor_keys = keys;
    o.factor_values = values;
    cairn_ctx *ctx = cli_open_store_log(CAIRN_LOG_WARN);
    if (!ctx) {
        code = 1;
        goto done;
    }
    cairn_ablate_result *r = NULL;
    char *svg = NULL;
    cairn_status st = cairn_ablate(ctx, &o, &r);
    if (st == CAIRN_OK && plot) {
        st = cairn_ablate_plot_svg(ctx, r, &svg);
        FILE *f = st == CAIRN_OK ? fopen(plot, "w") : NULL;
        if (st == CAIRN_OK && (!f || fputs(svg, f) < 0)) {
            code = cli_error("--plot '%s': cannot write it", plot);
        }
        if (f && fclose(f) != 0 && code == 0)
            code = cli_error("--plot '%s': cannot write it", plot);
        /* the plot as an artifact of the baseline's first run too */
        if (st == CAIRN_OK && code == 0) {
            cairn_run *run = NULL;
            if (cairn_run_attach(ctx, r->arms[0].run_ids[0], &run) == CAIRN_OK)
                (void)cairn_run_log_artifact_bytes(run, "plots/ablation_forest.svg", svg,
                                                   strlen(svg));
            cairn_run_free(run);
        }
    }
    if (st != CAIRN_OK)
        code = cli_fail(ctx);
    else if (code == 0 && json)
        print_json(r, plot);
    else if (code == 0)
        print_human(r, plot);
    cairn_free(svg);
    cairn_ablate_result_free(r);
    cairn_close(ctx);
done:
    for (size_t i = 0; i < o.n_factors; i++)
        free(owned[i]);
    free(owned);
    free(keys);
    free(values);
    return code;
}
