/* SPDX-License-Identifier: MIT */
/* cmd_model_compress.c - `cairn model compress MODEL --method int8|prune|distill`: writes the
 * compressed model (cairn/robust.h) and reports file size, latency and the metric before and
 * after, with a paired test on the same held-out rows. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli_robust_util.h"
#include "cairn/robust.h"
#include "cairn/tracking.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static void print_json(const cairn_compress_report *r, const char *out, const char *logged)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "method", r->method);
    cn_jsonw_kstring(&w, "out", out);
    cn_jsonw_kstring(&w, "logged", logged);
    cn_jsonw_kint(&w, "size_before", (int64_t)r->size_before);
    cn_jsonw_kint(&w, "size_after", (int64_t)r->size_after);
    cn_jsonw_kdouble(&w, "size_ratio", (double)r->size_after / (double)r->size_before);
    cn_jsonw_kint(&w, "payload_before", (int64_t)r->payload_before);
    cn_jsonw_kint(&w, "payload_after", (int64_t)r->payload_after);
    cn_jsonw_kdouble(&w, "latency1_before_ms", r->latency1_before_ms);
    cn_jsonw_kdouble(&w, "latency1_after_ms", r->latency1_after_ms);
    cn_jsonw_kdouble(&w, "batch_before_ms", r->batch_before_ms);
    cn_jsonw_kdouble(&w, "batch_after_ms", r->batch_after_ms);
    cn_jsonw_kstring(&w, "metric", r->metric);
    cn_jsonw_kint(&w, "eval_rows", (int64_t)r->n_eval);
    cn_jsonw_kdouble(&w, "metric_before", r->metric_before);
    cn_jsonw_kdouble(&w, "metric_after", r->metric_after);
    cn_jsonw_kdouble(&w, "diff", r->diff);
    cn_jsonw_kdouble(&w, "diff_ci_low", r->diff_low);
    cn_jsonw_kdouble(&w, "diff_ci_high", r->diff_high);
    cn_jsonw_kdouble(&w, "agreement", r->agreement);
    cn_jsonw_kstring(&w, "test", r->test);
    cn_jsonw_kint(&w, "n01", r->n01);
    cn_jsonw_kint(&w, "n10", r->n10);
    cn_jsonw_kdouble(&w, "statistic", r->statistic);
    cn_jsonw_kdouble(&w, "p_value", r->p_value);
    cn_jsonw_kint(&w, "zero_weights", (int64_t)r->zeros);
    cn_jsonw_kint(&w, "weights", (int64_t)r->weights);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_jsonw_release(&w);
}

static void print_text(const cairn_compress_report *r, const char *out)
{
    printf("%s: wrote %s\n", r->method, out);
    printf("size:     file %zu -> %zu bytes (%.2fx smaller); weights %zu -> %zu bytes (%.2fx)\n",
           r->size_before, r->size_after, (double)r->size_before / (double)r->size_after,
           r->payload_before, r->payload_after,
           (double)r->payload_before / (double)r->payload_after);
    printf("latency:  1 row %.4f -> %.4f ms; batch %.4f -> %.4f ms (medians)\n",
           r->latency1_before_ms, r->latency1_after_ms, r->batch_before_ms, r->batch_after_ms);
    if (r->weights)
        printf("weights:  %zu of %zu are zero\n", r->zeros, r->weights);
    if (r->n_eval == 0) {
        printf("metric:   no held-out rows in --data; nothing scored\n");
        return;
    }
    printf("%s on %zu held-out rows: %.4f -> %.4f (diff %+.4f, 95%% paired-bootstrap CI "
           "[%.4f, %.4f])\n",
           r->metric, r->n_eval, r->metric_before, r->metric_after, r->diff, r->diff_low,
           r->diff_high);
    if (strncmp(r->test, "mcnemar", 7) == 0)
        printf("McNemar (%s): %lld row(s) right only before, %lld right only after; statistic "
               "%.4g, p = %.4g; predictions agree on %.1f%%\n",
               strcmp(r->test, "mcnemar_exact") == 0 ? "exact" : "chi-square, corrected",
               (long long)r->n01, (long long)r->n10, r->statistic, r->p_value, 100 * r->agreement);
    else
        printf("Wilcoxon on squared errors: statistic %.4g, p = %.4g\n", r->statistic, r->p_value);
}

/* Logs the compressed model on a run as compressed/<method>.cairn with metrics compress_*. */
static bool log_on_run(const char *run, const cairn_model *small, const cairn_compress_report *r,
                       char *where, size_t where_size)
{
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return false;
    char *id = cli_run_resolve(ctx, run);
    void *bytes = NULL;
    size_t len = 0;
    char path[64];
    snprintf(path, sizeof path, "compressed/%s.cairn", r->method);
    bool ok = id && cairn_model_save_bytes(ctx, small, &bytes, &len) == CAIRN_OK;
    if (id && !ok)
        cli_fail(ctx);
    ok = ok && cli_run_write_artifact(ctx, id, path, bytes, len);
    if (ok) {
        char k[4][64];
        double v[4] = {(double)r->size_after, (double)r->payload_after, r->metric_after, r->diff};
        const char *names[4] = {"size_bytes", "payload_bytes", "metric", "metric_diff"};
        cairn_metric mm[4];
        size_t n = 0;
        for (size_t i = 0; i < 4; i++) {
            if (!isfinite(v[i]))
                continue;
            snprintf(k[n], sizeof k[n], "compress_%s_%s", r->method, names[i]);
            mm[n] = (cairn_metric){k[n], v[i], 0, 0};
            n++;
        }
        if (n && cairn_runs_log_batch(ctx, id, mm, n, NULL, 0, NULL, 0) != CAIRN_OK)
            ok = cli_fail(ctx) == 0;
        snprintf(where, where_size, "runs:/%s/%s", id, path);
    }
    free(bytes);
    cairn_free(id);
    cairn_close(ctx);
    return ok;
}

static int compress(const char *spec, const char *data, const char *out, const char *log_to,
                    cairn_compress_opts *o, bool json)
{
    cli_model_data d = {0};
    int code = cli_model_data_open(spec, data, &d);
    cairn_model *m = d.model, *small = NULL;
    if (code == 0 && data) {
        if (o->method == CAIRN_COMPRESS_DISTILL && !d.has_record)
            code = cli_error("the model holds no record of its training rows; distillation fits "
                             "on them: train the teacher with 'cairn train'");
        else if (o->method == CAIRN_COMPRESS_DISTILL && d.n_trained == 0)
            code = cli_error("none of %s's rows were used to train the model; distillation fits "
                             "on the teacher's training rows: give the training CSV",
                             data);
        o->fit_rows = d.trained;
        o->n_fit = d.n_trained;
        /* the run's sealed test rows are not held-out rows to score here (cairn eval final
         * looks at them once) */
        const char *run = NULL;
        size_t n_test = 0, *test = cli_sealed_rows(&d, data, &n_test, &run), kept = 0;
        for (size_t i = 0; i < d.n_held_out; i++) {
            bool sealed = false;
            for (size_t j = 0; j < n_test && !sealed; j++)
                sealed = d.held_out[i] == test[j];
            if (!sealed)
                d.held_out[kept++] = d.held_out[i];
        }
        if (n_test && !json)
            fprintf(stderr,
                    "note: %zu of %s's rows are run %s's sealed test rows; they are "
                    "left out (scored once, by 'cairn eval final')\n",
                    d.n_held_out - kept, data, run);
        free(test);
        d.n_held_out = kept;
        o->eval_rows = d.n_held_out ? d.held_out : NULL;
        o->n_eval = d.n_held_out;
    }
    cairn_compress_report r = {0};
    char where[300] = "";
    if (code == 0 && cairn_model_compress(d.ctx, m, d.table, o, &small, &r) != CAIRN_OK)
        code = cli_fail(d.ctx);
    if (code == 0 && out && cairn_model_save(d.ctx, small, out) != CAIRN_OK)
        code = cli_fail(d.ctx);
    if (code == 0 && log_to && !log_on_run(log_to, small, &r, where, sizeof where))
        code = 1;
    if (code == 0) {
        const char *dest = out ? out : where;
        if (json)
            print_json(&r, dest, log_to ? where : NULL);
        else
            print_text(&r, dest);
        if (!json && out && log_to)
            printf("logged:   %s\n", where);
    }
    cairn_compress_report_release(&r);
    cairn_model_free(small);
    cli_model_data_close(&d);
    return code;
}

int cmd_model_compress(const char *usage, int argc, char **argv)
{
    enum { O_METHOD = 256, O_SPARSITY, O_HIDDEN, O_OUT, O_SEED, O_JSON, O_LOG_TO };
    enum { MAX_PARAMS = 32 };
    static const struct option longopts[] = {{"method", required_argument, NULL, O_METHOD},
                                             {"sparsity", required_argument, NULL, O_SPARSITY},
                                             {"hidden", required_argument, NULL, O_HIDDEN},
                                             {"data", required_argument, NULL, 'd'},
                                             {"out", required_argument, NULL, O_OUT},
                                             {"seed", required_argument, NULL, O_SEED},
                                             {"json", no_argument, NULL, O_JSON},
                                             {"param", required_argument, NULL, 'p'},
                                             {"log-to", required_argument, NULL, O_LOG_TO},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    cairn_compress_opts o = CAIRN_COMPRESS_OPTS_INIT;
    const char *data = NULL, *out = NULL, *log_to = NULL;
    const char *pkeys[MAX_PARAMS], *pvalues[MAX_PARAMS];
    char *owned[MAX_PARAMS];
    size_t n_owned = 0;
    bool json = false;
    int64_t v;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":d:hp:", longopts, NULL)) != -1) {
        switch (c) {
        case O_METHOD:
            o.method = strcmp(optarg, "int8") == 0      ? CAIRN_COMPRESS_INT8
                       : strcmp(optarg, "prune") == 0   ? CAIRN_COMPRESS_PRUNE
                       : strcmp(optarg, "distill") == 0 ? CAIRN_COMPRESS_DISTILL
                                                        : 0;
            if (!o.method)
                return cli_usage(usage, "--method '%s': expected int8, prune or distill", optarg);
            break;
        case O_SPARSITY:
            if (!cn_parse_double(optarg, &o.sparsity) || !(o.sparsity > 0 && o.sparsity < 1))
                return cli_usage(usage, "--sparsity '%s': expected a fraction in (0, 1), e.g. 0.5",
                                 optarg);
            break;
        case O_HIDDEN: o.hidden = optarg; break;
        case 'd': data = optarg; break;
        case O_OUT: out = optarg; break;
        case O_SEED:
            if (!cli_parse_count(optarg, INT64_MAX, &v))
                return cli_usage(usage, "--seed '%s' is not a non-negative integer", optarg);
            o.seed = (uint64_t)v;
            break;
        case O_JSON: json = true; break;
        case O_LOG_TO: log_to = optarg; break;
        case 'p': {
            const char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg || n_owned == MAX_PARAMS) {
                for (size_t i = 0; i < n_owned; i++)
                    free(owned[i]);
                return cli_usage(usage, "--param '%s': expected KEY=VALUE (at most %d)", optarg,
                                 MAX_PARAMS);
            }
            owned[n_owned] = cn_xstrdup(optarg);
            owned[n_owned][eq - optarg] = 0;
            pkeys[n_owned] = owned[n_owned];
            pvalues[n_owned] = owned[n_owned] + (eq - optarg) + 1;
            n_owned++;
            break;
        }
        default: return cli_other_option(c, usage, NULL, argv);
        }
    }
    const char *bad =
        argc - optind != 1 ? "expected one MODEL (a file, runs:/RUN_ID/model or models:/NAME@ALIAS)"
        : !o.method        ? "--method int8|prune|distill is required"
        : !out && !log_to  ? "--out FILE or --log-to RUN is required: where the compressed model "
                             "goes"
        : !data && o.method == CAIRN_COMPRESS_DISTILL
            ? "--method distill needs --data CSV: the teacher's training rows (the "
              "student learns the teacher's probabilities on them)"
        : n_owned && o.method != CAIRN_COMPRESS_DISTILL
            ? "--param sets the student's params: it applies to --method distill"
            : NULL;
    o.param_keys = pkeys;
    o.param_values = pvalues;
    o.n_params = n_owned;
    int code =
        bad ? cli_usage(usage, "%s", bad) : compress(argv[optind], data, out, log_to, &o, json);
    for (size_t i = 0; i < n_owned; i++)
        free(owned[i]);
    return code;
}
