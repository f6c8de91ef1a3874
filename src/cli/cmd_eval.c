/* SPDX-License-Identifier: MIT */
/* cmd_eval.c - `cairn eval metrics`: scores any tool's predictions (a CSV of y_true, y_pred and
 * optional per-class probabilities) with the metrics of cairn/eval.h, bootstrap 95% intervals
 * for the main ones, a human table or JSON, and optional SVG pictures. `eval model`, `eval
 * final` and `eval compare` call the guardrailed evaluation of cairn/train.h. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cli_robust_util.h"
#include "cairn/data.h"
#include "cairn/eval.h"
#include "cairn/train.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define SYN_METRICS                                                                                \
    "cairn eval metrics --input FILE [--task T] [--metrics LIST] [--json] [--bootstrap N] "        \
    "[--seed N] [--plots DIR] [--calibration-bins uniform|quantile]"
static const char usage_metrics[] = "usage: " SYN_METRICS "\n";
static const char help_metrics[] =
    "\nScores predictions in a CSV file with a header. Columns: y_true and y_pred (class labels\n"
    "or numbers); for classification optionally one probability column per class, named\n"
    "proba_<class>, prob_<class>, p_<class> or p<i> (e.g. proba_0, proba_1, p_cat, p_dog, or\n"
    "p0, p1, p2 in class order). A column that looks like probabilities but names no class is\n"
    "named in a warning. Classes are sorted numerically when every label is a number, else as\n"
    "text; with two classes the second is the positive one.\n"
    "Unless --task says, the task is inferred by the same rule as 'cairn train': classification\n"
    "when there are probability columns or y_true or y_pred holds text; regression when y_pred\n"
    "has non-integer values; else classification when y_true has 2 distinct integers, or at\n"
    "most 20 that are at most 5% of the rows; else regression. The report's first line says\n"
    "which task and why.\n\n"
    "options:\n"
    "  -i, --input FILE  the predictions CSV\n"
    "  --task T          classification or regression\n"
    "  --metrics LIST    comma-separated metrics to score (default: every one that applies,\n"
    "                    intervals for the headline ones): every sklearn 1.2 label and score\n"
    "                    metric, e.g. kappa_quadratic, top_3_accuracy, f2_macro,\n"
    "                    roc_auc_ovr_weighted, msle, tweedie_deviance_1.5; see docs/eval.md\n"
    "  --json            print the report as JSON\n"
    "  --bootstrap N     resamples for the 95% intervals (default 1000, 0: none)\n"
    "  --seed N          bootstrap seed (default 0)\n"
    "  --plots DIR       write confusion_matrix.svg (and roc.svg, pr.svg, calibration.svg with\n"
    "                    probabilities: one-vs-rest curves per class) into DIR\n"
    "  --calibration-bins uniform|quantile\n"
    "                    calibration bins of equal width (default) or of equal row counts\n"
    "  -h, --help        this help\n"
    "\n"
    "examples:\n"
    "  cairn eval metrics -i predictions.csv --metrics accuracy,f1_macro,log_loss\n"
    "  cairn eval metrics -i predictions.csv --task regression --json\n";

#define BOOTSTRAP_MAX 1000000
#define METRICS_MAX 64

typedef struct eval_args {
    const char *input, *plots;
    cairn_calibration_strategy calibration; /* --calibration-bins */
    cairn_task task;
    bool json;
    size_t n_boot;
    uint64_t seed;
    const char *metrics[METRICS_MAX]; /* --metrics, split at commas (into metrics_text) */
    size_t n_metrics;
    char *metrics_text;
} eval_args;

/* ---- output ---- */

static void print_metrics_json(const cairn_score_result *r)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 1);
    w.flat_from = 3; /* one line per metric, class and confusion-matrix row */
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "task", cairn_task_name(r->task));
    cn_jsonw_kint(&w, "n_rows", (int64_t)r->n);
    if (r->task == CAIRN_TASK_CLASSIFICATION) {
        cn_jsonw_key(&w, "classes");
        cn_jsonw_flat(&w);
        cn_jsonw_strings(&w, r->classes, r->n_classes);
        cn_jsonw_kbool(&w, "has_probabilities", r->has_proba);
    }
    cn_jsonw_key(&w, "bootstrap");
    cn_jsonw_flat(&w);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kint(&w, "resamples", (int64_t)r->n_bootstrap);
    cn_jsonw_kuint(&w, "seed", r->seed);
    cn_jsonw_kdouble(&w, "confidence", r->confidence);
    cn_jsonw_object_end(&w);
    cn_jsonw_key(&w, "metrics");
    cn_jsonw_object_begin(&w);
    for (size_t i = 0; i < r->n_metrics; i++) {
        const cairn_scored_metric *m = &r->metrics[i];
        cn_jsonw_key(&w, m->name);
        cn_jsonw_object_begin(&w);
        cn_jsonw_key(&w, "value");
        cn_jsonw_double_or_null(&w, m->value);
        if (isfinite(m->ci_low)) {
            cn_jsonw_kdouble(&w, "ci_low", m->ci_low);
            cn_jsonw_kdouble(&w, "ci_high", m->ci_high);
        }
        if (m->error)
            cn_jsonw_kstring(&w, "error", m->error);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_object_end(&w);
    if (r->task == CAIRN_TASK_CLASSIFICATION) {
        size_t k = r->n_classes;
        cn_jsonw_key(&w, "per_class");
        cn_jsonw_array_begin(&w);
        for (size_t j = 0; j < k; j++) {
            cn_jsonw_object_begin(&w);
            cn_jsonw_kstring(&w, "class", r->classes[j]);
            cn_jsonw_kdouble(&w, "precision", r->precision[j]);
            cn_jsonw_kdouble(&w, "recall", r->recall[j]);
            cn_jsonw_kdouble(&w, "f1", r->f1[j]);
            cn_jsonw_kint(&w, "support", r->support[j]);
            cn_jsonw_object_end(&w);
        }
        cn_jsonw_array_end(&w);
        cn_jsonw_key(&w, "confusion_matrix");
        cn_jsonw_array_begin(&w);
        for (size_t row = 0; row < k; row++) {
            cn_jsonw_array_begin(&w);
            for (size_t c = 0; c < k; c++)
                cn_jsonw_int(&w, r->confusion[row * k + c]);
            cn_jsonw_array_end(&w);
        }
        cn_jsonw_array_end(&w);
    }
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_jsonw_release(&w);
}

static void print_metric_rows(const cairn_score_result *r)
{
    static const char *const head[] = {"metric", "value", "95% CI (bootstrap)"};
    cli_table *t = cli_table_new(3, head);
    for (size_t i = 0; i < r->n_metrics; i++) {
        const cairn_scored_metric *m = &r->metrics[i];
        char v[64], ci[96];
        if (m->error)
            snprintf(v, sizeof v, "undefined");
        else
            snprintf(v, sizeof v, "%.4f", m->value);
        if (isfinite(m->ci_low))
            snprintf(ci, sizeof ci, "[%.4f, %.4f]", m->ci_low, m->ci_high);
        else
            snprintf(ci, sizeof ci, "-");
        const char *cells[] = {m->name, v, ci};
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    for (size_t i = 0; i < r->n_metrics; i++)
        if (r->metrics[i].error)
            printf("%s: %s\n", r->metrics[i].name, r->metrics[i].error);
}

static void print_per_class(const cairn_score_result *r)
{
    static const char *const head[] = {"class", "precision", "recall", "f1", "support"};
    cli_table *t = cli_table_new(5, head);
    for (size_t j = 0; j < r->n_classes; j++) {
        char p[32], rc[32], f[32], s[32];
        snprintf(p, sizeof p, "%.4f", r->precision[j]);
        snprintf(rc, sizeof rc, "%.4f", r->recall[j]);
        snprintf(f, sizeof f, "%.4f", r->f1[j]);
        snprintf(s, sizeof s, "%lld", (long long)r->support[j]);
        const char *cells[] = {r->classes[j], p, rc, f, s};
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
}

static void print_confusion(const cairn_score_result *r)
{
    size_t k = r->n_classes;
    const char **head = cn_xcalloc(k + 1, sizeof *head);
    char **cells = cn_xcalloc(k + 1, sizeof *cells);
    head[0] = "";
    for (size_t j = 0; j < k; j++)
        head[j + 1] = r->classes[j];
    cli_table *t = cli_table_new(k + 1, head);
    for (size_t row = 0; row < k; row++) {
        cells[0] = cn_xstrdup(r->classes[row]);
        for (size_t c = 0; c < k; c++)
            cells[c + 1] = cn_asprintf("%lld", (long long)r->confusion[row * k + c]);
        cli_table_add(t, (const char *const *)cells);
        for (size_t c = 0; c <= k; c++)
            free(cells[c]);
    }
    printf("\nconfusion matrix (rows: true, columns: predicted)\n");
    cli_table_print(t, stdout);
    cli_table_free(t);
    free(cells);
    free(head);
}

static void print_metrics_table(const cairn_score_result *r, const char *task_reason)
{
    printf("task: %s, %zu rows", cairn_task_name(r->task), r->n);
    if (r->task == CAIRN_TASK_CLASSIFICATION)
        printf(", %zu classes%s", r->n_classes, r->has_proba ? ", with probabilities" : "");
    printf("\n");
    if (task_reason)
        printf("(%s)\n", task_reason);
    printf("\n");
    print_metric_rows(r);
    if (r->task != CAIRN_TASK_CLASSIFICATION)
        return;
    printf("\n");
    print_per_class(r);
    print_confusion(r);
}

/* ---- pictures ---- */

static int write_svg(const char *dir, const char *name, char *svg)
{
    char *path = cn_path_join(dir, name);
    int rc = cn_fs_write_atomic(path, svg, strlen(svg));
    if (rc != 0)
        cli_error("cannot write '%s': %s", path, strerror(errno));
    free(path);
    cairn_free(svg);
    return rc != 0;
}

static int write_plots(cairn_ctx *ctx, const char *dir, const cairn_predictions *p,
                       cairn_calibration_strategy calibration)
{
    cairn_score_plot *plots = NULL;
    size_t n = 0;
    cairn_score_plot_opts po = CAIRN_SCORE_PLOT_OPTS_INIT;
    po.calibration = calibration;
    if (cn_fs_mkdirs(dir, 0777) != 0)
        return cli_error("cannot create '%s': %s", dir, strerror(errno));
    if (cairn_score_plots_with(ctx, p, &po, &plots, &n) != CAIRN_OK)
        return cli_fail(ctx);
    int rc = 0;
    for (size_t i = 0; i < n; i++) {
        char *file = cn_asprintf("%s.svg", plots[i].name);
        if (rc == 0)
            rc = write_svg(dir, file, plots[i].svg);
        else
            cairn_free(plots[i].svg);
        plots[i].svg = NULL;
        free(file);
    }
    cairn_score_plots_free(plots, n);
    return rc;
}

static int run_metrics(const eval_args *a)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *t = NULL;
    cairn_predictions *p = NULL;
    cairn_score_result *r = NULL;
    cairn_score_opts o = CAIRN_SCORE_OPTS_INIT;
    char why[400], reason[512];
    const char *task_reason = NULL;
    int rc = 0;
    if (cairn_csv_read(ctx, a->input, NULL, &t) != CAIRN_OK) {
        rc = cli_fail(ctx);
        goto done;
    }
    if (a->task == CAIRN_TASK_AUTO) {
        cairn_task guess = cairn_predictions_infer_task(t, why, sizeof why);
        snprintf(reason, sizeof reason, "inferred: %s; --task %s to change it", why,
                 guess == CAIRN_TASK_CLASSIFICATION ? "regression" : "classification");
    } else {
        snprintf(reason, sizeof reason, "set by --task");
    }
    task_reason = reason;
    cli_log_to_stderr(ctx, CAIRN_LOG_WARN); /* unused probability-like columns */
    if (cairn_predictions_from_table(ctx, t, a->task, &p) != CAIRN_OK) {
        rc = cli_error("'%s': %s", a->input, cairn_errmsg(ctx));
        goto done;
    }
    cairn_set_log(ctx, NULL, NULL, CAIRN_LOG_ERROR); /* undefined metrics are listed below */
    o.metrics = a->n_metrics ? a->metrics : NULL;
    o.n_metrics = a->n_metrics;
    o.n_bootstrap = a->n_boot;
    o.seed = a->seed;
    o.headline_only_ci = a->n_metrics == 0;
    if (cairn_score(ctx, p, &o, &r) != CAIRN_OK) {
        if (a->n_metrics) /* a metric of the other task: say why the task is this one */
            rc = cli_error("%s; the task is %s (%s)", cairn_errmsg(ctx), cairn_task_name(p->task),
                           task_reason);
        else
            rc = cli_fail(ctx);
        goto done;
    }
    if (a->json)
        print_metrics_json(r);
    else
        print_metrics_table(r, task_reason);
    if (a->plots && r->task == CAIRN_TASK_CLASSIFICATION)
        rc = write_plots(ctx, a->plots, p, a->calibration);
done:
    cairn_score_result_free(r);
    cairn_predictions_free(p);
    cairn_table_free(t);
    cairn_close(ctx);
    return rc;
}

/* Splits the value of --metrics at commas into a->metrics; false after the usage error. */
static bool metrics_option(eval_args *a, const char *arg)
{
    free(a->metrics_text);
    a->metrics_text = cn_xstrdup(arg);
    a->n_metrics = 0;
    for (char *s = a->metrics_text; s;) {
        char *comma = strchr(s, ',');
        if (comma)
            *comma = '\0';
        if (!*s || a->n_metrics == METRICS_MAX) {
            cli_usage(usage_metrics,
                      "--metrics '%s' is not a comma-separated list of up to %d "
                      "metric names",
                      arg, METRICS_MAX);
            return false;
        }
        a->metrics[a->n_metrics++] = s;
        s = comma ? comma + 1 : NULL;
    }
    return true;
}

/* Reads the value of --bootstrap (c 'b': a count up to BOOTSTRAP_MAX) or --seed (c 's');
 * false after printing the usage error. */
static bool u64_option(const char *usage, int c, const char *arg, uint64_t *v)
{
    char *end;
    errno = 0;
    unsigned long long x = strtoull(arg, &end, 10);
    bool ok = *arg && !*end && !errno && arg[0] != '-';
    if (c == 'b' && (!ok || x > BOOTSTRAP_MAX)) {
        cli_usage(usage, "--bootstrap '%s' is not a count in 0..1000000", arg);
        return false;
    }
    if (!ok) {
        cli_usage(usage, "--seed '%s' is not a non-negative integer", arg);
        return false;
    }
    *v = x;
    return true;
}

/* Handles one option of `eval metrics`: -1 to go on, else the exit code (0 after --help). */
static int metrics_arg(eval_args *a, int c, char **argv)
{
    uint64_t v;
    switch (c) {
    case 'i': a->input = optarg; return -1;
    case 't':
        if (strcmp(optarg, "classification") != 0 && strcmp(optarg, "regression") != 0)
            return cli_usage(usage_metrics, "--task '%s' is not classification or regression",
                             optarg);
        a->task = optarg[0] == 'c' ? CAIRN_TASK_CLASSIFICATION : CAIRN_TASK_REGRESSION;
        return -1;
    case 'm': return metrics_option(a, optarg) ? -1 : 2;
    case 'j': a->json = true; return -1;
    case 'b':
        if (!u64_option(usage_metrics, c, optarg, &v))
            return 2;
        a->n_boot = (size_t)v;
        return -1;
    case 's':
        if (!u64_option(usage_metrics, c, optarg, &v))
            return 2;
        a->seed = v;
        return -1;
    case 'p': a->plots = optarg; return -1;
    case 'c':
        if (strcmp(optarg, "uniform") != 0 && strcmp(optarg, "quantile") != 0)
            return cli_usage(usage_metrics, "--calibration-bins '%s' is not uniform or quantile",
                             optarg);
        a->calibration = optarg[0] == 'q' ? CAIRN_CALIBRATION_QUANTILE : CAIRN_CALIBRATION_UNIFORM;
        return -1;
    default: return cli_other_option(c, usage_metrics, help_metrics, argv);
    }
}

static int cmd_eval_metrics(int argc, char **argv)
{
    static const struct option longopts[] = {{"input", required_argument, NULL, 'i'},
                                             {"task", required_argument, NULL, 't'},
                                             {"metrics", required_argument, NULL, 'm'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"bootstrap", required_argument, NULL, 'b'},
                                             {"seed", required_argument, NULL, 's'},
                                             {"plots", required_argument, NULL, 'p'},
                                             {"calibration-bins", required_argument, NULL, 'c'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    eval_args a = {.n_boot = 1000};
    int c, rc = -1;
    optind = 1;
    opterr = 0;
    while (rc < 0 && (c = getopt_long(argc, argv, ":i:h", longopts, NULL)) != -1)
        rc = metrics_arg(&a, c, argv);
    if (rc < 0 && optind < argc)
        rc = cli_usage(usage_metrics, "unexpected argument '%s'", argv[optind]);
    else if (rc < 0 && !a.input)
        rc = cli_usage(usage_metrics, "--input FILE is required");
    else if (rc < 0)
        rc = run_metrics(&a);
    free(a.metrics_text);
    return rc;
}

/* ---- eval model / final / compare (cairn/train.h) ---- */

#define SYN_MODEL                                                                                  \
    "cairn eval model RUN_ID|MODEL_FILE --data CSV [--rows FILE] [--bootstrap N] [--seed N] "      \
    "[--log] [--experiment NAME] [--json]"
static const char usage_model[] = "usage: " SYN_MODEL "\n";
static const char help_model[] =
    "\nScores a saved model (a run's model/model.cairn, or a model file) on a CSV holding its\n"
    "features and label. Refuses when any row equals a row the model was trained on.\n\n"
    "options:\n"
    "  -d, --data CSV      the rows to score (required)\n"
    "  --rows FILE         score only these rows of CSV: an index file, one 0-based row\n"
    "                      index a line, ascending (as a split's train.idx, val.idx, test.idx)\n"
    "  --bootstrap N       resamples for the 95% intervals (default: the run's, else 1000; 0:\n"
    "                      none)\n"
    "  --seed N            bootstrap seed (default 0)\n"
    "  --log               record the metrics (eval_<metric>) in a new run\n"
    "  -e, --experiment NAME  that run's experiment (default: the model's run's)\n"
    "  --json              print the report as JSON\n"
    "  -h, --help          this help\n"
    "\n"
    "examples:\n"
    "  cairn eval model 7451aa3c --data new-rows.csv\n"
    "  cairn eval model model.cairn --data new-rows.csv --log -e holdout --json\n"
    "  cairn eval model 7451aa3c --data data/iris.csv --rows splits/test.idx\n";
#define SYN_FINAL "cairn eval final RUN_ID [--bootstrap N] [--json]"
static const char usage_final[] = "usage: " SYN_FINAL "\n";
static const char help_final[] =
    "\nEvaluates a 'cairn train' run's model on the run's own sealed test split, once: logs\n"
    "test_<metric> with 95% intervals, predictions/test.csv, plots/test_*.svg and tag\n"
    "cairn.test.looks. A second look still answers, but is flagged on the run\n"
    "(cairn.test.second_look=true) and warned about.\n\n"
    "options:\n"
    "  --bootstrap N       resamples for the intervals (default: the run's)\n"
    "  --json              print the report as JSON\n"
    "  -h, --help          this help\n"
    "\n"
    "examples:\n"
    "  cairn eval final 7451aa3c\n";
#define SYN_COMPARE "cairn eval compare RUN_A RUN_B [--task T] [--bootstrap N] [--seed N] [--json]"
#define SYN_COMPARE_PREDICTIONS                                                                    \
    "cairn eval compare --predictions FILE [--columns Y,A,B] [--task T] [--bootstrap N] "          \
    "[--seed N] [--json]"
#define SYN_COMPARE_SCORES "cairn eval compare --scores FILE [--columns A,B] [--json]"
static const char usage_compare[] =
    "usage: " SYN_COMPARE "\n   or: " SYN_COMPARE_PREDICTIONS "\n   or: " SYN_COMPARE_SCORES "\n";
static const char help_compare[] =
    "\nSays whether two models differ significantly (p < 0.05).\n\n"
    "Two runs (by id or unique prefix; made by 'cairn train', 'cairn run', a script with the\n"
    "MLflow client, or a tune trial): the metrics both logged side by side (latest values, 95%\n"
    "intervals where a run logged NAME_ci_low and NAME_ci_high, A - B), then a test on what both\n"
    "were scored on:\n"
    "  - the same prediction rows: predictions/<split>.csv artifacts (test, else val, else\n"
    "    another split both logged) with columns row, y_true, y_pred, the format 'cairn train'\n"
    "    writes (docs/eval.md, 'Predictions a script can log'); rows are paired by row id.\n"
    "    Classification: McNemar on correctness (exact below 25 discordant rows, else chi-square\n"
    "    with continuity correction) and a paired-bootstrap 95% CI of the accuracy difference;\n"
    "    regression: Wilcoxon on absolute errors and a paired-bootstrap CI of the MSE difference.\n"
    "  - else the same folds: a metric cv_<name> logged at steps 0..k-1 by both: paired t-test\n"
    "    and Wilcoxon, the mean difference with its t 95% CI.\n"
    "Without either, a line says why no test could run and how to make one possible. Two 'cairn\n"
    "train' runs scored on different rows and folds are refused.\n\n"
    "Or a file made by any tool: --predictions or --scores (below).\n\n"
    "options:\n"
    "  --predictions FILE  paired predictions of two models on the same rows: a CSV with columns\n"
    "                      y_true, pred_a, pred_b; the tests as for shared rows above. The task\n"
    "                      is inferred by the rule of 'cairn eval metrics' (text labels, or few\n"
    "                      distinct integers: classification) unless --task says\n"
    "  --scores FILE       paired scores, one row per fold or seed: a CSV with columns a, b (a\n"
    "                      fold column may be there too); paired t-test and Wilcoxon, the mean\n"
    "                      difference a - b with its t 95% CI\n"
    "  --columns LIST      the file's column names, comma-separated, in the order above\n"
    "                      (Y,A,B for --predictions, A,B for --scores)\n"
    "  --task T            classification or regression (default: the runs' 'cairn train' task,\n"
    "                      else inferred from the predictions)\n"
    "  --bootstrap N       resamples of the paired-bootstrap CI (default 2000)\n"
    "  --seed N            bootstrap seed (default 0)\n"
    "  --json              print the result as JSON\n"
    "  -h, --help          this help\n\n"
    "examples:\n"
    "  cairn eval compare 7451aa3c 9b1c02de\n"
    "  cairn eval compare --predictions preds.csv --columns label,logreg,forest\n"
    "  cairn eval compare --scores folds.csv --json\n";

static void print_report(const cairn_eval_report *r, bool json, const char *what)
{
    if (json) {
        cn_jsonw w;
        cn_jsonw_init(&w, stdout, 2);
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "model_run_id", r->model_run_id);
        cn_jsonw_kstring(&w, "logged_run_id", r->logged_run_id);
        cn_jsonw_kstring(&w, "task", r->task);
        cn_jsonw_kint(&w, "rows", (int64_t)r->n_rows);
        if (r->looks) {
            cn_jsonw_kint(&w, "looks", r->looks);
            cn_jsonw_kbool(&w, "second_look", r->looks > 1);
            cn_jsonw_kint(&w, "previous_look_ms", r->previous_look_ms);
        }
        cn_jsonw_kstring(&w, "artifact_dir", r->artifact_dir);
        cli_write_scored(&w, "metrics", r->metrics, r->n_metrics);
        cn_jsonw_object_end(&w);
        cn_jsonw_finish(&w);
        cn_jsonw_release(&w);
        return;
    }
    printf("%s metrics on %zu rows (95%% bootstrap CI):\n", what, r->n_rows);
    cli_print_scored(r->metrics, r->n_metrics);
    if (r->logged_run_id)
        printf("logged to run %s\n", r->logged_run_id);
    if (r->artifact_dir)
        printf("plots: %s/plots/\n", r->artifact_dir);
}

typedef cairn_status (*report_fn)(cairn_ctx *ctx, const char *what, const cairn_eval_opts *o,
                                  cairn_eval_report **out);

/* Runs `eval model` or `eval final` on id and prints the report; warns on a second look. */
static int run_report(report_fn fn, const char *id, const cairn_eval_opts *o, bool json,
                      const char *what)
{
    cairn_ctx *ctx = cli_open_store_log(CAIRN_LOG_WARN);
    if (!ctx)
        return 1;
    cairn_eval_report *r = NULL;
    int code = 0;
    /* a run id or a unique prefix; eval model also takes a model file */
    char *full = NULL;
    if (fn == cairn_eval_final || !cn_fs_exists(id)) {
        full = cli_run_resolve(ctx, id);
        if (!full) {
            cairn_close(ctx);
            return 1;
        }
        id = full;
    }
    if (fn(ctx, id, o, &r) != CAIRN_OK) {
        code = cli_fail(ctx);
    } else {
        if (r->looks > 1) {
            char when[64];
            cli_format_time(r->previous_look_ms, when, sizeof when);
            fprintf(stderr,
                    "cairn: warning: the test set of run %s has been looked at before (%lld "
                    "time%s, last at %s); flagged on the run as cairn.test.second_look=true\n",
                    id, (long long)(r->looks - 1), r->looks == 2 ? "" : "s", when);
        }
        print_report(r, json, what);
    }
    cairn_eval_report_free(r);
    cairn_free(full);
    cairn_close(ctx);
    return code;
}

static int cmd_eval_model(int argc, char **argv)
{
    enum { OPT_LOG = 256, OPT_ROWS };
    static const struct option longopts[] = {{"data", required_argument, NULL, 'd'},
                                             {"rows", required_argument, NULL, OPT_ROWS},
                                             {"bootstrap", required_argument, NULL, 'b'},
                                             {"seed", required_argument, NULL, 's'},
                                             {"log", no_argument, NULL, OPT_LOG},
                                             {"experiment", required_argument, NULL, 'e'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    cairn_eval_opts o = CAIRN_EVAL_OPTS_INIT;
    bool json = false;
    uint64_t v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:e:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': o.data = optarg; break;
        case 'b':
            if (!u64_option(usage_model, c, optarg, &v))
                return 2;
            o.bootstrap = v == 0 ? -1 : (int64_t)v;
            break;
        case 's':
            if (!u64_option(usage_model, c, optarg, &v))
                return 2;
            o.seed = v;
            break;
        case OPT_LOG: o.log = true; break;
        case OPT_ROWS: o.rows = optarg; break;
        case 'e': o.experiment = optarg; break;
        case 'j': json = true; break;
        default: return cli_other_option(c, usage_model, help_model, argv);
        }
    }
    if (optind + 1 != argc)
        return cli_usage(usage_model, "expected one RUN_ID or MODEL_FILE");
    if (!o.data)
        return cli_usage(usage_model, "--data CSV is required");
    return run_report(cairn_eval_model, argv[optind], &o, json, "evaluation");
}

static int cmd_eval_final(int argc, char **argv)
{
    static const struct option longopts[] = {{"bootstrap", required_argument, NULL, 'b'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    cairn_eval_opts o = CAIRN_EVAL_OPTS_INIT;
    bool json = false;
    uint64_t v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1) {
        switch (c) {
        case 'b':
            if (!u64_option(usage_final, c, optarg, &v))
                return 2;
            o.bootstrap = v == 0 ? -1 : (int64_t)v;
            break;
        case 'j': json = true; break;
        default: return cli_other_option(c, usage_final, help_final, argv);
        }
    }
    if (optind + 1 != argc)
        return cli_usage(usage_final, "expected one RUN_ID");
    return run_report(cairn_eval_final, argv[optind], &o, json, "test");
}

/* The test's fields, as JSON (the same for runs and files). */
static void write_test_json(cn_jsonw *w, const cairn_compare_result *r)
{
    cn_jsonw_kstring(w, "metric", r->metric);
    cn_jsonw_kint(w, "n", (int64_t)r->n);
    cn_jsonw_key(w, "a");
    cn_jsonw_double_or_null(w, r->a);
    cn_jsonw_key(w, "b");
    cn_jsonw_double_or_null(w, r->b);
    cn_jsonw_key(w, "diff");
    cn_jsonw_double_or_null(w, r->diff);
    cn_jsonw_key(w, "diff_ci_low");
    cn_jsonw_double_or_null(w, r->diff_low);
    cn_jsonw_key(w, "diff_ci_high");
    cn_jsonw_double_or_null(w, r->diff_high);
    cn_jsonw_kstring(w, "test", r->test);
    cn_jsonw_key(w, "statistic");
    cn_jsonw_double_or_null(w, r->statistic);
    cn_jsonw_key(w, "pvalue");
    cn_jsonw_double_or_null(w, r->pvalue);
    if (strncmp(r->test, "mcnemar", 7) == 0) {
        cn_jsonw_kint(w, "n01", r->n01);
        cn_jsonw_kint(w, "n10", r->n10);
    }
    cn_jsonw_kstring(w, "test2", r->test2);
    if (r->test2) {
        cn_jsonw_key(w, "statistic2");
        cn_jsonw_double_or_null(w, r->statistic2);
        cn_jsonw_key(w, "pvalue2");
        cn_jsonw_double_or_null(w, r->pvalue2);
    }
    cn_jsonw_kbool(w, "significant", r->significant);
}

static void print_compare_json(const cairn_compare_result *r, const char *a, const char *b,
                               const char *file, const char *const *columns)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    w.flat_from = 3;
    cn_jsonw_object_begin(&w);
    if (file) {
        cn_jsonw_kstring(&w, "file", file);
        cn_jsonw_key(&w, "columns");
        cn_jsonw_flat(&w);
        cn_jsonw_strings(&w, columns, strcmp(r->scope, "scores") == 0 ? 2 : 3);
    } else {
        cn_jsonw_kstring(&w, "run_a", a);
        cn_jsonw_kstring(&w, "run_b", b);
        cn_jsonw_key(&w, "metrics");
        cn_jsonw_array_begin(&w);
        for (size_t i = 0; i < r->n_metrics; i++) {
            const cairn_compared_metric *m = &r->metrics[i];
            const double v[] = {m->a, m->a_low, m->a_high, m->b, m->b_low, m->b_high, m->diff};
            static const char *const keys[] = {"a",        "a_ci_low",  "a_ci_high", "b",
                                               "b_ci_low", "b_ci_high", "diff"};
            cn_jsonw_object_begin(&w);
            cn_jsonw_kstring(&w, "name", m->name);
            for (size_t j = 0; j < CN_ARRAY_LEN(keys); j++) {
                cn_jsonw_key(&w, keys[j]);
                cn_jsonw_double_or_null(&w, v[j]);
            }
            cn_jsonw_object_end(&w);
        }
        cn_jsonw_array_end(&w);
        cn_jsonw_kstring(&w, "predictions", r->predictions);
    }
    cn_jsonw_kstring(&w, "scope", r->scope);
    cn_jsonw_kstring(&w, "task", r->task);
    cn_jsonw_kstring(&w, "task_reason", r->task_reason);
    cn_jsonw_kbool(&w, "has_test", r->has_test);
    if (r->has_test)
        write_test_json(&w, r);
    else
        cn_jsonw_kstring(&w, "no_test", r->no_test);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_jsonw_release(&w);
}

static void format_ci(double low, double high, char *out, size_t size)
{
    if (isfinite(low) && isfinite(high))
        snprintf(out, size, "[%.4f, %.4f]", low, high);
    else
        snprintf(out, size, "-");
}

static void print_side_by_side(const cairn_compare_result *r)
{
    if (r->n_metrics == 0) {
        printf("no metric was logged by both runs\n");
        return;
    }
    static const char *const head[] = {"metric", "A", "A 95% CI", "B", "B 95% CI", "A - B"};
    cli_table *t = cli_table_new(6, head);
    for (size_t i = 0; i < r->n_metrics; i++) {
        const cairn_compared_metric *m = &r->metrics[i];
        char a[40], b[40], d[40], ca[96], cb[96];
        cli_format_value(m->a, a, sizeof a);
        cli_format_value(m->b, b, sizeof b);
        if (isfinite(m->diff))
            snprintf(d, sizeof d, "%+.4g", m->diff);
        else
            cli_format_value(m->diff, d, sizeof d);
        format_ci(m->a_low, m->a_high, ca, sizeof ca);
        format_ci(m->b_low, m->b_high, cb, sizeof cb);
        const char *cells[] = {m->name, a, ca, b, cb, d};
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
}

/* The test's lines after its heading (the same for runs and files). */
static void print_test_lines(const cairn_compare_result *r)
{
    bool on_rows = strcmp(r->test, "paired-t") != 0 && strcmp(r->test, "corrected-t") != 0;
    printf("  A %.4f  B %.4f  A - B %+.4f", r->a, r->b, r->diff);
    if (isfinite(r->diff_low))
        printf("  95%% %s CI [%+.4f, %+.4f]", on_rows ? "paired-bootstrap" : "t", r->diff_low,
               r->diff_high);
    printf("\n  %s: statistic %.4g, p = %.4g", r->test, r->statistic, r->pvalue);
    if (strncmp(r->test, "mcnemar", 7) == 0)
        printf(" (A right/B wrong %lld, A wrong/B right %lld)", (long long)r->n01,
               (long long)r->n10);
    printf("\n");
    if (r->test2)
        printf("  %s: statistic %.4g, p = %.4g\n", r->test2, r->statistic2, r->pvalue2);
    printf("  %s at the 0.05 level\n",
           r->significant ? "the difference is significant" : "no significant difference");
}

static void print_compare_runs(const cairn_compare_result *r, const char *a, const char *b)
{
    printf("A %s vs B %s\n", a, b);
    print_side_by_side(r);
    printf("\n");
    if (!r->has_test) {
        printf("%s\n", r->no_test);
        return;
    }
    if (r->predictions && r->task_reason)
        printf("task: %s (%s)\n", r->task, r->task_reason);
    printf("%s: A vs B on %zu shared %s %s", r->metric, r->n, r->scope,
           strcmp(r->scope, "cv") == 0 ? "folds" : "rows");
    if (r->predictions)
        printf(" (%s)", r->predictions);
    printf("\n");
    print_test_lines(r);
}

static void print_compare_file(const cairn_compare_result *r, const char *const *columns)
{
    if (strcmp(r->scope, "scores") == 0) {
        printf("mean score: A (%s) vs B (%s) over %zu paired scores\n", columns[0], columns[1],
               r->n);
    } else {
        printf("task: %s (%s)\n", r->task, r->task_reason);
        printf("%s: A (%s) vs B (%s) on %zu paired rows\n", r->metric, columns[1], columns[2],
               r->n);
    }
    print_test_lines(r);
}

typedef struct compare_args {
    const char *predictions, *scores;
    char *columns_text;
    const char *columns[3];
    size_t n_columns;
    cairn_compare_opts o;
    bool json;
} compare_args;

/* Splits --columns at commas; false after the usage error. */
static bool columns_option(compare_args *a, const char *arg)
{
    free(a->columns_text);
    a->columns_text = cn_xstrdup(arg);
    a->n_columns = 0;
    for (char *s = a->columns_text; s;) {
        char *comma = strchr(s, ',');
        if (comma)
            *comma = '\0';
        if (!*s || a->n_columns == 3) {
            cli_usage(usage_compare,
                      "--columns '%s' is not 2 or 3 comma-separated column names (Y,A,B for "
                      "--predictions, A,B for --scores)",
                      arg);
            return false;
        }
        a->columns[a->n_columns++] = s;
        s = comma ? comma + 1 : NULL;
    }
    return true;
}

/* Handles one option of `eval compare`: -1 to go on, else the exit code (0 after --help). */
static int compare_arg(compare_args *a, int c, char **argv)
{
    uint64_t v;
    switch (c) {
    case 'P': a->predictions = optarg; return -1;
    case 'S': a->scores = optarg; return -1;
    case 'C': return columns_option(a, optarg) ? -1 : 2;
    case 't':
        if (strcmp(optarg, "classification") != 0 && strcmp(optarg, "regression") != 0)
            return cli_usage(usage_compare, "--task '%s' is not classification or regression",
                             optarg);
        a->o.task = optarg[0] == 'c' ? CAIRN_TASK_CLASSIFICATION : CAIRN_TASK_REGRESSION;
        return -1;
    case 'b':
        if (!u64_option(usage_compare, c, optarg, &v))
            return 2;
        if (v == 0)
            return cli_usage(usage_compare, "--bootstrap must be at least 1 here");
        a->o.n_bootstrap = (size_t)v;
        return -1;
    case 's':
        if (!u64_option(usage_compare, c, optarg, &v))
            return 2;
        a->o.seed = v;
        return -1;
    case 'j': a->json = true; return -1;
    default: return cli_other_option(c, usage_compare, help_compare, argv);
    }
}

/* `eval compare --predictions FILE` or `--scores FILE`: no store needed. */
static int compare_file(compare_args *a)
{
    bool scores = a->scores != NULL;
    const char *file = scores ? a->scores : a->predictions;
    static const char *const pred_names[] = {"y_true", "pred_a", "pred_b"};
    static const char *const score_names[] = {"a", "b"};
    size_t want = scores ? 2 : 3;
    if (a->n_columns && a->n_columns != want)
        return cli_usage(usage_compare, "--columns names %zu columns; %s needs %zu (%s)",
                         a->n_columns, scores ? "--scores" : "--predictions", want,
                         scores ? "A,B" : "Y,A,B");
    if (scores && a->o.task != CAIRN_TASK_AUTO)
        return cli_usage(usage_compare, "--task applies to --predictions, not --scores");
    const char *const *columns = a->n_columns ? a->columns : scores ? score_names : pred_names;
    if (a->n_columns) {
        a->o.columns = a->columns;
        a->o.n_columns = a->n_columns;
    }
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *t = NULL;
    cairn_compare_result *r = NULL;
    int code = 0;
    cairn_status rc = cairn_csv_read(ctx, file, NULL, &t);
    if (rc != CAIRN_OK) {
        code = cli_fail(ctx);
        goto done;
    }
    rc = scores ? cairn_compare_scores(ctx, t, &a->o, &r)
                : cairn_compare_predictions(ctx, t, &a->o, &r);
    if (rc == CAIRN_ENOTFOUND)
        code = cli_error("'%s': %s; --columns %s names the columns to use", file, cairn_errmsg(ctx),
                         scores ? "A,B" : "Y,A,B");
    else if (rc != CAIRN_OK)
        code = cli_error("'%s': %s", file, cairn_errmsg(ctx));
    else if (a->json)
        print_compare_json(r, NULL, NULL, file, columns);
    else
        print_compare_file(r, columns);
done:
    cairn_compare_result_free(r);
    cairn_table_free(t);
    cairn_close(ctx);
    return code;
}

static int compare_runs(compare_args *a, const char *id_a, const char *id_b)
{
    if (a->n_columns)
        return cli_usage(usage_compare, "--columns applies to --predictions and --scores");
    cairn_ctx *ctx = cli_open_store_log(CAIRN_LOG_WARN);
    if (!ctx)
        return 1;
    cairn_compare_result *r = NULL;
    int code = 0;
    char *full_a = cli_run_resolve(ctx, id_a);
    char *full_b = full_a ? cli_run_resolve(ctx, id_b) : NULL;
    if (!full_a || !full_b)
        code = 1;
    else if (cairn_eval_compare_runs(ctx, full_a, full_b, &a->o, &r) != CAIRN_OK)
        code = cli_fail(ctx);
    else if (a->json)
        print_compare_json(r, full_a, full_b, NULL, NULL);
    else
        print_compare_runs(r, full_a, full_b);
    cairn_compare_result_free(r);
    cairn_free(full_a);
    cairn_free(full_b);
    cairn_close(ctx);
    return code;
}

static int cmd_eval_compare(int argc, char **argv)
{
    static const struct option longopts[] = {{"predictions", required_argument, NULL, 'P'},
                                             {"scores", required_argument, NULL, 'S'},
                                             {"columns", required_argument, NULL, 'C'},
                                             {"task", required_argument, NULL, 't'},
                                             {"bootstrap", required_argument, NULL, 'b'},
                                             {"seed", required_argument, NULL, 's'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    compare_args a = {.o = CAIRN_COMPARE_OPTS_INIT};
    int c, rc = -1;
    optind = 1;
    opterr = 0;
    while (rc < 0 && (c = getopt_long(argc, argv, ":h", longopts, NULL)) != -1)
        rc = compare_arg(&a, c, argv);
    int n_args = argc - optind;
    if (rc < 0) {
        if (a.predictions && a.scores)
            rc = cli_usage(usage_compare, "give --predictions or --scores, not both");
        else if ((a.predictions || a.scores) && n_args > 0)
            rc = cli_usage(usage_compare, "unexpected argument '%s': a file takes no run ids",
                           argv[optind]);
        else if (a.predictions || a.scores)
            rc = compare_file(&a);
        else if (n_args != 2)
            rc = cli_usage(usage_compare,
                           "expected two run ids, or --predictions FILE or --scores FILE");
        else
            rc = compare_runs(&a, argv[optind], argv[optind + 1]);
    }
    free(a.columns_text);
    return rc;
}

static const cli_command verbs[] = {
    {"metrics", cmd_eval_metrics, "score a predictions CSV: metrics with bootstrap intervals"},
    {"model", cmd_eval_model, "score a saved model on a CSV (refuses its training rows)"},
    {"final", cmd_eval_final, "score a trained run on its sealed test split, once"},
    {"compare", cmd_eval_compare,
     "test whether two runs, or two models' predictions or scores, differ"},
    {"robustness", cmd_eval_robustness,
     "a model's metric under noise, feature dropout and FGSM/PGD attacks"},
};

int cmd_eval(int argc, char **argv)
{
    static const char *const lines[] = {
        SYN_METRICS,        SYN_MODEL,     SYN_FINAL, SYN_COMPARE, SYN_COMPARE_PREDICTIONS,
        SYN_COMPARE_SCORES, SYN_ROBUSTNESS};
    static const cli_synopsis synopsis = {lines, CN_ARRAY_LEN(lines), NULL, 0};
    return cli_group_main("eval", &synopsis, verbs, CN_ARRAY_LEN(verbs), argc, argv);
}
