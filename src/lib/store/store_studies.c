/* SPDX-License-Identifier: MIT */
/* store_studies.c - the SQL store's studies and trials (schema 006_studies): create or load a
 * study, claim the next trial atomically (the study's lock: BEGIN IMMEDIATE on SQLite, an
 * advisory lock and row locks on PostgreSQL), finish, report, beat, enqueue, read. Members of
 * cn_store_sql_ops, called by hpo/study.c. Every trial's run is made in the claim's
 * transaction, so a trial never exists without its run. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "store/store.h"
#include "store/store_runs.h"
#include "store/store_studies.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char *const state_names[] = {"RUNNING", "COMPLETE", "PRUNED",
                                          "FAIL",    "WAITING",  "STALE"};

const char *cn_trial_state_name(cairn_trial_state st)
{
    return (int)st >= 0 && (size_t)st < CN_ARRAY_LEN(state_names) ? state_names[st] : "FAIL";
}

static cairn_trial_state state_from(const char *s)
{
    for (size_t i = 0; i < CN_ARRAY_LEN(state_names); i++)
        if (strcmp(s, state_names[i]) == 0)
            return (cairn_trial_state)i;
    return CAIRN_TRIAL_FAIL;
}

void cn_study_row_release(cn_study_row *row)
{
    if (!row)
        return;
    free(row->name);
    free(row->experiment_id);
    free(row->space);
    free(row->objective);
    free(row->strategy);
    free(row->sampler);
    free(row->pruner);
    memset(row, 0, sizeof *row);
}

#define STUDY_COLUMNS                                                                              \
    "s.study_id, s.name, s.experiment_id, s.space, s.space_format, s.objective, s.direction, "     \
    "s.strategy, s.sampler, s.pruner, s.seed, s.heartbeat_interval_ms, s.creation_time"

static void study_from_row(cairn_ctx *ctx, cn_stmt *st, cn_study_row *out)
{
    char id[32];
    memset(out, 0, sizeof *out);
    out->study_id = cn_col_int(ctx, st, 0);
    out->name = cn_xstrdup(cn_col_text(ctx, st, 1));
    snprintf(id, sizeof id, "%lld", (long long)cn_col_int(ctx, st, 2));
    out->experiment_id = cn_xstrdup(id);
    out->space = cn_xstrdup(cn_col_text(ctx, st, 3));
    out->space_format = (int)cn_col_int(ctx, st, 4);
    out->objective = cn_xstrdup(cn_col_text(ctx, st, 5));
    out->maximize = strcmp(cn_col_text(ctx, st, 6), "maximize") == 0;
    out->strategy = cn_xstrdup(cn_col_text(ctx, st, 7));
    out->sampler = cn_xstrdup(cn_col_text(ctx, st, 8));
    out->pruner = cn_xstrdup(cn_col_text(ctx, st, 9));
    out->seed = cn_col_int(ctx, st, 10);
    out->heartbeat_interval_ms = cn_col_int(ctx, st, 11);
    out->creation_ms = cn_col_int(ctx, st, 12);
}

/* Reads study `name` into *out; *found says whether it exists. */
static cairn_status study_read(cairn_ctx *ctx, const char *name, cn_study_row *out, bool *found)
{
    cn_stmt *st = NULL;
    *found = false;
    memset(out, 0, sizeof *out);
    cairn_status rc = cn_store_query(
        ctx, &st, "SELECT " STUDY_COLUMNS " FROM studies s WHERE s.name = ?", "s", name);
    if (rc != CAIRN_OK)
        return rc;
    int r = cn_store_step(ctx, st);
    if (r == CN_DB_ROW) {
        study_from_row(ctx, st, out);
        *found = true;
    }
    cn_store_finalize(ctx, st);
    return r == CN_DB_ROW || r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
}

/* A nullable integer column's bound text: NULL below 0 (no grid point, no retry). */
static const char *opt_int(char buf[32], int64_t v)
{
    if (v < 0)
        return NULL;
    snprintf(buf, 32, "%lld", (long long)v);
    return buf;
}

/* The advisory lock of one study (PostgreSQL; SQLite's begin() already holds the file). */
static cairn_status lock_study(cairn_ctx *ctx, int64_t key)
{
    cn_sql_store *s = cn_store_sql(ctx);
    return s->db_ops->lock_key(s->db, key);
}

static int64_t name_key(const char *name)
{
    uint64_t h = 1469598103934665603u ^ 0x5717u;
    for (const char *p = name; *p; p++)
        h = (h ^ (unsigned char)*p) * 1099511628211u;
    return (int64_t)(h >> 1);
}

#define STUDY_LOCK(id) ((int64_t)0x57d0000000000000 + (id))

cairn_status cn_store_study_create(cairn_ctx *ctx, const cn_study_row *in, cn_study_row *out,
                                   bool *created)
{
    bool found = false;
    *created = false;
    memset(out, 0, sizeof *out);
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = lock_study(ctx, name_key(in->name));
    if (rc == CAIRN_OK)
        rc = study_read(ctx, in->name, out, &found);
    if (rc == CAIRN_OK && !found) {
        rc = cn_store_run(ctx,
                          "INSERT INTO studies (name, experiment_id, space, space_format, "
                          "objective, direction, strategy, sampler, pruner, seed, "
                          "heartbeat_interval_ms, creation_time) VALUES (?, ?, ?, ?, ?, ?, ?, ?, "
                          "?, ?, ?, ?)",
                          "sisisssssiii", in->name, (int64_t)strtoll(in->experiment_id, NULL, 10),
                          in->space, (int64_t)in->space_format, in->objective,
                          in->maximize ? "maximize" : "minimize", in->strategy, in->sampler,
                          in->pruner, in->seed, in->heartbeat_interval_ms, in->creation_ms);
        if (rc == CAIRN_OK)
            rc = study_read(ctx, in->name, out, &found);
        if (rc == CAIRN_OK && !found)
            rc = cn_fail(ctx, CAIRN_EINTERNAL, "study '%s' vanished after its insert", in->name);
        *created = rc == CAIRN_OK;
    }
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        cn_study_row_release(out);
        return rc;
    }
    rc = cn_store_commit(ctx);
    if (rc != CAIRN_OK)
        cn_study_row_release(out);
    return rc;
}

cairn_status cn_store_study_get(cairn_ctx *ctx, const char *name, cn_study_row *out)
{
    bool found = false;
    cairn_status rc = study_read(ctx, name, out, &found);
    if (rc == CAIRN_OK && !found)
        return cn_fail(ctx, CAIRN_ENOTFOUND, "study '%s' not found", name);
    return rc;
}

cairn_status cn_store_studies_list(cairn_ctx *ctx, cn_study_row **out, size_t *n)
{
    cn_stmt *st = NULL;
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    cairn_status rc = cn_store_query(
        ctx, &st,
        "SELECT " STUDY_COLUMNS ", COUNT(t.number), "
        "COALESCE(SUM(CASE WHEN t.state = 'COMPLETE' THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN t.state = 'PRUNED' THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN t.state IN ('FAIL', 'STALE') THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN t.state = 'RUNNING' THEN 1 ELSE 0 END), 0), "
        "MIN(CASE WHEN t.state = 'COMPLETE' THEN t.value END), "
        "MAX(CASE WHEN t.state = 'COMPLETE' THEN t.value END) "
        "FROM studies s LEFT JOIN trials t ON t.study_id = s.study_id "
        "GROUP BY s.study_id ORDER BY s.name",
        "");
    if (rc != CAIRN_OK)
        return rc;
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        if (*n == cap) {
            cap = cap ? cap * 2 : 8;
            *out = cn_xrealloc(*out, cap * sizeof **out);
        }
        cn_study_row *row = &(*out)[(*n)++];
        study_from_row(ctx, st, row);
        row->n_trials = cn_col_int(ctx, st, 13);
        row->n_complete = cn_col_int(ctx, st, 14);
        row->n_pruned = cn_col_int(ctx, st, 15);
        row->n_fail = cn_col_int(ctx, st, 16);
        row->n_running = cn_col_int(ctx, st, 17);
        int col = row->maximize ? 19 : 18;
        row->has_best = !cn_col_is_null(ctx, st, col);
        row->best_value = row->has_best ? cn_col_double(ctx, st, col) : NAN;
    }
    cn_store_finalize(ctx, st);
    if (r != CN_DB_DONE) {
        for (size_t i = 0; i < *n; i++)
            cn_study_row_release(&(*out)[i]);
        free(*out);
        *out = NULL;
        *n = 0;
        return (cairn_status)r;
    }
    return CAIRN_OK;
}

cairn_status cn_store_study_delete(cairn_ctx *ctx, const char *name)
{
    cn_study_row row;
    bool found = false;
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = study_read(ctx, name, &row, &found);
    if (rc == CAIRN_OK && !found)
        rc = cn_fail(ctx, CAIRN_ENOTFOUND, "study '%s' not found", name);
    if (rc == CAIRN_OK)
        rc = lock_study(ctx, STUDY_LOCK(row.study_id));
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx, "DELETE FROM trial_values WHERE study_id = ?", "i", row.study_id);
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx, "DELETE FROM trials WHERE study_id = ?", "i", row.study_id);
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx, "DELETE FROM studies WHERE study_id = ?", "i", row.study_id);
    cn_study_row_release(&row);
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        return rc;
    }
    return cn_store_commit(ctx);
}

/* ---- trials ---- */

#define TRIAL_COLUMNS                                                                              \
    "number, state, value, params, grid_index, run_uuid, retry_of, start_time, end_time, "         \
    "heartbeat_ms"

static void trial_from_row(cairn_ctx *ctx, cn_stmt *st, cn_trial_row *t)
{
    t->number = cn_col_int(ctx, st, 0);
    t->state = state_from(cn_col_text(ctx, st, 1));
    t->has_value = !cn_col_is_null(ctx, st, 2);
    t->value = t->has_value ? cn_col_double(ctx, st, 2) : NAN;
    t->params = cn_col_text(ctx, st, 3);
    t->grid_index = cn_col_is_null(ctx, st, 4) ? -1 : cn_col_int(ctx, st, 4);
    t->run_id = cn_col_text(ctx, st, 5);
    t->retry_of = cn_col_is_null(ctx, st, 6) ? -1 : cn_col_int(ctx, st, 6);
    t->start_ms = cn_col_is_null(ctx, st, 7) ? 0 : cn_col_int(ctx, st, 7);
    t->end_ms = cn_col_is_null(ctx, st, 8) ? 0 : cn_col_int(ctx, st, 8);
    t->heartbeat_ms = cn_col_is_null(ctx, st, 9) ? 0 : cn_col_int(ctx, st, 9);
}

cairn_status cn_store_trials_read(cairn_ctx *ctx, int64_t study_id, int64_t from_number,
                                  cn_trial_fn on_trial, cn_trial_value_fn on_value, void *user)
{
    cn_stmt *st = NULL;
    cairn_status rc = cn_store_query(
        ctx, &st,
        "SELECT " TRIAL_COLUMNS " FROM trials WHERE study_id = ? AND number >= ? ORDER BY number",
        "ii", study_id, from_number);
    if (rc != CAIRN_OK)
        return rc;
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        cn_trial_row t;
        trial_from_row(ctx, st, &t);
        rc = on_trial(user, &t);
        if (rc != CAIRN_OK)
            break;
    }
    cn_store_finalize(ctx, st);
    if (rc != CAIRN_OK)
        return rc;
    if (r != CN_DB_DONE)
        return (cairn_status)r;
    if (!on_value)
        return CAIRN_OK;
    rc = cn_store_query(ctx, &st,
                        "SELECT number, step, value FROM trial_values WHERE study_id = ? AND "
                        "number >= ? ORDER BY number, step",
                        "ii", study_id, from_number);
    if (rc != CAIRN_OK)
        return rc;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        double v = cn_col_is_null(ctx, st, 2) ? NAN : cn_col_double(ctx, st, 2);
        rc = on_value(user, cn_col_int(ctx, st, 0), cn_col_int(ctx, st, 1), v);
        if (rc != CAIRN_OK)
            break;
    }
    cn_store_finalize(ctx, st);
    if (rc != CAIRN_OK)
        return rc;
    return r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
}

/* The next trial number of a study (0 for the first); the study's lock is held. */
static cairn_status next_number(cairn_ctx *ctx, int64_t study_id, int64_t *out)
{
    bool found;
    return cn_store_query_int(ctx, out, &found,
                              "SELECT COALESCE(MAX(number), -1) + 1 FROM trials WHERE study_id = ?",
                              "i", study_id);
}

/* Queues a WAITING copy of trial `of` (params, grid point, its line's retries so far) as the
 * next number, *number_out; the study's lock is held. */
static cairn_status queue_copy(cairn_ctx *ctx, int64_t study_id, int64_t of, const char *params,
                               int64_t grid_index, int64_t retries, int64_t *number_out)
{
    char gbuf[32];
    cairn_status rc = next_number(ctx, study_id, number_out);
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx,
                          "INSERT INTO trials (study_id, number, state, params, grid_index, "
                          "retry_of, retries) VALUES (?, ?, 'WAITING', ?, ?, ?, ?)",
                          "iissii", study_id, *number_out, params, opt_int(gbuf, grid_index), of,
                          retries + 1);
    return rc;
}

typedef struct stale_trial {
    int64_t number, grid_index, retries;
    char *params;
    char *run_id;
} stale_trial;

/* Stores the study's stale trials as STALE, their runs KILLED (reason "lost"), and queues a
 * WAITING copy of each while retries remain. Inside the claim's transaction. */
static cairn_status reap_stale(cairn_ctx *ctx, const cn_trial_claim *in)
{
    cn_stmt *st = NULL;
    stale_trial *list = NULL;
    size_t n = 0, cap = 0;
    cairn_status rc = cn_store_query(ctx, &st,
                                     "SELECT number, params, grid_index, retries, run_uuid FROM "
                                     "trials WHERE study_id = ? AND state = 'RUNNING' AND "
                                     "heartbeat_ms < ? ORDER BY number",
                                     "ii", in->study_id, in->stale_before_ms);
    if (rc != CAIRN_OK)
        return rc;
    int r;
    while ((r = cn_store_step(ctx, st)) == CN_DB_ROW) {
        if (n == cap) {
            cap = cap ? cap * 2 : 4;
            list = cn_xrealloc(list, cap * sizeof *list);
        }
        list[n].number = cn_col_int(ctx, st, 0);
        list[n].params = cn_xstrdup(cn_col_text(ctx, st, 1));
        list[n].grid_index = cn_col_is_null(ctx, st, 2) ? -1 : cn_col_int(ctx, st, 2);
        list[n].retries = cn_col_int(ctx, st, 3);
        list[n].run_id = cn_xstrdup(cn_col_text(ctx, st, 4));
        n++;
    }
    cn_store_finalize(ctx, st);
    if (r != CN_DB_DONE)
        rc = (cairn_status)r;
    for (size_t i = 0; rc == CAIRN_OK && i < n; i++) {
        stale_trial *t = &list[i];
        rc = cn_store_run(ctx,
                          "UPDATE trials SET state = 'STALE', grid_index = NULL, end_time = ?, "
                          "heartbeat_ms = NULL WHERE study_id = ? AND number = ?",
                          "iii", in->now_ms, in->study_id, t->number);
        if (rc == CAIRN_OK && t->run_id[0])
            rc = cn_store_run(ctx,
                              "UPDATE runs SET status = 'KILLED', end_time = ? WHERE run_uuid = ? "
                              "AND status = 'RUNNING'",
                              "is", in->now_ms, t->run_id);
        if (rc == CAIRN_OK && t->run_id[0]) {
            cairn_tag tags[] = {{CN_STATUS_REASON_TAG, "lost"}, {"cairn.trial_state", "STALE"}};
            rc = cn_store_log_batch(ctx, t->run_id, NULL, 0, NULL, 0, tags, 2);
        }
        if (rc == CAIRN_OK && t->retries < in->max_retries) {
            int64_t number = 0;
            rc = queue_copy(ctx, in->study_id, t->number, t->params, t->grid_index, t->retries,
                            &number);
        }
    }
    for (size_t i = 0; i < n; i++) {
        free(list[i].params);
        free(list[i].run_id);
    }
    free(list);
    return rc;
}

/* The lowest WAITING trial, claimed for this transaction: *number (-1: none) and *params. */
static cairn_status first_waiting(cairn_ctx *ctx, int64_t study_id, int64_t *number,
                                  int64_t *retry_of, char **params)
{
    cn_stmt *st = NULL;
    char sql[256];
    *number = -1;
    *retry_of = -1;
    *params = NULL;
    snprintf(sql, sizeof sql,
             "SELECT number, params, retry_of FROM trials WHERE study_id = ? AND state = "
             "'WAITING' ORDER BY number LIMIT 1%s",
             cn_store_claim_suffix(ctx));
    cairn_status rc = cn_store_query(ctx, &st, sql, "i", study_id);
    if (rc != CAIRN_OK)
        return rc;
    int r = cn_store_step(ctx, st);
    if (r == CN_DB_ROW) {
        *number = cn_col_int(ctx, st, 0);
        *params = cn_xstrdup(cn_col_text(ctx, st, 1));
        *retry_of = cn_col_is_null(ctx, st, 2) ? -1 : cn_col_int(ctx, st, 2);
    }
    cn_store_finalize(ctx, st);
    return r == CN_DB_ROW || r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
}

/* What counts toward a study's target (cn_trial_claim.target): *counted the trials COMPLETE,
 * PRUNED, FAIL, RUNNING or WAITING less the FAIL ones a retry copy replaces, *waiting and
 * *running those WAITING and RUNNING. The study's lock is held. */
static cairn_status count_budget(cairn_ctx *ctx, int64_t study_id, int64_t *counted,
                                 int64_t *waiting, int64_t *running)
{
    cn_stmt *st = NULL;
    int64_t replaced = 0;
    bool found;
    cairn_status rc = cn_store_query(
        ctx, &st,
        "SELECT COALESCE(SUM(CASE WHEN state IN ('COMPLETE', 'PRUNED', 'FAIL', 'RUNNING', "
        "'WAITING') THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN state = 'WAITING' THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN state = 'RUNNING' THEN 1 ELSE 0 END), 0) "
        "FROM trials WHERE study_id = ?",
        "i", study_id);
    if (rc != CAIRN_OK)
        return rc;
    int r = cn_store_step(ctx, st);
    if (r == CN_DB_ROW) {
        *counted = cn_col_int(ctx, st, 0);
        *waiting = cn_col_int(ctx, st, 1);
        *running = cn_col_int(ctx, st, 2);
    }
    cn_store_finalize(ctx, st);
    if (r != CN_DB_ROW)
        return r == CN_DB_DONE ? cn_fail(ctx, CAIRN_EINTERNAL, "trial count returned no row")
                               : (cairn_status)r;
    rc = cn_store_query_int(ctx, &replaced, &found,
                            "SELECT COUNT(*) FROM trials r JOIN trials o ON o.study_id = "
                            "r.study_id AND o.number = r.retry_of WHERE r.study_id = ? AND "
                            "r.retry_of IS NOT NULL AND o.state = 'FAIL'",
                            "i", study_id);
    *counted -= replaced;
    return rc;
}

cairn_status cn_store_trial_claim(cairn_ctx *ctx, const cn_trial_claim *in, cn_trial_claimed *out)
{
    char *waiting = NULL, gbuf[32];
    cn_run_row run;
    int64_t number = -1;
    memset(out, 0, sizeof *out);
    memset(&run, 0, sizeof run);
    out->number = -1;
    out->retry_of = -1;
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = lock_study(ctx, STUDY_LOCK(in->study_id));
    if (rc == CAIRN_OK)
        rc = reap_stale(ctx, in);
    if (rc == CAIRN_OK && in->on_trial)
        rc = cn_store_trials_read(ctx, in->study_id, in->from_number, in->on_trial, in->on_value,
                                  in->user_data);
    if (rc == CAIRN_OK)
        rc = first_waiting(ctx, in->study_id, &number, &out->retry_of, &waiting);
    if (rc == CAIRN_OK && in->target > 0) {
        int64_t n_waiting = 0;
        rc = count_budget(ctx, in->study_id, &out->n_counted, &n_waiting, &out->n_running);
        if (rc == CAIRN_OK &&
            (waiting ? out->n_counted - n_waiting : out->n_counted) >= in->target) {
            /* Full: keep what the reaping did, claim nothing. */
            free(waiting);
            out->full = true;
            out->retry_of = -1;
            return cn_store_commit(ctx);
        }
    }
    if (rc == CAIRN_OK && number < 0)
        rc = next_number(ctx, in->study_id, &number);
    cn_trial_proposal prop = {.grid_index = -1};
    if (rc == CAIRN_OK)
        rc = in->propose(in->user_data, number, waiting, &prop);
    if (rc == CAIRN_OK) {
        char trial[32], retry_of[32];
        snprintf(trial, sizeof trial, "%lld", (long long)number);
        snprintf(retry_of, sizeof retry_of, "%lld", (long long)out->retry_of);
        cairn_tag tags[] = {
            {"cairn.study", in->study_name}, {"cairn.trial", trial}, {"cairn.retry_of", retry_of}};
        cn_run_new rn = {.experiment_id = in->experiment_id,
                         .name = prop.run_name,
                         .user = in->user,
                         .start_ms = in->now_ms,
                         .tags = tags,
                         .n_tags = out->retry_of >= 0 ? 3 : 2,
                         .heartbeat_interval_ms = in->heartbeat_interval_ms};
        rc = cn_store_run_create(ctx, &rn, &run);
        if (rc == CAIRN_OK && prop.n_params)
            rc = cn_store_log_batch(ctx, run.run_id, NULL, 0, prop.params, prop.n_params, NULL, 0);
    }
    if (rc == CAIRN_OK && waiting)
        rc = cn_store_run(ctx,
                          "UPDATE trials SET state = 'RUNNING', run_uuid = ?, start_time = ?, "
                          "heartbeat_ms = ? WHERE study_id = ? AND number = ?",
                          "siiii", run.run_id, in->now_ms, in->now_ms, in->study_id, number);
    else if (rc == CAIRN_OK)
        rc = cn_store_run(ctx,
                          "INSERT INTO trials (study_id, number, state, params, grid_index, "
                          "run_uuid, start_time, heartbeat_ms) VALUES (?, ?, 'RUNNING', ?, ?, ?, "
                          "?, ?)",
                          "iisssii", in->study_id, number, prop.params_text ? prop.params_text : "",
                          opt_int(gbuf, prop.grid_index), run.run_id, in->now_ms, in->now_ms);
    free(waiting);
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        cn_run_row_release(&run);
        return rc;
    }
    rc = cn_store_commit(ctx);
    if (rc == CAIRN_OK) {
        out->number = number;
        memcpy(out->run_id, run.run_id, sizeof out->run_id);
    }
    cn_run_row_release(&run);
    return rc;
}

/* Queues a WAITING copy of failed trial `number` (its params and grid point, which the failed
 * one gives up) when its line's retries stay below retry_max; *retry_number is the copy's
 * number, else -1. Inside trial_finish's transaction, which holds the study's lock. */
static cairn_status queue_retry(cairn_ctx *ctx, int64_t study_id, int64_t number, int retry_max,
                                int64_t *retry_number)
{
    cn_stmt *st = NULL;
    char *params = NULL;
    int64_t grid_index = -1, retries = 0, copy = 0;
    cairn_status rc =
        cn_store_query(ctx, &st,
                       "SELECT params, grid_index, retries FROM trials WHERE study_id = ? "
                       "AND number = ?",
                       "ii", study_id, number);
    if (rc != CAIRN_OK)
        return rc;
    int r = cn_store_step(ctx, st);
    if (r == CN_DB_ROW) {
        params = cn_xstrdup(cn_col_text(ctx, st, 0));
        grid_index = cn_col_is_null(ctx, st, 1) ? -1 : cn_col_int(ctx, st, 1);
        retries = cn_col_int(ctx, st, 2);
    }
    cn_store_finalize(ctx, st);
    if (r != CN_DB_ROW)
        return r == CN_DB_DONE ? CAIRN_OK : (cairn_status)r;
    if (retries < retry_max) {
        rc = cn_store_run(ctx,
                          "UPDATE trials SET grid_index = NULL WHERE study_id = ? AND number = ?",
                          "ii", study_id, number);
        if (rc == CAIRN_OK)
            rc = queue_copy(ctx, study_id, number, params, grid_index, retries, &copy);
        if (rc == CAIRN_OK)
            *retry_number = copy;
    }
    free(params);
    return rc;
}

cairn_status cn_store_trial_finish(cairn_ctx *ctx, int64_t study_id, int64_t number,
                                   cairn_trial_state state, bool has_value, double value,
                                   const char *reason, int64_t now_ms, int retry_max,
                                   int64_t *retry_number)
{
    cn_stmt *st = NULL;
    char *run_id = NULL;
    cairn_trial_state was = CAIRN_TRIAL_FAIL;
    int64_t copy = -1;
    if (retry_number)
        *retry_number = -1;
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    /* A retry takes the study's lock first, as a claim does, so that the two never wait for
     * each other in opposite orders. */
    if (state == CAIRN_TRIAL_FAIL && retry_max > 0)
        rc = lock_study(ctx, STUDY_LOCK(study_id));
    if (rc == CAIRN_OK)
        rc = cn_store_query(ctx, &st,
                            "SELECT state, run_uuid FROM trials WHERE study_id = ? AND number = ?",
                            "ii", study_id, number);
    int r = rc == CAIRN_OK ? cn_store_step(ctx, st) : (int)rc;
    if (r == CN_DB_ROW) {
        was = state_from(cn_col_text(ctx, st, 0));
        run_id = cn_xstrdup(cn_col_text(ctx, st, 1));
    }
    cn_store_finalize(ctx, st);
    if (r == CN_DB_DONE)
        rc = cn_fail(ctx, CAIRN_ENOTFOUND, "trial %lld not found", (long long)number);
    else if (r != CN_DB_ROW)
        rc = (cairn_status)r;
    else if (was != CAIRN_TRIAL_RUNNING)
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "trial %lld is %s, not RUNNING: only a running trial can be told%s",
                     (long long)number, cn_trial_state_name(was),
                     was == CAIRN_TRIAL_STALE ? " (it lost its heartbeat and was retried)" : "");
    static const char set_state[] = "UPDATE trials SET state = ?, value = ?, end_time = ?, "
                                    "heartbeat_ms = NULL WHERE study_id = ? AND number = ?";
    if (rc == CAIRN_OK && has_value && !isnan(value))
        rc = cn_store_run(ctx, set_state, "sdiii", cn_trial_state_name(state), value, now_ms,
                          study_id, number);
    else if (rc == CAIRN_OK)
        rc = cn_store_run(ctx, set_state, "ssiii", cn_trial_state_name(state), (const char *)NULL,
                          now_ms, study_id, number);
    if (rc == CAIRN_OK && run_id[0]) {
        const char *status = state == CAIRN_TRIAL_COMPLETE ? "FINISHED"
                             : state == CAIRN_TRIAL_PRUNED ? "KILLED"
                                                           : "FAILED";
        rc = cn_store_run(ctx,
                          "UPDATE runs SET status = ?, end_time = ?, heartbeat_ms = NULL, "
                          "heartbeat_interval_ms = NULL WHERE run_uuid = ?",
                          "sis", status, now_ms, run_id);
        cairn_tag tags[] = {{"cairn.trial_state", cn_trial_state_name(state)},
                            {CN_STATUS_REASON_TAG, reason}};
        if (rc == CAIRN_OK)
            rc = cn_store_log_batch(ctx, run_id, NULL, 0, NULL, 0, tags, reason ? 2 : 1);
    }
    free(run_id);
    if (rc == CAIRN_OK && state == CAIRN_TRIAL_FAIL && retry_max > 0)
        rc = queue_retry(ctx, study_id, number, retry_max, &copy);
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        return rc;
    }
    rc = cn_store_commit(ctx);
    if (rc == CAIRN_OK && retry_number)
        *retry_number = copy;
    return rc;
}

static cairn_status beat(cairn_ctx *ctx, int64_t study_id, int64_t number, int64_t now_ms)
{
    cairn_status rc = cn_store_run(ctx,
                                   "UPDATE trials SET heartbeat_ms = ? WHERE study_id = ? AND "
                                   "number = ? AND state = 'RUNNING'",
                                   "iii", now_ms, study_id, number);
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx,
                          "UPDATE runs SET heartbeat_ms = ? WHERE status = 'RUNNING' AND "
                          "run_uuid = (SELECT run_uuid FROM trials WHERE study_id = ? AND number "
                          "= ?)",
                          "iii", now_ms, study_id, number);
    return rc;
}

cairn_status cn_store_trial_report(cairn_ctx *ctx, int64_t study_id, int64_t number, int64_t step,
                                   double value, int64_t now_ms)
{
    cn_buf sql = CN_BUF_INIT;
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    cn_store_upsert_sql(&sql, "trial_values", "study_id, number, step, value",
                        "study_id, number, step", NULL);
    rc = cn_store_run(ctx, cn_buf_str(&sql), "iiid", study_id, number, step, value);
    cn_buf_release(&sql);
    if (rc == CAIRN_OK)
        rc = beat(ctx, study_id, number, now_ms);
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        return rc;
    }
    return cn_store_commit(ctx);
}

cairn_status cn_store_trial_heartbeat(cairn_ctx *ctx, int64_t study_id, int64_t number,
                                      int64_t now_ms)
{
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = beat(ctx, study_id, number, now_ms);
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        return rc;
    }
    return cn_store_commit(ctx);
}

cairn_status cn_store_trial_enqueue(cairn_ctx *ctx, int64_t study_id, const char *params_text,
                                    int64_t grid_index, int64_t *number_out)
{
    int64_t number = 0;
    char gbuf[32];
    *number_out = -1;
    cairn_status rc = cn_store_begin(ctx);
    if (rc != CAIRN_OK)
        return rc;
    rc = lock_study(ctx, STUDY_LOCK(study_id));
    if (rc == CAIRN_OK)
        rc = next_number(ctx, study_id, &number);
    if (rc == CAIRN_OK)
        rc = cn_store_run(ctx,
                          "INSERT INTO trials (study_id, number, state, params, grid_index) "
                          "VALUES (?, ?, 'WAITING', ?, ?)",
                          "iiss", study_id, number, params_text, opt_int(gbuf, grid_index));
    if (rc != CAIRN_OK) {
        cn_store_rollback(ctx);
        return rc;
    }
    rc = cn_store_commit(ctx);
    if (rc == CAIRN_OK)
        *number_out = number;
    return rc;
}
