/* SPDX-License-Identifier: MIT */
/* cmd_predict.c - `cairn predict MODEL --data CSV`: batch prediction of unlabelled rows with a
 * model file, runs:/RUN_ID/model or models:/NAME@ALIAS (cairn_model_predict_csv). */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "cairn/learn.h"
#include "cairn/registry.h"
#include "cairn/train.h"
#include "base/str.h"
#include "base/banned.h"

#define PROGRESS_MIN_ROWS 100000 /* fewer rows: no progress lines */

static const char usage[] =
    "usage: cairn predict MODEL --data CSV [-o FILE] [--id-column COL] [--proba] "
    "[--allow-unseen]\n";

static const char help[] =
    "\nScores the rows of a CSV with a model: a model file, runs:/RUN_ID/model or\n"
    "models:/NAME@ALIAS (or models:/NAME/VERSION). The label column is not needed (it is\n"
    "ignored when present). Writes CSV: the row id (the --id-column's value, else column\n"
    "'row' with the 0-based row index), 'prediction' (the class label, or the value for a\n"
    "regression) and, with --proba, one p_<class> column per class. The data's columns are\n"
    "checked against the model's features first: a missing feature, a column of the wrong\n"
    "type or a category the model never saw is an error naming the column and row. Extra\n"
    "columns are ignored. Progress goes to stderr for files of 100000 rows or more.\n\n"
    "options:\n"
    "  -d, --data CSV         the rows to score (required)\n"
    "  -o, --out FILE         write FILE instead of standard output\n"
    "      --id-column COL    the column whose values identify the rows\n"
    "      --proba            add the class probabilities, p_<class> (classifiers)\n"
    "      --allow-unseen     score categories the model never saw (no level set) instead\n"
    "                         of refusing them\n"
    "  -h, --help             this help\n\n"
    "examples:\n"
    "  cairn predict runs:/RUN_ID/model --data data/breast_cancer.csv --proba -o preds.csv\n"
    "  cairn predict models:/cancer@champion --data new.csv --id-column id\n"
    "  cairn predict model.cairn -d new.csv\n";

static void progress(void *user, size_t done, size_t total)
{
    (void)user;
    if (total >= PROGRESS_MIN_ROWS)
        fprintf(stderr, "cairn: predicted %zu of %zu rows\n", done, total);
}

int cmd_predict(int argc, char **argv)
{
    enum { OPT_ID = 1000, OPT_PROBA, OPT_UNSEEN };
    static const struct option opts[] = {
        {"data", required_argument, NULL, 'd'},   {"out", required_argument, NULL, 'o'},
        {"output", required_argument, NULL, 'o'}, {"id-column", required_argument, NULL, OPT_ID},
        {"proba", no_argument, NULL, OPT_PROBA},  {"allow-unseen", no_argument, NULL, OPT_UNSEEN},
        {"help", no_argument, NULL, 'h'},         {0, 0, 0, 0}};
    cairn_predict_opts po = CAIRN_PREDICT_OPTS_INIT;
    const char *data = NULL, *out_path = NULL;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":d:o:h", opts, NULL)) != -1) {
        switch (c) {
        case 'd': data = optarg; break;
        case 'o': out_path = optarg; break;
        case OPT_ID: po.id_column = optarg; break;
        case OPT_PROBA: po.proba = true; break;
        case OPT_UNSEEN: po.allow_unseen = true; break;
        default: return cli_other_option(c, usage, help, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage(usage, "expected one MODEL (a file, runs:/RUN_ID/model or "
                                "models:/NAME@ALIAS)");
    if (!data)
        return cli_usage(usage, "--data CSV is required: the rows to score");
    const char *spec = argv[optind];
    cairn_ctx *ctx = NULL;
    cairn_model_ref ref;
    cairn_model *m = NULL;
    cairn_table *t = NULL;
    FILE *out = NULL;
    int code = 1;
    if (cli_load_model(spec, &ctx, &ref, &m) != 0)
        goto done;
    if (cairn_model_read_csv(ctx, m, data, &t) != CAIRN_OK) {
        cli_fail(ctx);
        goto done;
    }
    out = out_path ? fopen(out_path, "w") : stdout;
    if (!out) {
        cli_error("cannot write '%s': %s; check the folder exists and is writable", out_path,
                  strerror(errno));
        goto done;
    }
    po.progress = progress;
    if (cairn_model_predict_csv(ctx, m, t, &po, out) != CAIRN_OK) {
        cli_error("data '%s': %s", data, cairn_errmsg(ctx));
        goto done;
    }
    if (fflush(out) != 0) {
        cli_error("cannot write '%s': %s", out_path ? out_path : "stdout", strerror(errno));
        goto done;
    }
    code = 0;
    if (out_path)
        fprintf(stderr, "cairn: wrote %zu predictions of %s to %s\n", t->n_rows, ref.name,
                out_path);
done:
    if (out && out != stdout && fclose(out) != 0 && code == 0)
        code = cli_error("cannot write '%s': %s", out_path, strerror(errno));
    cairn_table_free(t);
    cairn_model_free(m);
    cairn_model_ref_release(&ref);
    cairn_close(ctx);
    return code;
}
