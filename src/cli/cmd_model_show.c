/* SPDX-License-Identifier: MIT */
/* cmd_model_show.c - `cairn model show MODEL`: what a model file holds (learner, task,
 * params, features with their preprocessing, classes, coefficients by input name, data
 * digest, metadata and the drift reference profile), for a file, runs:/RUN_ID/model or
 * models:/NAME@ALIAS. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cairn/drift.h"
#include "cairn/learn.h"
#include "cairn/registry.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define META_VALUE_MAX 80 /* longer metadata values (the training-row record) are summarised */

static const char *type_name(cairn_col_type t)
{
    return t == CAIRN_COL_NUMERIC ? "numeric" : "categorical";
}

static void write_json(const cairn_model_ref *ref, const cairn_model *m,
                       const cairn_coefficients *co, const cairn_drift_reference *dr)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "model", ref->name);
    cn_jsonw_kstring(&w, "path", ref->path);
    cn_jsonw_kstring(&w, "run_id", ref->run_id);
    cn_jsonw_kstring(&w, "learner", cairn_model_learner(m));
    size_t k = cairn_model_n_classes(m);
    cn_jsonw_kstring(&w, "task", k ? "classification" : "regression");
    cn_jsonw_kstring(&w, "label", cairn_model_label(m));
    cn_jsonw_key(&w, "classes");
    cn_jsonw_array_begin(&w);
    for (size_t j = 0; j < k; j++)
        cn_jsonw_string(&w, cairn_model_class_label(m, j));
    cn_jsonw_array_end(&w);
    cn_jsonw_key(&w, "params");
    cn_jsonw_object_begin(&w);
    const char *key, *value;
    for (size_t i = 0; cairn_model_param(m, i, &key, &value); i++)
        cn_jsonw_kstring(&w, key, value);
    cn_jsonw_object_end(&w);
    cn_jsonw_key(&w, "features");
    cn_jsonw_array_begin(&w);
    for (size_t f = 0; f < cairn_model_n_features(m); f++) {
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "name", cairn_model_feature_name(m, f));
        cn_jsonw_kstring(&w, "type", type_name(cairn_model_feature_type(m, f)));
        double mean, scale;
        if (cairn_model_feature_scaling(m, f, &mean, &scale)) {
            cn_jsonw_kdouble(&w, "mean", mean);
            cn_jsonw_kdouble(&w, "scale", scale);
        } else {
            cn_jsonw_key(&w, "levels");
            cn_jsonw_array_begin(&w);
            for (size_t l = 0; l < cairn_model_feature_n_levels(m, f); l++)
                cn_jsonw_string(&w, cairn_model_feature_level(m, f, l));
            cn_jsonw_array_end(&w);
        }
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cn_jsonw_key(&w, "coefficients");
    if (!co) {
        cn_jsonw_null(&w);
    } else {
        cn_jsonw_object_begin(&w);
        cn_jsonw_kbool(&w, "standardized", co->standardized);
        cn_jsonw_key(&w, "inputs");
        cn_jsonw_strings(&w, co->names, co->n_inputs);
        cn_jsonw_key(&w, "rows");
        cn_jsonw_array_begin(&w);
        for (size_t r = 0; r < co->n_rows; r++) {
            cn_jsonw_object_begin(&w);
            cn_jsonw_kstring(&w, "class", co->row_classes ? co->row_classes[r] : NULL);
            cn_jsonw_kdouble(&w, "intercept", co->intercept[r]);
            cn_jsonw_key(&w, "coef");
            cn_jsonw_object_begin(&w);
            for (size_t j = 0; j < co->n_inputs; j++)
                cn_jsonw_kdouble(&w, co->names[j], co->coef[r * co->n_inputs + j]);
            cn_jsonw_object_end(&w);
            cn_jsonw_object_end(&w);
        }
        cn_jsonw_array_end(&w);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_kstring(&w, "data_digest", cairn_model_data_digest(m));
    cn_jsonw_key(&w, "meta");
    cn_jsonw_object_begin(&w);
    for (size_t i = 0; cairn_model_meta(m, i, &key, &value); i++)
        cn_jsonw_kstring(&w, key, value);
    cn_jsonw_object_end(&w);
    cn_jsonw_key(&w, "drift_profile");
    if (!dr) {
        cn_jsonw_null(&w);
    } else {
        cn_jsonw_object_begin(&w);
        cn_jsonw_kint(&w, "rows", (int64_t)cairn_drift_reference_n_rows(dr));
        cn_jsonw_kbool(&w, "has_prediction", cairn_drift_reference_has_prediction(dr));
        cn_jsonw_key(&w, "columns");
        cn_jsonw_array_begin(&w);
        for (size_t i = 0; i < cairn_drift_reference_n_features(dr); i++)
            cn_jsonw_string(&w, cairn_drift_reference_feature(dr, i));
        cn_jsonw_array_end(&w);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_jsonw_release(&w);
}

static void print_human(const cairn_model_ref *ref, const cairn_model *m,
                        const cairn_coefficients *co, const cairn_drift_reference *dr)
{
    size_t k = cairn_model_n_classes(m);
    printf("model:        %s\npath:         %s\n", ref->name, ref->path);
    if (ref->run_id)
        printf("run:          %s\n", ref->run_id);
    printf("learner:      %s\ntask:         %s\nlabel:        %s\n", cairn_model_learner(m),
           k ? "classification" : "regression", cairn_model_label(m));
    if (k) {
        printf("classes:      ");
        for (size_t j = 0; j < k; j++)
            printf("%s%s", j ? ", " : "", cairn_model_class_label(m, j));
        printf("\n");
    }
    printf("data digest:  %s\n", cairn_model_data_digest(m));
    const char *key, *value;
    if (cairn_model_n_params(m)) {
        static const char *const headers[] = {"PARAM", "VALUE"};
        cli_table *t = cli_table_new(2, headers);
        for (size_t i = 0; cairn_model_param(m, i, &key, &value); i++) {
            const char *cells[] = {key, value};
            cli_table_add(t, cells);
        }
        printf("\nparams:\n");
        cli_table_print(t, stdout);
        cli_table_free(t);
    }
    static const char *const fheaders[] = {"FEATURE", "TYPE", "PREPROCESSING"};
    cli_table *t = cli_table_new(3, fheaders);
    for (size_t f = 0; f < cairn_model_n_features(m); f++) {
        char prep[512];
        double mean, scale;
        if (cairn_model_feature_scaling(m, f, &mean, &scale)) {
            if (mean == 0 && scale == 1)
                snprintf(prep, sizeof prep, "as is");
            else
                snprintf(prep, sizeof prep, "standardised: mean %.6g, sd %.6g", mean, scale);
        } else {
            size_t nl = cairn_model_feature_n_levels(m, f), len = 0;
            len += (size_t)snprintf(prep, sizeof prep, "encoded, %zu levels:", nl);
            for (size_t l = 0; l < nl && len < sizeof prep; l++)
                len += (size_t)snprintf(prep + len, sizeof prep - len, "%s %s", l ? "," : "",
                                        cairn_model_feature_level(m, f, l));
        }
        const char *cells[] = {cairn_model_feature_name(m, f),
                               type_name(cairn_model_feature_type(m, f)), prep};
        cli_table_add(t, cells);
    }
    printf("\nfeatures (%zu):\n", cairn_model_n_features(m));
    cli_table_print(t, stdout);
    cli_table_free(t);
    if (co) {
        size_t nc = co->n_rows + 1;
        const char **headers = cn_xcalloc(nc, sizeof *headers);
        char **heads = cn_xcalloc(nc, sizeof *heads);
        headers[0] = "INPUT";
        for (size_t r = 0; r < co->n_rows; r++) {
            heads[r + 1] = co->row_classes ? cn_asprintf("CLASS %s", co->row_classes[r])
                                           : cn_asprintf("COEFFICIENT");
            headers[r + 1] = heads[r + 1];
        }
        cli_table *ct = cli_table_new(nc, headers);
        char **cells = cn_xcalloc(nc, sizeof *cells);
        for (size_t j = 0; j <= co->n_inputs; j++) {
            cells[0] = cn_asprintf("%s", j == 0 ? "(intercept)" : co->names[j - 1]);
            for (size_t r = 0; r < co->n_rows; r++)
                cells[r + 1] = cn_asprintf("%.6g", j == 0 ? co->intercept[r]
                                                          : co->coef[r * co->n_inputs + j - 1]);
            cli_table_add(ct, (const char *const *)cells);
            for (size_t c = 0; c < nc; c++)
                free(cells[c]);
        }
        printf("\ncoefficients (%s inputs%s):\n",
               co->standardized ? "standardised" : "unstandardised",
               co->n_rows == 1 && co->row_classes ? "; for the second class" : "");
        cli_table_print(ct, stdout);
        cli_table_free(ct);
        for (size_t r = 0; r < nc; r++)
            free(heads[r]);
        free(heads);
        free(headers);
        free(cells);
    }
    if (cairn_model_n_meta(m)) {
        static const char *const headers[] = {"META", "VALUE"};
        cli_table *mt = cli_table_new(2, headers);
        for (size_t i = 0; cairn_model_meta(m, i, &key, &value); i++) {
            char *v = strlen(value) > META_VALUE_MAX
                          ? cn_asprintf("(%zu characters; --json shows it)", strlen(value))
                          : cn_asprintf("%s", value);
            const char *cells[] = {key, v};
            cli_table_add(mt, cells);
            free(v);
        }
        printf("\nmetadata:\n");
        cli_table_print(mt, stdout);
        cli_table_free(mt);
    }
    if (dr) {
        size_t nf = cairn_drift_reference_n_features(dr);
        printf(
            "\ndrift reference profile: %zu rows, %zu columns%s:", cairn_drift_reference_n_rows(dr),
            nf, cairn_drift_reference_has_prediction(dr) ? " (with the predictions)" : "");
        for (size_t i = 0; i < nf; i++)
            printf("%s %s", i ? "," : "", cairn_drift_reference_feature(dr, i));
        printf("\n");
    } else {
        printf("\ndrift reference profile: none (cairn drift reference adds one)\n");
    }
}

int cli_model_show_file(const char *spec, bool json)
{
    cairn_ctx *ctx = NULL;
    cairn_model_ref ref;
    cairn_model *m = NULL;
    cairn_coefficients *co = NULL;
    cairn_drift_reference *dr = NULL;
    int code = 1;
    if (cli_load_model(spec, &ctx, &ref, &m) != 0)
        goto done;
    (void)cairn_model_coefficients(ctx, m, &co);         /* NULL: none for this learner */
    (void)cairn_drift_reference_from_model(ctx, m, &dr); /* NULL: none stored */
    if (json)
        write_json(&ref, m, co, dr);
    else
        print_human(&ref, m, co, dr);
    code = 0;
done:
    cairn_drift_reference_free(dr);
    cairn_coefficients_free(co);
    cairn_model_free(m);
    cairn_model_ref_release(&ref);
    cairn_close(ctx);
    return code;
}
