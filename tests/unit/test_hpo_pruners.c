/* SPDX-License-Identifier: MIT */
/* test_hpo_pruners.c - each pruner on small hand-checked histories, the resources successive
 * halving and Hyperband learn, Hyperband's brackets (crc32, as Optuna's), and the specs.
 * tests/e2e/test_hpo_pruners.py compares the decisions with Optuna's on many more. */
#include <math.h>
#include <stdint.h>
#include "unit.h"
#include "cairn/hpo.h"

/* A history of trials reporting steps 0, 1, 2, ... */
#define N_MAX 32
#define S_MAX 64
typedef struct hist {
    cairn_trial_record rec[N_MAX];
    int64_t steps[N_MAX][S_MAX];
    double values[N_MAX][S_MAX];
    size_t n;
} hist;

static cairn_trial_record *add(hist *h, cairn_trial_state state, const double *v, size_t n_v,
                               double value)
{
    size_t t = h->n++;
    for (size_t i = 0; i < S_MAX; i++) /* a test may show more of them later */
        h->steps[t][i] = (int64_t)i;
    for (size_t i = 0; i < n_v; i++)
        h->values[t][i] = v[i];
    h->rec[t] = (cairn_trial_record){.number = (int64_t)t,
                                     .state = state,
                                     .value = value,
                                     .n_steps = n_v,
                                     .steps = h->steps[t],
                                     .values = h->values[t]};
    return &h->rec[t];
}

static bool decide(cairn_pruner *p, hist *h, bool maximize, const cairn_trial_record *t)
{
    cairn_history hh = {h->rec, h->n, maximize, "study"};
    bool prune = false;
    CHECK(cairn_pruner_should_prune(p, &hh, t, &prune) == CAIRN_OK);
    return prune;
}

static cairn_pruner *make(cairn_ctx *ctx, const char *spec)
{
    cairn_pruner *p = NULL;
    if (cairn_pruner_new(ctx, spec, &p) != CAIRN_OK) {
        fprintf(stderr, "# %s: %s\n", spec, cairn_errmsg(ctx));
        unit_failed = 1;
    }
    return p;
}

TEST(median_compares_the_best_value_with_the_median_at_the_step)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_pruner *p = make(ctx, "median:n_startup_trials=2");
    static hist h;
    memset(&h, 0, sizeof h);
    const double a[] = {1, 0.9, 0.8}, b[] = {3, 2.0, 1.0};
    add(&h, CAIRN_TRIAL_COMPLETE, a, 3, 0.8);
    /* One complete trial: below n_startup_trials, never prune. */
    const double bad[] = {10, 10};
    cairn_trial_record *t = add(&h, CAIRN_TRIAL_RUNNING, bad, 2, 0);
    CHECK(!decide(p, &h, false, t));
    h.rec[1].state = CAIRN_TRIAL_FAIL;
    add(&h, CAIRN_TRIAL_COMPLETE, b, 3, 1.0);
    /* Median at step 1 of (0.9, 2.0) is 1.45: 1.5 is worse, 1.4 is not. */
    const double worse[] = {5, 1.5}, better[] = {5, 1.4};
    t = add(&h, CAIRN_TRIAL_RUNNING, worse, 2, 0);
    CHECK(decide(p, &h, false, t));
    h.values[3][1] = 1.4;
    CHECK(!decide(p, &h, false, t));
    (void)better;
    /* Maximize: the best is the largest value, compared with the same median. */
    h.values[3][0] = 0;
    h.values[3][1] = 1.4;
    CHECK(decide(p, &h, true, t));
    h.values[3][1] = 1.5;
    CHECK(!decide(p, &h, true, t));
    /* All NaN: prune at once. */
    h.values[3][0] = NAN;
    h.values[3][1] = NAN;
    CHECK(decide(p, &h, false, t));
    cairn_pruner_free(p);
    cairn_close(ctx);
}

TEST(percentile_interpolates_and_respects_warmup_and_interval)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_pruner *p =
        make(ctx, "percentile:percentile=25,n_startup_trials=0,n_warmup_steps=1,interval_steps=2");
    static hist h;
    memset(&h, 0, sizeof h);
    /* At step 1: values 1, 2, 3, 4 -> the 25th percentile is 1.75 (numpy's linear rule). */
    for (int i = 1; i <= 4; i++) {
        double v[4] = {10, (double)i, (double)i, (double)i};
        add(&h, CAIRN_TRIAL_COMPLETE, v, 4, (double)i);
    }
    double v[4] = {1.8, 1.8, 1.8, 1.8};
    cairn_trial_record *t = add(&h, CAIRN_TRIAL_RUNNING, v, 4, 0);
    t->n_steps = 1;
    CHECK(!decide(p, &h, false, t)); /* step 0 < warmup */
    t->n_steps = 2;
    CHECK(decide(p, &h, false, t)); /* step 1: 1.8 > 1.75 */
    h.values[4][1] = 1.7;
    h.values[4][0] = 1.7;
    CHECK(!decide(p, &h, false, t));
    h.values[4][0] = h.values[4][1] = 1.8;
    t->n_steps = 3;
    CHECK(!decide(p, &h, false, t)); /* step 2 is inside the interval started at step 1 */
    t->n_steps = 4;
    CHECK(decide(p, &h, false, t)); /* step 3: a new interval */
    cairn_pruner_free(p);
    cairn_close(ctx);
}

TEST(successive_halving_promotes_the_top_fraction)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_pruner *p = make(ctx, "successive_halving:min_resource=1,reduction_factor=2");
    static hist h;
    memset(&h, 0, sizeof h);
    /* Rung 0 is step 1 (min_resource * 2^0). The first trial to reach it is promoted. */
    const double a[] = {5, 4};
    cairn_trial_record *t = add(&h, CAIRN_TRIAL_RUNNING, a, 2, 0);
    CHECK(!decide(p, &h, false, t));
    h.rec[0].state = CAIRN_TRIAL_COMPLETE;
    /* Competing (4, 3): k = 2/2 - 1 = 0, promote iff value <= 3. */
    const double b[] = {5, 3};
    t = add(&h, CAIRN_TRIAL_RUNNING, b, 2, 0);
    CHECK(!decide(p, &h, false, t));
    h.rec[1].state = CAIRN_TRIAL_COMPLETE;
    const double c[] = {5, 3.5};
    t = add(&h, CAIRN_TRIAL_RUNNING, c, 2, 0);
    CHECK(decide(p, &h, false, t)); /* (3, 3.5, 4): k = 0, 3.5 > 3 */
    /* NaN at a rung prunes. */
    h.values[2][1] = NAN;
    CHECK(decide(p, &h, false, t));
    cairn_pruner_free(p);

    /* min_resource=auto learns max(last step of complete trials) / 100, at least 1, once. */
    p = make(ctx, "successive_halving");
    memset(&h, 0, sizeof h);
    double long_run[S_MAX];
    for (int i = 0; i < S_MAX; i++)
        long_run[i] = 1;
    t = add(&h, CAIRN_TRIAL_RUNNING, long_run, 10, 0);
    CHECK(!decide(p, &h, false, t)); /* nothing complete: cannot learn, no pruning */
    h.rec[0].state = CAIRN_TRIAL_COMPLETE;
    const double d[] = {2, 2};
    t = add(&h, CAIRN_TRIAL_RUNNING, d, 2, 0);
    CHECK(decide(p, &h, false, t)); /* r = 1: rung 0 at step 1, (1, 2): 2 > 1 */
    cairn_pruner_free(p);
    cairn_close(ctx);
}

TEST(hyperband_assigns_brackets_like_optuna)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_pruner *p = make(ctx, "hyperband:min_resource=1,max_resource=30");
    static hist h;
    memset(&h, 0, sizeof h);
    /* Brackets are known once the pruner initialised (on its first call). */
    CHECK(cairn_pruner_bracket(p, "alpha", 0) == -1);
    const double a[] = {1, 1};
    cairn_trial_record *t = add(&h, CAIRN_TRIAL_RUNNING, a, 2, 0);
    decide(p, &h, false, t);
    /* Optuna 3.1: 4 brackets with budgets 27, 12, 6, 4; crc32("alpha_<n>") mod 49. */
    static const int want[12] = {0, 0, 1, 0, 1, 0, 0, 2, 0, 0, 1, 1};
    for (int n = 0; n < 12; n++)
        CHECK(cairn_pruner_bracket(p, "alpha", n) == want[n]);
    cairn_pruner *q = make(ctx, "median");
    CHECK(cairn_pruner_bracket(q, "alpha", 0) == -1);
    cairn_pruner_free(q);
    cairn_pruner_free(p);
    cairn_close(ctx);
}

TEST(threshold_and_patient)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_pruner *p = make(ctx, "threshold:upper=2,n_warmup_steps=1");
    static hist h;
    memset(&h, 0, sizeof h);
    const double v[] = {5, 1, 3, NAN};
    cairn_trial_record *t = add(&h, CAIRN_TRIAL_RUNNING, v, 4, 0);
    t->n_steps = 1;
    CHECK(!decide(p, &h, false, t)); /* warmup */
    t->n_steps = 2;
    CHECK(!decide(p, &h, false, t));
    t->n_steps = 3;
    CHECK(decide(p, &h, false, t));
    t->n_steps = 4;
    CHECK(decide(p, &h, false, t)); /* NaN */
    cairn_pruner_free(p);

    /* Patient without a wrapped pruner is early stopping: no improvement in patience + 1. */
    p = make(ctx, "patient:patience=2");
    const double w[] = {3, 2, 2.5, 2.1, 2.2};
    memset(&h, 0, sizeof h);
    t = add(&h, CAIRN_TRIAL_RUNNING, w, 5, 0);
    t->n_steps = 3;
    CHECK(!decide(p, &h, false, t)); /* 3 steps <= patience + 1 */
    t->n_steps = 4;
    CHECK(!decide(p, &h, false, t)); /* before (3) best 3; after (2, 2.5, 2.1) best 2 */
    t->n_steps = 5;
    CHECK(decide(p, &h, false, t)); /* before best 2 < after best 2.1 */
    cairn_pruner_free(p);
    /* Wrapping: patient says maybe, the median decides (no complete trial: no). */
    p = make(ctx, "patient:patience=2/median:n_startup_trials=0");
    CHECK(!decide(p, &h, false, t));
    CHECK_STR(cairn_pruner_name(p), "patient");
    cairn_pruner_free(p);
    cairn_close(ctx);
}

TEST(specs_are_checked)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_pruner *p = NULL;
    CHECK(cairn_pruner_new(ctx, "mediam", &p) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "unknown pruner 'mediam'") != NULL);
    CHECK(cairn_pruner_new(ctx, "percentile", &p) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "needs percentile=P") != NULL);
    CHECK(cairn_pruner_new(ctx, "percentile:percentile=120", &p) == CAIRN_EINVAL);
    CHECK(cairn_pruner_new(ctx, "median:interval_steps=0", &p) == CAIRN_EINVAL);
    CHECK(cairn_pruner_new(ctx, "successive_halving:reduction_factor=1", &p) == CAIRN_EINVAL);
    CHECK(cairn_pruner_new(ctx, "successive_halving:bootstrap_count=2", &p) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "bootstrap_count > 0 needs a min_resource") != NULL);
    CHECK(cairn_pruner_new(ctx, "threshold", &p) == CAIRN_EINVAL);
    CHECK(cairn_pruner_new(ctx, "threshold:lower=2,upper=1", &p) == CAIRN_EINVAL);
    CHECK(cairn_pruner_new(ctx, "patient", &p) == CAIRN_EINVAL);
    CHECK(cairn_pruner_new(ctx, "patient:patience=1/nope", &p) == CAIRN_EINVAL);
    CHECK(cairn_pruner_new(ctx, "median/median", &p) == CAIRN_EINVAL);
    CHECK(cairn_pruner_new(ctx, "hyperband:max_resource=0", &p) == CAIRN_EINVAL);
    CHECK(cairn_pruner_new(ctx, "median:n_warmup_step=3", &p) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "unknown or repeated option 'n_warmup_step'") != NULL);
    CHECK(p == NULL);
    CHECK(cairn_pruner_new(ctx, "none", &p) == CAIRN_OK);
    static hist h;
    memset(&h, 0, sizeof h);
    const double v[] = {NAN, NAN};
    cairn_trial_record *t = add(&h, CAIRN_TRIAL_RUNNING, v, 2, 0);
    CHECK(!decide(p, &h, false, t));
    /* Steps out of order are refused. */
    h.steps[0][1] = 0;
    bool prune;
    cairn_history hh = {h.rec, h.n, false, NULL};
    CHECK(cairn_pruner_should_prune(p, &hh, t, &prune) == CAIRN_EINVAL);
    cairn_pruner_free(p);
    cairn_pruner_free(NULL);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(median_compares_the_best_value_with_the_median_at_the_step),
          UNIT_CASE(percentile_interpolates_and_respects_warmup_and_interval),
          UNIT_CASE(successive_halving_promotes_the_top_fraction),
          UNIT_CASE(hyperband_assigns_brackets_like_optuna), UNIT_CASE(threshold_and_patient),
          UNIT_CASE(specs_are_checked))
