/* SPDX-License-Identifier: MIT */
/* cmd_model_profile.c - `cairn model profile MODEL --data CSV`: times the model's load and its
 * predictions at batch sizes 1, 32 and 1024 (cairn_model_profile_run), prints the figures and
 * records them on the registry version (tags cairn.profile.*) or the run (metrics
 * profile_*), so "fast enough" and "small enough" are facts of the version. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "cairn/registry.h"
#include "cairn/train.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define MAX_FIGURES (6 * CAIRN_PROFILE_MAX_BATCHES + 4)

typedef struct figure {
    char key[64];
    double value;
} figure;

/* Every figure under its name (the tags and metrics take the same names, "." or "_" apart). */
static size_t figures(const cairn_model_profile *p, int64_t size, double load_ms, figure *out)
{
    size_t n = 0;
    out[n++] = (figure){"size_bytes", (double)size};
    out[n++] = (figure){"load_ms", load_ms};
    for (size_t i = 0; i < p->n_batches; i++) {
        const cairn_profile_batch *b = &p->batches[i];
        const char *names[5] = {"p50_ms", "p95_ms", "p99_ms", "mean_ms", "rows_per_s"};
        double values[5] = {b->p50_ms, b->p95_ms, b->p99_ms, b->mean_ms, b->rows_per_s};
        for (int k = 0; k < 5; k++) {
            snprintf(out[n].key, sizeof out[n].key, "b%zu.%s", b->batch, names[k]);
            out[n++].value = values[k];
        }
    }
    return n;
}

/* Records the figures: tags on a registry version, metrics on a run; returns where, or NULL. */
static const char *record(cairn_ctx *ctx, const cairn_model_ref *ref, const figure *f, size_t n,
                          char *where, size_t where_size)
{
    if (ref->registry_version > 0) {
        char key[96], value[200];
        for (size_t i = 0; i < n; i++) {
            snprintf(key, sizeof key, "cairn.profile.%.63s", f[i].key);
            snprintf(value, sizeof value, "%.6g", f[i].value);
            if (cairn_model_version_set_tag(ctx, ref->name, ref->registry_version, key, value) !=
                CAIRN_OK)
                return NULL;
        }
        char host[128] = "unknown";
        gethostname(host, sizeof host - 1);
        snprintf(value, sizeof value, "%ld CPUs, %s", sysconf(_SC_NPROCESSORS_ONLN), host);
        if (cairn_model_version_set_tag(ctx, ref->name, ref->registry_version,
                                        "cairn.profile.machine", value) != CAIRN_OK)
            return NULL;
        snprintf(where, where_size, "model %s version %lld (tags cairn.profile.*)", ref->name,
                 (long long)ref->registry_version);
        return where;
    }
    if (ref->run_id) {
        cairn_metric *m = cn_xcalloc(n, sizeof *m);
        char(*keys)[80] = cn_xcalloc(n, sizeof *keys);
        for (size_t i = 0; i < n; i++) {
            snprintf(keys[i], sizeof keys[i], "profile_%.63s", f[i].key);
            for (char *c = keys[i]; *c; c++)
                if (*c == '.')
                    *c = '_';
            m[i] = (cairn_metric){keys[i], f[i].value, 0, 0};
        }
        cairn_status rc = cairn_runs_log_batch(ctx, ref->run_id, m, n, NULL, 0, NULL, 0);
        free(m);
        free(keys);
        if (rc != CAIRN_OK)
            return NULL;
        snprintf(where, where_size, "run %s (metrics profile_*)", ref->run_id);
        return where;
    }
    return "";
}

static void print_table(const cairn_model_ref *ref, const cairn_model_profile *p, int64_t size,
                        double load_ms)
{
    printf("model:  %s (%s)\nfile:   %s, %.1f KiB, loaded in %.2f ms\n", ref->name, ref->version,
           ref->path, (double)size / 1024.0, load_ms);
    const char *headers[] = {"batch", "calls", "p50 ms", "p95 ms", "p99 ms", "rows/s"};
    cli_table *t = cli_table_new(6, headers);
    for (size_t i = 0; i < p->n_batches; i++) {
        const cairn_profile_batch *b = &p->batches[i];
        char cells[6][32];
        snprintf(cells[0], 32, "%zu", b->batch);
        snprintf(cells[1], 32, "%zu", b->n_calls);
        snprintf(cells[2], 32, "%.4f", b->p50_ms);
        snprintf(cells[3], 32, "%.4f", b->p95_ms);
        snprintf(cells[4], 32, "%.4f", b->p99_ms);
        snprintf(cells[5], 32, "%.0f", b->rows_per_s);
        const char *row[6] = {cells[0], cells[1], cells[2], cells[3], cells[4], cells[5]};
        cli_table_add(t, row);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
}

static int print_json(const cairn_model_ref *ref, const cairn_model_profile *p, int64_t size,
                      double load_ms, const char *recorded)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "model", ref->name);
    cn_jsonw_kstring(&w, "version", ref->version);
    cn_jsonw_kstring(&w, "path", ref->path);
    cn_jsonw_kint(&w, "size_bytes", size);
    cn_jsonw_kdouble(&w, "load_ms", load_ms);
    cn_jsonw_key(&w, "batches");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < p->n_batches; i++) {
        const cairn_profile_batch *b = &p->batches[i];
        cn_jsonw_flat(&w);
        cn_jsonw_object_begin(&w);
        cn_jsonw_kint(&w, "batch", (int64_t)b->batch);
        cn_jsonw_kint(&w, "calls", (int64_t)b->n_calls);
        cn_jsonw_kdouble(&w, "p50_ms", b->p50_ms);
        cn_jsonw_kdouble(&w, "p95_ms", b->p95_ms);
        cn_jsonw_kdouble(&w, "p99_ms", b->p99_ms);
        cn_jsonw_kdouble(&w, "mean_ms", b->mean_ms);
        cn_jsonw_kdouble(&w, "rows_per_s", b->rows_per_s);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cn_jsonw_key(&w, "recorded");
    if (recorded && *recorded)
        cn_jsonw_string(&w, recorded);
    else
        cn_jsonw_null(&w);
    cn_jsonw_object_end(&w);
    int rc = cn_jsonw_finish(&w) ? 0 : cli_error("writing the output failed");
    cn_jsonw_release(&w);
    return rc;
}

/* "1,32,1024" into sizes; false when it is not 1 to CAIRN_PROFILE_MAX_BATCHES counts. */
static bool parse_batches(const char *arg, size_t *sizes, size_t *n)
{
    *n = 0;
    while (*arg) {
        size_t len = strcspn(arg, ",");
        char word[24];
        int64_t v;
        if (len == 0 || len >= sizeof word || *n == CAIRN_PROFILE_MAX_BATCHES)
            return false;
        memcpy(word, arg, len);
        word[len] = 0;
        if (!cli_parse_count(word, 1000000, &v))
            return false;
        sizes[(*n)++] = (size_t)v;
        arg += len;
        if (*arg == ',' && *++arg == 0)
            return false;
    }
    return *n > 0;
}

int cmd_model_profile(const char *usage, int argc, char **argv)
{
    enum { OPT_DATA = 1, OPT_SECONDS, OPT_BATCHES, OPT_NO_RECORD, OPT_JSON };
    static const struct option longopts[] = {{"data", required_argument, NULL, OPT_DATA},
                                             {"seconds", required_argument, NULL, OPT_SECONDS},
                                             {"batches", required_argument, NULL, OPT_BATCHES},
                                             {"no-record", no_argument, NULL, OPT_NO_RECORD},
                                             {"json", no_argument, NULL, OPT_JSON},
                                             {"help", no_argument, NULL, 'h'},
                                             {NULL, 0, NULL, 0}};
    const char *data = NULL;
    bool json = false, no_record = false;
    size_t sizes[CAIRN_PROFILE_MAX_BATCHES];
    cairn_model_profile_opts po = CAIRN_MODEL_PROFILE_OPTS_INIT;
    int c;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, "h", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_DATA: data = optarg; break;
        case OPT_SECONDS:
            if (!cn_parse_double(optarg, &po.seconds) || !(po.seconds >= 0.01) || po.seconds > 3600)
                return cli_usage(usage, "--seconds '%s': expected 0.01 to 3600", optarg);
            break;
        case OPT_BATCHES:
            if (!parse_batches(optarg, sizes, &po.n_batches))
                return cli_usage(usage,
                                 "--batches '%s': expected 1 to %d sizes from 1 to 1000000, "
                                 "e.g. 1,32,1024",
                                 optarg, CAIRN_PROFILE_MAX_BATCHES);
            po.batches = sizes;
            break;
        case OPT_NO_RECORD: no_record = true; break;
        case OPT_JSON: json = true; break;
        default: return cli_other_option(c, usage, NULL, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage(usage, "expected one MODEL (a file, runs:/RUN_ID/model or "
                                "models:/NAME@ALIAS)");
    if (!data)
        return cli_usage(usage, "--data CSV is required: rows like the training data to time "
                                "the predictions with");
    const char *spec = argv[optind];
    bool in_store = cn_str_starts(spec, "runs:/") || cn_str_starts(spec, "models:/");
    cairn_ctx *ctx = in_store ? cli_open_store() : cairn_ctx_new();
    if (!ctx)
        return 1;
    cairn_model_ref ref;
    cairn_model *m = NULL;
    cairn_table *t = NULL;
    int code = 1;
    if (cairn_model_ref_resolve(ctx, spec, &ref) != CAIRN_OK) {
        cli_fail(ctx);
        goto done;
    }
    struct stat st;
    int64_t size = stat(ref.path, &st) == 0 ? (int64_t)st.st_size : -1;
    int64_t t0 = cn_mono_ns();
    if (cairn_model_load(ctx, ref.path, &m) != CAIRN_OK) {
        cli_fail(ctx);
        goto done;
    }
    double load_ms = (double)(cn_mono_ns() - t0) / 1e6;
    if (cairn_model_read_csv(ctx, m, data, &t) != CAIRN_OK) {
        cli_fail(ctx);
        goto done;
    }
    cairn_model_profile p;
    if (!json && isatty(2))
        fprintf(stderr, "cairn: timing %s ...\n", ref.name);
    if (cairn_model_profile_run(ctx, m, t, &po, &p) != CAIRN_OK) {
        cli_fail(ctx);
        goto done;
    }
    figure f[MAX_FIGURES];
    size_t nf = figures(&p, size, load_ms, f);
    char where[400];
    const char *recorded = no_record ? "" : record(ctx, &ref, f, nf, where, sizeof where);
    if (!recorded) {
        cli_error("the profile was measured but not recorded: %s", cairn_errmsg(ctx));
        goto done;
    }
    if (json) {
        code = print_json(&ref, &p, size, load_ms, recorded);
    } else {
        print_table(&ref, &p, size, load_ms);
        if (*recorded)
            printf("recorded on %s\n", recorded);
        else if (!no_record)
            printf("not recorded: a model file has no registry version or run; profile "
                   "models:/NAME/VERSION or runs:/RUN_ID/model to keep the figures\n");
        code = 0;
    }
done:
    cairn_table_free(t);
    cairn_model_free(m);
    cairn_model_ref_release(&ref);
    cairn_close(ctx);
    return code;
}
