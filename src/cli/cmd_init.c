/* SPDX-License-Identifier: MIT */
/* cmd_init.c - `cairn init [DIR] [--data CSV --target COL]`: writes a project scaffold
 * (experiment-config.yaml, hyperparameter-space.json, expectations.yaml, model-card.md,
 * pipeline.yaml, README.md and a copy of the data) that runs as written. With --data the task,
 * column types, split, learner and expectations come from the file (docs/cli/cairn-init.md). */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cairn/data.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char usage[] =
    "usage: cairn init [DIR] [--data CSV --target COL] [--name NAME] [--force]\n";

static const char help[] =
    "\nWrites a project scaffold into DIR (default: the current folder; created if missing):\n"
    "experiment-config.yaml, hyperparameter-space.json, expectations.yaml, model-card.md,\n"
    "pipeline.yaml and README.md with the next commands. With --data the CSV is copied to\n"
    "DIR/data.csv and read: the task (classification when the target holds text, or 2\n"
    "distinct integers, or at most 20 distinct integers that are at most 5% of the rows;\n"
    "regression otherwise), the split (stratified for classification, random otherwise,\n"
    "by time when a column is a date or named like one), the learner (logistic or ridge up\n"
    "to 20000 rows, xgboost above) and expectations from the data (types, ranges with a\n"
    "margin, categories, missing shares, class balance floor). Existing files are not\n"
    "overwritten without --force.\n\n"
    "options:\n"
    "      --data CSV       the data: copied to DIR/data.csv and read for the scaffold\n"
    "      --target COL     the column to predict (required with --data)\n"
    "  -n, --name NAME      the project's name: run, experiment and model (default: the\n"
    "                       CSV's name, else DIR's)\n"
    "      --force          overwrite the scaffold's files in DIR\n"
    "  -h, --help           this help\n\n"
    "examples:\n"
    "  cairn init bc --data data/breast_cancer.csv --target target\n"
    "  cairn init churn --name churn-model\n";

/* The files the scaffold writes, in order. */
enum { F_CONFIG, F_SPACE, F_EXPECT, F_CARD, F_PIPELINE, F_README, F_DATA, F_N };
static const char *const file_names[F_N] = {"experiment-config.yaml",
                                            "hyperparameter-space.json",
                                            "expectations.yaml",
                                            "model-card.md",
                                            "pipeline.yaml",
                                            "README.md",
                                            "data.csv"};

typedef struct init_plan {
    const char *dir;
    const char *data; /* --data, or NULL */
    const char *target;
    char name[128];
    /* inferred from the data */
    bool has_data;
    bool is_classification;
    char task_why[256];
    size_t n_rows, n_cols, n_classes;
    const char *time_col; /* borrowed from the table */
    const char *learner;
    const char *split;
    char *expectations; /* derived YAML */
    char **features;    /* NULL: every column but the target */
    size_t n_features;
} init_plan;

/* A YAML double-quoted scalar (JSON's string syntax is a subset). */
static void put_q(cn_buf *b, const char *s)
{
    cn_json_quote(b, s, strlen(s));
}

/* "breast_cancer" from "data/breast_cancer.csv": letters, digits, '-', '_' and '.'. */
static void name_from(const char *path, char *out, size_t size)
{
    const char *base = strrchr(path, '/');
    base = base ? base + 1 : path;
    size_t n = 0;
    for (const char *p = base; *p && n + 1 < size; p++) {
        if (*p == '.' && strcmp(p, ".csv") == 0)
            break;
        out[n++] = (isalnum((unsigned char)*p) || *p == '-' || *p == '_' || *p == '.') ? *p : '-';
    }
    out[n] = '\0';
    if (n == 0 || strcmp(out, ".") == 0 || strcmp(out, "..") == 0)
        cn_strlcpy(out, "project", size);
}

static bool looks_like_date(const char *s)
{
    /* 2024-01-31, 2024-01-31T10:00:00, 2024/01/31 */
    return strlen(s) >= 10 && isdigit((unsigned char)s[0]) && isdigit((unsigned char)s[3]) &&
           (s[4] == '-' || s[4] == '/') && isdigit((unsigned char)s[5]) &&
           (s[7] == '-' || s[7] == '/') && isdigit((unsigned char)s[8]) &&
           isdigit((unsigned char)s[9]);
}

/* A time column: text values that all look like dates, or a name that says so. */
static bool is_time_column(const cairn_column *c)
{
    static const char *const names[] = {"date", "time", "timestamp", "datetime", "day", NULL};
    char lower[128];
    size_t n = 0;
    for (; c->name[n] && n + 1 < sizeof lower; n++)
        lower[n] = (char)tolower((unsigned char)c->name[n]);
    lower[n] = '\0';
    if (cn_str_in(lower, names) || cn_str_ends(lower, "_date") || cn_str_ends(lower, "_time") ||
        cn_str_ends(lower, "_at"))
        return true;
    if (c->type != CAIRN_COL_CATEGORICAL || c->n_levels == 0)
        return false;
    for (size_t i = 0; i < c->n_levels; i++)
        if (!looks_like_date(c->levels[i]))
            return false;
    return true;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Reads --data and fills the plan; prints the error and returns 1 on bad input. */
static int infer(cairn_ctx *ctx, init_plan *p)
{
    cairn_table *t = NULL;
    int code = 1;
    if (cairn_csv_read(ctx, p->data, NULL, &t) != CAIRN_OK)
        return cli_error("--data: %s", cairn_errmsg(ctx));
    if (t->n_rows == 0) {
        cli_error("--data '%s' has no data rows; give a CSV with a header and at least one row "
                  "per class",
                  p->data);
        goto done;
    }
    int ti = cairn_table_find(t, p->target);
    if (ti < 0) {
        const char **names = cn_xcalloc(t->n_cols + 1, sizeof *names);
        cn_buf cols = CN_BUF_INIT;
        for (size_t c = 0; c < t->n_cols; c++) {
            names[c] = t->cols[c].name;
            if (c < 12)
                cn_buf_printf(&cols, "%s%s", c ? ", " : "", names[c]);
        }
        const char *near = cn_str_nearest(p->target, names, t->n_cols);
        if (near)
            cli_error("--target '%s' is not a column of '%s'; did you mean '%s'?", p->target,
                      p->data, near);
        else
            cli_error("--target '%s' is not a column of '%s'; its columns are: %s%s", p->target,
                      p->data, cn_buf_str(&cols), t->n_cols > 12 ? ", ..." : "");
        cn_buf_release(&cols);
        free(names);
        goto done;
    }
    const cairn_column *target = &t->cols[ti];
    p->is_classification =
        cairn_column_holds_classes(target, t->n_rows, p->task_why, sizeof p->task_why);
    /* distinct non-missing target values */
    size_t n_distinct = 0;
    const char *first = NULL;
    char first_buf[32];
    if (target->type == CAIRN_COL_CATEGORICAL) {
        bool *seen = cn_xcalloc(target->n_levels + 1, sizeof *seen);
        for (size_t r = 0; r < t->n_rows; r++)
            if (target->cat[r] >= 0 && !seen[target->cat[r]]) {
                seen[target->cat[r]] = true;
                n_distinct++;
                if (!first)
                    first = target->levels[target->cat[r]];
            }
        free(seen);
    } else {
        double *v = cn_xcalloc(t->n_rows, sizeof *v);
        size_t m = 0;
        for (size_t r = 0; r < t->n_rows; r++)
            if (target->num[r] == target->num[r])
                v[m++] = target->num[r];
        qsort(v, m, sizeof *v, cmp_double);
        for (size_t i = 0; i < m; i++)
            n_distinct += i == 0 || v[i] != v[i - 1];
        if (m) {
            cn_format_double_short(v[0], first_buf, sizeof first_buf);
            first = first_buf;
        }
        free(v);
    }
    if (n_distinct < 2) {
        cli_error("--target '%s' has %s in '%s': there is nothing to learn; pick another column "
                  "or add rows of the other %s",
                  p->target, n_distinct ? "a single value" : "no values", p->data,
                  p->is_classification ? "classes" : "values");
        if (first)
            fprintf(stderr, "  (every row holds '%s')\n", first);
        goto done;
    }
    p->n_classes = p->is_classification ? n_distinct : 0;
    p->n_rows = t->n_rows;
    p->n_cols = t->n_cols;
    for (size_t c = 0; c < t->n_cols && !p->time_col; c++)
        if ((int)c != ti && is_time_column(&t->cols[c]))
            p->time_col = cn_xstrdup(t->cols[c].name);
    if (p->time_col) {
        p->features = cn_xcalloc(t->n_cols, sizeof *p->features);
        for (size_t c = 0; c < t->n_cols; c++)
            if ((int)c != ti && strcmp(t->cols[c].name, p->time_col) != 0)
                p->features[p->n_features++] = cn_xstrdup(t->cols[c].name);
        if (p->n_features == 0) {
            cli_error("'%s' has no feature columns besides the target '%s' and the time column "
                      "'%s'",
                      p->data, p->target, p->time_col);
            goto done;
        }
    } else if (t->n_cols < 2) {
        cli_error("'%s' has no feature columns besides the target '%s'", p->data, p->target);
        goto done;
    }
    p->split = p->time_col ? "time" : p->is_classification ? "stratified" : "random";
    p->learner = t->n_rows > 20000 ? "xgboost" : p->is_classification ? "logistic" : "ridge";
    cairn_expect_derive_opts eo = CAIRN_EXPECT_DERIVE_OPTS_INIT;
    eo.label = p->target;
    eo.is_classification = p->is_classification;
    if (cairn_expect_derive(ctx, t, &eo, &p->expectations) != CAIRN_OK) {
        cli_fail(ctx);
        goto done;
    }
    /* The scaffold must hold for its own data: check the derived rules against it. */
    cairn_expect *e = NULL;
    cairn_expect_result *r = NULL;
    if (cairn_expect_parse(ctx, "expectations.yaml", p->expectations, strlen(p->expectations),
                           &e) != CAIRN_OK ||
        cairn_expect_check(ctx, e, t, &r) != CAIRN_OK) {
        cli_error("internal: the derived expectations do not read back: %s", cairn_errmsg(ctx));
    } else if (r->n_failed) {
        char *text = cairn_expect_result_text(r);
        cli_error("internal: the data fails the expectations derived from it:\n%s", text);
        cairn_free(text);
    } else {
        code = 0;
    }
    cairn_expect_result_free(r);
    cairn_expect_free(e);
    p->has_data = code == 0;
done:
    cairn_table_free(t);
    return code;
}

static void write_config(const init_plan *p, cn_buf *b)
{
    cn_buf_printf(b, "# Experiment config for 'cairn train --config experiment-config.yaml' "
                     "(docs/config.md).\n");
    if (p->has_data)
        cn_buf_printf(b,
                      "# Written by 'cairn init' from %zu rows x %zu columns of '%s'.\n"
                      "# Task %s: %s.\n",
                      p->n_rows, p->n_cols, p->data,
                      p->is_classification ? "classification" : "regression", p->task_why);
    cn_buf_puts(b, "name: ");
    put_q(b, p->name);
    cn_buf_puts(b, "\nexperiment: ");
    put_q(b, p->name);
    cn_buf_puts(b, "\nseed: 42\n");
    cn_buf_printf(b, "task: %s\n", p->is_classification ? "classification" : "regression");
    cn_buf_puts(b, "data:\n  path: data.csv\n  label: ");
    put_q(b, p->target);
    cn_buf_putc(b, '\n');
    if (p->is_classification) {
        cn_buf_puts(b, "  categorical: [");
        put_q(b, p->target);
        cn_buf_puts(b, "]\n");
    }
    if (p->features) {
        cn_buf_puts(b, "  features: [");
        for (size_t i = 0; i < p->n_features; i++) {
            if (i)
                cn_buf_puts(b, ", ");
            put_q(b, p->features[i]);
        }
        cn_buf_puts(b, "]\n");
    }
    cn_buf_puts(b, "  expect: expectations.yaml   # cairn train refuses data that fails it\n");
    if (p->time_col) {
        cn_buf_puts(b, "split: {method: time, time: ");
        put_q(b, p->time_col);
        cn_buf_puts(b, ", test: 0.2, val: 0.2}\n");
    } else {
        cn_buf_printf(b, "split: {method: %s, test: 0.2, val: 0.2}\n", p->split);
    }
    if (strcmp(p->learner, "logistic") == 0)
        cn_buf_puts(b, "learner: {name: logistic, params: {C: 1.0}}\n");
    else if (strcmp(p->learner, "ridge") == 0)
        cn_buf_puts(b, "learner: {name: ridge, params: {alpha: 1.0}}\n");
    else
        cn_buf_puts(b, "learner: {name: xgboost, params: {max_depth: 6, eta: 0.1}}\n");
    if (!p->is_classification)
        cn_buf_puts(b, "metrics: [rmse, mae, r2]\n");
    else if (p->n_classes == 2)
        cn_buf_puts(b, "metrics: [accuracy, f1_macro, roc_auc, log_loss]\n");
    else
        cn_buf_puts(b, "metrics: [accuracy, f1_macro, roc_auc_ovr, log_loss]\n");
    cn_buf_puts(b, "bootstrap: 1000\n");
}

static void write_space(const init_plan *p, cn_buf *b)
{
    cn_buf_puts(b, "{\n  \"objective\": ");
    if (p->is_classification)
        cn_buf_puts(b, "{\"name\": \"accuracy\", \"goal\": \"maximize\"},\n");
    else
        cn_buf_puts(b, "{\"name\": \"rmse\", \"goal\": \"minimize\"},\n");
    cn_buf_puts(b, "  \"parameters\": {\n");
    if (strcmp(p->learner, "logistic") == 0)
        cn_buf_puts(b, "    \"C\": {\"type\": \"float\", \"low\": 0.001, \"high\": 100.0, "
                       "\"log\": true}\n");
    else if (strcmp(p->learner, "ridge") == 0)
        cn_buf_puts(b, "    \"alpha\": {\"type\": \"float\", \"low\": 0.0001, \"high\": 100.0, "
                       "\"log\": true}\n");
    else
        cn_buf_puts(b, "    \"max_depth\": {\"type\": \"int\", \"low\": 2, \"high\": 10},\n"
                       "    \"eta\": {\"type\": \"float\", \"low\": 0.01, \"high\": 0.3, "
                       "\"log\": true},\n"
                       "    \"subsample\": {\"type\": \"float\", \"low\": 0.5, \"high\": 1.0}\n");
    cn_buf_puts(b, "  }\n}\n");
}

static void write_card(const init_plan *p, cn_buf *b)
{
    cn_buf_printf(
        b,
        "---\n"
        "# Model card front matter (Hugging Face style). 'cairn model card NAME@VERSION' fills\n"
        "# in what cairn knows (data digests, split, params, metrics with intervals, slices,\n"
        "# drift reference, inference profile, lineage); the sections below are yours.\n"
        "model_name: %s\n"
        "license: other\n"
        "---\n\n"
        "# Model card: %s\n\n"
        "Write your own text under each heading. The guidance in <!-- --> comments does not\n"
        "count: a promotion to production refuses a card whose sections hold only guidance.\n\n"
        "## Intended use\n\n"
        "<!-- Who will use the model, for which decision, and on what population? Name the\n"
        "uses it is NOT meant for (out-of-scope uses), and who is affected by its mistakes. -->\n\n"
        "## Assumptions\n\n"
        "<!-- What must hold about the data for the model to work: how rows were collected,\n"
        "the period they cover, that the label means the same thing at serving time, that the\n"
        "features are available before the decision (no leakage from the future). -->\n\n"
        "## Limitations\n\n"
        "<!-- Where the model is known or likely to do poorly: rare classes, small slices,\n"
        "values outside the training ranges (expectations.yaml records them), drift since\n"
        "training. Say what a user should do when the model is unsure. -->\n\n"
        "## Ethical considerations\n\n"
        "<!-- Sensitive attributes in or correlated with the features, groups that may be\n"
        "served worse, consent and privacy of the people in the data, the harm of a false\n"
        "positive and of a false negative. Declare a sensitive attribute in expectations.yaml\n"
        "('sensitive:') so its coverage is checked before every training run. -->\n",
        p->name, p->name);
}

static void write_pipeline(const init_plan *p, cn_buf *b)
{
    cn_buf_puts(b, "# 'cairn pipeline run pipeline.yaml' runs these stages in order; paths are "
                   "relative\n# to this file's folder. Each stage is a run; unchanged stages "
                   "are skipped.\nname: ");
    put_q(b, p->name);
    cn_buf_puts(b, "\nstages:\n"
                   "  validate: {kind: validate, data: data.csv, expect: expectations.yaml}\n"
                   "  split:    {kind: split, data: data.csv, config: experiment-config.yaml, "
                   "after: [validate]}\n"
                   "  train:    {kind: train, config: experiment-config.yaml, after: [split]}\n"
                   "  evaluate: {kind: evaluate, after: [train]}\n"
                   "  register: {kind: register, model: ");
    put_q(b, p->name);
    cn_buf_puts(b, ", after: [evaluate]}\n  card:     {kind: card, model: ");
    put_q(b, p->name);
    cn_buf_puts(b, ", template: model-card.md, after: [register]}\n"
                   "  promote:  {kind: promote, model: ");
    put_q(b, p->name);
    cn_buf_puts(b, ", to: production, after: [card]}\n  serve:    {kind: deploy, model: ");
    put_q(b, p->name);
    cn_buf_puts(b, ", alias: production, after: [promote]}\n");
}

static void write_readme(const init_plan *p, cn_buf *b)
{
    cn_buf_printf(b, "# %s\n\n", p->name);
    if (p->has_data)
        cn_buf_printf(b,
                      "Scaffold written by `cairn init` from `%s` (%zu rows, %zu columns), "
                      "copied here as `data.csv`.\n"
                      "Target `%s`: %s (%s). Split: %s. Learner: %s.\n\n",
                      p->data, p->n_rows, p->n_cols, p->target,
                      p->is_classification ? "classification" : "regression", p->task_why, p->split,
                      p->learner);
    else
        cn_buf_printf(b,
                      "Scaffold written by `cairn init`. Put your data in `data.csv` (a CSV "
                      "with a header; the column to predict is `%s`), or run `cairn init "
                      "--data FILE --target COL --force` to fill these files in from it.\n\n",
                      p->target);
    cn_buf_puts(b,
                "| file | what |\n|---|---|\n"
                "| `experiment-config.yaml` | data, split, learner, metrics: `cairn train "
                "--config` |\n"
                "| `hyperparameter-space.json` | the search space of `cairn tune` |\n"
                "| `expectations.yaml` | rules the data must meet; `cairn train` refuses data "
                "that fails them |\n"
                "| `model-card.md` | the sections of the model card only you can write |\n"
                "| `pipeline.yaml` | validate, split, train, evaluate, register, promote, serve |\n"
                "\n## Next\n\nRun these from this folder:\n\n```sh\n"
                "cairn data validate data.csv --expect expectations.yaml\n"
                "cairn train --config experiment-config.yaml\n"
                "cairn tune --space hyperparameter-space.json --trials 20 -- cairn train "
                "--config experiment-config.yaml\n```\n\n"
                "Then fill in `model-card.md` and run the whole path with `cairn pipeline run "
                "pipeline.yaml`.\n");
}

static void write_blank_expectations(const init_plan *p, cn_buf *b)
{
    cn_buf_puts(b, "# Data expectations (docs/expectations.md); 'cairn init --data FILE --target "
                   "COL' derives them from data.\nlabel: ");
    put_q(b, p->target);
    cn_buf_puts(b, "\ncolumns:\n  ");
    put_q(b, p->target);
    cn_buf_puts(b, ": {max_missing: 0}\n");
}

static int write_file(const char *dir, const char *name, const cn_buf *b)
{
    char *path = cn_path_join(dir, name);
    int rc = cn_fs_write_atomic(path, b->data ? b->data : "", b->len);
    if (rc != 0)
        cli_error("cannot write '%s': %s; choose a folder you can write to", path,
                  cn_fs_strerror(errno));
    free(path);
    return rc != 0;
}

/* Whether a and b name the same existing file. */
static bool same_file(const char *a, const char *b)
{
    char ra[PATH_MAX], rb[PATH_MAX];
    return realpath(a, ra) && realpath(b, rb) && strcmp(ra, rb) == 0;
}

int cmd_init(int argc, char **argv)
{
    static const struct option longopts[] = {
        {"data", required_argument, NULL, 'd'}, {"target", required_argument, NULL, 't'},
        {"name", required_argument, NULL, 'n'}, {"force", no_argument, NULL, 'f'},
        {"help", no_argument, NULL, 'h'},       {NULL, 0, NULL, 0}};
    init_plan p = {0};
    const char *name = NULL;
    bool force = false;
    int c, code = 0;
    cairn_ctx *ctx = NULL;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': p.data = optarg; break;
        case 't': p.target = optarg; break;
        case 'n': name = optarg; break;
        case 'f': force = true; break;
        default: return cli_other_option(c, usage, help, argv);
        }
    }
    if (argc - optind > 1)
        return cli_usage(usage, "unexpected argument '%s'", argv[optind + 1]);
    p.dir = optind < argc ? argv[optind] : ".";
    if (p.data && !p.target)
        return cli_usage(usage, "--data needs --target COL: the column to predict");
    if (!p.target)
        p.target = "target";
    if (name) {
        if (!*name)
            return cli_usage(usage, "--name must not be empty");
        name_from(name, p.name, sizeof p.name);
    } else if (p.data) {
        name_from(p.data, p.name, sizeof p.name);
    } else {
        char real[PATH_MAX];
        name_from(realpath(p.dir, real) ? real : p.dir, p.name, sizeof p.name);
    }
    if (cn_fs_exists(p.dir) && !cn_fs_is_dir(p.dir))
        return cli_error("'%s' exists and is not a folder; name a new or existing folder", p.dir);
    /* Refuse before reading anything: name every file that would be overwritten. */
    cn_buf existing = CN_BUF_INIT;
    size_t n_existing = 0;
    for (int f = 0; f < F_N; f++) {
        if (f == F_DATA && !p.data)
            continue;
        char *path = cn_path_join(p.dir, file_names[f]);
        if (cn_fs_exists(path) && !(f == F_DATA && same_file(path, p.data))) {
            cn_buf_printf(&existing, "%s%s", n_existing ? ", " : "", path);
            n_existing++;
        }
        free(path);
    }
    if (n_existing && !force) {
        cli_error("%s already exist%s; pass --force to overwrite, or choose another folder",
                  cn_buf_str(&existing), n_existing == 1 ? "s" : "");
        cn_buf_release(&existing);
        return 1;
    }
    cn_buf_release(&existing);
    ctx = cairn_ctx_new();
    if (p.data && infer(ctx, &p) != 0) {
        code = 1;
        goto done;
    }
    if (!p.data) {
        p.is_classification = true;
        p.n_classes = 2;
        p.learner = "logistic";
        p.split = "stratified";
    }
    if (cn_fs_mkdirs(p.dir, 0777) != 0) {
        code = cli_error("cannot create folder '%s': %s; choose a folder you can write to", p.dir,
                         cn_fs_strerror(errno));
        goto done;
    }
    if (p.data) {
        char *dst = cn_path_join(p.dir, "data.csv");
        if (!same_file(p.data, dst) && cn_fs_copy_file(p.data, dst) != 0)
            code = cli_error("cannot copy '%s' to '%s': %s; choose a folder you can write to",
                             p.data, dst, cn_fs_strerror(errno));
        free(dst);
        if (code)
            goto done;
    }
    for (int f = 0; f < F_DATA && code == 0; f++) {
        cn_buf b = CN_BUF_INIT;
        switch (f) {
        case F_CONFIG: write_config(&p, &b); break;
        case F_SPACE: write_space(&p, &b); break;
        case F_EXPECT:
            if (p.expectations)
                cn_buf_puts(&b, p.expectations);
            else
                write_blank_expectations(&p, &b);
            break;
        case F_CARD: write_card(&p, &b); break;
        case F_PIPELINE: write_pipeline(&p, &b); break;
        case F_README: write_readme(&p, &b); break;
        default: break;
        }
        code = write_file(p.dir, file_names[f], &b);
        cn_buf_release(&b);
    }
    if (code)
        goto done;
    if (p.has_data) {
        printf("task      %s: %s\n", p.is_classification ? "classification" : "regression",
               p.task_why);
        printf("data      %s: %zu rows x %zu columns, copied to %s/data.csv\n", p.data, p.n_rows,
               p.n_cols, p.dir);
        printf("split     %s%s%s (test 0.2, val 0.2)\n", p.split, p.time_col ? " by " : "",
               p.time_col ? p.time_col : "");
        printf("learner   %s\n", p.learner);
    }
    printf("wrote     ");
    for (int f = 0; f < F_N; f++)
        if (f != F_DATA || p.data)
            printf("%s%s", f ? ", " : "", file_names[f]);
    printf(" in %s\n\nnext:\n", p.dir);
    if (strcmp(p.dir, ".") != 0)
        printf("  cd %s\n", p.dir);
    printf("  cairn data validate data.csv --expect expectations.yaml\n"
           "  cairn train --config experiment-config.yaml\n"
           "  cairn tune --space hyperparameter-space.json --trials 20 -- cairn train --config "
           "experiment-config.yaml\n");
done:
    free(p.expectations);
    free((char *)p.time_col);
    for (size_t i = 0; i < p.n_features; i++)
        free(p.features[i]);
    free(p.features);
    cairn_close(ctx);
    return code;
}
