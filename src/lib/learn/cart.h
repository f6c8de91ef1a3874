/* SPDX-License-Identifier: MIT */
/* cart.h - the CART tree that the `tree` and `forest` learners share: growing one tree on
 * weighted rows (exact best split over sorted values, thresholds at midpoints, as
 * scikit-learn's BestSplitter), walking it, and its payload. */
#ifndef CN_LEARN_CART_H
#define CN_LEARN_CART_H
#include <stdbool.h>
#include <stddef.h>
#include <math.h>
#include <stdint.h>
#include "learn/learner.h"
#include "base/rng.h"

typedef enum cn_cart_criterion { CN_CART_GINI, CN_CART_ENTROPY, CN_CART_SQUARED } cn_cart_criterion;

typedef struct cn_cart_opts {
    cn_cart_criterion criterion;
    size_t max_depth;         /* 0: no limit */
    size_t min_samples_split; /* rows (distinct, unweighted) a node needs to be split */
    size_t min_samples_leaf;  /* rows each child keeps */
    size_t max_features;      /* features searched per split, 1..d */
    double min_impurity_decrease;
} cn_cart_opts;

/* Nodes in creation order: a node's children come after it. feature[i] < 0: a leaf. value:
 * n_nodes x n_out (class fractions, or the mean). */
typedef struct cn_cart {
    size_t n_nodes, n_out;
    int64_t *feature;
    double *threshold; /* go left when x <= threshold */
    size_t *left, *right;
    double *value;
} cn_cart;

/* Reads criterion, max_depth, min_samples_split, min_samples_leaf, max_features (default
 * def_features: "none", or "auto" for the forest) and min_impurity_decrease. */
cairn_status cn_cart_read_opts(cairn_ctx *ctx, const cn_params *p, size_t d, cn_task task,
                               const char *def_features, cn_cart_opts *o);
/* Grows a tree on rows[0..n) of x (n_all x d) with y (class index or target) and weights w
 * (by row index). n_out: classes, or 1 for regression. */
void cn_cart_grow(cn_cart *t, const cn_cart_opts *o, size_t d, size_t n_out, const double *x,
                  const double *y, const double *w, const size_t *rows, size_t n, cn_rng *rng);
/* The leaf values (n_out) for one row of d inputs. */
const double *cn_cart_leaf(const cn_cart *t, const double *row);
void cn_cart_save(const cn_cart *t, cn_buf *b);
/* false (and t empty) for a payload that is not a well-formed tree of d inputs. */
bool cn_cart_load(cn_cart *t, cn_reader *r, size_t d, size_t n_out);
void cn_cart_release(cn_cart *t);

/* Param specs the two learners share. */
extern const char *const cn_cart_criteria[]; /* auto, gini, entropy, log_loss, squared_error */
#define CN_CART_SPEC_CRITERION                                                                     \
    {                                                                                              \
        .name = "criterion", .type = CAIRN_PARAM_CATEGORICAL, .default_value = "auto",             \
        .choices = cn_cart_criteria,                                                               \
        .help = "split quality: gini, entropy/log_loss (classification), squared_error "           \
                "(regression); auto picks gini or squared_error"                                   \
    }
#define CN_CART_SPEC_MAX_DEPTH                                                                     \
    {                                                                                              \
        .name = "max_depth", .type = CAIRN_PARAM_INT, .low = 0, .high = 1000000,                   \
        .default_value = "0", .help = "deepest level (the root is 0); 0: no limit"                 \
    }
#define CN_CART_SPEC_MIN_SPLIT                                                                     \
    {                                                                                              \
        .name = "min_samples_split", .type = CAIRN_PARAM_INT, .low = 2, .high = HUGE_VAL,          \
        .default_value = "2", .help = "rows a node needs to be split"                              \
    }
#define CN_CART_SPEC_MIN_LEAF                                                                      \
    {                                                                                              \
        .name = "min_samples_leaf", .type = CAIRN_PARAM_INT, .low = 1, .high = HUGE_VAL,           \
        .default_value = "1", .help = "rows each leaf keeps"                                       \
    }
#define CN_CART_SPEC_MAX_FEATURES(def)                                                             \
    {                                                                                              \
        .name = "max_features", .type = CAIRN_PARAM_STRING, .default_value = (def),                \
        .help = "features searched per split: sqrt, log2, none (all), a fraction with a '.' "      \
                "(0.5) or a count (3)"                                                             \
    }
#define CN_CART_SPEC_MIN_DECREASE                                                                  \
    {                                                                                              \
        .name = "min_impurity_decrease", .type = CAIRN_PARAM_FLOAT, .low = 0, .high = HUGE_VAL,    \
        .default_value = "0", .help = "a split must lower the weighted impurity this much"         \
    }
#endif
