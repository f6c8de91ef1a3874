/* SPDX-License-Identifier: MIT */
/* registry.h - the model registry: registered models, their numbered versions, tags, aliases
 * (@production), MLflow's legacy stages, semantic-version labels, and the history of every
 * alias and stage move with rollback. Entities and rules follow MLflow's model registry so the
 * REST server maps one to one; see docs/registry.md. */
#ifndef CAIRN_REGISTRY_H
#define CAIRN_REGISTRY_H

#include "cairn.h"
#include "tracking.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAIRN_MODEL_NAME_MAX 256   /* MLflow's registered_models.name column */
#define CAIRN_ALIAS_MAX 255        /* MLflow's alias length limit */
#define CAIRN_MODEL_SOURCE_MAX 500 /* MLflow's model_versions.source column */
#define CAIRN_MODEL_DESCRIPTION_MAX 5000
#define CAIRN_SEMVER_MAX 128

/* MLflow's legacy stages (deprecated there since 2.9 in favour of aliases; kept for clients). */
typedef enum cairn_model_stage {
    CAIRN_STAGE_NONE = 0,
    CAIRN_STAGE_STAGING,
    CAIRN_STAGE_PRODUCTION,
    CAIRN_STAGE_ARCHIVED
} cairn_model_stage;

/* "None", "Staging", "Production", "Archived"; NULL for an unknown value. */
CAIRN_API const char *cairn_model_stage_str(cairn_model_stage stage);
/* Parses a stage name, ignoring case as MLflow does; EINVAL naming the value otherwise. */
CAIRN_API cairn_status cairn_model_stage_parse(cairn_ctx *ctx, const char *text,
                                               cairn_model_stage *out);

/* Checks an alias name: 1 to CAIRN_ALIAS_MAX characters of [a-z0-9_-], not "latest" and not
 * "v" followed by digits (both name versions in MLflow's models:/ URIs). EINVAL says why. */
CAIRN_API cairn_status cairn_alias_check(cairn_ctx *ctx, const char *alias);
/* Checks a semantic-version label against SemVer 2.0.0 ("1.4.0", "2.0.0-rc.1+build.5"; no
 * leading "v", no leading zeros in numeric identifiers). EINVAL quotes the label. */
CAIRN_API cairn_status cairn_semver_check(cairn_ctx *ctx, const char *semver);

typedef struct cairn_model_alias {
    const char *alias;
    int64_t version;
} cairn_model_alias;

/* A registered model. Strings and arrays belong to the object. */
typedef struct cairn_registered_model {
    const char *name;
    const char *description; /* "" when unset */
    int64_t creation_time_ms;
    int64_t last_updated_time_ms;
    int64_t latest_version; /* the highest live version; 0 when there is none */
    size_t n_tags;
    cairn_tag *tags; /* by key */
    size_t n_aliases;
    cairn_model_alias *aliases; /* by alias */
    void *internal_;            /* owned memory; do not touch */
} cairn_registered_model;

/* One version of a registered model. */
typedef struct cairn_model_version {
    const char *name;
    int64_t version;         /* 1, 2, ... per model; never reused, even after a delete */
    const char *source;      /* "runs:/RUN/model", a path or another artifact URI */
    const char *run_id;      /* "" when the version has no run */
    const char *description; /* "" when unset */
    const char *user_id;     /* who registered it */
    const char *status;      /* "READY" */
    cairn_model_stage stage;
    const char *semver; /* NULL when unset */
    int64_t creation_time_ms;
    int64_t last_updated_time_ms;
    size_t n_tags;
    cairn_tag *tags;
    size_t n_aliases;
    const char **aliases; /* the aliases pointing at this version, sorted */
    void *internal_;
} cairn_model_version;

typedef struct cairn_registered_model_page {
    size_t n;
    cairn_registered_model *items;
    const char *next_page_token; /* NULL on the last page */
    void *internal_;
} cairn_registered_model_page;

typedef struct cairn_model_version_page {
    size_t n;
    cairn_model_version *items;
    const char *next_page_token;
    void *internal_;
} cairn_model_version_page;

CAIRN_API void cairn_registered_model_free(cairn_registered_model *model); /* NULL: no-op */
CAIRN_API void cairn_model_version_free(cairn_model_version *version);     /* NULL: no-op */
CAIRN_API void cairn_registered_model_page_free(cairn_registered_model_page *page);
CAIRN_API void cairn_model_version_page_free(cairn_model_version_page *page);

/* ---- registered models ---- */

/* Creates a registered model. EINVAL for an empty name, one over CAIRN_MODEL_NAME_MAX
 * characters or holding '/' or a control character, or an invalid tag key; EEXIST when the
 * name is taken. description may be NULL; tags are borrowed for the call. */
CAIRN_API cairn_status cairn_registry_create_model(cairn_ctx *ctx, const char *name,
                                                   const char *description, const cairn_tag *tags,
                                                   size_t n_tags);
/* The model with its tags and aliases; ENOTFOUND naming it. *out is freed with
 * cairn_registered_model_free(). */
CAIRN_API cairn_status cairn_registry_get_model(cairn_ctx *ctx, const char *name,
                                                cairn_registered_model **out);
/* Renames a model; its versions, tags, aliases and history follow. EEXIST if new_name is
 * taken, ENOTFOUND for an unknown model. */
CAIRN_API cairn_status cairn_registry_rename_model(cairn_ctx *ctx, const char *name,
                                                   const char *new_name);
/* Sets the description ("" clears it). */
CAIRN_API cairn_status cairn_registry_update_model(cairn_ctx *ctx, const char *name,
                                                   const char *description);
/* Deletes a model for good with its versions, tags, aliases and history (MLflow deletes
 * registered models outright). ENOTFOUND for an unknown model. */
CAIRN_API cairn_status cairn_registry_delete_model(cairn_ctx *ctx, const char *name);
CAIRN_API cairn_status cairn_registry_set_model_tag(cairn_ctx *ctx, const char *name,
                                                    const char *key, const char *value);
/* Deleting a tag that is not there is not an error; an unknown model is ENOTFOUND. */
CAIRN_API cairn_status cairn_registry_delete_model_tag(cairn_ctx *ctx, const char *name,
                                                       const char *key);

/* A search of registered models. filter and order_by use the grammar of cairn_runs_search
 * with the registry's names (docs/search.md):
 *   filter: name (= != LIKE ILIKE), creation_timestamp (alias timestamp) and
 *     last_updated_timestamp (= != < <= > >=, milliseconds), tags.<key> or tag.<key>
 *     (= != LIKE ILIKE), joined by AND and OR with parentheses. A model without the tag
 *     mlflow.prompt.is_prompt matches "tag.`mlflow.prompt.is_prompt` != 'true'" (and
 *     "= 'false'"), as MLflow's store has it; every other tag clause needs the tag.
 *   order_by: "name", "creation_timestamp" ("timestamp"), "last_updated_timestamp", each with
 *     ASC or DESC; name ASC breaks ties and is the order when none is given.
 * A bad filter or order_by is EINVAL quoting the offending token. name_like and tags are the
 * older, narrower form: when set they are ANDed with filter. */
typedef struct cairn_registered_model_query {
    const char *filter;          /* NULL or "": every model */
    const char *const *order_by; /* order_by[0 .. n_order_by); borrowed */
    size_t n_order_by;
    int64_t max_results;    /* 0: 100; at most 1000 (more is EINVAL), as MLflow */
    const char *page_token; /* from next_page_token; NULL: the first page */
    const char *name_like;  /* a LIKE pattern on the name ('\' escapes); NULL: any */
    const cairn_tag *tags;  /* every tag must match exactly; borrowed */
    size_t n_tags;
} cairn_registered_model_query;
#define CAIRN_REGISTERED_MODEL_QUERY_INIT                                                          \
    {                                                                                              \
        0                                                                                          \
    }

/* One page of the models q selects, in q's order (name ascending by default). A page is full
 * only when another follows: next_page_token is NULL on the last page, never a token to an
 * empty one. q may be NULL (everything, first page). */
CAIRN_API cairn_status cairn_registry_search_models(cairn_ctx *ctx,
                                                    const cairn_registered_model_query *q,
                                                    cairn_registered_model_page **out);

/* ---- model versions ---- */

typedef struct cairn_model_version_opts {
    const char *name;   /* the registered model; it must exist */
    const char *source; /* NULL with run_id set: "runs:/<run_id>/<path>" */
    const char *run_id; /* NULL: taken from a "runs:/RUN/..." source */
    const char *path; /* artifact path in the run when source is NULL; NULL: "model/model.cairn" */
    const char *description; /* NULL: "" */
    const char *semver;      /* NULL: no label */
    const char *user;        /* NULL: $USER, else the login name */
    const cairn_tag *tags;
    size_t n_tags;
} cairn_model_version_opts;
#define CAIRN_MODEL_VERSION_OPTS_INIT                                                              \
    {                                                                                              \
        0                                                                                          \
    }

/* Registers a new version, numbered max(every version ever) + 1 under a per-model lock so
 * concurrent registrations never share a number. The version is READY at once, in stage None.
 * EINVAL for a missing source and run, a source with a ".." segment, a run id that disagrees
 * with a runs:/ source, a bad tag key or semver; ENOTFOUND for an unknown model or run;
 * EEXIST for a semver another version of the model carries. *out (may be NULL when not
 * wanted) is freed with cairn_model_version_free(). */
CAIRN_API cairn_status cairn_model_version_create(cairn_ctx *ctx,
                                                  const cairn_model_version_opts *opts,
                                                  cairn_model_version **out);
/* ENOTFOUND for an unknown model or version (deleted versions included). */
CAIRN_API cairn_status cairn_model_version_get(cairn_ctx *ctx, const char *name, int64_t version,
                                               cairn_model_version **out);
/* The version an alias points at; ENOTFOUND naming the alias when it is not set. */
CAIRN_API cairn_status cairn_model_version_get_by_alias(cairn_ctx *ctx, const char *name,
                                                        const char *alias,
                                                        cairn_model_version **out);
CAIRN_API cairn_status cairn_model_version_update(cairn_ctx *ctx, const char *name, int64_t version,
                                                  const char *description);
/* Deletes a version: it leaves every listing, its tags and semver label go, and each alias on
 * it is removed and recorded as an event. Its number is never given again. */
CAIRN_API cairn_status cairn_model_version_delete(cairn_ctx *ctx, const char *name,
                                                  int64_t version);
CAIRN_API cairn_status cairn_model_version_set_tag(cairn_ctx *ctx, const char *name,
                                                   int64_t version, const char *key,
                                                   const char *value);
CAIRN_API cairn_status cairn_model_version_delete_tag(cairn_ctx *ctx, const char *name,
                                                      int64_t version, const char *key);
/* Sets the semantic-version label (NULL or "" clears it). EINVAL for a label that is not
 * SemVer 2.0.0, EEXIST when another version of the model carries it. */
CAIRN_API cairn_status cairn_model_version_set_semver(cairn_ctx *ctx, const char *name,
                                                      int64_t version, const char *semver);

/* A search of model versions; deleted versions never appear. The grammar (docs/search.md):
 *   filter: name and source_path (the version's source) (= != LIKE ILIKE); run_id
 *     (= != LIKE ILIKE IN NOT IN; "" for a version without a run); version_number
 *     (= != < <= > >=, a whole number; IN is EINVAL, as in MLflow); creation_timestamp and
 *     last_updated_timestamp (milliseconds); tags.<key> (= != LIKE ILIKE; a missing
 *     mlflow.prompt.is_prompt tag matches "!= 'true'" and "= 'false'"). AND, OR, parentheses.
 *   order_by: "name", "version_number", "creation_timestamp", "last_updated_timestamp" (and
 *     "run_id", "source_path"), ASC or DESC; then name ASC, version DESC, which is also the
 *     order when none is given (each model's newest version first).
 * name and run_id are the older, narrower form: when set they are ANDed with filter. */
typedef struct cairn_model_version_query {
    const char *filter;          /* NULL or "": every live version */
    const char *const *order_by; /* order_by[0 .. n_order_by); borrowed */
    size_t n_order_by;
    int64_t max_results; /* 0: 100; at most 200000 (MLflow clients ask for 10000) */
    const char *page_token;
    const char *name;   /* NULL: every model */
    const char *run_id; /* NULL: any run */
} cairn_model_version_query;
#define CAIRN_MODEL_VERSION_QUERY_INIT                                                             \
    {                                                                                              \
        0                                                                                          \
    }

/* One page of the live versions q selects, each with its tags and aliases. A page is full
 * only when another follows (no trailing empty page). q may be NULL. */
CAIRN_API cairn_status cairn_model_version_search(cairn_ctx *ctx,
                                                  const cairn_model_version_query *q,
                                                  cairn_model_version_page **out);

/* ---- aliases, stages and their history ---- */

/* Who moves an alias or a stage, and why; recorded in the event. */
typedef struct cairn_registry_move_opts {
    const char *user;   /* NULL: $USER, else the login name (a server passes its user) */
    const char *reason; /* NULL: "" */
} cairn_registry_move_opts;
#define CAIRN_REGISTRY_MOVE_OPTS_INIT                                                              \
    {                                                                                              \
        0                                                                                          \
    }

/* Points alias at a version of the model, moving it if set elsewhere (one alias, one version
 * per model), and records the move. Setting it to the version it is on already records
 * nothing. EINVAL for a bad alias name; ENOTFOUND for an unknown model or version. mv may be
 * NULL. */
CAIRN_API cairn_status cairn_registry_set_alias(cairn_ctx *ctx, const char *name, const char *alias,
                                                int64_t version,
                                                const cairn_registry_move_opts *mv);
/* Removes an alias and records it; ENOTFOUND when the alias is not set. */
CAIRN_API cairn_status cairn_registry_delete_alias(cairn_ctx *ctx, const char *name,
                                                   const char *alias,
                                                   const cairn_registry_move_opts *mv);
/* Moves an alias back to the version it pointed at before its latest move, and records that
 * as a rollback event (so rolling back twice returns to where it started). EINVAL when the
 * latest move had no earlier version, ENOTFOUND when the alias has no history or that
 * version was deleted. *version_out (may be NULL) is the version the alias now points at. */
CAIRN_API cairn_status cairn_registry_rollback(cairn_ctx *ctx, const char *name, const char *alias,
                                               const cairn_registry_move_opts *mv,
                                               int64_t *version_out);
/* Moves a version to a stage and records it. With archive_existing, the model's other
 * versions in that stage move to Archived (each recorded), as MLflow's
 * archive_existing_versions does for Staging and Production. */
CAIRN_API cairn_status cairn_model_version_transition_stage(cairn_ctx *ctx, const char *name,
                                                            int64_t version,
                                                            cairn_model_stage stage,
                                                            bool archive_existing,
                                                            const cairn_registry_move_opts *mv);

typedef enum cairn_registry_event_kind {
    CAIRN_EVENT_ALIAS_SET = 1, /* an alias was set or moved */
    CAIRN_EVENT_ALIAS_DELETE,  /* removed, or dropped with its version */
    CAIRN_EVENT_ROLLBACK,      /* an alias moved back by cairn_registry_rollback() */
    CAIRN_EVENT_STAGE          /* a version changed stage */
} cairn_registry_event_kind;

/* "alias_set", "alias_delete", "rollback", "stage"; NULL for an unknown value. */
CAIRN_API const char *cairn_registry_event_kind_str(cairn_registry_event_kind kind);

typedef struct cairn_registry_event {
    const char *name; /* the model */
    int64_t seq;      /* 1, 2, ... per model, in the order the moves happened */
    cairn_registry_event_kind kind;
    const char *alias; /* alias events: the alias; NULL for stage events */
    int64_t
        from_version;   /* alias events: where it pointed before (0: nowhere); stage: the version */
    int64_t to_version; /* alias events: where it points now (0: removed); stage: the version */
    cairn_model_stage from_stage; /* stage events only */
    cairn_model_stage to_stage;
    const char *user;
    const char *reason; /* "" when none was given */
    int64_t time_ms;
} cairn_registry_event;

typedef struct cairn_registry_event_page {
    size_t n;
    cairn_registry_event *items; /* newest first */
    const char *next_page_token;
    void *internal_;
} cairn_registry_event_page;

typedef struct cairn_registry_history_query {
    const char *name;    /* the model; required */
    const char *alias;   /* NULL: every event of the model; else that alias's events */
    int64_t max_results; /* 0: 100; at most 1000 */
    const char *page_token;
} cairn_registry_history_query;
#define CAIRN_REGISTRY_HISTORY_QUERY_INIT                                                          \
    {                                                                                              \
        0                                                                                          \
    }

/* The promotion history of a model, newest first. ENOTFOUND for an unknown model. */
CAIRN_API cairn_status cairn_registry_history(cairn_ctx *ctx, const cairn_registry_history_query *q,
                                              cairn_registry_event_page **out);
CAIRN_API void cairn_registry_event_page_free(cairn_registry_event_page *page);

/* ---- MODEL arguments ---- */

/* What a MODEL names (owned strings, freed by cairn_model_ref_release). */
typedef struct cairn_model_ref {
    char *path;    /* the model file (a folder's model.cairn) */
    char *name;    /* the registered model, "run-" and the run id's first 8 characters, or the
                      file's name without .cairn */
    char *version; /* the registry version, the run id, or the file's SHA-256 (12 digits) */
    char *run_id;  /* the run holding the model, when known, else NULL */
    int64_t registry_version; /* > 0 for models:/ references */
} cairn_model_ref;

/* Resolves a model file (or a folder holding model.cairn), runs:/RUN_ID/PATH or
 * models:/NAME@ALIAS | models:/NAME/VERSION to its file; the error names the reference and
 * how to write it. out is zeroed on failure. */
CAIRN_API cairn_status cairn_model_ref_resolve(cairn_ctx *ctx, const char *ref,
                                               cairn_model_ref *out);
CAIRN_API void cairn_model_ref_release(cairn_model_ref *r); /* NULL is a no-op */

/* ---- model cards (docs/model-cards.md) ---- */

/* A model card: Markdown facts from the store plus the four sections only a person can write
 * (Intended use, Assumptions, Limitations, Ethical considerations). */
typedef struct cairn_model_card {
    char *markdown;
    bool complete;            /* every person's section holds text other than a TODO */
    const char *missing;      /* the sections still missing, ", "-separated; "" when complete */
    const char *human_source; /* where the person's sections came from */
    const char *stored_as;    /* runs:/RUN/model_card/NAME/vN.md when stored, else NULL */
    void *internal_;
} cairn_model_card;

typedef struct cairn_model_card_opts {
    /* a Markdown file holding the person's sections (headings "Intended use", ...); NULL: the
     * version's stored card, else the run's model-card.md artifact, else TODO placeholders */
    const char *template_path;
    bool store; /* keep the card with the version (an artifact of its run, named by tags) */
} cairn_model_card_opts;
#define CAIRN_MODEL_CARD_OPTS_INIT                                                                 \
    {                                                                                              \
        0                                                                                          \
    }

/* Writes the card of a version. With opts->store the Markdown becomes artifact
 * model_card/NAME/vVERSION.md of the version's run and the version's tags cairn.model_card
 * (that path), cairn.model_card.sha256, cairn.model_card.complete and cairn.model_card.missing
 * name it; a version without a run cannot store one (EINVAL). ENOTFOUND for an unknown
 * version; EIO for an unreadable template. opts may be NULL. */
CAIRN_API cairn_status cairn_model_card_make(cairn_ctx *ctx, const char *name, int64_t version,
                                             const cairn_model_card_opts *opts,
                                             cairn_model_card **out);
/* The stored card of a version. ENOTFOUND when it has none; EINVAL when the artifact no longer
 * has the SHA-256 its tag records. */
CAIRN_API cairn_status cairn_model_card_get(cairn_ctx *ctx, const char *name, int64_t version,
                                            cairn_model_card **out);
/* True when every person's section of markdown is written; missing (may be NULL) gets the
 * names of those that are not. */
CAIRN_API bool cairn_model_card_check(const char *markdown, char *missing, size_t missing_size);
CAIRN_API void cairn_model_card_free(cairn_model_card *card); /* NULL is a no-op */

/* ---- promotion gates (docs/registry.md, "Promotion gates") ---- */

typedef enum cairn_gate_verdict {
    CAIRN_GATE_PASS = 0,
    CAIRN_GATE_FAIL,
    CAIRN_GATE_SKIP /* nothing to check (no thresholds configured, no current holder) */
} cairn_gate_verdict;
/* "PASS", "FAIL", "SKIP"; NULL for an unknown value. */
CAIRN_API const char *cairn_gate_verdict_str(cairn_gate_verdict v);

typedef struct cairn_metric_floor {
    const char *metric; /* a run metric ("val_accuracy"), or a bare name: test_<name> when the
                           test split was looked at, else val_<name> */
    double min;
} cairn_metric_floor;

typedef struct cairn_promote_opts {
    const char *alias; /* required: "production", ... */
    const cairn_metric_floor *min_metric;
    size_t n_min_metric;
    double max_p99_ms;      /* > 0: ceiling on the profiled 1-row p99 latency */
    int64_t max_size_bytes; /* > 0: ceiling on the model file's size */
    bool force;             /* move the alias even when gates fail; needs reason */
    const char *reason;     /* recorded in the event */
    const char *user;       /* NULL: $USER */
    uint64_t seed;          /* the champion comparison's bootstrap seed */
} cairn_promote_opts;
#define CAIRN_PROMOTE_OPTS_INIT                                                                    \
    {                                                                                              \
        0                                                                                          \
    }

typedef struct cairn_gate_result {
    const char *gate; /* "model_card", "test_look", "overlap", "drift_reference", "thresholds",
                         "champion" */
    cairn_gate_verdict verdict;
    const char *evidence; /* what was found */
    const char *fix;      /* FAIL: what to do; else NULL */
} cairn_gate_result;

typedef struct cairn_promotion {
    const char *name;
    const char *alias;
    int64_t version;
    int64_t from_version; /* where the alias pointed before (0: nowhere) */
    size_t n_gates;
    cairn_gate_result *gates; /* in the order above */
    size_t n_failed;
    bool promoted; /* the alias now points at version */
    bool forced;   /* promoted past failed gates with --force */
    /* gate champion, when a comparison ran: candidate - holder on the shared rows */
    bool compared;
    const char *test; /* "mcnemar-exact", "mcnemar-chi2", "wilcoxon", ... */
    const char *metric;
    size_t n_rows;
    double diff, diff_low, diff_high, pvalue;
    const char *event_reason; /* the reason recorded with the alias move */
    void *internal_;
} cairn_promotion;

/* Checks the promotion gates of a version for an alias (a complete stored model card; exactly
 * one look at the run's sealed test split; no evaluation row equal to a training row; a drift
 * reference in the model file; the configured metric floors and latency and size ceilings; not
 * significantly worse than the alias's current holder on the rows both runs scored) and, when
 * all pass or opts->force is set, points the alias at the version, recording every gate's
 * verdict (and the override with its reason) in the alias event's reason. CAIRN_OK when
 * promoted; EINVAL when refused (*out still holds the verdicts, the message names the failed
 * gates), when force has no reason, or for a bad alias; ENOTFOUND for an unknown version.
 * *out is freed with cairn_promotion_free(). */
CAIRN_API cairn_status cairn_registry_promote(cairn_ctx *ctx, const char *name, int64_t version,
                                              const cairn_promote_opts *opts,
                                              cairn_promotion **out);
CAIRN_API void cairn_promotion_free(cairn_promotion *p); /* NULL is a no-op */

/* The thresholds of a config's promotion: section (experiment-config.yaml):
 *   promotion:
 *     min_metric: {val_accuracy: 0.9}   # floors on run metrics
 *     max_p99_ms: 5                     # ceiling on the profiled 1-row p99 latency
 *     max_size_bytes: 1000000           # ceiling on the model file's size
 * Other sections of the file are not read. EINVAL with the line for a wrong type or an unknown
 * key; ENOTFOUND for a missing file. */
typedef struct cairn_promotion_policy {
    bool found; /* the file has a promotion: section */
    size_t n_min_metric;
    cairn_metric_floor *min_metric;
    double max_p99_ms;      /* 0: none */
    int64_t max_size_bytes; /* 0: none */
    void *internal_;
} cairn_promotion_policy;
CAIRN_API cairn_status cairn_promotion_policy_load(cairn_ctx *ctx, const char *path,
                                                   cairn_promotion_policy **out);
/* The same from YAML text (tests, fuzzing). */
CAIRN_API cairn_status cairn_promotion_policy_parse(cairn_ctx *ctx, const char *text, size_t len,
                                                    cairn_promotion_policy **out);
CAIRN_API void cairn_promotion_policy_free(cairn_promotion_policy *p); /* NULL is a no-op */

#ifdef __cplusplus
}
#endif
#endif
