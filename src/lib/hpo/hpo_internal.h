/* SPDX-License-Identifier: MIT */
/* hpo_internal.h - the insides of search spaces, samplers and pruners (include/cairn/hpo.h),
 * shared by space.c, the importers, the samplers and the pruners of src/lib/hpo. */
#ifndef CN_HPO_INTERNAL_H
#define CN_HPO_INTERNAL_H
#include <stdbool.h>
#include <stdint.h>
#include "cairn/hpo.h"
#include "base/rng.h"
#include "formats/tree.h"

/* Limits on what a space file may ask for (ELIMIT beyond). */
#define CN_HPO_MAX_PARAMS 1024
#define CN_HPO_MAX_CHOICES 100000
#define CN_HPO_MAX_GRID_CELLS (1u << 21) /* grid points x parameters */

typedef struct cn_cond {
    size_t parent;    /* index of a CATEGORICAL or CONST parameter */
    size_t n_allowed; /* the parent's choice indices for which the condition holds */
    size_t *allowed;
} cn_cond;

typedef struct cn_param {
    char *name;
    cairn_space_param_type type;
    double low, high, step;
    bool log;
    size_t n_choices;
    char **choices;
    size_t n_conds;
    cn_cond *conds;
    /* The sampling box (Optuna's transform): continuous coordinates in [L, H], q the grid
     * spacing in that box (0: continuous). float: [low, high]; log: [ln low, ln high]; step q
     * and int: [low - q/2, high + q/2]; log int: [ln(low - 0.5), ln(high + 0.5)], q = 0. */
    double L, H, q;
} cn_param;

struct cairn_space {
    size_t n;
    cn_param *params;
    size_t *order; /* a topological order: parents before the parameters they condition */
    char *objective;
    char *strategy; /* "last", "min" or "max": which of the metric's values is the objective */
    bool maximize;
};

/* A parameter as a reader found it, before the common rules check it. `at` places messages. */
typedef struct cn_raw_param {
    const char *name;
    cairn_space_param_type type;
    double low, high, step;
    bool log;
    size_t n_choices;
    const char *const *choices;
    const cn_node *at;
} cn_raw_param;

/* Building: cn_space_new, then cn_space_add per parameter (checks the rules and names the
 * parameter in messages), conditions with cn_space_add_cond (resolved by cn_space_finish,
 * which also orders the parameters and refuses cycles). */
cairn_space *cn_space_new(void);
cairn_status cn_space_add(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp, const cn_raw_param *p);
/* Adds "param `child` is active when `parent` is one of values" (an AND with the others). */
void cn_space_add_cond(cairn_space *sp, size_t child, const char *parent, const char *const *values,
                       size_t n_values, const cn_node *at);
cairn_status cn_space_finish(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp);
void cn_space_set_objective(cairn_space *sp, const char *name, bool maximize);

/* The importers (import.c): fill sp from a W&B sweep or an NNI search space. */
cairn_status cn_space_read_wandb(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp);
cairn_status cn_space_read_nni(cairn_ctx *ctx, const cn_tree *t, cairn_space *sp);

/* Whether parameter i is active given params, parents already decided. */
bool cn_space_active(const cairn_space *sp, size_t i, const double *params);
/* Maps u in [0, 1) to parameter i's internal value the way Optuna's RandomSampler maps a
 * uniform draw of its box (a categorical takes floor(u * n_choices)). */
double cn_param_from_unit(const cn_param *p, double u);
/* Decodes a coordinate x of the box [L, H] to the internal value (rounding to the step,
 * exp for log, clipping to [low, high]). */
double cn_param_decode(const cn_param *p, double x);
/* The reverse for an internal value: the box coordinate (ln for log). */
double cn_param_encode(const cn_param *p, double v);

/* ---- samplers: one file and one ops row each (STYLE.md §3) ---- */

typedef struct cn_spec_kv {
    char *key, *value;
} cn_spec_kv;
typedef struct cn_spec {
    char *name;
    size_t n;
    cn_spec_kv *kv;
    char *rest; /* what follows a '/', for wrapping pruners; NULL if none */
} cn_spec;
/* Parses "name[:k=v,k=v][/rest]"; `what` ("sampler", "pruner") names it in messages. */
cairn_status cn_spec_parse(cairn_ctx *ctx, const char *what, const char *text, cn_spec *out);
void cn_spec_release(cn_spec *s);
/* Typed option readers: each marks the key used; cn_spec_check_used refuses leftovers,
 * naming the allowed keys. */
cairn_status cn_spec_bool(cairn_ctx *ctx, cn_spec *s, const char *key, bool *out);
cairn_status cn_spec_int(cairn_ctx *ctx, cn_spec *s, const char *key, int64_t lo, int64_t hi,
                         int64_t *out);
cairn_status cn_spec_double(cairn_ctx *ctx, cn_spec *s, const char *key, double lo, double hi,
                            double *out);
const char *cn_spec_str(cn_spec *s, const char *key); /* NULL when absent */
cairn_status cn_spec_check_used(cairn_ctx *ctx, const char *what, const cn_spec *s,
                                const char *allowed);

typedef struct cn_sampler_ops {
    const char *name;
    cairn_status (*create)(cairn_sampler *s, cn_spec *spec);
    cairn_status (*ask)(cairn_sampler *s, const cairn_history *h, int64_t number, double *params);
    void (*free)(cairn_sampler *s);
} cn_sampler_ops;

struct cairn_sampler {
    const cn_sampler_ops *ops;
    cairn_ctx *ctx;
    const cairn_space *space;
    uint64_t seed;
    void *impl;
};

extern const cn_sampler_ops cn_sampler_random_ops, cn_sampler_grid_ops, cn_sampler_sobol_ops,
    cn_sampler_tpe_ops, cn_sampler_cmaes_ops;

/* The sampler spec `auto` stands for, given the space and the trial budget (sampler_auto.c):
 * a constant string, or buf (CN_AUTO_SPEC_MAX bytes suffice) when the spec holds a number. */
#define CN_AUTO_SPEC_MAX 128
const char *cn_sampler_auto_choose(cairn_ctx *ctx, const cairn_space *sp, int64_t budget, char *buf,
                                   size_t cap);

/* A generator for trial `number` of a sampler seeded `seed`, stream `stream` (independent
 * streams for the different uses within one ask). */
void cn_hpo_rng(cn_rng *r, uint64_t seed, int64_t number, uint64_t stream);
/* Random sampling of every active parameter, in topological order (NaN for the inactive). */
void cn_random_fill(const cairn_space *sp, cn_rng *r, double *params);

/* The standard normal quantile Φ^-1(p) (tpe.c). */
double cn_hpo_ndtri(double p);

/* Sobol' internals for the tests: point `index` of dimension `dim` (< CN_SOBOL dims) as a
 * 32-bit fraction, unscrambled. */
uint32_t cn_sobol_point(uint32_t dim, uint64_t index);
#endif
