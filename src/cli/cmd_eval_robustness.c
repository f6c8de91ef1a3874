/* SPDX-License-Identifier: MIT */
/* cmd_eval_robustness.c - `cairn eval robustness MODEL --data CSV`: the model's metric under
 * Gaussian noise, feature dropout and FGSM/PGD attacks (cairn/robust.h), as a table or JSON,
 * with robustness.json and robustness.svg written to --out and logged on the model's run. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_robust_util.h"
#include "cairn/robust.h"
#include "cairn/tracking.h"
#include "base/fs.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char usage_text[] = "usage: " SYN_ROBUSTNESS "\n";
static const char help_text[] =
    "\nThe model's metric (accuracy, or R^2 for regression) on rows perturbed at increasing\n"
    "strength: Gaussian noise (sd in standardised units of the training data), feature dropout\n"
    "(each numeric value replaced by its training mean with probability p), and the FGSM and\n"
    "PGD attacks (L-inf radius eps in standardised units; logistic and mlp only). Only numeric\n"
    "features are perturbed; one-hot columns are kept. MODEL is a file, runs:/RUN_ID/model or\n"
    "models:/NAME@ALIAS. Rows: --rows, else the run's validation rows (split/val.idx), else\n"
    "every row of CSV; rows the model was trained on and the run's sealed test rows (scored\n"
    "once, by 'cairn eval final') are refused. The curves are logged on the model's run as\n"
    "robustness/robustness.json and .svg when there is one.\n\n"
    "options:\n"
    "  -d, --data CSV          rows with the model's features and label (required)\n"
    "      --rows IDX          row numbers of CSV (0-based, one per line) to use\n"
    "      --perturb LIST      noise,dropout,fgsm,pgd (default: all that apply)\n"
    "      --levels LIST       noise sds (default 0,0.05,0.1,0.2,0.5,1)\n"
    "      --dropout-levels LIST  dropout probabilities (default 0,0.1,0.2,0.3,0.4,0.5)\n"
    "      --eps LIST          attack radii (default 0,0.05,0.1,0.2,0.5)\n"
    "      --repeats N         seeded draws per noise/dropout level (default 5)\n"
    "      --pgd-steps N       PGD iterations (default 10)\n"
    "      --pgd-step F        PGD step as a fraction of eps (default 2.5 / steps)\n"
    "      --random-start      start PGD at a uniform point of the eps ball\n"
    "      --seed N            seed of the draws (default 0)\n"
    "      --out DIR           write robustness.json and robustness.svg there\n"
    "      --json              print the curves as JSON\n"
    "  -h, --help              this help\n"
    "\n"
    "examples:\n"
    "  cairn eval robustness runs:/7451aa3c9e02b417/model --data data/breast_cancer.csv\n"
    "  cairn eval robustness model.cairn --data held-out.csv --perturb fgsm,pgd --eps 0,0.1,0.3\n";

/* "0,0.1,0.5" into v (at most 32); false when malformed. */
static bool parse_list(const char *arg, double *v, size_t *n)
{
    *n = 0;
    while (*arg) {
        size_t len = strcspn(arg, ",");
        char word[40];
        if (len == 0 || len >= sizeof word || *n == 32)
            return false;
        memcpy(word, arg, len);
        word[len] = 0;
        if (!cn_parse_double(word, &v[*n]) || !isfinite(v[*n]) || v[*n] < 0)
            return false;
        (*n)++;
        arg += len;
        if (*arg == ',' && *++arg == 0)
            return false;
    }
    return *n > 0;
}

static bool parse_perturb(const char *arg, unsigned *bits)
{
    static const char *const names[] = {"noise", "dropout", "fgsm", "pgd"};
    *bits = 0;
    while (*arg) {
        size_t len = strcspn(arg, ","), i = 0;
        while (i < 4 && !(strlen(names[i]) == len && strncmp(names[i], arg, len) == 0))
            i++;
        if (i == 4)
            return false;
        *bits |= 1u << i;
        arg += len;
        if (*arg == ',')
            arg++;
    }
    return *bits != 0;
}

static void print_table(const cairn_robust_result *r)
{
    printf("%s robustness of %s on %zu rows (%zu numeric inputs perturbed); clean %s %.4f\n",
           r->metric, r->learner, r->n_rows, r->n_numeric, r->metric, r->clean);
    const char *headers[] = {"perturbation", "strength", r->metric, "95% CI"};
    cli_table *t = cli_table_new(4, headers);
    for (size_t i = 0; i < r->n_curves; i++)
        for (size_t j = 0; j < r->curves[i].n; j++) {
            const cairn_robust_curve *c = &r->curves[i];
            char s[32], m[32], ci[64];
            snprintf(s, sizeof s, "%g", c->strength[j]);
            snprintf(m, sizeof m, "%.4f", c->metric[j]);
            if (isnan(c->low[j]))
                snprintf(ci, sizeof ci, "-");
            else
                snprintf(ci, sizeof ci, "[%.4f, %.4f]", c->low[j], c->high[j]);
            const char *row[4] = {c->perturbation, s, m, ci};
            cli_table_add(t, row);
        }
    cli_table_print(t, stdout);
    cli_table_free(t);
}

typedef struct args {
    const char *data, *rows, *out;
    bool json;
    double noise[32], drop[32], eps[32];
    cairn_robust_opts o;
} args;

static int parse(int argc, char **argv, args *a)
{
    enum {
        O_ROWS = 256,
        O_PERTURB,
        O_LEVELS,
        O_DROP,
        O_EPS,
        O_REP,
        O_STEPS,
        O_STEP,
        O_RS,
        O_SEED,
        O_OUT,
        O_JSON
    };
    static const struct option longopts[] = {{"data", required_argument, NULL, 'd'},
                                             {"rows", required_argument, NULL, O_ROWS},
                                             {"perturb", required_argument, NULL, O_PERTURB},
                                             {"levels", required_argument, NULL, O_LEVELS},
                                             {"dropout-levels", required_argument, NULL, O_DROP},
                                             {"eps", required_argument, NULL, O_EPS},
                                             {"repeats", required_argument, NULL, O_REP},
                                             {"pgd-steps", required_argument, NULL, O_STEPS},
                                             {"pgd-step", required_argument, NULL, O_STEP},
                                             {"random-start", no_argument, NULL, O_RS},
                                             {"seed", required_argument, NULL, O_SEED},
                                             {"out", required_argument, NULL, O_OUT},
                                             {"json", no_argument, NULL, O_JSON},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    int c;
    int64_t v;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'd': a->data = optarg; break;
        case O_ROWS: a->rows = optarg; break;
        case O_PERTURB:
            if (!parse_perturb(optarg, &a->o.perturbations))
                return cli_usage(usage_text,
                                 "--perturb '%s': expected a list of noise, dropout, fgsm, pgd",
                                 optarg);
            break;
        case O_LEVELS:
        case O_DROP:
        case O_EPS: {
            double *dst = c == O_LEVELS ? a->noise : c == O_DROP ? a->drop : a->eps;
            size_t *n = c == O_LEVELS ? &a->o.n_noise : c == O_DROP ? &a->o.n_dropout : &a->o.n_eps;
            if (!parse_list(optarg, dst, n))
                return cli_usage(usage_text,
                                 "%s '%s': expected up to 32 comma-separated numbers >= 0",
                                 argv[optind - 1], optarg);
            if (c == O_LEVELS)
                a->o.noise_levels = dst;
            else if (c == O_DROP)
                a->o.dropout_levels = dst;
            else
                a->o.eps = dst;
            break;
        }
        case O_REP:
        case O_STEPS:
            if (!cli_parse_count(optarg, 100000, &v) || v < 1)
                return cli_usage(usage_text, "%s '%s': expected a count from 1 to 100000",
                                 c == O_REP ? "--repeats" : "--pgd-steps", optarg);
            *(c == O_REP ? &a->o.repeats : &a->o.pgd_steps) = (size_t)v;
            break;
        case O_STEP:
            if (!cn_parse_double(optarg, &a->o.pgd_step) || !(a->o.pgd_step > 0) ||
                a->o.pgd_step > 100)
                return cli_usage(usage_text,
                                 "--pgd-step '%s': expected a fraction of eps in "
                                 "(0, 100]",
                                 optarg);
            break;
        case O_RS: a->o.pgd_random_start = true; break;
        case O_SEED:
            if (!cli_parse_count(optarg, INT64_MAX, &v))
                return cli_usage(usage_text, "--seed '%s' is not a non-negative integer", optarg);
            a->o.seed = (uint64_t)v;
            break;
        case O_OUT: a->out = optarg; break;
        case O_JSON: a->json = true; break;
        default: return cli_other_option(c, usage_text, help_text, argv);
        }
    }
    if (optind + 1 != argc)
        return cli_usage(usage_text, "expected one MODEL (a file, runs:/RUN_ID/model or "
                                     "models:/NAME@ALIAS)");
    if (!a->data)
        return cli_usage(usage_text, "--data CSV is required: rows with the model's features "
                                     "and label");
    return -1;
}

/* The guardrail of cairn eval final: a run's sealed test rows are looked at once, by it. When
 * CSV is the file the run trained on (same SHA-256), rows of its split/test.idx are refused. */
static int check_sealed(const args *a, cli_model_data *d, const size_t *rows, size_t n)
{
    const char *run = NULL;
    size_t n_test = 0, *test = cli_sealed_rows(d, a->data, &n_test, &run);
    size_t hit = 0;
    for (size_t i = 0; test && i < n; i++)
        for (size_t j = 0; j < n_test; j++)
            hit += rows[i] == test[j];
    free(test);
    if (hit)
        return cli_error("%zu of the rows are run %s's sealed test rows; they are scored once, "
                         "by 'cairn eval final %s': give validation or other held-out rows",
                         hit, run, run);
    return 0;
}

/* The rows to perturb into *rows / *n (owned); 0 or the exit code. */
static int pick_rows(const args *a, cli_model_data *d, size_t **rows, size_t *n, char *from,
                     size_t from_size)
{
    bool bad = false;
    size_t nr = d->table->n_rows;
    *rows = NULL;
    if (a->rows) {
        *rows = cli_read_idx(a->rows, nr, n, &bad);
        if (!*rows)
            return cli_error("--rows '%s': cannot read the file", a->rows);
        snprintf(from, from_size, "rows of %s", a->rows);
    } else if (d->ref.run_id &&
               (*rows = cli_run_idx(d->ctx, d->ref.run_id, "val", nr, n, &bad)) != NULL) {
        snprintf(from, from_size, "validation rows of run %s", d->ref.run_id);
        if (bad)
            return cli_error("run %s's validation rows do not fit %s (%zu rows); give --rows",
                             d->ref.run_id, a->data, nr);
    } else {
        *rows = cn_xmalloc((nr ? nr : 1) * sizeof **rows);
        for (size_t i = 0; i < nr; i++)
            (*rows)[i] = i;
        *n = nr;
        snprintf(from, from_size, "all rows of %s", a->data);
    }
    if (bad)
        return cli_error("--rows '%s': expected row numbers from 0 to %zu, one per line", a->rows,
                         nr ? nr - 1 : 0);
    size_t trained = 0;
    for (size_t i = 0; i < *n; i++)
        for (size_t j = 0; j < d->n_trained && !trained; j++)
            trained += d->trained[j] == (*rows)[i];
    if (trained || (d->n_trained > 0 && !a->rows && !d->ref.run_id))
        return cli_error("refusing to evaluate robustness on rows the model was trained on (%zu "
                         "of %s's rows are training rows); give held-out rows with --rows or a "
                         "held-out CSV",
                         d->n_trained, a->data);
    if (*n == 0)
        return cli_error("no rows to evaluate: %s is empty", from);
    return check_sealed(a, d, *rows, *n);
}

int cmd_eval_robustness(int argc, char **argv)
{
    args a = {0};
    int code = parse(argc, argv, &a);
    if (code >= 0)
        return code;
    cli_model_data d;
    code = cli_model_data_open(argv[optind], a.data, &d);
    size_t *rows = NULL, n = 0;
    char from[300];
    cairn_robust_result *r = NULL;
    char *json = NULL, *svg = NULL;
    if (code == 0)
        code = pick_rows(&a, &d, &rows, &n, from, sizeof from);
    if (code == 0) {
        a.o.rows = rows;
        a.o.n_rows = n;
        if (cairn_robustness(d.ctx, d.model, d.table, &a.o, &r) != CAIRN_OK)
            code = cli_fail(d.ctx);
    }
    if (code == 0) {
        char subtitle[400];
        snprintf(subtitle, sizeof subtitle, "%s, %zu %s, model %s (%s)", a.data, n, from,
                 d.ref.name, d.ref.version);
        if (cairn_robustness_json(d.ctx, r, &json) != CAIRN_OK ||
            cairn_robustness_svg(d.ctx, r, subtitle, &svg) != CAIRN_OK)
            code = cli_fail(d.ctx);
    }
    if (code == 0 && a.out) {
        char path[4096];
        bool ok = cn_fs_mkdirs(a.out, 0755) == 0;
        snprintf(path, sizeof path, "%s/robustness.json", a.out);
        ok = ok && cn_fs_write_atomic(path, json, strlen(json)) == 0;
        snprintf(path, sizeof path, "%s/robustness.svg", a.out);
        ok = ok && cn_fs_write_atomic(path, svg, strlen(svg)) == 0;
        if (!ok)
            code = cli_error("--out '%s': cannot write robustness.json and robustness.svg", a.out);
    }
    if (code == 0 && d.ref.run_id &&
        (!cli_run_write_artifact(d.ctx, d.ref.run_id, "robustness/robustness.json", json,
                                 strlen(json)) ||
         !cli_run_write_artifact(d.ctx, d.ref.run_id, "robustness/robustness.svg", svg,
                                 strlen(svg))))
        code = 1;
    if (code == 0) {
        if (a.json) {
            fputs(json, stdout);
        } else {
            printf("rows: %s\n", from);
            print_table(r);
            if (d.ref.run_id)
                printf("logged on run %s: robustness/robustness.json, robustness/robustness.svg\n",
                       d.ref.run_id);
        }
    }
    free(json);
    free(svg);
    free(rows);
    cairn_robust_result_free(r);
    cli_model_data_close(&d);
    return code;
}
