/* SPDX-License-Identifier: MIT */
/* logged_model.h - MLflow 3.x logged models: a model logged to an experiment (usually by a
 * run) with its own id ("m-" and 32 hex characters), artifact folder, status, params, tags
 * and metrics, and the run outputs that link runs to the models they produced. Entities and
 * rules follow MLflow's LoggedModel (service.proto) so the REST server maps one to one; see
 * docs/logged-models.md. */
#ifndef CAIRN_LOGGED_MODEL_H
#define CAIRN_LOGGED_MODEL_H

#include "cairn.h"
#include "tracking.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_LOGGED_MODEL_NAME_MAX 500      /* characters of a logged model's name */
#define CAIRN_LOGGED_MODEL_SEARCH_DEFAULT 50 /* max_results 0 in a search */
#define CAIRN_LOGGED_MODEL_SEARCH_MAX 50000
#define CAIRN_LOGGED_MODEL_BATCH_MAX 1000 /* params, tags, metrics or outputs in one call */

/* MLflow's LoggedModelStatus; a model starts PENDING and is finalized READY or UPLOAD_FAILED. */
typedef enum cairn_logged_model_status {
    CAIRN_LOGGED_MODEL_PENDING = 1,
    CAIRN_LOGGED_MODEL_READY,
    CAIRN_LOGGED_MODEL_UPLOAD_FAILED
} cairn_logged_model_status;

/* "LOGGED_MODEL_PENDING", "LOGGED_MODEL_READY", "LOGGED_MODEL_UPLOAD_FAILED"; NULL for an
 * unknown value. */
CAIRN_API const char *cairn_logged_model_status_str(cairn_logged_model_status st);
/* Parses the names above; EINVAL naming the value otherwise. */
CAIRN_API cairn_status cairn_logged_model_status_parse(cairn_ctx *ctx, const char *text,
                                                       cairn_logged_model_status *out);

/* One metric point of a logged model (MLflow's Metric with model_id set). */
typedef struct cairn_logged_model_metric {
    const char *key;
    double value;         /* NaN and +-Inf are kept exactly */
    int64_t timestamp_ms; /* 0 in an input means now */
    int64_t step;
    const char *run_id;         /* the run that measured it; NULL or "" when none */
    const char *dataset_name;   /* NULL or "" when none */
    const char *dataset_digest; /* NULL or "" when none */
} cairn_logged_model_metric;

/* A registered model version made from a logged model (model_versions.model_id). */
typedef struct cairn_logged_model_registration {
    const char *name;
    int64_t version;
} cairn_logged_model_registration;

/* A logged model. Strings and arrays belong to the object; fields never set are "". */
typedef struct cairn_logged_model {
    const char *model_id; /* "m-" and 32 hex characters */
    const char *experiment_id;
    const char *name;
    const char *model_type;
    const char *source_run_id; /* "" when none */
    cairn_logged_model_status status;
    const char *status_message;
    const char *creator_id; /* who created it (a user name) */
    int64_t creation_time_ms;
    int64_t last_updated_time_ms;
    /* The model's artifact folder, absolute: "<experiment artifact location>/models/<model_id>/
     * artifacts" (a file:// prefix stripped), as run folders are "<...>/<run_id>/artifacts". */
    const char *artifact_location;
    size_t n_tags;
    cairn_tag *tags; /* by key */
    size_t n_params;
    cairn_param *params; /* by key */
    size_t n_metrics;
    cairn_logged_model_metric *metrics; /* every point, by (key, step, timestamp) */
    size_t n_registrations;
    cairn_logged_model_registration *registrations; /* live versions, by (name, version) */
    void *internal_;                                /* owned memory; do not touch */
} cairn_logged_model;

typedef struct cairn_logged_model_opts {
    const char *experiment_id; /* required; the experiment must exist and be active */
    const char *name;          /* NULL or "": a generated one ("model-" and 8 random hex) */
    const char *model_type;    /* free text ("sklearn", "agent"); NULL: "" */
    const char *source_run_id; /* the run that logged it; NULL: none. It must exist */
    const char *creator;       /* NULL: the login name */
    const cairn_param *params; /* write-once, as a run's */
    size_t n_params;
    const cairn_tag *tags;
    size_t n_tags;
} cairn_logged_model_opts;
#define CAIRN_LOGGED_MODEL_OPTS_INIT                                                               \
    {                                                                                              \
        0                                                                                          \
    }

/* Creates a logged model in status PENDING with its params and tags (one transaction) and
 * makes its artifact folder. *out is the new model, freed with cairn_logged_model_free().
 * ENOTFOUND for an unknown experiment or source run, EINVAL for a deleted experiment, a name
 * with '/', ':', '.', '%', '"' or '\'' (a 3.x client finds a model by the first segment of an
 * artifact path), an invalid key or text that is not UTF-8. */
CAIRN_API cairn_status cairn_logged_model_create(cairn_ctx *ctx,
                                                 const cairn_logged_model_opts *opts,
                                                 cairn_logged_model **out);
/* ENOTFOUND naming the id for an unknown or deleted model. */
CAIRN_API cairn_status cairn_logged_model_get(cairn_ctx *ctx, const char *model_id,
                                              cairn_logged_model **out);
/* Sets the status (MLflow's FinalizeLoggedModel, PATCH) and its message (NULL: ""). */
CAIRN_API cairn_status cairn_logged_model_finalize(cairn_ctx *ctx, const char *model_id,
                                                   cairn_logged_model_status status,
                                                   const char *status_message);
/* Sets (or replaces) n tags in one transaction; within the call the last value of a key wins. */
CAIRN_API cairn_status cairn_logged_model_set_tags(cairn_ctx *ctx, const char *model_id,
                                                   const cairn_tag *tags, size_t n);
/* Deletes one tag; a tag that is not there is not an error (3.x log_model deletes
 * mlflow.model.isExternal whether or not it was set). ENOTFOUND for an unknown model. */
CAIRN_API cairn_status cairn_logged_model_delete_tag(cairn_ctx *ctx, const char *model_id,
                                                     const char *key);
/* Logs n params in one transaction. Params are write-once: the same value again is fine, a
 * different one is EINVAL; values over CAIRN_PARAM_VALUE_MAX characters are refused. */
CAIRN_API cairn_status cairn_logged_model_log_params(cairn_ctx *ctx, const char *model_id,
                                                     const cairn_param *params, size_t n);
/* Logs n metric points in one transaction; the same point again is stored once. */
CAIRN_API cairn_status cairn_logged_model_log_metrics(cairn_ctx *ctx, const char *model_id,
                                                      const cairn_logged_model_metric *metrics,
                                                      size_t n);
/* Soft delete, as MLflow's: the model is no longer found by get or search; its artifacts stay. */
CAIRN_API cairn_status cairn_logged_model_delete(cairn_ctx *ctx, const char *model_id);
CAIRN_API void cairn_logged_model_free(cairn_logged_model *model); /* NULL is a no-op */

typedef struct cairn_logged_model_query {
    const char *const *experiment_ids; /* n_experiment_ids == 0: every experiment */
    size_t n_experiment_ids;
    /* The search grammar (docs/search.md) over attributes model_id, name, model_type, status,
     * source_run_id (strings: = != LIKE ILIKE IN NOT IN), creation_timestamp and
     * last_updated_timestamp (ms), params.<key> and tags.<key>. NULL: every model. */
    const char *filter;
    /* "name", "creation_timestamp DESC", ...: the attributes above. Default creation_timestamp
     * DESC; model_id ASC always breaks ties. */
    const char *const *order_by;
    size_t n_order_by;
    int64_t max_results; /* 0: CAIRN_LOGGED_MODEL_SEARCH_DEFAULT */
    const char *page_token;
} cairn_logged_model_query;
#define CAIRN_LOGGED_MODEL_QUERY_INIT                                                              \
    {                                                                                              \
        0                                                                                          \
    }

typedef struct cairn_logged_model_page {
    size_t n;
    cairn_logged_model *items;
    const char *next_page_token; /* NULL on the last page */
    void *internal_;
} cairn_logged_model_page;

/* Searches the live (not deleted) models. A malformed filter or order_by is EINVAL with a
 * message that quotes the offending token; an unknown experiment id just matches nothing. */
CAIRN_API cairn_status cairn_logged_models_search(cairn_ctx *ctx, const cairn_logged_model_query *q,
                                                  cairn_logged_model_page **out);
CAIRN_API void cairn_logged_model_page_free(cairn_logged_model_page *page);

/* Records that a run produced n logged models (MLflow's LogOutputs), each at a step; logging
 * the same model again moves it to the new step. The outputs show in cairn_run_get()'s
 * record. ENOTFOUND for an unknown run or model, EINVAL for a deleted run. */
CAIRN_API cairn_status cairn_runs_log_outputs(cairn_ctx *ctx, const char *run_id,
                                              const cairn_run_output *outputs, size_t n);

#ifdef __cplusplus
}
#endif
#endif
