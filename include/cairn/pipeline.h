/* SPDX-License-Identifier: MIT */
/* pipeline.h - `cairn pipeline`: a pipeline.yaml's stages (validate, split, train, tune,
 * evaluate, register, promote, deploy, monitor, command) as a DAG, run in topological order as
 * child processes of the cairn executable, each stage a child run of the pipeline's parent run,
 * with a cache keyed on the stage's inputs' digests, its configuration and its upstream
 * outputs. The file format and the cache rules: docs/pipeline.md. */
#ifndef CAIRN_PIPELINE_H
#define CAIRN_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "cairn.h"
#include "tracking.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cairn_pipeline cairn_pipeline;

/* Reads a pipeline file. Errors name the file, line and key: an unknown stage kind lists the
 * known ones, an `after:` naming no stage says so, a cycle names its stages in order
 * ("stages 'a' -> 'b' -> 'a' form a cycle"). On success *out is freed with
 * cairn_pipeline_free(). Paths in the file are relative to its folder. */
CAIRN_API cairn_status cairn_pipeline_load(cairn_ctx *ctx, const char *path, cairn_pipeline **out);
/* The same from text; `label` names it in messages, `dir` is the folder paths are relative to
 * (NULL: "."). */
CAIRN_API cairn_status cairn_pipeline_parse(cairn_ctx *ctx, const char *label, const char *dir,
                                            const char *text, size_t len, cairn_pipeline **out);
CAIRN_API void cairn_pipeline_free(cairn_pipeline *p); /* NULL is a no-op */

CAIRN_API const char *cairn_pipeline_name(const cairn_pipeline *p); /* borrowed */
CAIRN_API size_t cairn_pipeline_n_stages(const cairn_pipeline *p);
/* Stage i of the topological order (ties keep file order): its name and kind, borrowed. */
CAIRN_API const char *cairn_pipeline_stage_name(const cairn_pipeline *p, size_t i);
CAIRN_API const char *cairn_pipeline_stage_kind(const cairn_pipeline *p, size_t i);
/* The names of the stages stage i depends on (from `after:` and from consuming another
 * stage's outputs), into names[0 .. max); returns how many there are. */
CAIRN_API size_t cairn_pipeline_stage_deps(const cairn_pipeline *p, size_t i, const char **names,
                                           size_t max);

typedef enum cairn_stage_state {
    CAIRN_STAGE_PENDING = 0, /* not reached (an earlier stage failed, or still to come) */
    CAIRN_STAGE_RAN,         /* ran and succeeded */
    CAIRN_STAGE_CACHED,      /* skipped: unchanged since its last successful run */
    CAIRN_STAGE_FAILED,      /* ran and failed; message says why */
    CAIRN_STAGE_WOULD_RUN,   /* --dry-run: would run; reason says why */
    CAIRN_STAGE_RUNNING      /* status: a run still under way (or killed without an end) */
} cairn_stage_state;
CAIRN_API const char *cairn_stage_state_str(cairn_stage_state s);

typedef struct cairn_stage_result {
    const char *name;
    const char *kind;
    cairn_stage_state state;
    const char *reason;  /* why it ran or was skipped: "cached", "input 'data.csv' changed" */
    const char *message; /* FAILED: what went wrong; else NULL */
    const char *run_id;  /* the stage's run (with CACHED: the run whose outputs are reused) */
    const char *outputs; /* the outputs as a JSON object of strings, or NULL */
    size_t n_outputs;    /* the same as pairs: run_id, model_file, version, serve_url, ... */
    const char *const *output_keys;
    const char *const *output_values;
    int64_t duration_ms;
} cairn_stage_result;

typedef struct cairn_pipeline_report {
    const char *pipeline;
    const char *run_id; /* the parent run; NULL for a dry run or when none was found */
    cairn_run_status status;
    int64_t start_time_ms;
    const char *serve_url; /* a deploy stage's server, or NULL */
    size_t n_stages;
    cairn_stage_result *stages; /* topological order */
    void *internal_;
} cairn_pipeline_report;
CAIRN_API void cairn_pipeline_report_free(cairn_pipeline_report *r); /* NULL is a no-op */

/* Called before each stage (is_done false; state RAN, CACHED or WOULD_RUN tells what will
 * happen) and after it (is_done true) with index in [0, n). */
typedef void (*cairn_pipeline_progress_fn)(void *user, size_t index, size_t n,
                                           const cairn_stage_result *stage, bool is_done);

typedef struct cairn_pipeline_opts {
    const char *cairn_exe;     /* the cairn executable stages run (required) */
    const char *store_uri;     /* passed to stages as --store (NULL: the ctx's; make it absolute) */
    const char *artifact_root; /* passed as --artifacts (NULL: the ctx's) */
    bool is_dry_run;           /* decide and report, run nothing, write nothing */
    const char *from_stage;    /* run this stage and every stage after it without the cache */
    cairn_pipeline_progress_fn progress;
    void *user;
} cairn_pipeline_opts;
#define CAIRN_PIPELINE_OPTS_INIT                                                                   \
    {                                                                                              \
        0                                                                                          \
    }

/* Runs the pipeline: a parent run in the experiment named after the pipeline (tags
 * cairn.pipeline, cairn.pipeline.file), a child run per stage (tag mlflow.parentRunId). The
 * first failing stage stops it: the report says which and why, the parent run ends FAILED and
 * the call returns CAIRN_OK (the report is the answer); errors before anything ran (a missing
 * input, no store) are returned. A later run starts again at that stage: completed stages hit
 * the cache. */
CAIRN_API cairn_status cairn_pipeline_run(cairn_ctx *ctx, const cairn_pipeline *p,
                                          const cairn_pipeline_opts *opts,
                                          cairn_pipeline_report **out);
/* The last run of the pipeline: each stage's state, duration and cache hit. ENOTFOUND when
 * it never ran. */
CAIRN_API cairn_status cairn_pipeline_status(cairn_ctx *ctx, const cairn_pipeline *p,
                                             cairn_pipeline_report **out);
/* Stops the server a deploy stage started (its pid file in the pipeline's state folder):
 * SIGTERM, then waits up to timeout_ms. *stopped is false when none was running. */
CAIRN_API cairn_status cairn_pipeline_stop(cairn_ctx *ctx, const cairn_pipeline *p,
                                           int64_t timeout_ms, bool *stopped);

/* ---- continual training: `cairn pipeline watch` (docs/pipeline.md, "Triggers") ---- */

typedef enum cairn_watch_outcome {
    CAIRN_WATCH_IDLE = 0, /* no trigger fired */
    CAIRN_WATCH_DEPLOYED, /* retrained; the candidate passed its gate and serves as a canary */
    CAIRN_WATCH_REFUSED   /* retrained; the gate refused the candidate (registered, not served) */
} cairn_watch_outcome;

/* One slice of the forgetting gate: champion and candidate scored on the same held-out rows. */
typedef struct cairn_watch_slice {
    const char *name; /* "old: mean radius in [12.3, 13.7)", "old: color=red", "new" */
    bool is_new;      /* the feed's held-out rows (not Holm-adjusted) */
    size_t n;         /* rows */
    double champion;  /* the metric (accuracy, or mse for regression) */
    double candidate;
    double diff;         /* candidate - champion */
    double pvalue;       /* the paired test's (McNemar, or Wilcoxon on absolute errors) */
    double p_adjusted;   /* Holm over the old slices; the new slice's own p */
    bool worse;          /* significantly worse: adjusted p < 0.05 and the metric worse */
    const char *verdict; /* "worse", "better", "same" (no significant difference) */
} cairn_watch_slice;

typedef struct cairn_watch_report {
    cairn_watch_outcome outcome;
    const char *trigger; /* "drift", "monitor", "schedule", or NULL when idle */
    const char *reason;  /* why it fired, or why nothing fired */
    double drift_share;  /* the feed's share of drifted features; NaN when not checked */
    const char *model;
    int64_t champion_version, candidate_version; /* candidate 0 when idle */
    const char *run_id;                          /* the candidate's training run, or NULL */
    const char *dir;        /* .cairn-pipeline/continual/N: data.csv, config.json, gate.json */
    const char *metric;     /* "accuracy" or "mse" */
    const char *test;       /* "mcnemar" or "wilcoxon" */
    const char *slice_rule; /* how the old rows were sliced */
    size_t n_slices;
    cairn_watch_slice *slices; /* the old slices, then "new" */
    const char *refusal;       /* REFUSED: which slices, in words */
    const char *serve_url;     /* DEPLOYED: the canary server */
    int canary_percent;
    void *internal_;
} cairn_watch_report;
CAIRN_API void cairn_watch_report_free(cairn_watch_report *r); /* NULL is a no-op */

typedef struct cairn_watch_opts {
    const char *cairn_exe;     /* the cairn executable (required) */
    const char *store_uri;     /* passed to children as --store (absolute) */
    const char *artifact_root; /* passed as --artifacts */
    int canary_percent;        /* 1..99; 0: 10 */
} cairn_watch_opts;
#define CAIRN_WATCH_OPTS_INIT                                                                      \
    {                                                                                              \
        0                                                                                          \
    }

/* One check of the pipeline's trigger: section. When it fires, retrains on the champion's
 * training data plus the feed, gates the candidate against forgetting (per-slice paired tests
 * on held-out rows, Holm over the old slices), registers it, and when it passes serves it as a
 * canary beside the champion (`cairn serve --route`). Errors (no trigger, no deploy stage, a
 * feed whose columns differ, ...) are returned; a refused candidate is CAIRN_OK with outcome
 * REFUSED. */
CAIRN_API cairn_status cairn_pipeline_watch_once(cairn_ctx *ctx, const cairn_pipeline *p,
                                                 const cairn_watch_opts *opts,
                                                 cairn_watch_report **out);
/* The trigger's polling interval: schedule.every, else 60 s. */
CAIRN_API int64_t cairn_pipeline_watch_interval_s(const cairn_pipeline *p);

#ifdef __cplusplus
}
#endif
#endif
