/* SPDX-License-Identifier: MIT */
/* cmd_drift.c - `cairn drift` (a drift report between a reference and current rows) and
 * `cairn drift reference` (a reference profile, alone or written into a model file):
 * argument parsing and output for cairn/drift.h. Exit codes: 0 no drift, 1 drift, 2 usage or
 * data error. */
#include <getopt.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "cairn/data.h"
#include "cairn/drift.h"
#include "cairn/learn.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define SYN_DRIFT                                                                                  \
    "cairn drift --reference R --current CSV [--model M] [--json] [--html FILE] [--svg-dir DIR] "  \
    "[--test T] [--threshold X] [--drift-share S] [--decision share|bonferroni] "                  \
    "[--ks-method auto|exact|asymp] [--ignore COL]... [--numeric COL]... [--categorical COL]... "  \
    "[--delimiter C]"
#define SYN_REFERENCE                                                                              \
    "cairn drift reference --data CSV [--model M] [-o FILE] [--write] [--sketch N] [--bins N] "    \
    "[--ignore COL]... [--numeric COL]... [--categorical COL]... [--delimiter C]"
static const char usage_text[] = "usage: " SYN_DRIFT "\n   or: " SYN_REFERENCE "\n";
static const char usage_reference[] = "usage: " SYN_REFERENCE "\n";
#define HELP_COLUMNS                                                                               \
    "      --ignore COL       leave a column out (repeatable)\n"                                   \
    "      --numeric COL      read COL as numbers (repeatable)\n"                                  \
    "      --categorical COL  read COL as categories even if its values look numeric\n"            \
    "                         (repeatable)\n"                                                      \
    "      --delimiter C      field delimiter (default ',')\n"                                     \
    "  -h, --help             this help\n"
static const char help_drift[] =
    "\nCompares current rows with a reference, feature by feature, and decides whether the\n"
    "data drifted. R is a CSV file, a reference profile (JSON from 'cairn drift reference')\n"
    "or a model file holding one. Exit code: 0 no drift, 1 drift (dataset or prediction),\n"
    "2 usage or data error. 'cairn drift reference --help' shows how to write a profile.\n\n"
    "options:\n"
    "      --reference R      the reference: CSV, profile JSON or model file\n"
    "      --current CSV      the rows to check\n"
    "      --model M          a model file: also compare its predictions (prediction drift)\n"
    "      --json             print the report as JSON\n"
    "      --html FILE        write a self-contained HTML report\n"
    "      --svg-dir DIR      write one SVG per drifted feature into DIR\n"
    "      --test T           auto (default: Evidently's rule), ks, chi2, z, psi, js,\n"
    "                         wasserstein\n"
    "      --threshold X      p-value or distance threshold (default 0.05 for p-values, 0.1\n"
    "                         else)\n"
    "      --drift-share S    dataset drift when at least this share of features drifts (0.5)\n"
    "      --decision D       share (default) or bonferroni (any feature at p < threshold / n)\n"
    "      --ks-method M      auto (exact up to 10000 rows), exact or asymp, as SciPy's\n"
    "                         ks_2samp\n" HELP_COLUMNS "\n"
    "examples:\n"
    "  cairn drift --reference ref.json --current today.csv --html drift.html\n"
    "  cairn drift --reference data/wine.csv --current new-wine.csv --test psi --json\n";
static const char help_reference[] =
    "\nWrites the reference profile of training rows (per column: a sketch of the values,\n"
    "quantile bins, level counts; with --model also the predictions'), which 'cairn drift\n"
    "--reference' and 'cairn serve' compare live rows with: to a JSON file, or stored in the\n"
    "model file itself with --write.\n\n"
    "options:\n"
    "      --data CSV         the training rows (required)\n"
    "      --model M          a model file: profile its predictions too\n"
    "  -o, --output FILE      write the profile to FILE\n"
    "      --write            store the profile in the model file M\n"
    "      --sketch N         values kept per numeric column (default 2048; 0 keeps them all)\n"
    "      --bins N           reference-quantile bins for PSI and JS (default 10)\n" HELP_COLUMNS
    "\n"
    "examples:\n"
    "  cairn drift reference --data data/wine.csv --categorical target -o wine-ref.json\n"
    "  cairn drift reference --data train.csv --model model.cairn --write\n";

typedef struct drift_args {
    const char *reference, *current, *model, *html, *svg_dir, *data, *output;
    const char *ignore[256], *numeric[256], *categorical[256];
    size_t n_ignore, n_numeric, n_categorical;
    bool json, write, has_sketch;
    char delimiter;
    cairn_drift_opts opts;
    size_t sketch, bins;
} drift_args;

enum {
    OPT_REFERENCE = 256,
    OPT_CURRENT,
    OPT_MODEL,
    OPT_JSON,
    OPT_HTML,
    OPT_SVG_DIR,
    OPT_TEST,
    OPT_THRESHOLD,
    OPT_SHARE,
    OPT_DECISION,
    OPT_KS,
    OPT_IGNORE,
    OPT_NUMERIC,
    OPT_CATEGORICAL,
    OPT_DELIMITER,
    OPT_DATA,
    OPT_WRITE,
    OPT_SKETCH,
    OPT_BINS,
};

/* A data error: the message, exit 2. */
static int data_error(cairn_ctx *ctx, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int data_error(cairn_ctx *ctx, const char *fmt, ...)
{
    fputs("cairn: error: ", stderr);
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vfprintf(stderr, fmt, ap);
        va_end(ap);
    } else {
        fputs(cairn_errmsg(ctx), stderr);
    }
    fputc('\n', stderr);
    return 2;
}

static bool add_list(const char **list, size_t *n, const char *v)
{
    if (*n >= 256)
        return false;
    list[(*n)++] = v;
    return true;
}

static bool parse_size(const char *s, size_t *out)
{
    int64_t v;
    if (!cn_parse_int64(s, &v) || v < 0 || v > 100000000)
        return false;
    *out = (size_t)v;
    return true;
}

static int parse_args(int argc, char **argv, drift_args *a, bool reference)
{
    static const struct option opts[] = {
        {"reference", required_argument, NULL, OPT_REFERENCE},
        {"current", required_argument, NULL, OPT_CURRENT},
        {"model", required_argument, NULL, OPT_MODEL},
        {"json", no_argument, NULL, OPT_JSON},
        {"html", required_argument, NULL, OPT_HTML},
        {"svg-dir", required_argument, NULL, OPT_SVG_DIR},
        {"test", required_argument, NULL, OPT_TEST},
        {"threshold", required_argument, NULL, OPT_THRESHOLD},
        {"drift-share", required_argument, NULL, OPT_SHARE},
        {"decision", required_argument, NULL, OPT_DECISION},
        {"ks-method", required_argument, NULL, OPT_KS},
        {"ignore", required_argument, NULL, OPT_IGNORE},
        {"numeric", required_argument, NULL, OPT_NUMERIC},
        {"categorical", required_argument, NULL, OPT_CATEGORICAL},
        {"delimiter", required_argument, NULL, OPT_DELIMITER},
        {"data", required_argument, NULL, OPT_DATA},
        {"write", no_argument, NULL, OPT_WRITE},
        {"sketch", required_argument, NULL, OPT_SKETCH},
        {"bins", required_argument, NULL, OPT_BINS},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    optind = 1;
    opterr = 0;
    int c;
    double x;
    while ((c = getopt_long(argc, argv, ":ho:", opts, NULL)) != -1) {
        switch (c) {
        case OPT_REFERENCE: a->reference = optarg; break;
        case OPT_CURRENT: a->current = optarg; break;
        case OPT_MODEL: a->model = optarg; break;
        case OPT_JSON: a->json = true; break;
        case OPT_HTML: a->html = optarg; break;
        case OPT_SVG_DIR: a->svg_dir = optarg; break;
        case OPT_DATA: a->data = optarg; break;
        case 'o': a->output = optarg; break;
        case OPT_WRITE: a->write = true; break;
        case OPT_TEST:
            if (!cairn_drift_test_parse(optarg, &a->opts.test))
                return cli_usage(usage_text,
                                 "--test: unknown test '%s' (auto, ks, chi2, z, psi, "
                                 "js, wasserstein)",
                                 optarg);
            break;
        case OPT_THRESHOLD:
            if (!cn_parse_double(optarg, &x) || !(x > 0) || x > 1e6)
                return cli_usage(usage_text, "--threshold: '%s' is not a positive number", optarg);
            a->opts.threshold = x;
            break;
        case OPT_SHARE:
            if (!cn_parse_double(optarg, &x) || !(x > 0 && x <= 1))
                return cli_usage(usage_text, "--drift-share: '%s' is not in (0, 1]", optarg);
            a->opts.drift_share = x;
            break;
        case OPT_DECISION:
            if (strcmp(optarg, "share") == 0)
                a->opts.decision = CAIRN_DRIFT_SHARE;
            else if (strcmp(optarg, "bonferroni") == 0)
                a->opts.decision = CAIRN_DRIFT_BONFERRONI;
            else
                return cli_usage(usage_text, "--decision: '%s' is neither share nor bonferroni",
                                 optarg);
            break;
        case OPT_KS:
            if (strcmp(optarg, "auto") == 0)
                a->opts.ks_method = CAIRN_KS_AUTO;
            else if (strcmp(optarg, "exact") == 0)
                a->opts.ks_method = CAIRN_KS_EXACT;
            else if (strcmp(optarg, "asymp") == 0)
                a->opts.ks_method = CAIRN_KS_ASYMP;
            else
                return cli_usage(usage_text, "--ks-method: '%s' is not auto, exact or asymp",
                                 optarg);
            break;
        case OPT_IGNORE:
        case OPT_NUMERIC:
        case OPT_CATEGORICAL: {
            bool ok = c == OPT_IGNORE    ? add_list(a->ignore, &a->n_ignore, optarg)
                      : c == OPT_NUMERIC ? add_list(a->numeric, &a->n_numeric, optarg)
                                         : add_list(a->categorical, &a->n_categorical, optarg);
            if (!ok)
                return cli_usage(usage_text, "too many column options (at most 256 each)");
            break;
        }
        case OPT_DELIMITER:
            if (strcmp(optarg, "tab") == 0)
                a->delimiter = '\t';
            else if (strlen(optarg) == 1)
                a->delimiter = optarg[0];
            else
                return cli_usage(usage_text, "--delimiter: '%s' is not one character", optarg);
            break;
        case OPT_SKETCH:
            if (!parse_size(optarg, &a->sketch) || a->sketch == 1)
                return cli_usage(usage_text, "--sketch: '%s' is not 0 or a count >= 2", optarg);
            a->has_sketch = true;
            break;
        case OPT_BINS:
            if (!parse_size(optarg, &a->bins) || a->bins < 1 || a->bins > 1000)
                return cli_usage(usage_text, "--bins: '%s' is not a count in [1, 1000]", optarg);
            break;
        default:
            return cli_other_option(c, reference ? usage_reference : usage_text,
                                    reference ? help_reference : help_drift, argv);
        }
    }
    if (optind < argc)
        return cli_usage(usage_text, "unexpected argument '%s'", argv[optind]);
    return -1;
}

static cairn_status read_csv(cairn_ctx *ctx, const drift_args *a, const char *path,
                             cairn_table **out)
{
    cairn_csv_opts o = CAIRN_CSV_OPTS_INIT;
    o.delimiter = a->delimiter;
    o.numeric = a->numeric;
    o.n_numeric = a->n_numeric;
    o.categorical = a->categorical;
    o.n_categorical = a->n_categorical;
    cairn_status rc = cairn_csv_read(ctx, path, &o, out);
    if (rc == CAIRN_OK && (*out)->n_rows == 0) {
        cairn_table_free(*out);
        *out = NULL;
        return CAIRN_EINVAL;
    }
    return rc;
}

static int csv_error(cairn_ctx *ctx, cairn_status rc, const char *path)
{
    if (rc == CAIRN_EINVAL && strstr(cairn_errmsg(ctx), path) == NULL)
        return data_error(ctx, "'%s' has no data rows (a drift test needs at least one)", path);
    return data_error(ctx, NULL);
}

static bool is_model_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    char head[8] = {0};
    bool yes = f && fread(head, 1, 8, f) == 8 && memcmp(head, "CAIRNMDL", 8) == 0;
    if (f)
        fclose(f);
    return yes;
}

static bool is_json_file(const char *path)
{
    FILE *f = fopen(path, "rb");
    int c = ' ';
    while (f && (c = fgetc(f)) != EOF && (c == ' ' || c == '\n' || c == '\r' || c == '\t'))
        ;
    if (f)
        fclose(f);
    return c == '{';
}

static void progress(void *user, size_t done, size_t total)
{
    bool *tty = user;
    if (done == total || done % 10 == 0)
        fprintf(stderr, "%sdrift: %zu/%zu features%s", *tty ? "\r" : "", done, total,
                *tty && done != total ? "" : "\n");
}

static void print_table(const cairn_drift_report *r)
{
    static const char *const headers[] = {"feature",   "test",    "statistic", "p-value",
                                          "threshold", "drifted", "missing"};
    cli_table *t = cli_table_new(7, headers);
    for (size_t i = 0; i < r->n_features; i++) {
        const cairn_drift_feature *f = &r->features[i];
        char stat[32], p[32], thr[32], miss[48], name[512];
        cli_format_value(f->statistic, stat, sizeof stat);
        cli_format_value(f->pvalue, p, sizeof p);
        cli_format_value(f->threshold, thr, sizeof thr);
        if (f->pvalue != f->pvalue)
            cn_strlcpy(p, "-", sizeof p);
        snprintf(miss, sizeof miss, "%zu/%zu", f->missing_ref, f->missing_cur);
        snprintf(name, sizeof name, "%s%s", f->name, f->is_prediction ? " (prediction)" : "");
        const char *cells[] = {name, cairn_drift_test_name(f->test), stat, p,
                               thr,  f->drifted ? "yes" : "no",      miss};
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    printf("\n%zu of %zu features drifted (share %.3f, threshold %.2f): %s\n", r->n_drifted,
           r->n_tested, r->share, r->drift_share,
           r->dataset_drift ? "dataset drift" : "no dataset drift");
    if (r->has_prediction)
        printf("prediction drift: %s\n", r->prediction_drift ? "yes" : "no");
    if (r->is_sketch)
        printf("note: the reference is a quantile sketch; KS and Wasserstein are approximate\n");
}

static int write_outputs(cairn_ctx *ctx, const drift_args *a, const cairn_drift_report *r)
{
    if (a->html) {
        char *html = NULL;
        if (cairn_drift_report_html(ctx, r, &html) != CAIRN_OK)
            return data_error(ctx, NULL);
        int bad = cn_fs_write_atomic(a->html, html, strlen(html));
        free(html);
        if (bad)
            return data_error(ctx, "cannot write '%s'", a->html);
        fprintf(stderr, "drift: report written to %s\n", a->html);
    }
    if (a->svg_dir) {
        if (cn_fs_mkdirs(a->svg_dir, 0755) != 0)
            return data_error(ctx, "cannot create '%s'", a->svg_dir);
        for (size_t i = 0; i < r->n_features; i++) {
            if (!r->features[i].drifted || r->features[i].n_bins == 0)
                continue;
            char *svg = NULL;
            if (cairn_drift_feature_svg(ctx, r, i, &svg) != CAIRN_OK)
                return data_error(ctx, NULL);
            char *path = cn_asprintf("%s/feature-%zu.svg", a->svg_dir, i);
            int bad = cn_fs_write_atomic(path, svg, strlen(svg));
            free(svg);
            if (bad) {
                int rc = data_error(ctx, "cannot write '%s'", path);
                free(path);
                return rc;
            }
            free(path);
        }
    }
    return 0;
}

/* The reference named by --reference: a model file's profile, a profile JSON or a CSV. */
static int load_reference(cairn_ctx *ctx, const drift_args *a, cairn_model **model,
                          cairn_drift_reference **ref)
{
    cairn_status rc;
    if (a->model) {
        rc = cairn_model_load(ctx, a->model, model);
        if (rc != CAIRN_OK)
            return data_error(ctx, NULL);
    }
    if (access(a->reference, R_OK) != 0)
        return data_error(ctx, "reference '%s': cannot read it", a->reference);
    if (is_model_file(a->reference)) {
        if (!*model) {
            rc = cairn_model_load(ctx, a->reference, model);
            if (rc != CAIRN_OK)
                return data_error(ctx, NULL);
            rc = cairn_drift_reference_from_model(ctx, *model, ref);
        } else {
            cairn_model *m = NULL;
            rc = cairn_model_load(ctx, a->reference, &m);
            if (rc == CAIRN_OK)
                rc = cairn_drift_reference_from_model(ctx, m, ref);
            cairn_model_free(m);
        }
        if (rc != CAIRN_OK)
            return data_error(ctx, "reference '%s': %s", a->reference, cairn_errmsg(ctx));
        return 0;
    }
    if (is_json_file(a->reference)) {
        cn_buf text = CN_BUF_INIT;
        if (cn_fs_read_file(a->reference, &text, (size_t)1 << 32) != 0) {
            cn_buf_release(&text);
            return data_error(ctx, "reference '%s': cannot read it", a->reference);
        }
        rc = cairn_drift_reference_parse(ctx, text.data, text.len, ref);
        cn_buf_release(&text);
        if (rc != CAIRN_OK)
            return data_error(ctx, "reference '%s': %s", a->reference, cairn_errmsg(ctx));
        return 0;
    }
    cairn_table *t = NULL;
    rc = read_csv(ctx, a, a->reference, &t);
    if (rc != CAIRN_OK)
        return csv_error(ctx, rc, a->reference);
    cairn_drift_reference_opts ro = CAIRN_DRIFT_REFERENCE_OPTS_INIT;
    ro.sketch_size = CAIRN_DRIFT_SKETCH_EXACT; /* the rows are here: no approximation */
    ro.n_bins = a->bins;
    ro.model = *model;
    ro.ignore = a->ignore;
    ro.n_ignore = a->n_ignore;
    rc = cairn_drift_reference_build(ctx, t, &ro, ref);
    cairn_table_free(t);
    return rc == CAIRN_OK ? 0 : data_error(ctx, NULL);
}

static int drift_report(drift_args *a)
{
    if (!a->reference || !a->current)
        return cli_usage(usage_text, "--reference and --current are required");
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_model *model = NULL;
    cairn_drift_reference *ref = NULL;
    cairn_table *cur = NULL;
    cairn_drift_report *report = NULL;
    char *json = NULL;
    int code = load_reference(ctx, a, &model, &ref);
    if (code != 0)
        goto done;
    cairn_status rc = read_csv(ctx, a, a->current, &cur);
    if (rc != CAIRN_OK) {
        code = csv_error(ctx, rc, a->current);
        goto done;
    }
    /* columns left out of a stored profile: drop them from the current rows' view */
    bool tty = isatty(STDERR_FILENO);
    a->opts.model = model;
    if (cur->n_rows * cairn_drift_reference_n_features(ref) >= 5000000) {
        a->opts.progress = progress;
        a->opts.progress_user = &tty;
    }
    if (a->n_ignore > 0) {
        for (size_t i = 0; i < a->n_ignore; i++)
            for (size_t f = 0; f < cairn_drift_reference_n_features(ref); f++)
                if (strcmp(cairn_drift_reference_feature(ref, f), a->ignore[i]) == 0) {
                    code = data_error(ctx,
                                      "--ignore '%s': the stored reference profile has "
                                      "that column; make one without it",
                                      a->ignore[i]);
                    goto done;
                }
    }
    rc = cairn_drift_compare(ctx, ref, cur, &a->opts, &report);
    if (rc != CAIRN_OK) {
        code = data_error(ctx, NULL);
        goto done;
    }
    code = write_outputs(ctx, a, report);
    if (code != 0)
        goto done;
    if (a->json) {
        cairn_drift_report_json(ctx, report, &json);
        fputs(json, stdout);
        fputc('\n', stdout);
    } else {
        print_table(report);
    }
    code = cairn_drift_report_drifted(report) ? 1 : 0;
done:
    free(json);
    cairn_drift_report_free(report);
    cairn_table_free(cur);
    cairn_drift_reference_free(ref);
    cairn_model_free(model);
    cairn_close(ctx);
    return code;
}

static int drift_reference(drift_args *a)
{
    if (!a->data)
        return cli_usage(usage_text, "drift reference: --data is required");
    if (a->write && !a->model)
        return cli_usage(usage_text, "drift reference: --write needs --model");
    if (!a->write && !a->output && a->json)
        a->json = true;
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_model *model = NULL;
    cairn_table *t = NULL;
    cairn_drift_reference *ref = NULL;
    char *json = NULL;
    int code = 0;
    cairn_status rc;
    if (a->model && cairn_model_load(ctx, a->model, &model) != CAIRN_OK) {
        code = data_error(ctx, NULL);
        goto done;
    }
    rc = read_csv(ctx, a, a->data, &t);
    if (rc != CAIRN_OK) {
        code = csv_error(ctx, rc, a->data);
        goto done;
    }
    cairn_drift_reference_opts ro = CAIRN_DRIFT_REFERENCE_OPTS_INIT;
    ro.sketch_size = a->has_sketch && a->sketch == 0 ? CAIRN_DRIFT_SKETCH_EXACT : a->sketch;
    ro.n_bins = a->bins;
    ro.model = model;
    ro.ignore = a->ignore;
    ro.n_ignore = a->n_ignore;
    rc = cairn_drift_reference_build(ctx, t, &ro, &ref);
    if (rc == CAIRN_OK)
        rc = cairn_drift_reference_json(ctx, ref, &json);
    if (rc != CAIRN_OK) {
        code = data_error(ctx, NULL);
        goto done;
    }
    if (a->output && cn_fs_write_atomic(a->output, json, strlen(json)) != 0) {
        code = data_error(ctx, "cannot write '%s'", a->output);
        goto done;
    }
    if (a->write) {
        rc = cairn_drift_reference_attach(ctx, model, ref);
        if (rc == CAIRN_OK)
            rc = cairn_model_save(ctx, model, a->model);
        if (rc != CAIRN_OK) {
            code = data_error(ctx, NULL);
            goto done;
        }
    }
    if (!a->output && !a->write) {
        fputs(json, stdout);
        fputc('\n', stdout);
    } else {
        fprintf(stderr, "drift: reference profile of %zu rows, %zu columns written to %s\n",
                cairn_drift_reference_n_rows(ref), cairn_drift_reference_n_features(ref),
                a->output ? a->output : a->model);
    }
done:
    free(json);
    cairn_drift_reference_free(ref);
    cairn_table_free(t);
    cairn_model_free(model);
    cairn_close(ctx);
    return code;
}

int cmd_drift(int argc, char **argv)
{
    drift_args a = {0};
    bool reference = argc > 1 && strcmp(argv[1], "reference") == 0;
    int code =
        reference ? parse_args(argc - 1, argv + 1, &a, true) : parse_args(argc, argv, &a, false);
    if (code >= 0)
        return code;
    return reference ? drift_reference(&a) : drift_report(&a);
}
