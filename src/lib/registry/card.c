/* SPDX-License-Identifier: MIT */
/* card.c - model cards: Markdown filled from what the store knows about a registry version
 * (its run's data digests, split, class balance, params, metrics with intervals on the
 * validation and sealed test rows, confusion matrices, per-slice metrics, the model's
 * preprocessing and drift reference, the inference profile, lineage) plus the four sections
 * only a person can write, taken from a template, the version's stored card or the run's
 * model-card.md. The card is stored as an artifact of the version's run and named by the
 * version's tags cairn.model_card (the artifact path) and cairn.model_card.sha256.
 * docs/model-cards.md. */
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/data.h"
#include "cairn/drift.h"
#include "cairn/learn.h"
#include "cairn/registry.h"
#include "core/core.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define CARD_MAX_BYTES (4u << 20)
#define MAX_FEATURES_SHOWN 60
#define MAX_CLASSES_SHOWN 20

/* The sections only a person can write, in card order, with their placeholders. */
static const char *const human_titles[] = {"Intended use", "Assumptions", "Limitations",
                                           "Ethical considerations"};
static const char *const human_todo[] = {
    "TODO: who should use this model, for which decisions, and what it must not be used for.",
    "TODO: what the model assumes about its inputs and the world (population, time, "
    "collection).",
    "TODO: where the model is known or expected to fail, and the slices it was not checked on.",
    "TODO: who could be harmed by its errors, sensitive attributes, and how that was checked."};
#define N_HUMAN 4

static const char *tag_of(const cairn_tag *tags, size_t n, const char *key)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(tags[i].key, key) == 0)
            return tags[i].value;
    return NULL;
}

static const cairn_metric *metric_of(const cairn_run_record *r, const char *key)
{
    for (size_t i = 0; i < r->n_metrics; i++)
        if (strcmp(r->metrics[i].key, key) == 0)
            return &r->metrics[i];
    return NULL;
}

/* A heading line "#..# Title": its level (0: not a heading) and where its title starts. */
static int heading_level(const char *line, size_t len, const char **title)
{
    size_t h = 0;
    while (h < len && line[h] == '#')
        h++;
    if (h == 0 || h > 6 || h >= len || line[h] != ' ')
        return 0;
    *title = line + h + 1;
    return (int)h;
}

static bool title_is(const char *title, size_t len, const char *want)
{
    while (len && isspace((unsigned char)title[len - 1]))
        len--;
    size_t n = strlen(want);
    if (len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (tolower((unsigned char)title[i]) != tolower((unsigned char)want[i]))
            return false;
    return true;
}

/* The body of section `want` (a heading of any level) in md: new string, trimmed; NULL when
 * there is no such heading. The body ends at the next heading of the same or a higher level. */
static char *section_body(const char *md, const char *want)
{
    const char *p = md;
    const char *start = NULL;
    int level = 0;
    while (*p) {
        const char *eol = strchr(p, '\n');
        size_t len = eol ? (size_t)(eol - p) : strlen(p);
        const char *title;
        int h = heading_level(p, len, &title);
        if (start && h && h <= level) {
            const char *end = p;
            while (start < end && isspace((unsigned char)*start))
                start++;
            while (end > start && isspace((unsigned char)end[-1]))
                end--;
            return cn_xstrndup(start, (size_t)(end - start));
        }
        if (!start && h && title_is(title, len - (size_t)(title - p), want)) {
            start = eol ? eol + 1 : p + len;
            level = h;
        }
        p = eol ? eol + 1 : p + len;
    }
    if (!start)
        return NULL;
    const char *end = p;
    while (start < end && isspace((unsigned char)*start))
        start++;
    while (end > start && isspace((unsigned char)end[-1]))
        end--;
    return cn_xstrndup(start, (size_t)(end - start));
}

/* True when body holds text a person wrote: something outside HTML comments, and no "TODO". */
static bool body_written(const char *body)
{
    if (!body || strstr(body, "TODO"))
        return false;
    const char *p = body;
    while (*p) {
        if (strncmp(p, "<!--", 4) == 0) {
            const char *e = strstr(p + 4, "-->");
            if (!e)
                return false;
            p = e + 3;
        } else if (isspace((unsigned char)*p)) {
            p++;
        } else {
            return true;
        }
    }
    return false;
}

bool cairn_model_card_check(const char *markdown, char *missing, size_t missing_size)
{
    cn_buf m = CN_BUF_INIT;
    for (size_t i = 0; i < N_HUMAN; i++) {
        char *body = markdown ? section_body(markdown, human_titles[i]) : NULL;
        if (!body_written(body))
            cn_buf_printf(&m, "%s%s", m.len ? ", " : "", human_titles[i]);
        free(body);
    }
    bool complete = m.len == 0;
    if (missing && missing_size)
        cn_strlcpy(missing, cn_buf_str(&m), missing_size);
    cn_buf_release(&m);
    return complete;
}

void cairn_model_card_free(cairn_model_card *c)
{
    if (!c)
        return;
    free(c->markdown);
    free((char *)c->missing);
    free((char *)c->human_source);
    free((char *)c->stored_as);
    free(c);
}

/* ---- facts ---- */

static void md_cell(cn_buf *b, const char *s)
{
    for (; s && *s; s++) {
        if (*s == '|')
            cn_buf_puts(b, "\\|");
        else if (*s == '\n' || *s == '\r')
            cn_buf_putc(b, ' ');
        else
            cn_buf_putc(b, *s);
    }
}

static void fmt_num(double v, char *out, size_t size)
{
    if (isnan(v))
        cn_strlcpy(out, "-", size);
    else
        snprintf(out, size, "%.4g", v);
}

/* The number after "\"key\": " in a JSON text, or -1. */
static long long json_int(const char *json, const char *key)
{
    char pat[64];
    snprintf(pat, sizeof pat, "\"%s\": ", key);
    const char *p = json ? strstr(json, pat) : NULL;
    return p ? strtoll(p + strlen(pat), NULL, 10) : -1;
}

static void facts_data(cn_buf *b, const cairn_run_record *r)
{
    const char *path = NULL, *label = NULL;
    for (size_t i = 0; i < r->n_params; i++) {
        if (strcmp(r->params[i].key, "data.path") == 0)
            path = r->params[i].value;
        else if (strcmp(r->params[i].key, "data.label") == 0)
            label = r->params[i].value;
    }
    cn_buf_puts(b, "## Data\n\n");
    if (path)
        cn_buf_printf(b, "- file: `%s`\n", path);
    if (label)
        cn_buf_printf(b, "- label: `%s`\n", label);
    const char *sha = tag_of(r->tags, r->n_tags, "cairn.data.sha256");
    const char *content = tag_of(r->tags, r->n_tags, "cairn.data.content_sha256");
    if (sha)
        cn_buf_printf(b, "- file SHA-256: `%s`\n", sha);
    if (content)
        cn_buf_printf(b, "- content SHA-256: `%s`\n", content);
    if (!r->n_inputs) {
        cn_buf_puts(b, "\nNo dataset inputs were recorded on the run.\n\n");
        return;
    }
    cn_buf_puts(b, "\n### Split\n\n");
    const char *method = NULL, *seed = NULL;
    for (size_t i = 0; i < r->n_params; i++) {
        if (strcmp(r->params[i].key, "split.method") == 0)
            method = r->params[i].value;
        else if (strcmp(r->params[i].key, "seed") == 0)
            seed = r->params[i].value;
    }
    if (method)
        cn_buf_printf(b, "Method `%s`%s%s%s.\n\n", method, seed ? ", seed " : "", seed ? seed : "",
                      "");
    cn_buf_puts(b, "| part | context | rows | data digest |\n|---|---|---|---|\n");
    for (size_t i = 0; i < r->n_inputs; i++) {
        const cairn_dataset_input *in = &r->inputs[i];
        long long rows = json_int(in->source, "rows");
        cn_buf_puts(b, "| ");
        md_cell(b, in->name);
        cn_buf_puts(b, " | ");
        md_cell(b, in->context ? in->context : "-");
        if (rows >= 0)
            cn_buf_printf(b, " | %lld | `", rows);
        else
            cn_buf_puts(b, " | - | `");
        md_cell(b, in->digest);
        cn_buf_puts(b, "` |\n");
    }
    const char *moved = tag_of(r->tags, r->n_tags, "cairn.split.moved_duplicates");
    const char *kept = tag_of(r->tags, r->n_tags, "cairn.split.kept_duplicates");
    if (moved || kept)
        cn_buf_printf(b,
                      "\nDuplicates of training rows: %s moved into training, %s kept in "
                      "evaluation parts.\n",
                      moved ? moved : "0", kept ? kept : "0");
    cn_buf_putc(b, '\n');
}

static void facts_preprocessing(cn_buf *b, const cairn_model *m)
{
    size_t nf = cairn_model_n_features(m);
    cn_buf_printf(b, "## Preprocessing\n\nLearner `%s`, %zu input features.\n\n",
                  cairn_model_learner(m), nf);
    cn_buf_puts(b, "| feature | type | preprocessing |\n|---|---|---|\n");
    for (size_t i = 0; i < nf && i < MAX_FEATURES_SHOWN; i++) {
        double mean, sd;
        cn_buf_puts(b, "| ");
        md_cell(b, cairn_model_feature_name(m, i));
        bool cat = cairn_model_feature_type(m, i) == CAIRN_COL_CATEGORICAL;
        cn_buf_printf(b, " | %s | ", cat ? "categorical" : "numeric");
        if (cat)
            cn_buf_printf(b, "one-hot, %zu levels", cairn_model_feature_n_levels(m, i));
        else if (cairn_model_feature_scaling(m, i, &mean, &sd))
            cn_buf_printf(b, "standardised (mean %.4g, sd %.4g)", mean, sd);
        else
            cn_buf_puts(b, "as is");
        cn_buf_puts(b, " |\n");
    }
    if (nf > MAX_FEATURES_SHOWN)
        cn_buf_printf(b, "\n(%zu more features: `cairn model show` lists them all.)\n",
                      nf - MAX_FEATURES_SHOWN);
    cn_buf_putc(b, '\n');
}

static void facts_params(cn_buf *b, const cairn_run_record *r)
{
    cn_buf_puts(b, "## Parameters\n\n");
    if (!r->n_params) {
        cn_buf_puts(b, "None recorded.\n\n");
        return;
    }
    cn_buf_puts(b, "| param | value |\n|---|---|\n");
    for (size_t i = 0; i < r->n_params; i++) {
        cn_buf_puts(b, "| ");
        md_cell(b, r->params[i].key);
        cn_buf_puts(b, " | ");
        md_cell(b, r->params[i].value);
        cn_buf_puts(b, " |\n");
    }
    cn_buf_putc(b, '\n');
}

/* Metrics prefix<name> with their _ci_low/_ci_high, as a table; false when there are none. */
static bool metric_table(cn_buf *b, const cairn_run_record *r, const char *prefix)
{
    size_t np = strlen(prefix), shown = 0;
    for (size_t i = 0; i < r->n_metrics; i++) {
        const char *k = r->metrics[i].key;
        if (!cn_str_starts(k, prefix) || cn_str_ends(k, "_ci_low") || cn_str_ends(k, "_ci_high"))
            continue;
        if (!shown++)
            cn_buf_puts(b, "| metric | value | 95% CI |\n|---|---|---|\n");
        char key[300], v[32], lo[32], hi[32];
        fmt_num(r->metrics[i].value, v, sizeof v);
        snprintf(key, sizeof key, "%s_ci_low", k);
        const cairn_metric *l = metric_of(r, key);
        snprintf(key, sizeof key, "%s_ci_high", k);
        const cairn_metric *h = metric_of(r, key);
        cn_buf_puts(b, "| ");
        md_cell(b, k + np);
        if (l && h) {
            fmt_num(l->value, lo, sizeof lo);
            fmt_num(h->value, hi, sizeof hi);
            cn_buf_printf(b, " | %s | [%s, %s] |\n", v, lo, hi);
        } else {
            cn_buf_printf(b, " | %s | - |\n", v);
        }
    }
    return shown > 0;
}

static void facts_metrics(cn_buf *b, const cairn_run_record *r)
{
    cn_buf_puts(b, "## Metrics\n\n### Validation\n\n");
    if (!metric_table(b, r, "val_"))
        cn_buf_puts(b, "No validation metrics were recorded.\n");
    cn_buf_puts(b, "\n### Sealed test split\n\n");
    const char *looks = tag_of(r->tags, r->n_tags, "cairn.test.looks");
    if (!looks) {
        cn_buf_puts(b, "Not looked at: the test split is still sealed (`cairn eval final` "
                       "opens it once).\n\n");
        return;
    }
    cn_buf_printf(b, "Looked at %s time%s (`cairn eval final`)%s.\n\n", looks,
                  strcmp(looks, "1") ? "s" : "",
                  tag_of(r->tags, r->n_tags, "cairn.test.second_look")
                      ? "; a second look was flagged on the run"
                      : "");
    if (!metric_table(b, r, "test_"))
        cn_buf_puts(b, "No test metrics were recorded.\n");
    cn_buf_putc(b, '\n');
}

/* The confusion matrix of a run's predictions/<part>.csv (y_true, y_pred), if it has one. */
static void confusion(cairn_ctx *ctx, cn_buf *b, const char *run_id, const char *part)
{
    char art[64], *path = NULL;
    snprintf(art, sizeof art, "predictions/%s.csv", part);
    if (cairn_run_artifact_path(ctx, run_id, art, &path) != CAIRN_OK || !cn_fs_exists(path)) {
        cairn_free(path);
        return;
    }
    const char *const cats[] = {"y_true", "y_pred"};
    cairn_csv_opts o = CAIRN_CSV_OPTS_INIT;
    o.categorical = cats;
    o.n_categorical = 2;
    cairn_table *t = NULL;
    cairn_status rc = cairn_csv_read(ctx, path, &o, &t);
    cairn_free(path);
    int yt = rc == CAIRN_OK ? cairn_table_find(t, "y_true") : -1;
    int yp = rc == CAIRN_OK ? cairn_table_find(t, "y_pred") : -1;
    if (yt < 0 || yp < 0) {
        cairn_table_free(t);
        return;
    }
    /* one set of class names for both columns, sorted as text */
    const cairn_column *ct = &t->cols[yt], *cp = &t->cols[yp];
    const char *names[MAX_CLASSES_SHOWN];
    size_t k = 0;
    for (int pass = 0; pass < 2; pass++) {
        const cairn_column *c = pass ? cp : ct;
        for (size_t l = 0; l < c->n_levels; l++) {
            bool seen = false;
            for (size_t j = 0; j < k; j++)
                seen = seen || strcmp(names[j], c->levels[l]) == 0;
            if (!seen && k < MAX_CLASSES_SHOWN)
                names[k++] = c->levels[l];
            else if (!seen) {
                cairn_table_free(t);
                return;
            }
        }
    }
    for (size_t i = 1; i < k; i++)
        for (size_t j = i; j > 0 && strcmp(names[j - 1], names[j]) > 0; j--) {
            const char *x = names[j];
            names[j] = names[j - 1];
            names[j - 1] = x;
        }
    int64_t counts[MAX_CLASSES_SHOWN * MAX_CLASSES_SHOWN] = {0}, support[MAX_CLASSES_SHOWN] = {0};
    size_t n = 0;
    for (size_t row = 0; row < t->n_rows; row++) {
        if (ct->cat[row] < 0 || cp->cat[row] < 0)
            continue;
        size_t a = 0, p = 0;
        while (a < k && strcmp(names[a], ct->levels[ct->cat[row]]) != 0)
            a++;
        while (p < k && strcmp(names[p], cp->levels[cp->cat[row]]) != 0)
            p++;
        counts[a * k + p]++;
        support[a]++;
        n++;
    }
    cn_buf_printf(b, "### %s rows (%zu)\n\nRows are the true class, columns the predicted one.\n\n",
                  strcmp(part, "val") == 0 ? "Validation" : "Test", n);
    cn_buf_puts(b, "| true \\ predicted |");
    for (size_t j = 0; j < k; j++) {
        cn_buf_putc(b, ' ');
        md_cell(b, names[j]);
        cn_buf_puts(b, " |");
    }
    cn_buf_puts(b, "\n|---|");
    for (size_t j = 0; j < k; j++)
        cn_buf_puts(b, "---|");
    cn_buf_putc(b, '\n');
    for (size_t i = 0; i < k; i++) {
        cn_buf_puts(b, "| ");
        md_cell(b, names[i]);
        cn_buf_puts(b, " |");
        for (size_t j = 0; j < k; j++)
            cn_buf_printf(b, " %lld |", (long long)counts[i * k + j]);
        cn_buf_putc(b, '\n');
    }
    cn_buf_puts(b, "\nClass balance of these rows: ");
    for (size_t i = 0; i < k; i++)
        cn_buf_printf(b, "%s`%s` %lld (%.1f%%)", i ? ", " : "", names[i], (long long)support[i],
                      n ? 100.0 * (double)support[i] / (double)n : 0.0);
    cn_buf_puts(b, ".\n\n");
    cairn_table_free(t);
}

static void facts_slices(cn_buf *b, const cairn_run_record *r)
{
    cn_buf_puts(b, "## Per-slice metrics\n\n");
    size_t shown = 0;
    for (size_t i = 0; i < r->n_metrics; i++) {
        const char *k = r->metrics[i].key;
        if (!strstr(k, "slice"))
            continue;
        if (!shown++)
            cn_buf_puts(b, "| metric | value |\n|---|---|\n");
        char v[32];
        fmt_num(r->metrics[i].value, v, sizeof v);
        cn_buf_puts(b, "| ");
        md_cell(b, k);
        cn_buf_printf(b, " | %s |\n", v);
    }
    if (!shown)
        cn_buf_puts(b, "None recorded (metrics whose name holds `slice`, as `cairn explain` "
                       "logs them).\n");
    cn_buf_putc(b, '\n');
}

static void facts_drift(cairn_ctx *ctx, cn_buf *b, const cairn_model *m)
{
    cn_buf_puts(b, "## Drift reference\n\n");
    cairn_drift_reference *dr = NULL;
    if (!m || cairn_drift_reference_from_model(ctx, m, &dr) != CAIRN_OK) {
        cn_buf_puts(b, "None in the model file: `cairn drift reference` can add one.\n\n");
        return;
    }
    size_t nf = cairn_drift_reference_n_features(dr);
    cn_buf_printf(b, "Profile of %zu rows over %zu columns%s.\n\n",
                  cairn_drift_reference_n_rows(dr), nf,
                  cairn_drift_reference_has_prediction(dr) ? ", the prediction included" : "");
    cairn_drift_reference_free(dr);
}

static void facts_profile(cn_buf *b, const cairn_model_version *v)
{
    cn_buf_puts(b, "## Inference profile\n\n");
    size_t shown = 0;
    for (size_t i = 0; i < v->n_tags; i++) {
        const char *k = v->tags[i].key;
        if (!cn_str_starts(k, "cairn.profile."))
            continue;
        if (!shown++)
            cn_buf_puts(b, "| figure | value |\n|---|---|\n");
        cn_buf_puts(b, "| ");
        md_cell(b, k + strlen("cairn.profile."));
        cn_buf_puts(b, " | ");
        md_cell(b, v->tags[i].value);
        cn_buf_puts(b, " |\n");
    }
    if (!shown)
        cn_buf_printf(b, "Not measured: run `cairn model profile models:/%s/%lld --data CSV`.\n",
                      v->name, (long long)v->version);
    cn_buf_putc(b, '\n');
}

static void facts_lineage(cn_buf *b, const cairn_model_version *v, const cairn_run_record *r,
                          const char *model_sha)
{
    cn_buf_puts(b, "## Lineage\n\n");
    cn_buf_printf(b, "- source: `%s`\n", v->source);
    if (model_sha)
        cn_buf_printf(b, "- model file SHA-256: `%s`\n", model_sha);
    if (!r) {
        cn_buf_puts(b, "- run: none (the version was registered from a source, not a run)\n\n");
        return;
    }
    cn_buf_printf(b, "- run: `%s` (%s)\n", r->info.run_id,
                  r->info.run_name ? r->info.run_name : "");
    static const char *const keys[] = {"cairn.source",
                                       "mlflow.source.name",
                                       "mlflow.source.git.commit",
                                       "mlflow.source.git.branch",
                                       "mlflow.source.git.repoURL",
                                       "cairn.git.dirty",
                                       "cairn.learner"};
    for (size_t i = 0; i < sizeof keys / sizeof *keys; i++) {
        const char *t = tag_of(r->tags, r->n_tags, keys[i]);
        if (t)
            cn_buf_printf(b, "- %s: `%s`\n", keys[i], t);
    }
    if (!tag_of(r->tags, r->n_tags, "mlflow.source.git.commit"))
        cn_buf_puts(b, "- code version: not recorded (train inside a git work tree to record "
                       "it)\n");
    cn_buf_putc(b, '\n');
}

/* ---- the human sections ---- */

static cairn_status read_text(cairn_ctx *ctx, const char *path, char **out)
{
    cn_buf b = CN_BUF_INIT;
    int e = cn_fs_read_file(path, &b, CARD_MAX_BYTES);
    if (e) {
        cn_buf_release(&b);
        return cn_fail(ctx, CAIRN_EIO, "cannot read '%s': %s", path, cn_fs_strerror(e));
    }
    *out = cn_buf_detach(&b);
    return CAIRN_OK;
}

/* The stored card's text, checked against its recorded SHA-256. ENOTFOUND when none. */
static cairn_status stored_text(cairn_ctx *ctx, const cairn_model_version *v, char **out)
{
    const char *art = tag_of(v->tags, v->n_tags, "cairn.model_card");
    const char *want = tag_of(v->tags, v->n_tags, "cairn.model_card.sha256");
    if (!art || !*v->run_id)
        return cn_fail(ctx, CAIRN_ENOTFOUND,
                       "model %s version %lld has no stored model card; write one with `cairn "
                       "model card %s@%lld`",
                       v->name, (long long)v->version, v->name, (long long)v->version);
    char *path = NULL, *text = NULL;
    cairn_status rc = cairn_run_artifact_path(ctx, v->run_id, art, &path);
    if (rc == CAIRN_OK)
        rc = read_text(ctx, path, &text);
    cairn_free(path);
    if (rc != CAIRN_OK)
        return rc;
    char sha[65];
    cn_sha256_hex(text, strlen(text), sha);
    if (!want || strcmp(sha, want) != 0) {
        free(text);
        return cn_fail(ctx, CAIRN_EINVAL,
                       "the stored model card of %s version %lld (runs:/%s/%s) changed since it "
                       "was stored (sha256 %.12s, the tag records %.12s); write it again with "
                       "`cairn model card %s@%lld`",
                       v->name, (long long)v->version, v->run_id, art, sha, want ? want : "none",
                       v->name, (long long)v->version);
    }
    *out = text;
    return CAIRN_OK;
}

static cairn_status store_card(cairn_ctx *ctx, const cairn_model_version *v, const char *md,
                               bool complete, const char *missing, char **where)
{
    if (!*v->run_id)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "model %s version %lld has no run to keep its card with; register the "
                       "version from a run (`cairn model register --run`), or write the card to "
                       "a file with -o and no storing",
                       v->name, (long long)v->version);
    char art[CAIRN_MODEL_NAME_MAX + 64];
    snprintf(art, sizeof art, "model_card/%s/v%lld.md", v->name, (long long)v->version);
    if (!cn_path_is_safe_relative(art))
        snprintf(art, sizeof art, "model_card/v%lld.md", (long long)v->version);
    cairn_run_record *r = NULL;
    cairn_status rc = cairn_run_get(ctx, v->run_id, &r);
    if (rc != CAIRN_OK)
        return rc;
    char *path = cn_path_join(r->info.artifact_uri, art);
    cairn_run_record_free(r);
    char *dir = cn_xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    int e = cn_fs_mkdirs(dir, 0755);
    free(dir);
    if (!e)
        e = cn_fs_write_atomic(path, md, strlen(md));
    free(path);
    if (e)
        return cn_fail(ctx, CAIRN_EIO, "cannot write the model card into run %s: %s", v->run_id,
                       cn_fs_strerror(e));
    char sha[65];
    cn_sha256_hex(md, strlen(md), sha);
    rc = cairn_runs_record_artifact(ctx, v->run_id, art, (int64_t)strlen(md), sha);
    if (rc == CAIRN_OK)
        rc = cairn_model_version_set_tag(ctx, v->name, v->version, "cairn.model_card", art);
    if (rc == CAIRN_OK)
        rc = cairn_model_version_set_tag(ctx, v->name, v->version, "cairn.model_card.sha256", sha);
    if (rc == CAIRN_OK)
        rc = cairn_model_version_set_tag(ctx, v->name, v->version, "cairn.model_card.complete",
                                         complete ? "true" : "false");
    if (rc == CAIRN_OK)
        rc = cairn_model_version_set_tag(ctx, v->name, v->version, "cairn.model_card.missing",
                                         missing);
    if (rc == CAIRN_OK)
        *where = cn_asprintf("runs:/%s/%s", v->run_id, art);
    return rc;
}

/* The text the human sections come from, and a description of where. */
static cairn_status human_source(cairn_ctx *ctx, const cairn_model_version *v,
                                 const char *template_path, char **text, char **from)
{
    *text = NULL;
    if (template_path) {
        *from = cn_asprintf("template %s", template_path);
        return read_text(ctx, template_path, text);
    }
    if (stored_text(ctx, v, text) == CAIRN_OK) {
        *from = cn_xstrdup("the version's stored card");
        return CAIRN_OK;
    }
    char *path = NULL;
    if (*v->run_id && cairn_run_artifact_path(ctx, v->run_id, "model-card.md", &path) == CAIRN_OK &&
        cn_fs_exists(path)) {
        cairn_status rc = read_text(ctx, path, text);
        cairn_free(path);
        *from = cn_asprintf("runs:/%s/model-card.md", v->run_id);
        return rc;
    }
    cairn_free(path);
    *from = cn_xstrdup("placeholders (no --template, stored card or run artifact model-card.md)");
    return CAIRN_OK;
}

static char *model_sha(const char *path)
{
    char hex[65];
    int64_t size;
    return cn_sha256_file(path, hex, &size) == 0 ? cn_xstrdup(hex) : NULL;
}

cairn_status cairn_model_card_make(cairn_ctx *ctx, const char *name, int64_t version,
                                   const cairn_model_card_opts *opts, cairn_model_card **out)
{
    cairn_model_card_opts defaults = CAIRN_MODEL_CARD_OPTS_INIT;
    if (!opts)
        opts = &defaults;
    *out = NULL;
    cairn_model_version *v = NULL;
    cairn_run_record *r = NULL;
    cairn_model *m = NULL;
    char *human = NULL, *from = NULL, *sha = NULL, *where = NULL;
    cn_buf b = CN_BUF_INIT;
    cairn_status rc = cairn_model_version_get(ctx, name, version, &v);
    if (rc != CAIRN_OK)
        return rc;
    if (*v->run_id && (rc = cairn_run_get(ctx, v->run_id, &r)) != CAIRN_OK)
        goto done;
    if ((rc = human_source(ctx, v, opts->template_path, &human, &from)) != CAIRN_OK)
        goto done;
    char ref_text[CAIRN_MODEL_NAME_MAX + 40];
    snprintf(ref_text, sizeof ref_text, "models:/%s/%lld", name, (long long)version);
    cairn_model_ref ref;
    char *load_error = NULL;
    if (cairn_model_ref_resolve(ctx, ref_text, &ref) == CAIRN_OK) {
        sha = model_sha(ref.path);
        if (cairn_model_load(ctx, ref.path, &m) != CAIRN_OK)
            load_error = cn_xstrdup(cairn_errmsg(ctx));
        cairn_model_ref_release(&ref);
    } else {
        load_error = cn_xstrdup(cairn_errmsg(ctx));
    }

    /* the facts */
    cn_buf_printf(&b, "# Model card: %s version %lld\n\n", name, (long long)version);
    cn_buf_puts(&b, "<!-- Written by `cairn model card` from the facts the store records; the "
                    "four sections at the end are a person's. docs/model-cards.md -->\n\n");
    cn_buf_puts(&b, "| | |\n|---|---|\n");
    cn_buf_printf(&b, "| model | %s |\n| version | %lld%s%s |\n", name, (long long)version,
                  v->semver ? ", semver " : "", v->semver ? v->semver : "");
    if (m) {
        cn_buf_printf(&b, "| learner | %s |\n| task | %s |\n| label | ", cairn_model_learner(m),
                      cairn_model_n_classes(m) ? "classification" : "regression");
        md_cell(&b, cairn_model_label(m));
        cn_buf_puts(&b, " |\n");
    }
    cn_buf_printf(&b, "| registered by | %s |\n", v->user_id);
    if (*v->description) {
        cn_buf_puts(&b, "| description | ");
        md_cell(&b, v->description);
        cn_buf_puts(&b, " |\n");
    }
    cn_buf_putc(&b, '\n');
    if (load_error)
        cn_buf_printf(&b,
                      "The model file could not be read, so its preprocessing and drift "
                      "reference are missing here: %s\n\n",
                      load_error);
    facts_lineage(&b, v, r, sha);
    if (r)
        facts_data(&b, r);
    if (m)
        facts_preprocessing(&b, m);
    if (r) {
        facts_params(&b, r);
        facts_metrics(&b, r);
        cn_buf_puts(&b, "## Confusion matrices\n\n");
        size_t before = b.len;
        confusion(ctx, &b, r->info.run_id, "val");
        confusion(ctx, &b, r->info.run_id, "test");
        if (b.len == before)
            cn_buf_puts(&b, "None: the run logged no predictions/val.csv or predictions/test.csv "
                            "with y_true and y_pred of a classifier.\n\n");
        facts_slices(&b, r);
    }
    facts_drift(ctx, &b, m);
    facts_profile(&b, v);
    free(load_error);

    /* the person's sections */
    for (size_t i = 0; i < N_HUMAN; i++) {
        char *body = human ? section_body(human, human_titles[i]) : NULL;
        cn_buf_printf(&b, "## %s\n\n%s\n\n", human_titles[i], body && *body ? body : human_todo[i]);
        free(body);
    }
    char missing[200];
    bool complete = cairn_model_card_check(cn_buf_str(&b), missing, sizeof missing);
    if (opts->store &&
        (rc = store_card(ctx, v, cn_buf_str(&b), complete, missing, &where)) != CAIRN_OK)
        goto done;
    cairn_model_card *c = cn_xcalloc(1, sizeof *c);
    c->markdown = cn_buf_detach(&b);
    c->complete = complete;
    c->missing = cn_xstrdup(missing);
    c->human_source = from;
    from = NULL;
    c->stored_as = where;
    where = NULL;
    *out = c;
done:
    cn_buf_release(&b);
    free(human);
    free(from);
    free(sha);
    free(where);
    cairn_model_free(m);
    cairn_run_record_free(r);
    cairn_model_version_free(v);
    return rc;
}

cairn_status cairn_model_card_get(cairn_ctx *ctx, const char *name, int64_t version,
                                  cairn_model_card **out)
{
    *out = NULL;
    cairn_model_version *v = NULL;
    char *text = NULL;
    cairn_status rc = cairn_model_version_get(ctx, name, version, &v);
    if (rc == CAIRN_OK)
        rc = stored_text(ctx, v, &text);
    if (rc == CAIRN_OK) {
        char missing[200];
        cairn_model_card *c = cn_xcalloc(1, sizeof *c);
        c->complete = cairn_model_card_check(text, missing, sizeof missing);
        c->markdown = text;
        c->missing = cn_xstrdup(missing);
        c->human_source = cn_xstrdup("the version's stored card");
        c->stored_as =
            cn_asprintf("runs:/%s/%s", v->run_id, tag_of(v->tags, v->n_tags, "cairn.model_card"));
        *out = c;
    }
    cairn_model_version_free(v);
    return rc;
}
