/* SPDX-License-Identifier: MIT */
/* xgb_walk.c - XGBoost's tree predictions for a few rows, walked here (see xgb_walk.h).
 * Each step copies what XGBoost 1.7's CPU predictor and objectives do, in the same float
 * arithmetic: a split sends float(x) < condition left and a missing value (NaN) to its default
 * child; each tree's leaf value is added to its output group in tree order, starting from the
 * base margin (the objective's ProbToMargin of base_score); then the objective's PredTransform.
 * test_xgb_walk.c holds the walker to XGBoost's own predictor, bit for bit. */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "learn/xgb_walk.h"
#include "formats/json.h"
#include "base/xmalloc.h"
#include "base/banned.h"

/* A tree's node: split nodes send a value below `value` to left, others to right; a leaf
 * (left < 0) holds its leaf value in `value`. */
typedef struct walk_node {
    float value;
    uint32_t feature; /* with WALK_DEFAULT_LEFT: a missing value goes left */
    int32_t left, right;
} walk_node;

#define WALK_DEFAULT_LEFT 0x80000000u
#define WALK_MAX_JSON_BYTES ((size_t)64 << 20)

/* The margin of base_score (ProbToMargin) and the output transform (PredTransform). */
typedef enum walk_margin { MARGIN_IDENTITY, MARGIN_LOGIT, MARGIN_LOG } walk_margin;
typedef enum walk_transform {
    TRANSFORM_IDENTITY,
    TRANSFORM_SIGMOID,
    TRANSFORM_SOFTMAX,
    TRANSFORM_EXP
} walk_transform;

static const struct {
    const char *name;
    walk_margin margin;
    walk_transform transform;
} objectives[] = {
    {"binary:logistic", MARGIN_LOGIT, TRANSFORM_SIGMOID},
    {"reg:logistic", MARGIN_LOGIT, TRANSFORM_SIGMOID},
    {"binary:logitraw", MARGIN_IDENTITY, TRANSFORM_IDENTITY}, /* base_score is a margin */
    {"multi:softprob", MARGIN_IDENTITY, TRANSFORM_SOFTMAX},
    {"reg:squarederror", MARGIN_IDENTITY, TRANSFORM_IDENTITY},
    {"reg:squaredlogerror", MARGIN_IDENTITY, TRANSFORM_IDENTITY},
    {"reg:pseudohubererror", MARGIN_IDENTITY, TRANSFORM_IDENTITY},
    {"reg:absoluteerror", MARGIN_IDENTITY, TRANSFORM_IDENTITY},
    {"count:poisson", MARGIN_LOG, TRANSFORM_EXP},
    {"reg:gamma", MARGIN_LOG, TRANSFORM_EXP},
    {"reg:tweedie", MARGIN_LOG, TRANSFORM_EXP},
};

struct cn_xgb_walk {
    size_t n_features;
    size_t n_groups; /* output groups: classes for multi:softprob, else 1 */
    size_t n_trees;
    float base_margin;
    walk_transform transform;
    walk_node *nodes;     /* every tree's nodes, tree after tree */
    size_t *tree_start;   /* [n_trees]: the tree's root in nodes */
    uint32_t *tree_group; /* [n_trees]: the output group it adds to (tree_info) */
};

/* ---- building ---- */

/* The integer written as a decimal string in obj[key] (XGBoost's params), or fallback when
 * absent; -1 when it is not a plain non-negative integer. */
static long param_long(const cn_json *obj, const char *key, long fallback)
{
    const char *s = cn_json_member_str(obj, key);
    if (!s)
        return fallback;
    char *end;
    long v = strtol(s, &end, 10);
    return end == s || *end || v < 0 ? -1 : v;
}

/* Whether each element of arr (n of them) is an integer in [low, high]. */
static bool ints_within(const cn_json *arr, size_t n, int64_t low, int64_t high)
{
    if (cn_json_typeof(arr) != CN_JSON_ARRAY || cn_json_array_size(arr) != n)
        return false;
    for (size_t i = 0; i < n; i++) {
        const cn_json *v = cn_json_array_get(arr, i);
        if (cn_json_typeof(v) != CN_JSON_INT || cn_json_int(v) < low || cn_json_int(v) > high)
            return false;
    }
    return true;
}

/* Whether the nodes reachable from the root of t[0 .. n) form a tree: each node reached once
 * (so every walk ends). */
static bool is_tree(const walk_node *t, size_t n)
{
    unsigned char *seen = cn_xcalloc(n, 1);
    int32_t *stack = cn_xmalloc(n * sizeof *stack);
    size_t top = 0;
    bool ok = true;
    stack[top++] = 0;
    while (ok && top > 0) {
        int32_t i = stack[--top];
        if (seen[i]) {
            ok = false;
            break;
        }
        seen[i] = 1;
        if (t[i].left >= 0) {
            if (top + 2 > n) {
                ok = false;
                break;
            }
            stack[top++] = t[i].left;
            stack[top++] = t[i].right;
        }
    }
    free(stack);
    free(seen);
    return ok;
}

/* Reads tree j (a "trees" element) into nodes[0 .. n), n its node count. */
static const char *read_tree(const cn_json *tree, size_t n_features, walk_node *nodes, size_t n)
{
    const cn_json *left = cn_json_object_get(tree, "left_children");
    const cn_json *right = cn_json_object_get(tree, "right_children");
    const cn_json *feature = cn_json_object_get(tree, "split_indices");
    const cn_json *cond = cn_json_object_get(tree, "split_conditions");
    const cn_json *dleft = cn_json_object_get(tree, "default_left");
    const cn_json *stype = cn_json_object_get(tree, "split_type");
    const cn_json *cats = cn_json_object_get(tree, "categories_nodes");
    if (param_long(cn_json_object_get(tree, "tree_param"), "size_leaf_vector", 0) > 1)
        return "vector leaves (multi-target trees)";
    if (cats && cn_json_array_size(cats) > 0)
        return "categorical splits";
    if (stype && !ints_within(stype, n, 0, 0))
        return "categorical splits";
    if (!ints_within(left, n, -1, (int64_t)n - 1) || !ints_within(right, n, -1, (int64_t)n - 1) ||
        !ints_within(feature, n, 0, UINT32_MAX) || cn_json_typeof(cond) != CN_JSON_ARRAY ||
        cn_json_array_size(cond) != n || cn_json_typeof(dleft) != CN_JSON_ARRAY ||
        cn_json_array_size(dleft) != n)
        return "a tree's arrays are not XGBoost's";
    for (size_t i = 0; i < n; i++) {
        walk_node *node = &nodes[i];
        const cn_json *c = cn_json_array_get(cond, i), *dl = cn_json_array_get(dleft, i);
        double value = cn_json_number(c);
        if (isnan(value))
            return "a tree's split condition or leaf value is not a number";
        /* The JSON holds the shortest text that reads back as the float: its double
         * rounds to the same float. */
        node->value = (float)value;
        node->left = (int32_t)cn_json_int(cn_json_array_get(left, i));
        node->right = (int32_t)cn_json_int(cn_json_array_get(right, i));
        int64_t f = cn_json_int(cn_json_array_get(feature, i));
        if ((node->left < 0) != (node->right < 0))
            return "a node has one child";
        if (node->left >= 0 && (uint64_t)f >= n_features)
            return "a split on a feature past the model's";
        node->feature = node->left >= 0 ? (uint32_t)f : 0;
        bool default_left = cn_json_typeof(dl) == CN_JSON_BOOL  ? cn_json_bool(dl)
                            : cn_json_typeof(dl) == CN_JSON_INT ? cn_json_int(dl) != 0
                                                                : false;
        if (default_left)
            node->feature |= WALK_DEFAULT_LEFT;
    }
    if (!is_tree(nodes, n))
        return "a tree's nodes do not form a tree";
    return NULL;
}

/* Reads the objective and base_score of learner into w. */
static const char *read_objective(const cn_json *learner, cn_xgb_walk *w)
{
    const cn_json *mp = cn_json_object_get(learner, "learner_model_param");
    const char *name = cn_json_member_str(cn_json_object_get(learner, "objective"), "name");
    const char *base = cn_json_member_str(mp, "base_score");
    if (!name || !base)
        return "no objective or base_score";
    size_t k = 0;
    while (k < sizeof objectives / sizeof objectives[0] && strcmp(objectives[k].name, name) != 0)
        k++;
    if (k == sizeof objectives / sizeof objectives[0])
        return "an objective the walker has no transform for";
    long num_class = param_long(mp, "num_class", 0), num_target = param_long(mp, "num_target", 1);
    if (num_target != 1)
        return "several targets";
    if ((objectives[k].transform == TRANSFORM_SOFTMAX) != (num_class > 1) || num_class > 100000)
        return "num_class does not fit the objective";
    w->n_groups = num_class > 1 ? (size_t)num_class : 1;
    w->transform = objectives[k].transform;
    char *end;
    /* base_score as XGBoost reads it (a float; "5E-1"), a scalar in 1.x and 2.x. */
    float score = strtof(base, &end);
    if (end == base || *end || !isfinite(score))
        return "base_score is not one number";
    switch (objectives[k].margin) {
    case MARGIN_IDENTITY: w->base_margin = score; break;
    case MARGIN_LOGIT: /* LogisticRegression::ProbToMargin */
        if (!(score > 0.0f && score < 1.0f))
            return "base_score outside (0, 1) for a logistic objective";
        w->base_margin = -logf(1.0f / score - 1.0f);
        break;
    case MARGIN_LOG: /* std::log(float) */ w->base_margin = logf(score); break;
    }
    return NULL;
}

static const char *build(const cn_json *root, size_t n_features, cn_xgb_walk *w)
{
    const cn_json *version = cn_json_object_get(root, "version");
    /* The arithmetic above is XGBoost 1.7's, checked bit for bit by test_xgb_walk.c; other
     * versions store and transform base_score otherwise (2.x estimates it, 3.x keeps a
     * vector) and wait for the same check. */
    if (cn_json_int(cn_json_array_get(version, 0)) != 1 ||
        cn_json_int(cn_json_array_get(version, 1)) != 7)
        return "an XGBoost other than 1.7 (the walker copies 1.7's arithmetic)";
    const cn_json *learner = cn_json_object_get(root, "learner");
    const cn_json *gb = cn_json_object_get(learner, "gradient_booster");
    const char *booster = cn_json_member_str(gb, "name");
    if (!booster || strcmp(booster, "gbtree") != 0)
        return "a booster other than gbtree";
    if (param_long(cn_json_object_get(learner, "learner_model_param"), "num_feature", -1) !=
        (long)n_features)
        return "a booster of another width";
    const char *why = read_objective(learner, w);
    if (why)
        return why;
    const cn_json *model = cn_json_object_get(gb, "model");
    const cn_json *param = cn_json_object_get(model, "gbtree_model_param");
    const cn_json *trees = cn_json_object_get(model, "trees");
    const cn_json *info = cn_json_object_get(model, "tree_info");
    long n_trees = param_long(param, "num_trees", -1);
    if (param_long(param, "size_leaf_vector", 0) > 1)
        return "vector leaves (multi-target trees)";
    if (n_trees < 0 || n_trees > 10000000 || cn_json_typeof(trees) != CN_JSON_ARRAY ||
        cn_json_array_size(trees) != (size_t)n_trees ||
        !ints_within(info, (size_t)n_trees, 0, (int64_t)w->n_groups - 1))
        return "the trees and tree_info do not match num_trees";
    w->n_trees = (size_t)n_trees;
    w->tree_start = cn_xmalloc((w->n_trees ? w->n_trees : 1) * sizeof *w->tree_start);
    w->tree_group = cn_xmalloc((w->n_trees ? w->n_trees : 1) * sizeof *w->tree_group);
    size_t total = 0;
    for (size_t j = 0; j < w->n_trees; j++) {
        size_t n =
            cn_json_array_size(cn_json_object_get(cn_json_array_get(trees, j), "left_children"));
        if (n == 0 || n > INT32_MAX)
            return "a tree without nodes";
        w->tree_start[j] = total;
        w->tree_group[j] = (uint32_t)cn_json_int(cn_json_array_get(info, j));
        total += n;
    }
    w->nodes = cn_xmalloc((total ? total : 1) * sizeof *w->nodes);
    for (size_t j = 0; j < w->n_trees; j++) {
        size_t end = j + 1 < w->n_trees ? w->tree_start[j + 1] : total;
        why = read_tree(cn_json_array_get(trees, j), n_features, w->nodes + w->tree_start[j],
                        end - w->tree_start[j]);
        if (why)
            return why;
    }
    return NULL;
}

cn_xgb_walk *cn_xgb_walk_new(const char *json, size_t len, size_t n_features, const char **why)
{
    cn_json *root = NULL;
    cn_json_error err;
    const char *reason = "the booster is not valid JSON";
    cn_xgb_walk *w = NULL;
    /* jansson holds about 50 bytes a JSON value while the walker is built: a booster this
     * large (thousands of deep trees) is left to XGBoost, whose per-call cost it dwarfs. */
    if (len > WALK_MAX_JSON_BYTES)
        reason = "a booster over 64 MiB of JSON";
    else if (cn_json_parse_document(json, len, &root, &err)) {
        w = cn_xcalloc(1, sizeof *w);
        w->n_features = n_features;
        reason = build(root, n_features, w);
        if (reason) {
            cn_xgb_walk_free(w);
            w = NULL;
        }
    }
    cn_json_free(root);
    if (why)
        *why = reason;
    return w;
}

size_t cn_xgb_walk_n_out(const cn_xgb_walk *w)
{
    return w->n_groups;
}

void cn_xgb_walk_free(cn_xgb_walk *w)
{
    if (!w)
        return;
    free(w->nodes);
    free(w->tree_start);
    free(w->tree_group);
    free(w);
}

/* ---- predicting ---- */

/* common::Sigmoid(float) */
static float sigmoid(float x)
{
    const float eps = 1e-16f; /* XGBoost's kEps: avoids a division by 0 */
    float minus = -x;
    x = 88.7f < minus ? 88.7f : minus; /* std::min(-x, 88.7f): no overflow in expf */
    float denom = expf(x) + 1.0f + eps;
    return 1.0f / denom;
}

/* common::Softmax: the sum of the exponentials in double. */
static void softmax(float *p, size_t n)
{
    float wmax = p[0];
    for (size_t k = 1; k < n; k++)
        wmax = fmaxf(p[k], wmax);
    double wsum = 0.0;
    for (size_t k = 0; k < n; k++) {
        p[k] = expf(p[k] - wmax);
        wsum += p[k];
    }
    for (size_t k = 0; k < n; k++)
        p[k] /= (float)wsum;
}

void cn_xgb_walk_predict(const cn_xgb_walk *w, const double *x, size_t n, float *out)
{
    size_t g = w->n_groups;
    for (size_t i = 0; i < n; i++) {
        const double *row = x + i * w->n_features;
        float *sum = out + i * g;
        for (size_t k = 0; k < g; k++)
            sum[k] = w->base_margin;
        for (size_t j = 0; j < w->n_trees; j++) {
            const walk_node *t = w->nodes + w->tree_start[j];
            int32_t nid = 0;
            while (t[nid].left >= 0) {
                uint32_t f = t[nid].feature;
                float v = (float)row[f & ~WALK_DEFAULT_LEFT];
                if (isnan(v))
                    nid = (f & WALK_DEFAULT_LEFT) ? t[nid].left : t[nid].right;
                else
                    nid = v < t[nid].value ? t[nid].left : t[nid].right;
            }
            sum[w->tree_group[j]] += t[nid].value;
        }
        switch (w->transform) {
        case TRANSFORM_IDENTITY: break;
        case TRANSFORM_SIGMOID: sum[0] = sigmoid(sum[0]); break;
        case TRANSFORM_SOFTMAX: softmax(sum, g); break;
        case TRANSFORM_EXP: sum[0] = expf(sum[0]); break;
        }
    }
}
