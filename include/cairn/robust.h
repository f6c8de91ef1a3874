/* SPDX-License-Identifier: MIT */
/* robust.h - robustness curves of a model (its metric under Gaussian noise, feature dropout and
 * FGSM/PGD attacks at increasing strength) and model compression (int8 quantization, magnitude
 * pruning, distillation into a smaller MLP) with a paired test against the original. */
#ifndef CAIRN_ROBUST_H
#define CAIRN_ROBUST_H

#include "cairn.h"
#include "data.h"
#include "learn.h"

#ifdef __cplusplus
extern "C" {
#endif

/* ---- robustness ---- */

enum {
    CAIRN_PERTURB_NOISE = 1,   /* Gaussian noise, sd in standardised units */
    CAIRN_PERTURB_DROPOUT = 2, /* each numeric value set to its training mean with prob. p */
    CAIRN_PERTURB_FGSM = 4,    /* one signed-gradient step of size eps (L-inf) */
    CAIRN_PERTURB_PGD = 8      /* projected gradient descent in the L-inf ball of radius eps */
};

typedef struct cairn_robust_opts {
    const size_t *rows; /* the rows of t to perturb; NULL: all */
    size_t n_rows;
    unsigned perturbations;     /* CAIRN_PERTURB_* bits; 0: noise and dropout, plus the attacks
                                   when the learner has input gradients */
    const double *noise_levels; /* NULL: 0, 0.05, 0.1, 0.2, 0.5, 1 */
    size_t n_noise;
    const double *dropout_levels; /* NULL: 0, 0.1, ..., 0.5 */
    size_t n_dropout;
    const double *eps; /* attack radii; NULL: 0, 0.05, 0.1, 0.2, 0.5 */
    size_t n_eps;
    size_t repeats;        /* seeded draws per noise/dropout level; 0: 5 */
    size_t pgd_steps;      /* 0: 10 */
    double pgd_step;       /* step size as a fraction of eps; 0: 2.5 / pgd_steps */
    bool pgd_random_start; /* start PGD from a uniform point in the ball */
    uint64_t seed;
} cairn_robust_opts;
#define CAIRN_ROBUST_OPTS_INIT                                                                     \
    {                                                                                              \
        0                                                                                          \
    }

typedef struct cairn_robust_curve {
    char *perturbation; /* "noise", "dropout", "fgsm", "pgd" */
    size_t n;
    double *strength;   /* the level: noise sd, dropout p or eps */
    double *metric;     /* mean over repeats (noise, dropout) or the value (attacks) */
    double *low, *high; /* 95% interval: t over repeats (noise, dropout; NaN with 1 repeat) or
                           percentile bootstrap over rows (attacks) */
} cairn_robust_curve;

typedef struct cairn_robust_result {
    char *metric; /* "accuracy" (classifier) or "r2" (regression) */
    char *learner;
    double clean; /* the metric on the unperturbed rows */
    size_t n_rows;
    size_t repeats;
    size_t n_numeric; /* numeric inputs perturbed (one-hot columns are kept) */
    size_t n_curves;
    cairn_robust_curve *curves;
} cairn_robust_result;

/* Curves of m's metric on rows of t (which needs m's features and label) under each
 * perturbation. Attacks on a learner without input gradients, a negative or non-finite level,
 * or a dropout p above 1 are EINVAL naming the problem. */
CAIRN_API cairn_status cairn_robustness(cairn_ctx *ctx, const cairn_model *m, const cairn_table *t,
                                        const cairn_robust_opts *o, cairn_robust_result **out);
CAIRN_API void cairn_robust_result_free(cairn_robust_result *r); /* NULL is a no-op */
/* The result as JSON (*json freed with cairn_free()). */
CAIRN_API cairn_status cairn_robustness_json(cairn_ctx *ctx, const cairn_robust_result *r,
                                             char **json);
/* Metric against strength, one line per perturbation; subtitle may be NULL. */
CAIRN_API cairn_status cairn_robustness_svg(cairn_ctx *ctx, const cairn_robust_result *r,
                                            const char *subtitle, char **svg);
/* True when the learner named `learner` has input gradients (FGSM and PGD apply). */
CAIRN_API bool cairn_learner_has_input_grad(const char *learner);

/* ---- compression ---- */

typedef enum cairn_compress_method {
    CAIRN_COMPRESS_INT8 = 1, /* logistic, mlp */
    CAIRN_COMPRESS_PRUNE,    /* mlp */
    CAIRN_COMPRESS_DISTILL   /* any teacher into a smaller mlp */
} cairn_compress_method;

typedef struct cairn_compress_opts {
    cairn_compress_method method;
    double sparsity;    /* prune: fraction of weights zeroed, in [0, 1); 0: 0.5 */
    const char *hidden; /* distill: the student's hidden widths; NULL: "16" */
    /* distill: more student params (mlp params as text); a teacher that is an mlp lends its
     * own params first (these override them, hidden overrides all) */
    const char *const *param_keys;
    const char *const *param_values;
    size_t n_params;
    /* distill: the rows the student is fitted on (the teacher's probabilities on them as soft
     * targets); NULL: none (distillation is refused) */
    const size_t *fit_rows;
    size_t n_fit;
    /* the rows both models are scored and timed on; NULL: none (no metric, no test) */
    const size_t *eval_rows;
    size_t n_eval;
    uint64_t seed;
    size_t latency_repeats; /* 0: 30 */
} cairn_compress_opts;
#define CAIRN_COMPRESS_OPTS_INIT                                                                   \
    {                                                                                              \
        0                                                                                          \
    }

typedef struct cairn_compress_report {
    char *method;
    size_t size_before, size_after;               /* model file bytes */
    size_t payload_before, payload_after;         /* the weights section of the file (bytes) */
    double latency1_before_ms, latency1_after_ms; /* one row, median of repeats */
    double batch_before_ms, batch_after_ms;       /* all eval rows in one call, median */
    char *metric;                                 /* "accuracy" or "r2" */
    double metric_before, metric_after;           /* on the eval rows; NaN without them */
    size_t n_eval;
    double agreement; /* share of eval rows with the same prediction (classification) */
    /* paired test: McNemar (classification, exact below 25 discordant rows) with its counts,
     * or for regression a paired-bootstrap 95% CI of the R^2 difference and Wilcoxon on the
     * squared errors */
    char *test;
    int64_t n01, n10; /* original right & compressed wrong, original wrong & compressed right */
    double statistic, p_value;
    double diff, diff_low, diff_high; /* metric_after - metric_before with a paired-bootstrap CI */
    size_t zeros, weights;            /* prune: zero weights and all weights; else 0 */
} cairn_compress_report;

/* Compresses m into *out (a new model, freed with cairn_model_free) and fills *report
 * (released with cairn_compress_report_release). t holds the rows of o's row lists. */
CAIRN_API cairn_status cairn_model_compress(cairn_ctx *ctx, const cairn_model *m,
                                            const cairn_table *t, const cairn_compress_opts *o,
                                            cairn_model **out, cairn_compress_report *report);
CAIRN_API void cairn_compress_report_release(cairn_compress_report *r); /* NULL is a no-op */

#ifdef __cplusplus
}
#endif
#endif
