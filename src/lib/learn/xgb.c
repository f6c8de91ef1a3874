/* SPDX-License-Identifier: MIT */
/* xgb.c - gradient-boosted trees through XGBoost's C API (the only home of <xgboost/c_api.h>):
 * objective from the task, params passed through, early stopping on the validation rows, the
 * booster kept as JSON bytes inside our model file. Matches python3-xgboost's xgb.train with
 * the same params and rows (tree_method defaults to "hist"). */
#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <xgboost/c_api.h>
#include "learn/learner.h"
#include "learn/xgb_walk.h"
#include "core/core.h"
#include "formats/json.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

typedef struct xgb {
    cn_learner base;
    BoosterHandle booster;
    size_t d;
    size_t n_out;        /* columns of predict's output: classes, or 1 */
    bool binary;         /* binary:* objective: one probability per row */
    int predict_threads; /* building a prediction matrix: 1 for a loaded model, 0: XGBoost's */
    cn_xgb_walk *walk;   /* the trees walked here for a few rows; NULL: XGBoost predicts all */
} xgb;

static const char *const tree_methods[] = {"auto", "exact", "approx", "hist", "gpu_hist", NULL};
static const char *const grow_policies[] = {"depthwise", "lossguide", NULL};
static const char *const boosters[] = {"gbtree", "gblinear", "dart", NULL};

/* Every param xgb_fit takes: all but own_params are handed to XGBoost unchanged; their ranges
 * and defaults are XGBoost's. */
static const cairn_param_spec xgb_params[] = {
    {.name = "max_depth",
     .type = CAIRN_PARAM_INT,
     .low = 0,
     .high = HUGE_VAL,
     .default_value = "6",
     .log_scale = false,
     .help = "maximum tree depth (0: no limit with lossguide)"},
    {.name = "eta",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0,
     .high = HUGE_VAL,
     .default_value = "0.3",
     .log_scale = true,
     .help = "learning rate (shrinkage)"},
    {.name = "learning_rate",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0,
     .high = HUGE_VAL,
     .default_value = "0.3",
     .log_scale = true,
     .help = "alias of eta"},
    {.name = "subsample",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0,
     .high = 1,
     .default_value = "1",
     .log_scale = false,
     .help = "fraction of rows sampled per tree"},
    {.name = "colsample_bytree",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0,
     .high = 1,
     .default_value = "1",
     .log_scale = false,
     .help = "fraction of columns sampled per tree"},
    {.name = "colsample_bylevel",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0,
     .high = 1,
     .default_value = "1",
     .log_scale = false,
     .help = "fraction of columns sampled per level"},
    {.name = "colsample_bynode",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0,
     .high = 1,
     .default_value = "1",
     .log_scale = false,
     .help = "fraction of columns sampled per split"},
    {.name = "lambda",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0,
     .high = HUGE_VAL,
     .default_value = "1",
     .log_scale = true,
     .help = "L2 penalty on leaf weights"},
    {.name = "reg_lambda",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0,
     .high = HUGE_VAL,
     .default_value = "1",
     .log_scale = true,
     .help = "alias of lambda"},
    {.name = "alpha",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0,
     .high = HUGE_VAL,
     .default_value = "0",
     .log_scale = false,
     .help = "L1 penalty on leaf weights"},
    {.name = "reg_alpha",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0,
     .high = HUGE_VAL,
     .default_value = "0",
     .log_scale = false,
     .help = "alias of alpha"},
    {.name = "min_child_weight",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0,
     .high = HUGE_VAL,
     .default_value = "1",
     .log_scale = false,
     .help = "minimum hessian sum in a child"},
    {.name = "gamma",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0,
     .high = HUGE_VAL,
     .default_value = "0",
     .log_scale = false,
     .help = "minimum loss reduction to split"},
    {.name = "max_delta_step",
     .type = CAIRN_PARAM_FLOAT,
     .low = 0,
     .high = HUGE_VAL,
     .default_value = "0",
     .log_scale = false,
     .help = "cap on each leaf weight step (0: none)"},
    {.name = "max_bin",
     .type = CAIRN_PARAM_INT,
     .low = 2,
     .high = HUGE_VAL,
     .default_value = "256",
     .log_scale = false,
     .help = "histogram bins per feature (hist)"},
    {.name = "tree_method",
     .type = CAIRN_PARAM_CATEGORICAL,
     .default_value = "hist",
     .choices = tree_methods,
     .help = "how trees are grown"},
    {.name = "nthread",
     .type = CAIRN_PARAM_INT,
     .low = -HUGE_VAL,
     .high = HUGE_VAL,
     .default_value = NULL,
     .log_scale = false,
     .help = "threads (default: XGBoost's)"},
    {.name = "objective",
     .type = CAIRN_PARAM_STRING,
     .help = "XGBoost objective; default from the task"},
    {.name = "eval_metric",
     .type = CAIRN_PARAM_STRING,
     .help = "XGBoost eval metric for the rounds and early stopping"},
    {.name = "base_score",
     .type = CAIRN_PARAM_FLOAT,
     .low = -HUGE_VAL,
     .high = HUGE_VAL,
     .default_value = NULL,
     .log_scale = false,
     .help = "initial prediction (default: XGBoost's)"},
    {.name = "scale_pos_weight",
     .type = CAIRN_PARAM_FLOAT,
     .low = -HUGE_VAL,
     .high = HUGE_VAL,
     .default_value = "1",
     .log_scale = false,
     .help = "weight of positive rows (binary)"},
    {.name = "grow_policy",
     .type = CAIRN_PARAM_CATEGORICAL,
     .default_value = "depthwise",
     .choices = grow_policies,
     .help = "depthwise or lossguide"},
    {.name = "max_leaves",
     .type = CAIRN_PARAM_INT,
     .low = 0,
     .high = HUGE_VAL,
     .default_value = "0",
     .log_scale = false,
     .help = "maximum leaves (0: no limit)"},
    {.name = "verbosity",
     .type = CAIRN_PARAM_INT,
     .low = 0,
     .high = 3,
     .default_value = "0",
     .log_scale = false,
     .help = "XGBoost log level"},
    {.name = "booster",
     .type = CAIRN_PARAM_CATEGORICAL,
     .default_value = "gbtree",
     .choices = boosters,
     .help = "gbtree, gblinear or dart"},
    {.name = "seed",
     .type = CAIRN_PARAM_INT,
     .low = -HUGE_VAL,
     .high = HUGE_VAL,
     .default_value = NULL,
     .log_scale = false,
     .help = "XGBoost seed (default: the fit seed)"},
    {.name = "num_round",
     .type = CAIRN_PARAM_INT,
     .low = 1,
     .high = 1000000,
     .default_value = "100",
     .log_scale = true,
     .help = "boosting rounds"},
    {.name = "n_estimators",
     .type = CAIRN_PARAM_INT,
     .low = 1,
     .high = 1000000,
     .default_value = "100",
     .log_scale = true,
     .help = "alias of num_round"},
    {.name = "early_stopping_rounds",
     .type = CAIRN_PARAM_INT,
     .low = 0,
     .high = 1000000,
     .default_value = "0",
     .log_scale = false,
     .help = "with validation rows: stop after this many rounds without improvement (0: off)"},
    CN_SPEC_TASK,
};
static const char *const own_params[] = {
    "num_round", "n_estimators", "early_stopping_rounds", "task", NULL,
};

static cairn_status xgb_fail(cairn_ctx *ctx, const char *what)
{
    return cn_fail(ctx, CAIRN_EINVAL, "xgboost: %s: %s", what, XGBGetLastError());
}

/* A DMatrix of n rows of x (doubles -> floats, NaN = missing). */
/* nthread 0: XGBoost's default (every core). */
static int make_dmatrix(const double *x, size_t n, size_t d, int nthread, DMatrixHandle *out)
{
    float *f = cn_xmalloc((n * d > 0 ? n * d : 1) * sizeof *f);
    for (size_t i = 0; i < n * d; i++)
        f[i] = (float)x[i];
    int rc = nthread > 0
                 ? XGDMatrixCreateFromMat_omp(f, (bst_ulong)n, (bst_ulong)d, NAN, out, nthread)
                 : XGDMatrixCreateFromMat(f, (bst_ulong)n, (bst_ulong)d, NAN, out);
    free(f);
    return rc;
}

static int set_floats(DMatrixHandle dm, const char *field, const double *v, size_t n)
{
    float *f = cn_xmalloc((n ? n : 1) * sizeof *f);
    for (size_t i = 0; i < n; i++)
        f[i] = (float)v[i];
    int rc = XGDMatrixSetFloatInfo(dm, field, f, (bst_ulong)n);
    free(f);
    return rc;
}

static bool all_ones(const double *w, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (w[i] != 1.0)
            return false;
    return true;
}

/* The value of the last "name-metric:value" in an eval line whose name is `which`. */
static double eval_value(const char *line, const char *which)
{
    double v = NAN;
    size_t len = strlen(which);
    for (const char *p = strchr(line, '\t'); p; p = strchr(p + 1, '\t')) {
        if (strncmp(p + 1, which, len) != 0 || p[1 + len] != '-')
            continue;
        const char *colon = strchr(p, ':');
        if (colon)
            v = strtod(colon + 1, NULL);
    }
    return v;
}

/* Reads the rounds, the patience and the objective, which must agree with the task. */
static cairn_status read_objective(cairn_ctx *ctx, const cn_fit_data *data, const cn_params *p,
                                   int64_t *rounds, int64_t *patience, const char **objective)
{
    int64_t n_est;
    cairn_status rc = cn_param_int(ctx, p, "num_round", 100, 1, 1000000, rounds);
    if (rc == CAIRN_OK)
        rc = cn_param_int(ctx, p, "n_estimators", *rounds, 1, 1000000, &n_est);
    if (rc == CAIRN_OK)
        rc = cn_param_int(ctx, p, "early_stopping_rounds", 0, 0, 1000000, patience);
    if (rc != CAIRN_OK)
        return rc;
    if (cn_param_get(p, "n_estimators"))
        *rounds = n_est;
    bool classify = data->task == CN_TASK_CLASSIFICATION;
    const char *obj = cn_param_get(p, "objective");
    if (!obj)
        obj = !classify              ? "reg:squarederror"
              : data->n_classes == 2 ? "binary:logistic"
                                     : "multi:softprob";
    bool binary = cn_str_starts(obj, "binary:");
    if (classify && !((binary && data->n_classes == 2) || strcmp(obj, "multi:softprob") == 0))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "param 'objective': '%s' does not give class "
                       "probabilities for %zu classes; use binary:logistic or multi:softprob",
                       obj, data->n_classes);
    if (!classify && (binary || cn_str_starts(obj, "multi:")))
        return cn_fail(ctx, CAIRN_EINVAL,
                       "param 'objective': '%s' needs a classification "
                       "label",
                       obj);
    *objective = obj;
    return CAIRN_OK;
}

/* A DMatrix of r with its labels, and its weights unless all are 1. On failure *out may hold
 * a DMatrix the caller frees. */
static int make_labelled(const cn_rows *r, size_t d, DMatrixHandle *out)
{
    if (make_dmatrix(r->x, r->n, d, 0, out) != 0 || set_floats(*out, "label", r->y, r->n) != 0)
        return -1;
    if (!all_ones(r->w, r->n) && set_floats(*out, "weight", r->w, r->n) != 0)
        return -1;
    return 0;
}

/* Our fixed settings (hist, quiet, the fit's seed, the objective), then the user's params
 * except the ones cairn reads itself. */
static cairn_status set_params(cairn_ctx *ctx, BoosterHandle booster, const cn_fit_data *data,
                               const cn_params *p, const char *objective)
{
    bool classify = data->task == CN_TASK_CLASSIFICATION;
    bool binary = cn_str_starts(objective, "binary:");
    char seed[32], classes[32];
    snprintf(seed, sizeof seed, "%llu", (unsigned long long)(data->seed & 0x7fffffffffffffffULL));
    snprintf(classes, sizeof classes, "%zu", data->n_classes);
    const char *fixed[][2] = {
        {"tree_method", "hist"},
        {"verbosity", "0"},
        {"seed", seed},
        {"objective", objective},
        {"num_class", classify && !binary ? classes : NULL},
    };
    for (size_t i = 0; i < CN_ARRAY_LEN(fixed); i++)
        if (fixed[i][1] && XGBoosterSetParam(booster, fixed[i][0], fixed[i][1]) != 0)
            return xgb_fail(ctx, fixed[i][0]);
    for (size_t i = 0; i < p->n; i++) {
        bool pass = cn_learner_spec(&cn_xgb_ops, p->keys[i]) && !cn_str_in(p->keys[i], own_params);
        if (pass && XGBoosterSetParam(booster, p->keys[i], p->values[i]) != 0)
            return cn_fail(ctx, CAIRN_EINVAL, "param '%s': xgboost refused '%s': %s", p->keys[i],
                           p->values[i], XGBGetLastError());
    }
    return CAIRN_OK;
}

/* Whether the first metric of an eval line grows better (auc, map, ndcg...): xgboost
 * maximises those. */
static bool is_maximized(const char *line)
{
    const char *metric = strchr(strchr(line, '\t') ? strchr(line, '\t') : line, '-');
    return metric && (cn_str_starts(metric + 1, "auc") || cn_str_starts(metric + 1, "map") ||
                      cn_str_starts(metric + 1, "ndcg") || cn_str_starts(metric + 1, "aucpr"));
}

/* Up to `rounds` boosting rounds on dtrain. With dval, tracks the best round in *best_iter
 * and stops after `patience` rounds without a better one (0: never); reports each round to
 * data->on_epoch, which may stop the loop. */
static cairn_status boost(cairn_ctx *ctx, BoosterHandle booster, const cn_fit_data *data,
                          DMatrixHandle dtrain, DMatrixHandle dval, int64_t rounds,
                          int64_t patience, int *best_iter)
{
    DMatrixHandle evals[2] = {dval ? dval : dtrain, dtrain};
    const char *names[2] = {dval ? "val" : "train", "train"};
    double best = INFINITY;
    bool maximize = false;
    *best_iter = -1;
    for (int64_t it = 0; it < rounds; it++) {
        if (XGBoosterUpdateOneIter(booster, (int)it, dtrain) != 0)
            return xgb_fail(ctx, "training round");
        if (!dval && !data->on_epoch)
            continue;
        const char *line = NULL;
        bst_ulong n_eval = data->on_epoch && dval ? 2 : 1;
        if (XGBoosterEvalOneIter(booster, (int)it, evals, names, n_eval, &line) != 0)
            return xgb_fail(ctx, "evaluation");
        double v = eval_value(line, names[0]);
        if (it == 0)
            maximize = is_maximized(line);
        if (dval) {
            double score = maximize ? -v : v;
            if (score < best) {
                best = score;
                *best_iter = (int)it;
            }
        }
        if (data->on_epoch) {
            cairn_epoch_info e = {.epoch = (int)it + 1,
                                  .train_loss = dval ? eval_value(line, "train") : v,
                                  .val_loss = dval ? v : NAN,
                                  .train_metric = NAN,
                                  .val_metric = NAN,
                                  .best_epoch = dval && patience > 0 ? *best_iter + 1 : 0};
            if (data->on_epoch(data->user, &e) != 0)
                break;
        }
        if (dval && patience > 0 && it - *best_iter >= patience)
            break;
    }
    return CAIRN_OK;
}

/* Whether small batches may be walked here (xgb_walk.c): CAIRN_XGB_WALK=0 turns the walker
 * off, so XGBoost predicts every batch (to compare the two, or to rule the walker out). */
static bool walk_enabled(void)
{
    const char *v = getenv("CAIRN_XGB_WALK");
    return !v || strcmp(v, "0") != 0;
}

/* Builds m's walker from the booster as this XGBoost saves it, when the walker reproduces
 * its predictions (else m->walk stays NULL and XGBoost predicts every batch). */
static void make_walk(cairn_ctx *ctx, xgb *m)
{
    bst_ulong len = 0;
    const char *bytes = NULL, *why = NULL;
    if (!walk_enabled())
        return;
    if (XGBoosterSaveModelToBuffer(m->booster, "{\"format\": \"json\"}", &len, &bytes) != 0) {
        cn_log(ctx, CAIRN_LOG_DEBUG, "xgboost", "no tree walker: the booster did not save: %s",
               XGBGetLastError());
        return;
    }
    m->walk = cn_xgb_walk_new(bytes, (size_t)len, m->d, &why);
    if (m->walk && cn_xgb_walk_n_out(m->walk) != (m->binary ? 1 : m->n_out)) {
        cn_xgb_walk_free(m->walk);
        m->walk = NULL;
        why = "output groups other than the model's classes";
    }
    if (!m->walk)
        cn_log(ctx, CAIRN_LOG_DEBUG, "xgboost", "no tree walker: %s; XGBoost predicts", why);
}

static cairn_status xgb_fit(cairn_ctx *ctx, const cn_fit_data *data, const cn_params *p,
                            cn_learner **out)
{
    int64_t rounds, patience;
    const char *objective = NULL;
    cairn_status rc = read_objective(ctx, data, p, &rounds, &patience, &objective);
    if (rc != CAIRN_OK)
        return rc;
    DMatrixHandle dtrain = NULL, dval = NULL;
    BoosterHandle booster = NULL, sliced = NULL;
    int best_iter = -1;
    if (make_labelled(&data->train, data->d, &dtrain) != 0) {
        rc = xgb_fail(ctx, "training data");
        goto done;
    }
    if (data->val.n > 0 && make_labelled(&data->val, data->d, &dval) != 0) {
        rc = xgb_fail(ctx, "validation data");
        goto done;
    }
    DMatrixHandle cache[2] = {dtrain, dval};
    if (XGBoosterCreate(cache, dval ? 2 : 1, &booster) != 0) {
        rc = xgb_fail(ctx, "create booster");
        goto done;
    }
    rc = set_params(ctx, booster, data, p, objective);
    if (rc == CAIRN_OK)
        rc = boost(ctx, booster, data, dtrain, dval, rounds, patience, &best_iter);
    if (rc != CAIRN_OK)
        goto done;
    if (dval && patience > 0 && best_iter >= 0) {
        /* Keep the trees up to the best round, as bst[: best_iteration + 1] does. */
        if (XGBoosterSlice(booster, 0, best_iter + 1, 1, &sliced) != 0) {
            rc = xgb_fail(ctx, "slice to the best round");
            goto done;
        }
        XGBoosterFree(booster);
        booster = sliced;
        sliced = NULL;
    }
    xgb *m = cn_xcalloc(1, sizeof *m);
    m->base.ops = &cn_xgb_ops;
    m->booster = booster;
    m->d = data->d;
    m->binary = cn_str_starts(objective, "binary:");
    m->n_out = data->task == CN_TASK_CLASSIFICATION ? data->n_classes : 1;
    booster = NULL;
    make_walk(ctx, m);
    *out = &m->base;
done:
    if (booster)
        XGBoosterFree(booster);
    if (dtrain)
        XGDMatrixFree(dtrain);
    if (dval)
        XGDMatrixFree(dval);
    return rc;
}

/* Rows up to which xgb_predict skips the DMatrix (below): walked here when the model has a
 * walker, else predicted in place by XGBoost. */
#define XGB_INPLACE_MAX_ROWS 64

/* One proxy DMatrix per thread for in-place prediction. Without one XGBoost makes a proxy per
 * call, and a proxy's context reads the cgroup CPU-quota files: an open, a read and a close
 * per served request. Freed when its thread ends. */
static pthread_key_t proxy_key;
static pthread_once_t proxy_once = PTHREAD_ONCE_INIT;

static void proxy_free(void *p)
{
    XGDMatrixFree(p);
}

static void proxy_key_make(void)
{
    if (pthread_key_create(&proxy_key, proxy_free) != 0)
        proxy_key = (pthread_key_t)-1;
}

static DMatrixHandle thread_proxy(void)
{
    pthread_once(&proxy_once, proxy_key_make);
    if (proxy_key == (pthread_key_t)-1)
        return NULL;
    DMatrixHandle p = pthread_getspecific(proxy_key);
    if (!p && XGProxyDMatrixCreate(&p) == 0 && pthread_setspecific(proxy_key, p) != 0) {
        XGDMatrixFree(p);
        p = NULL;
    }
    return p; /* NULL: XGBoost makes its own */
}

/* Small batches (a served request) walk the trees here: XGBoost's predictor costs more to set
 * up for a call than the walk of one row. Same bits as XGBoost's (test_xgb_walk.c). */
static cairn_status walk_predict(const xgb *m, const double *x, size_t n, double *out)
{
    size_t per_row = m->binary ? 1 : m->n_out;
    float small[256];
    float *res = n * per_row <= CN_ARRAY_LEN(small) ? small : cn_xmalloc(n * per_row * sizeof *res);
    cn_xgb_walk_predict(m->walk, x, n, res);
    for (size_t i = 0; i < n; i++) {
        if (m->binary) {
            out[2 * i] = 1.0 - (double)res[i];
            out[2 * i + 1] = (double)res[i];
        } else {
            for (size_t k = 0; k < per_row; k++)
                out[i * per_row + k] = (double)res[i * per_row + k];
        }
    }
    if (res != small)
        free(res);
    return CAIRN_OK;
}

static cairn_status xgb_predict(cairn_ctx *ctx, const cn_learner *l, const double *x, size_t n,
                                double *out)
{
    const xgb *m = (const xgb *)l;
    if (m->walk && n <= XGB_INPLACE_MAX_ROWS)
        return walk_predict(m, x, n, out);
    DMatrixHandle dm = NULL;
    const bst_ulong *shape = NULL;
    bst_ulong dim = 0;
    const float *res = NULL;
    static const char config[] = "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, "
                                 "\"iteration_end\": 0, \"strict_shape\": false}";
    /* Small batches (a served request) predict in place from the doubles: building a DMatrix
     * cost more than walking the trees for one row. Both read each value as a float. */
    static const char inplace_config[] =
        "{\"type\": 0, \"training\": false, \"iteration_begin\": 0, \"iteration_end\": 0, "
        "\"strict_shape\": false, \"missing\": NaN, \"cache_id\": 0}";
    bool inplace = false;
    if (n <= XGB_INPLACE_MAX_ROWS) {
        char values[192];
        snprintf(values, sizeof values,
                 "{\"data\": [%" PRIuPTR ", true], \"shape\": [%zu, %zu], \"typestr\": \"<f8\", "
                 "\"version\": 3}",
                 (uintptr_t)x, n, m->d);
        /* gblinear predicts nothing in place (XGBoost 1.7): it takes the DMatrix below. */
        inplace = XGBoosterPredictFromDense(m->booster, values, inplace_config, thread_proxy(),
                                            &shape, &dim, &res) == 0;
    }
    if (!inplace) {
        if (make_dmatrix(x, n, m->d, m->predict_threads, &dm) != 0)
            return xgb_fail(ctx, "prediction data");
        if (XGBoosterPredictFromDMatrix(m->booster, dm, config, &shape, &dim, &res) != 0) {
            XGDMatrixFree(dm);
            return xgb_fail(ctx, "predict");
        }
    }
    bst_ulong total = 1;
    for (bst_ulong i = 0; i < dim; i++)
        total *= shape[i];
    size_t per_row = m->binary ? 1 : m->n_out;
    if (total != (bst_ulong)(n * per_row)) {
        if (dm)
            XGDMatrixFree(dm);
        return cn_fail(ctx, CAIRN_EINTERNAL, "xgboost: predict gave %llu values for %zu rows",
                       (unsigned long long)total, n);
    }
    for (size_t i = 0; i < n; i++) {
        if (m->binary) {
            out[2 * i] = 1.0 - (double)res[i];
            out[2 * i + 1] = (double)res[i];
        } else {
            for (size_t k = 0; k < per_row; k++)
                out[i * per_row + k] = (double)res[i * per_row + k];
        }
    }
    if (dm)
        XGDMatrixFree(dm);
    return CAIRN_OK;
}

static void xgb_save(const cn_learner *l, cn_buf *payload)
{
    const xgb *m = (const xgb *)l;
    bst_ulong len = 0;
    const char *bytes = NULL;
    int rc = XGBoosterSaveModelToBuffer(m->booster, "{\"format\": \"json\"}", &len, &bytes);
    CN_ASSERT(rc == 0);
    cn_put_u64(payload, m->binary);
    cn_buf_append(payload, bytes, (size_t)len);
}

static cairn_status xgb_load(cairn_ctx *ctx, const void *payload, size_t len, size_t d,
                             cn_task task, size_t n_classes, cn_learner **out)
{
    cn_reader r = {payload, len, 0, false};
    uint64_t binary = cn_get_u64(&r);
    if (r.bad || binary > 1 || (binary && n_classes != 2) || r.len == r.pos)
        return cn_fail(ctx, CAIRN_EINVAL, "xgboost payload: bad header");
    /* XGBoost's own readers trust their input (its UBJSON reader reads out of bounds on a
     * crafted length): hand it only JSON that jansson has parsed in full. */
    if (!cn_json_well_formed(r.p + r.pos, r.len - r.pos))
        return cn_fail(ctx, CAIRN_EINVAL, "xgboost payload: the booster is not valid JSON");
    BoosterHandle b = NULL;
    bst_ulong nf = 0;
    if (XGBoosterCreate(NULL, 0, &b) != 0 ||
        XGBoosterLoadModelFromBuffer(b, r.p + r.pos, (bst_ulong)(r.len - r.pos)) != 0) {
        cairn_status rc = xgb_fail(ctx, "payload");
        if (b)
            XGBoosterFree(b);
        return rc;
    }
    /* A loaded model predicts (serving, eval) in the calling thread: XGBoost's OpenMP team
     * on a few rows costs more than it gives, and on a busy machine a call waits for threads
     * the others hold (one row: 16 ms p50 with the team, 0.03 ms without, on 2 busy cores).
     * Serving runs its own threads; the results do not depend on the thread count. */
    if (XGBoosterSetParam(b, "nthread", "1") != 0) {
        cairn_status rc = xgb_fail(ctx, "nthread");
        XGBoosterFree(b);
        return rc;
    }
    /* XGBoost predicts on too few columns without a word: hold it to the model's width. */
    if (XGBoosterGetNumFeature(b, &nf) != 0 || nf != (bst_ulong)d) {
        XGBoosterFree(b);
        return cn_fail(ctx, CAIRN_EINVAL,
                       "xgboost payload: the booster has %llu features, the "
                       "model %zu",
                       (unsigned long long)nf, d);
    }
    xgb *m = cn_xcalloc(1, sizeof *m);
    m->base.ops = &cn_xgb_ops;
    m->booster = b;
    m->d = d;
    m->binary = binary;
    m->n_out = task == CN_TASK_CLASSIFICATION ? n_classes : 1;
    m->predict_threads = 1;
    make_walk(ctx, m);
    *out = &m->base;
    return CAIRN_OK;
}

static void xgb_free(cn_learner *l)
{
    xgb *m = (xgb *)l;
    if (!m)
        return;
    XGBoosterFree(m->booster);
    cn_xgb_walk_free(m->walk);
    free(m);
}

const cn_learner_ops cn_xgb_ops = {
    .name = "xgboost",
    .params = xgb_params,
    .n_params = CN_N_SPECS(xgb_params),
    .tasks = CN_TASK_REGRESSION | CN_TASK_CLASSIFICATION,
    .ordinal = true,
    .allows_missing = true,
    .fit = xgb_fit,
    .predict = xgb_predict,
    .save = xgb_save,
    .load = xgb_load,
    .free = xgb_free,
};

cairn_status cn_xgb_contribs(cairn_ctx *ctx, const cn_learner *l, const double *x, size_t n,
                             double **out, size_t *n_groups)
{
    *out = NULL;
    *n_groups = 0;
    if (l->ops != &cn_xgb_ops)
        return cn_fail(ctx, CAIRN_EINVAL, "SHAP values: learner '%s' is not xgboost", l->ops->name);
    const xgb *m = (const xgb *)l;
    static const char config[] = "{\"type\": 2, \"training\": false, \"iteration_begin\": 0, "
                                 "\"iteration_end\": 0, \"strict_shape\": false}";
    DMatrixHandle dm = NULL;
    const bst_ulong *shape = NULL;
    bst_ulong dim = 0;
    const float *res = NULL;
    if (make_dmatrix(x, n, m->d, m->predict_threads, &dm) != 0)
        return xgb_fail(ctx, "contributions data");
    if (XGBoosterPredictFromDMatrix(m->booster, dm, config, &shape, &dim, &res) != 0) {
        XGDMatrixFree(dm);
        return xgb_fail(ctx, "contributions");
    }
    size_t groups = m->binary ? 1 : m->n_out;
    bst_ulong total = 1;
    for (bst_ulong i = 0; i < dim; i++)
        total *= shape[i];
    if (total != (bst_ulong)(n * groups * (m->d + 1))) {
        XGDMatrixFree(dm);
        return cn_fail(ctx, CAIRN_EINTERNAL,
                       "xgboost: contributions gave %llu values for %zu rows of %zu inputs",
                       (unsigned long long)total, n, m->d);
    }
    double *v = cn_xmalloc((size_t)(total ? total : 1) * sizeof *v);
    for (bst_ulong i = 0; i < total; i++)
        v[i] = (double)res[i];
    XGDMatrixFree(dm);
    *out = v;
    *n_groups = groups;
    return CAIRN_OK;
}

bool cn_xgb_walks(const cn_learner *l)
{
    return l && l->ops == &cn_xgb_ops && ((const xgb *)l)->walk != NULL;
}
