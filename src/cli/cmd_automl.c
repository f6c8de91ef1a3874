/* SPDX-License-Identifier: MIT */
/* cmd_automl.c - `cairn automl --config FILE`: parses the options, calls cairn_automl(), shows
 * a progress line on stderr and prints the leaderboard and the refit model's validation
 * score with its 95% interval (or all of it as JSON). */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "cairn/train.h"
#include "base/buf.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char usage[] =
    "usage: cairn automl --config FILE [--trials N] [--timeout S] [--folds K] [--seed S] [-j N] "
    "[--learners a,b,...] [--study NAME] [--experiment NAME] [--json]\n";

static const char help[] =
    "\nSearches cairn's learners and their main params (a conditional space: docs/automl.md)\n"
    "as a study with the auto sampler; every trial is a run scored by K-fold cross-validation\n"
    "(stratified for classification) on the config's training rows only: the validation and\n"
    "test rows are never seen by the search. Then refits the best configuration on the\n"
    "training rows as a `cairn train` run (model artifact, plots, report) and reports its\n"
    "validation score with a bootstrap 95% interval. The config is `cairn train`'s\n"
    "(data:, split:, metrics:; learner: is not needed); the first metric is the objective.\n\n"
    "options:\n"
    "  -c, --config FILE       experiment-config.yaml (required)\n"
    "      --trials N          trials of the study in all (default 30; a resumed study runs\n"
    "                          only what is missing)\n"
    "      --timeout S         start no trial after S seconds\n"
    "      --folds K           cross-validation folds on the training rows (default 5)\n"
    "      --seed S            the seed (default: the config's): split, folds, sampler, fits\n"
    "  -j, --jobs N            trials at once (threads)\n"
    "      --learners a,b      the learners to search (default: all that do the task)\n"
    "      --study NAME        the study (default automl-<config name>, made unique)\n"
    "  -e, --experiment NAME   the trials' and the final run's experiment (default: the study)\n"
    "      --json              print the result as JSON\n"
    "  -h, --help              this help\n\n"
    "examples:\n"
    "  cairn automl -c examples/configs/breast_cancer_xgboost.yaml --trials 40 -j 2\n"
    "  cairn automl -c experiment-config.yaml --learners logistic,xgboost --folds 3 --json\n";

typedef struct progress_state {
    bool tty;
    const char *objective;
} progress_state;

static void progress(void *user, const cairn_automl_status *s)
{
    progress_state *p = user;
    char v[32], b[32];
    cli_format_value(s->value, v, sizeof v);
    cli_format_value(s->best_value, b, sizeof b);
    fprintf(stderr,
            "%sautoml: trial %lld/%lld done (%lld failed)  #%lld %s %s=%s  best %s (%s)  %.0fs%s",
            p->tty ? "\r\033[K" : "", (long long)s->n_done, (long long)s->n_target,
            (long long)s->n_failed, (long long)s->number, s->learner, p->objective,
            isfinite(s->value) ? v : "failed", s->has_best ? b : "-",
            s->has_best ? s->best_learner : "-", s->elapsed_s, p->tty ? "" : "\n");
    fflush(stderr);
}

static void kdouble(cn_jsonw *w, const char *key, double v)
{
    cn_jsonw_key(w, key);
    cn_jsonw_double_or_null(w, v);
}

static void print_json(const cairn_automl_result *r)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "study", r->study);
    cn_jsonw_kstring(&w, "sampler", r->sampler);
    cn_jsonw_kstring(&w, "task", r->task);
    cn_jsonw_kstring(&w, "metric", r->metric);
    cn_jsonw_kstring(&w, "objective", r->objective);
    cn_jsonw_kstring(&w, "direction", r->maximize ? "maximize" : "minimize");
    cn_jsonw_kint(&w, "folds", (int64_t)r->n_folds);
    cn_jsonw_kint(&w, "search_rows", (int64_t)r->n_search_rows);
    cn_jsonw_kint(&w, "trials", r->n_trials);
    cn_jsonw_kint(&w, "complete", r->n_complete);
    cn_jsonw_kint(&w, "failed", r->n_failed);
    cn_jsonw_key(&w, "leaderboard");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < r->n_leaders; i++) {
        const cairn_automl_entry *e = &r->leaders[i];
        cn_jsonw_object_begin(&w);
        cn_jsonw_kint(&w, "trial", e->number);
        cn_jsonw_kstring(&w, "learner", e->learner);
        cn_jsonw_key(&w, "params");
        cn_jsonw_object_begin(&w);
        for (size_t j = 0; j < e->n_params; j++)
            cn_jsonw_kstring(&w, e->param_keys[j], e->param_values[j]);
        cn_jsonw_object_end(&w);
        kdouble(&w, "cv_mean", e->cv_mean);
        kdouble(&w, "cv_std", e->cv_std);
        cn_jsonw_kstring(&w, "run_id", e->run_id);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cn_jsonw_key(&w, "final");
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "run_id", r->final->run_id);
    cn_jsonw_kstring(&w, "artifact_dir", r->final->artifact_dir);
    cn_jsonw_kstring(&w, "learner", r->final->learner);
    cn_jsonw_kint(&w, "trial", r->leaders[0].number);
    kdouble(&w, "score", r->score);
    kdouble(&w, "ci_low", r->ci_low);
    kdouble(&w, "ci_high", r->ci_high);
    cn_jsonw_kint(&w, "val_rows", (int64_t)r->final->n_val);
    cli_write_scored(&w, "val_metrics", r->final->metrics, r->final->n_metrics);
    cn_jsonw_object_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_jsonw_release(&w);
}

static void print_human(const cairn_automl_result *r)
{
    printf("study %s: %lld trials (%lld complete, %lld failed), sampler %s, %s\n", r->study,
           (long long)r->n_trials, (long long)r->n_complete, (long long)r->n_failed, r->sampler,
           r->task);
    printf("cross-validation: %zu folds on the %zu training rows (validation and test unseen)\n",
           r->n_folds, r->n_search_rows);
    static const char *const headers[] = {"rank", "trial", "learner", "params", "cv mean", "cv sd"};
    cli_table *t = cli_table_new(6, headers);
    for (size_t i = 0; i < r->n_leaders; i++) {
        const cairn_automl_entry *e = &r->leaders[i];
        char rank[32], num[32], mean[32], sd[32];
        cn_buf params = CN_BUF_INIT;
        snprintf(rank, sizeof rank, "%zu", i + 1);
        snprintf(num, sizeof num, "%lld", (long long)e->number);
        cli_format_value(e->cv_mean, mean, sizeof mean);
        cli_format_value(e->cv_std, sd, sizeof sd);
        for (size_t j = 0; j < e->n_params; j++) {
            /* 4 significant digits here; --json has the exact values */
            double x;
            char shortv[32];
            const char *val = e->param_values[j];
            if (strchr(val, '.') && cn_parse_double(val, &x)) {
                snprintf(shortv, sizeof shortv, "%.4g", x);
                val = shortv;
            }
            cn_buf_printf(&params, "%s%s=%s", j ? " " : "", e->param_keys[j], val);
        }
        const char *cells[] = {rank, num, e->learner, e->n_params ? cn_buf_str(&params) : "-",
                               mean, sd};
        cli_table_add(t, cells);
        cn_buf_release(&params);
    }
    printf("leaderboard (%s over the folds, mean and sd):\n", r->metric);
    cli_table_print(t, stdout);
    cli_table_free(t);
    printf("final: run %s, %s refit on the training rows: validation %s %.4f, 95%% CI [%.4f, "
           "%.4f] (%zu rows)\n",
           r->final->run_id, r->final->learner, r->metric, r->score, r->ci_low, r->ci_high,
           r->final->n_val);
}

static bool parse_int(const char *arg, int64_t lo, int64_t hi, int64_t *out)
{
    int64_t v;
    if (!cn_parse_int64(arg, &v) || v < lo || v > hi)
        return false;
    *out = v;
    return true;
}

int cmd_automl(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"trials", required_argument, NULL, 'T'},
                                             {"timeout", required_argument, NULL, 't'},
                                             {"folds", required_argument, NULL, 'k'},
                                             {"seed", required_argument, NULL, 's'},
                                             {"jobs", required_argument, NULL, 'j'},
                                             {"learners", required_argument, NULL, 'l'},
                                             {"study", required_argument, NULL, 'S'},
                                             {"experiment", required_argument, NULL, 'e'},
                                             {"json", no_argument, NULL, 'J'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    cairn_automl_opts o = CAIRN_AUTOML_OPTS_INIT;
    char *learners_text = NULL;
    const char **learners = NULL;
    bool json = false;
    int c, code = 0;
    int64_t v;
    double secs;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:j:e:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o.config = optarg; break;
        case 'T':
            if (!parse_int(optarg, 1, 1000000, &v)) {
                code = cli_usage(usage, "--trials '%s': expected a count in 1..1000000", optarg);
                goto done;
            }
            o.n_trials = v;
            break;
        case 't':
            if (!cn_parse_double(optarg, &secs) || !(secs > 0 && secs < 1e9)) {
                code = cli_usage(usage, "--timeout '%s': expected seconds > 0", optarg);
                goto done;
            }
            o.timeout_ms = (int64_t)(secs * 1000);
            break;
        case 'k':
            if (!parse_int(optarg, -1000000, 1000000, &v) || v < 2 || v > 100) {
                code =
                    cli_usage(usage, "--folds '%s': cross-validation needs 2 to 100 folds", optarg);
                goto done;
            }
            o.n_folds = (int)v;
            break;
        case 's':
            if (!parse_int(optarg, 0, INT64_MAX, &v)) {
                code = cli_usage(usage, "--seed '%s': expected an integer >= 0", optarg);
                goto done;
            }
            o.has_seed = true;
            o.seed = (uint64_t)v;
            break;
        case 'j':
            if (!parse_int(optarg, 1, 64, &v)) {
                code = cli_usage(usage, "-j '%s': expected 1..64 trials at once", optarg);
                goto done;
            }
            o.n_jobs = (int)v;
            break;
        case 'l': {
            free(learners_text);
            free(learners);
            learners_text = cn_xstrdup(optarg);
            learners = cn_xcalloc(strlen(optarg) / 2 + 2, sizeof *learners);
            o.n_learners = 0;
            for (char *tok = learners_text; tok;) {
                char *comma = strchr(tok, ',');
                if (comma)
                    *comma = '\0';
                if (!*tok) {
                    code = cli_usage(usage, "--learners '%s': an empty name", optarg);
                    goto done;
                }
                learners[o.n_learners++] = tok;
                tok = comma ? comma + 1 : NULL;
            }
            o.learners = learners;
            break;
        }
        case 'S': o.study = optarg; break;
        case 'e': o.experiment = optarg; break;
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
    /* unknown learners are a usage error, found before the store is touched */
    for (size_t i = 0; i < o.n_learners; i++) {
        const cairn_param_spec *specs;
        size_t n;
        if (cairn_learner_params(learners[i], &specs, &n) != CAIRN_OK) {
            code = cli_usage(usage,
                             "--learners: learner '%s' is unknown; known: linear, ridge, "
                             "logistic, mlp, xgboost",
                             learners[i]);
            goto done;
        }
    }
    progress_state ps = {isatty(STDERR_FILENO), "cv"};
    o.progress = progress;
    o.user = &ps;
    cairn_ctx *ctx = cli_open_store_log(CAIRN_LOG_WARN);
    if (!ctx) {
        code = 1;
        goto done;
    }
    cairn_automl_result *r = NULL;
    cairn_status st = cairn_automl(ctx, &o, &r);
    if (ps.tty)
        fputs("\n", stderr);
    if (st != CAIRN_OK)
        code = cli_fail(ctx);
    else if (json)
        print_json(r);
    else
        print_human(r);
    cairn_automl_result_free(r);
    cairn_close(ctx);
done:
    free(learners);
    free(learners_text);
    return code;
}
