/* SPDX-License-Identifier: MIT */
/* test_hpo_samplers.c - every sampler stays in the space (bounds, steps, logs, ints,
 * conditions) and repeats itself under a seed; the grid covers each point once; Sobol' matches
 * the published sequence and its scramble keeps the net property; TPE beats random search. */
#include <math.h>
#include <stdint.h>
#include "unit.h"
#include "cairn/hpo.h"
#include "hpo/hpo_internal.h"
#include "base/xmalloc.h"

static const char mixed_yaml[] =
    "parameters:\n"
    "  lr:    {type: float, low: 1.0e-5, high: 1.0e-1, log: true}\n"
    "  x:     {type: float, low: -5, high: 5}\n"
    "  q:     {type: float, low: 0, high: 1, step: 0.25}\n"
    "  n:     {type: int, low: 1, high: 64, log: true}\n"
    "  w:     {type: int, low: 64, high: 1024, step: 64}\n"
    "  k:     {type: int, low: -3, high: 3}\n"
    "  opt:   {type: categorical, values: [adam, sgd, rmsprop]}\n"
    "  mom:   {type: float, low: 0.5, high: 0.99, when: {opt: sgd}}\n"
    "  nest:  {type: categorical, values: [yes, no], when: {opt: [sgd, rmsprop]}}\n"
    "  deep:  {type: int, low: 0, high: 10, when: {nest: yes}}\n"
    "  epochs: 30\n";

static cairn_space *load(cairn_ctx *ctx, const char *text)
{
    cairn_space *sp = NULL;
    if (cairn_space_parse(ctx, "t.yaml", CAIRN_SPACE_YAML, text, strlen(text), &sp) != CAIRN_OK)
        fprintf(stderr, "# %s\n", cairn_errmsg(ctx));
    return sp;
}

/* ---- an in-memory study: the history a store would hand the sampler ---- */

#define MAX_TRIALS 1500
#define MAX_P 16

typedef struct study {
    cairn_trial_record rec[MAX_TRIALS];
    double params[MAX_TRIALS][MAX_P];
    size_t n;
    bool maximize;
} study;

typedef double (*objective_fn)(const cairn_space *sp, const double *x);

/* Runs n_trials asks and tells; returns the best value; fails the test on any point outside
 * the space. Points are appended to out (n_trials x n_params) when out is not NULL. */
static double run(cairn_ctx *ctx, const cairn_space *sp, const char *spec, uint64_t seed,
                  int n_trials, objective_fn f, study *st, double *out)
{
    cairn_sampler *s = NULL;
    size_t np = cairn_space_n_params(sp);
    double best = INFINITY;
    if (cairn_sampler_new(ctx, sp, spec, seed, &s) != CAIRN_OK) {
        fprintf(stderr, "# %s: %s\n", spec, cairn_errmsg(ctx));
        unit_failed = 1;
        return NAN;
    }
    memset(st, 0, sizeof *st);
    for (int t = 0; t < n_trials; t++) {
        cairn_history h = {st->rec, st->n, st->maximize, "s"};
        double *x = st->params[st->n];
        if (cairn_sampler_ask(s, &h, t, x) != CAIRN_OK) {
            fprintf(stderr, "# %s ask %d: %s\n", spec, t, cairn_errmsg(ctx));
            unit_failed = 1;
            break;
        }
        if (!cairn_space_contains(sp, x)) {
            fprintf(stderr, "# %s: trial %d is outside the space\n", spec, t);
            unit_failed = 1;
        }
        if (out)
            memcpy(out + (size_t)t * np, x, np * sizeof *x);
        double v = f(sp, x);
        st->rec[st->n] = (cairn_trial_record){
            .number = t, .state = CAIRN_TRIAL_COMPLETE, .value = v, .params = x};
        st->n++;
        if (v < best)
            best = v;
    }
    cairn_sampler_free(s);
    return best;
}

static double mixed_objective(const cairn_space *sp, const double *x)
{
    (void)sp;
    double v = pow(log10(x[0]) + 3, 2) + pow(x[1] - 1, 2) + x[2] + fabs(log2(x[3]) - 3) +
               fabs(x[4] - 256) / 256 + fabs(x[5]);
    if (x[6] == 1)
        v += fabs(x[7] - 0.9) + (x[8] == 0 ? fabs(x[9] - 5) : 1);
    else if (x[6] == 2)
        v += 0.5;
    return v;
}

static const char *const all_samplers[] = {
    "random", /* grid: in grid_covers_every_point_once (this space has too many points) */
    "sobol",
    "sobol:scramble=false",
    "tpe",
    "tpe:n_startup_trials=5",
    "tpe:multivariate=true,n_startup_trials=5",
    "tpe:multivariate=true,group=true,n_startup_trials=5",
    "tpe:multivariate=true,bandwidth=neighbor,n_startup_trials=5",
    "tpe:constant_liar=true,n_startup_trials=5,endpoints=true,magic_clip=false",
    "cmaes",
    "cmaes:popsize=6,sigma0=0.3,restart=none",
};

TEST(every_sampler_stays_in_the_space_and_repeats_under_a_seed)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = load(ctx, mixed_yaml);
    static study st;
    static double a[60 * MAX_P], b[60 * MAX_P];
    size_t np = sp ? cairn_space_n_params(sp) : 0;
    CHECK(sp && np == 11);
    for (size_t i = 0; sp && i < CN_ARRAY_LEN(all_samplers); i++) {
        run(ctx, sp, all_samplers[i], 7, 60, mixed_objective, &st, a);
        run(ctx, sp, all_samplers[i], 7, 60, mixed_objective, &st, b);
        if (memcmp(a, b, 60 * np * sizeof(double)) != 0) {
            fprintf(stderr, "# %s: same seed, different sequence\n", all_samplers[i]);
            unit_failed = 1;
        }
        /* Every kind of value appears: the conditional ones both set and unset. */
        size_t n_mom = 0, n_deep = 0;
        for (int t = 0; t < 60; t++) {
            n_mom += !isnan(a[t * np + 7]);
            n_deep += !isnan(a[t * np + 9]);
        }
        if (n_mom == 0 || n_mom == 60 || n_deep == 0) {
            fprintf(stderr, "# %s: conditional parameters never or always set (%zu, %zu)\n",
                    all_samplers[i], n_mom, n_deep);
            unit_failed = 1;
        }
        if (strcmp(all_samplers[i], "sobol:scramble=false") != 0) {
            run(ctx, sp, all_samplers[i], 8, 60, mixed_objective, &st, b);
            if (memcmp(a, b, 60 * np * sizeof(double)) == 0) {
                fprintf(stderr, "# %s: another seed, the same sequence\n", all_samplers[i]);
                unit_failed = 1;
            }
        }
    }
    cairn_space_free(sp);
    cairn_close(ctx);
}

TEST(pending_and_failed_trials_do_not_break_tpe)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = load(ctx, mixed_yaml);
    static study st;
    run(ctx, sp, "tpe:multivariate=true,constant_liar=true,n_startup_trials=3", 1, 20,
        mixed_objective, &st, NULL);
    /* Mark some trials running, pruned (with and without intermediate values) and failed. */
    static const int64_t steps[2] = {0, 3};
    static const double vals[2] = {5, 4};
    st.rec[2].state = CAIRN_TRIAL_RUNNING;
    st.rec[3].state = CAIRN_TRIAL_PRUNED;
    st.rec[3].n_steps = 2;
    st.rec[3].steps = steps;
    st.rec[3].values = vals;
    st.rec[4].state = CAIRN_TRIAL_PRUNED;
    st.rec[5].state = CAIRN_TRIAL_FAIL;
    st.rec[6].value = NAN;
    st.maximize = true;
    cairn_sampler *s = NULL;
    double x[MAX_P];
    CHECK(cairn_sampler_new(ctx, sp, "tpe:constant_liar=true,n_startup_trials=3", 3, &s) ==
          CAIRN_OK);
    cairn_history h = {st.rec, st.n, true, "s"};
    for (int t = 20; t < 40; t++) {
        CHECK(cairn_sampler_ask(s, &h, t, x) == CAIRN_OK);
        CHECK(cairn_space_contains(sp, x));
    }
    cairn_sampler_free(s);
    cairn_space_free(sp);
    cairn_close(ctx);
}

/* ---- grid ---- */

TEST(grid_covers_every_point_once)
{
    cairn_ctx *ctx = cairn_ctx_new();
    /* 3 optimizers; sgd adds momentum (4 values) and nesterov (2); adam adds beta (3 points).
     * Points: width (3) x [adam: beta 3 + sgd: 4 x 2 + rmsprop: 1] = 3 x 12 = 36. */
    cairn_space *sp = load(ctx, "parameters:\n"
                                "  width: {type: int, low: 32, high: 128, step: 48}\n"
                                "  opt: {type: categorical, values: [adam, sgd, rmsprop]}\n"
                                "  mom: {type: float, low: 0.6, high: 0.9, step: 0.1, when: "
                                "{opt: sgd}}\n"
                                "  nesterov: {type: categorical, values: [yes, no], when: {opt: "
                                "sgd}}\n"
                                "  beta: {type: float, low: 0.9, high: 0.999, log: true, when: "
                                "{opt: adam}}\n"
                                "  seed: 1\n");
    cairn_sampler *s = NULL;
    CHECK(sp && cairn_sampler_new(ctx, sp, "grid:points=3", 5, &s) == CAIRN_OK);
    if (!s) {
        cairn_space_free(sp);
        cairn_close(ctx);
        return;
    }
    uint64_t n = 0;
    CHECK(cairn_sampler_grid_size(s, &n) == CAIRN_OK && n == 36);
    static study st;
    bool seen[36] = {false};
    size_t t;
    for (t = 0; t < 40; t++) {
        cairn_history h = {st.rec, st.n, false, "s"};
        double *x = st.params[t];
        cairn_status rc = cairn_sampler_ask(s, &h, (int64_t)t, x);
        if (t == 36) {
            CHECK(rc == CAIRN_ELIMIT);
            CHECK(strstr(cairn_errmsg(ctx), "grid exhausted") != NULL);
            break;
        }
        CHECK(rc == CAIRN_OK);
        CHECK(cairn_space_contains(sp, x));
        uint64_t k = 99;
        CHECK(cairn_sampler_grid_index(s, x, &k) == CAIRN_OK && k < 36);
        if (k < 36) {
            CHECK(!seen[k]);
            seen[k] = true;
        }
        double y[6];
        CHECK(cairn_sampler_grid_point(s, k, y) == CAIRN_OK);
        for (int i = 0; i < 6; i++)
            CHECK((isnan(x[i]) && isnan(y[i])) || x[i] == y[i]);
        /* Alternate states: running and failed trials hold their points too. */
        st.rec[st.n] = (cairn_trial_record){.number = (int64_t)t,
                                            .state = t % 3 == 0   ? CAIRN_TRIAL_RUNNING
                                                     : t % 3 == 1 ? CAIRN_TRIAL_FAIL
                                                                  : CAIRN_TRIAL_COMPLETE,
                                            .params = x};
        st.n++;
    }
    CHECK(t == 36);
    for (int k = 0; k < 36; k++)
        CHECK(seen[k]);
    /* A point off the grid has no index; a non-grid sampler has no grid. */
    double off[6] = {33, 2, NAN, NAN, NAN, 0};
    uint64_t k;
    CHECK(cairn_sampler_grid_index(s, off, &k) == CAIRN_ENOTFOUND);
    cairn_sampler *r = NULL;
    CHECK(cairn_sampler_new(ctx, sp, "random", 1, &r) == CAIRN_OK);
    CHECK(cairn_sampler_grid_size(r, &n) == CAIRN_EINVAL);
    cairn_sampler_free(r);
    cairn_sampler_free(s);
    cairn_space_free(sp);
    cairn_close(ctx);
}

/* ---- Sobol' ---- */

TEST(sobol_matches_the_published_sequence)
{
    /* The first 16 points in 8 dimensions, from SciPy's qmc.Sobol(scramble=False) (Joe and
     * Kuo's new-joe-kuo-6.21201), times 2^32. */
    static const uint32_t want[16][8] = {
        {0, 0, 0, 0, 0, 0, 0, 0},
        {2147483648u, 2147483648u, 2147483648u, 2147483648u, 2147483648u, 2147483648u, 2147483648u,
         2147483648u},
        {3221225472u, 1073741824u, 1073741824u, 1073741824u, 3221225472u, 3221225472u, 1073741824u,
         3221225472u},
        {1073741824u, 3221225472u, 3221225472u, 3221225472u, 1073741824u, 1073741824u, 3221225472u,
         1073741824u},
        {1610612736u, 1610612736u, 2684354560u, 3758096384u, 1610612736u, 536870912u, 1610612736u,
         3758096384u},
        {3758096384u, 3758096384u, 536870912u, 1610612736u, 3758096384u, 2684354560u, 3758096384u,
         1610612736u},
        {2684354560u, 536870912u, 3758096384u, 2684354560u, 2684354560u, 3758096384u, 536870912u,
         536870912u},
        {536870912u, 2684354560u, 1610612736u, 536870912u, 536870912u, 1610612736u, 2684354560u,
         2684354560u},
        {805306368u, 1342177280u, 4026531840u, 1879048192u, 2415919104u, 1342177280u, 1879048192u,
         4026531840u},
        {2952790016u, 3489660928u, 1879048192u, 4026531840u, 268435456u, 3489660928u, 4026531840u,
         1879048192u},
        {4026531840u, 268435456u, 2952790016u, 805306368u, 1342177280u, 2415919104u, 805306368u,
         805306368u},
        {1879048192u, 2415919104u, 805306368u, 2952790016u, 3489660928u, 268435456u, 2952790016u,
         2952790016u},
        {1342177280u, 805306368u, 1342177280u, 2415919104u, 4026531840u, 1879048192u, 268435456u,
         268435456u},
        {3489660928u, 2952790016u, 3489660928u, 268435456u, 1879048192u, 4026531840u, 2415919104u,
         2415919104u},
        {2415919104u, 1879048192u, 268435456u, 3489660928u, 805306368u, 2952790016u, 1342177280u,
         3489660928u},
        {268435456u, 4026531840u, 2415919104u, 1342177280u, 2952790016u, 805306368u, 3489660928u,
         1342177280u},
    };
    for (uint32_t i = 0; i < 16; i++)
        for (uint32_t d = 0; d < 8; d++)
            CHECK(cn_sobol_point(d, i) == want[i][d]);
    /* Deeper points and dimensions (SciPy, 30 bits): the recurrence for high degrees. */
    static const uint32_t dims[7] = {0, 1, 2, 5, 50, 200, 999};
    static const uint32_t at1000[7] = {235929600, 103809024, 556793856, 974127104,
                                       378535936, 808452096, 214958080};
    static const uint32_t at12345[7] = {688193536, 873398272, 172163072, 63242240,
                                        828309504, 634060800, 140705792};
    for (int j = 0; j < 7; j++) {
        CHECK(cn_sobol_point(dims[j], 1000) >> 2 == at1000[j]);
        CHECK(cn_sobol_point(dims[j], 12345) >> 2 == at12345[j]);
    }
    /* Through the sampler, unscrambled: the first point is the lower corner. */
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = load(ctx, "parameters:\n  a: {type: float, low: -2, high: 2}\n"
                                "  b: {type: int, low: 0, high: 9}\n");
    cairn_sampler *s = NULL;
    double x[2];
    CHECK(sp && cairn_sampler_new(ctx, sp, "sobol:scramble=false", 0, &s) == CAIRN_OK);
    CHECK(s && cairn_sampler_ask(s, NULL, 0, x) == CAIRN_OK && x[0] == -2 && x[1] == 0);
    CHECK(s && cairn_sampler_ask(s, NULL, 1, x) == CAIRN_OK && x[0] == 0);
    cairn_sampler_free(s);
    cairn_space_free(sp);
    cairn_close(ctx);
}

/* Whether pts (n x 2 in [0,1)) has exactly n / 2^m points in every elementary interval
 * [a 2^-k1, (a+1) 2^-k1) x [b 2^-k2, (b+1) 2^-k2) with k1 + k2 = m: a (0, m, 2)-net. */
static bool is_net(const double *pts, size_t n, int m)
{
    static int count[1 << 12];
    for (int k1 = 0; k1 <= m; k1++) {
        int k2 = m - k1;
        memset(count, 0, sizeof count);
        for (size_t i = 0; i < n; i++) {
            int a = (int)(pts[2 * i] * (double)(1 << k1));
            int b = (int)(pts[2 * i + 1] * (double)(1 << k2));
            count[(a << k2) | b]++;
        }
        for (int c = 0; c < (1 << m); c++)
            if ((size_t)count[c] != n >> m)
                return false;
    }
    return true;
}

TEST(scrambled_sobol_keeps_the_net_property)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = load(ctx, "parameters:\n  a: {type: float, low: 0, high: 1}\n"
                                "  b: {type: float, low: 0, high: 1}\n");
    static double pts[1024 * 2];
    for (uint64_t seed = 1; seed <= 3 && sp; seed++) {
        cairn_sampler *s = NULL;
        CHECK(cairn_sampler_new(ctx, sp, "sobol", seed, &s) == CAIRN_OK);
        for (int i = 0; i < 1024 && s; i++)
            CHECK(cairn_sampler_ask(s, NULL, i, &pts[2 * i]) == CAIRN_OK);
        /* The first 2^m points form a (0, m, 2)-net for every m, and the scramble moved them. */
        for (int m = 1; m <= 10; m++)
            CHECK(is_net(pts, (size_t)1 << m, m));
        CHECK(!(pts[0] == 0 && pts[1] == 0));
        cairn_sampler_free(s);
    }
    /* The property is not trivially true: random points fail it. */
    cairn_sampler *r = NULL;
    CHECK(sp && cairn_sampler_new(ctx, sp, "random", 1, &r) == CAIRN_OK);
    for (int i = 0; i < 1024 && r; i++)
        cairn_sampler_ask(r, NULL, i, &pts[2 * i]);
    CHECK(!is_net(pts, 1024, 10));
    cairn_sampler_free(r);
    cairn_space_free(sp);
    cairn_close(ctx);
}

/* ---- TPE against random search ---- */

static double shifted_quadratic(const cairn_space *sp, const double *x)
{
    (void)sp;
    double v = 0;
    for (size_t i = 0; i < 4; i++)
        v += pow(x[i] - 1.234 + 0.5 * (double)i, 2);
    return v;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static double median_best(cairn_ctx *ctx, const cairn_space *sp, const char *spec, int n_seeds,
                          int n_trials, objective_fn f)
{
    static study st;
    double best[64];
    for (int s = 0; s < n_seeds; s++)
        best[s] = run(ctx, sp, spec, (uint64_t)s + 100, n_trials, f, &st, NULL);
    qsort(best, (size_t)n_seeds, sizeof *best, cmp_double);
    return best[n_seeds / 2];
}

TEST(tpe_beats_random_search_on_a_smooth_function)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = load(ctx, "parameters:\n"
                                "  x0: {type: float, low: -5, high: 5}\n"
                                "  x1: {type: float, low: -5, high: 5}\n"
                                "  x2: {type: float, low: -5, high: 5}\n"
                                "  x3: {type: float, low: -5, high: 5}\n");
    if (!sp) {
        CHECK(sp != NULL);
        cairn_close(ctx);
        return;
    }
    /* 15 seeds, 100 trials: the median best value of each sampler. */
    double rnd = median_best(ctx, sp, "random", 15, 100, shifted_quadratic);
    double tpe = median_best(ctx, sp, "tpe", 15, 100, shifted_quadratic);
    double mv = median_best(ctx, sp, "tpe:multivariate=true", 15, 100, shifted_quadratic);
    double qmc = median_best(ctx, sp, "sobol", 15, 100, shifted_quadratic);
    printf("# median best of 15 seeds at 100 trials: random %.4g, sobol %.4g, tpe %.4g, "
           "tpe multivariate %.4g\n",
           rnd, qmc, tpe, mv);
    CHECK(tpe < rnd / 2);
    CHECK(mv < rnd / 2);
    cairn_space_free(sp);
    cairn_close(ctx);
}

static double conditional_objective(const cairn_space *sp, const double *x)
{
    (void)sp;
    /* sgd with momentum near 0.9 and lr near 1e-2 is best; adam is good but not best. */
    double v = pow(log10(x[0]) + 2, 2);
    return x[1] == 1 ? v + pow(x[2] - 0.9, 2) * 10 : v + 0.3;
}

TEST(tpe_beats_random_search_on_a_conditional_space)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = load(ctx, "parameters:\n"
                                "  lr: {type: float, low: 1.0e-5, high: 1, log: true}\n"
                                "  opt: {type: categorical, values: [adam, sgd]}\n"
                                "  mom: {type: float, low: 0, high: 0.99, when: {opt: sgd}}\n");
    if (!sp) {
        CHECK(sp != NULL);
        cairn_close(ctx);
        return;
    }
    double rnd = median_best(ctx, sp, "random", 15, 60, conditional_objective);
    double grp =
        median_best(ctx, sp, "tpe:multivariate=true,group=true", 15, 60, conditional_objective);
    double uni = median_best(ctx, sp, "tpe", 15, 60, conditional_objective);
    printf("# conditional, median best of 15 seeds at 60 trials: random %.4g, tpe %.4g, "
           "tpe group %.4g\n",
           rnd, uni, grp);
    CHECK(grp < rnd);
    CHECK(uni < rnd);
    cairn_space_free(sp);
    cairn_close(ctx);
}

TEST(constant_liar_steers_away_from_running_trials)
{
    /* Ten complete trials and one running trial at the best known point: without the liar the
     * next point lands near it; with the liar the running trial counts as bad there. */
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = load(ctx, "parameters:\n  x: {type: float, low: 0, high: 10}\n");
    static study st;
    static const double xs[11] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 0.5, 5};
    for (int i = 0; i < 11; i++) {
        st.params[i][0] = xs[i];
        st.rec[i] =
            (cairn_trial_record){.number = i,
                                 .state = i == 10 ? CAIRN_TRIAL_RUNNING : CAIRN_TRIAL_COMPLETE,
                                 .value = fabs(xs[i] - 5),
                                 .params = st.params[i]};
    }
    cairn_history h = {st.rec, 11, false, "s"};
    int near_plain = 0, near_liar = 0;
    for (uint64_t seed = 0; seed < 40 && sp; seed++) {
        cairn_sampler *a = NULL, *b = NULL;
        double x;
        CHECK(cairn_sampler_new(ctx, sp, "tpe", seed, &a) == CAIRN_OK);
        CHECK(cairn_sampler_new(ctx, sp, "tpe:constant_liar=true", seed, &b) == CAIRN_OK);
        if (a && cairn_sampler_ask(a, &h, 11, &x) == CAIRN_OK)
            near_plain += fabs(x - 5) < 0.5;
        if (b && cairn_sampler_ask(b, &h, 11, &x) == CAIRN_OK)
            near_liar += fabs(x - 5) < 0.5;
        cairn_sampler_free(a);
        cairn_sampler_free(b);
    }
    printf("# next point within 0.5 of the running trial: %d/40 plain, %d/40 with the liar\n",
           near_plain, near_liar);
    CHECK(near_liar < near_plain);
    cairn_space_free(sp);
    cairn_close(ctx);
}

/* ---- CMA-ES ---- */

static double rosenbrock5(const cairn_space *sp, const double *x)
{
    (void)sp;
    double v = 0;
    for (int i = 0; i < 4; i++)
        v += 100 * pow(x[i + 1] - x[i] * x[i], 2) + pow(1 - x[i], 2);
    return v;
}

TEST(cmaes_beats_random_on_rosenbrock)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = load(ctx, "parameters:\n"
                                "  x0: {type: float, low: -5, high: 10}\n"
                                "  x1: {type: float, low: -5, high: 10}\n"
                                "  x2: {type: float, low: -5, high: 10}\n"
                                "  x3: {type: float, low: -5, high: 10}\n"
                                "  x4: {type: float, low: -5, high: 10}\n");
    if (!sp) {
        CHECK(sp != NULL);
        cairn_close(ctx);
        return;
    }
    double rnd = median_best(ctx, sp, "random", 11, 200, rosenbrock5);
    double tpe = median_best(ctx, sp, "tpe", 11, 200, rosenbrock5);
    double cma = median_best(ctx, sp, "cmaes", 11, 200, rosenbrock5);
    printf("# rosenbrock-5, median best of 11 seeds at 200 trials: random %.4g, tpe %.4g, "
           "cmaes %.4g\n",
           rnd, tpe, cma);
    CHECK(cma < rnd / 10);
    cairn_space_free(sp);
    cairn_close(ctx);
}

static double sphere_at_one(const cairn_space *sp, const double *x)
{
    (void)sp;
    return pow(x[0] - 1, 2) + pow(x[1] - 1, 2);
}

TEST(cmaes_restarts_after_converging)
{
    /* On a 2-D sphere CMA-ES converges within a few hundred trials and then meets tolfun:
     * with IPOP it restarts from a random mean (points far from the optimum again), without
     * restarts it stays put. */
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = load(ctx, "parameters:\n  a: {type: float, low: -5, high: 5}\n"
                                "  b: {type: float, low: -5, high: 5}\n");
    static study st;
    static double pts[1500 * 2];
    size_t far_ipop = 0, far_none = 0;
    double best_ipop = run(ctx, sp, "cmaes", 3, 1500, sphere_at_one, &st, pts);
    for (int t = 750; t < 1500; t++)
        far_ipop += sphere_at_one(sp, &pts[t * 2]) > 0.25;
    double best_none = run(ctx, sp, "cmaes:restart=none", 3, 1500, sphere_at_one, &st, pts);
    for (int t = 750; t < 1500; t++)
        far_none += sphere_at_one(sp, &pts[t * 2]) > 0.25;
    printf("# sphere: best %.3g (ipop), %.3g (none); far points after 750 trials: %zu, %zu\n",
           best_ipop, best_none, far_ipop, far_none);
    CHECK(best_ipop < 1e-10 && best_none < 1e-10);
    CHECK(far_ipop > 20);
    CHECK(far_none == 0);
    cairn_space_free(sp);
    cairn_close(ctx);
}

static double int_quadratic(const cairn_space *sp, const double *x)
{
    (void)sp;
    return pow(x[0] - 7.3, 2) + pow(x[1] - 7.3, 2) + pow(x[2] - 7.3, 2);
}

TEST(cmaes_finds_the_integer_optimum)
{
    /* The margin keeps integer dimensions moving: every seed reaches (7, 7, 7). */
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = load(ctx, "parameters:\n  a: {type: int, low: 0, high: 20}\n"
                                "  b: {type: int, low: 0, high: 20}\n"
                                "  c: {type: int, low: 0, high: 20, step: 1}\n");
    static study st;
    for (uint64_t seed = 0; seed < 5 && sp; seed++) {
        double best = run(ctx, sp, "cmaes", seed, 300, int_quadratic, &st, NULL);
        CHECK_NEAR(best, 0.27, 1e-9);
    }
    cairn_space_free(sp);
    cairn_close(ctx);
}

TEST(cmaes_warm_start_takes_tpe_then_starts_from_its_best)
{
    /* cmaes:warm_start=K: the first K trials are TPE's (the same points as the TPE sampler
     * with the same seed), then CMA-ES draws around their best points, so the trials after K
     * sit much closer to the optimum than the box-centred start of plain CMA-ES; the same
     * seed gives the same sequence. */
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = load(ctx, "parameters:\n  a: {type: float, low: -5, high: 5}\n"
                                "  b: {type: float, low: -5, high: 5}\n");
    static study st;
    static double warm[60 * 2], again[60 * 2], tpe[20 * 2], plain[60 * 2];
    run(ctx, sp, "cmaes:warm_start=20,warm_sampler=tpe_mv", 4, 60, sphere_at_one, &st, warm);
    run(ctx, sp, "cmaes:warm_start=20,warm_sampler=tpe_mv", 4, 60, sphere_at_one, &st, again);
    /* the warm start's TPE scores with the textbook density (docs/hpo.md) */
    run(ctx, sp, "tpe:multivariate=true,group=true,constant_liar=true,density=normalized", 4, 20,
        sphere_at_one, &st, tpe);
    run(ctx, sp, "cmaes", 4, 60, sphere_at_one, &st, plain);
    CHECK(memcmp(warm, again, sizeof warm) == 0);
    CHECK(memcmp(warm, tpe, sizeof tpe) == 0);
    double d_warm = 0, d_plain = 0; /* mean distance² to the optimum of trials 20 .. 29 */
    for (int t = 20; t < 30; t++) {
        d_warm += sphere_at_one(sp, &warm[t * 2]) / 10;
        d_plain += sphere_at_one(sp, &plain[t * 2]) / 10;
    }
    printf("# sphere at (1, 1), trials 20-29: mean squared distance %.3g warm-started, %.3g "
           "plain\n",
           d_warm, d_plain);
    CHECK(d_warm < d_plain / 2);
    cairn_sampler *s = NULL;
    CHECK(cairn_sampler_new(ctx, sp, "cmaes:warm_sampler=gp", 1, &s) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "warm_sampler must be tpe or tpe_mv") != NULL);
    /* auto with a budget of 50 or more on a continuous space is the warm-started CMA-ES */
    CHECK(cairn_sampler_new(ctx, sp, "auto:trials=200", 4, &s) == CAIRN_OK);
    CHECK(s && strcmp(cairn_sampler_name(s), "cmaes") == 0);
    cairn_sampler_free(s);
    cairn_space_free(sp);
    cairn_close(ctx);
}

/* The optimizer benchmark's mixed space (bench/bench_hpo_samplers.c): a 5-way categorical that
 * moves the best learning rate, a log float, an int, a log int and a float; f* = 0. */
static const char bench_mixed_yaml[] =
    "parameters:\n"
    "  optimizer: {type: categorical, values: [sgd, momentum, adam, rmsprop, adagrad]}\n"
    "  lr: {type: float, low: 1.0e-5, high: 1, log: true}\n"
    "  n_layers: {type: int, low: 1, high: 10}\n"
    "  n_units: {type: int, low: 8, high: 1024, log: true}\n"
    "  dropout: {type: float, low: 0, high: 0.8}\n";

static double bench_mixed(const cairn_space *sp, const double *x)
{
    (void)sp;
    static const double offset[5] = {0.30, 0.15, 0, 0.10, 0.60};
    static const double best_lr[5] = {-1, -2, -3, -3.5, -1.5};
    int opt = (int)x[0];
    return offset[opt] + 0.5 * pow(log10(x[1]) - best_lr[opt], 2) + 0.05 * pow(x[2] - 4, 2) +
           0.1 * pow(log2(x[3]) - 7, 2) + 4 * pow(x[4] - 0.05 * x[2], 2);
}

/* Styblinski-Tang 5-D, the benchmark's (bench/bench_hpo_samplers.c); f* = -195.83. */
static const char st5_yaml[] = "parameters:\n"
                               "  x0: {type: float, low: -5, high: 5}\n"
                               "  x1: {type: float, low: -5, high: 5}\n"
                               "  x2: {type: float, low: -5, high: 5}\n"
                               "  x3: {type: float, low: -5, high: 5}\n"
                               "  x4: {type: float, low: -5, high: 5}\n";

static double styblinski_tang5(const cairn_space *sp, const double *x)
{
    (void)sp;
    double v = 0;
    for (int i = 0; i < 5; i++)
        v += x[i] * x[i] * x[i] * x[i] - 16 * x[i] * x[i] + 5 * x[i];
    return v / 2;
}

TEST(auto_on_a_continuous_space_is_tpe_then_cmaes_with_a_smaller_population)
{
    /* auto:trials=100 on 5 floats: the first 40 trials are the multivariate TPE's, then
     * CMA-ES with a population of 6 (4 + floor(1.5 ln 5)) where Hansen's default is 8: the run
     * is the explicit spec's, and not the default population's; the same seed repeats it. */
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = load(ctx, st5_yaml);
    static study st;
    static double a[100 * 5], b[100 * 5], expl[100 * 5], pop8[100 * 5], tpe[40 * 5];
    const char *spec = "cmaes:warm_start=40,warm_sampler=tpe_mv,warm_density=optuna";
    char spec6[160];
    snprintf(spec6, sizeof spec6, "%s,popsize=6", spec);
    run(ctx, sp, "auto:trials=100", 3, 100, styblinski_tang5, &st, a);
    run(ctx, sp, "auto:trials=100", 3, 100, styblinski_tang5, &st, b);
    run(ctx, sp, spec6, 3, 100, styblinski_tang5, &st, expl);
    run(ctx, sp, spec, 3, 100, styblinski_tang5, &st, pop8);
    run(ctx, sp, "tpe:multivariate=true,group=true,constant_liar=true,density=optuna", 3, 40,
        styblinski_tang5, &st, tpe);
    CHECK(memcmp(a, b, sizeof a) == 0);
    CHECK(memcmp(a, expl, sizeof a) == 0);
    CHECK(memcmp(a, tpe, sizeof tpe) == 0);
    CHECK(memcmp(a, pop8, 40 * 5 * sizeof a[0]) == 0);
    /* the second generation starts at trial 46 with 6 and at trial 48 with 8 */
    CHECK(memcmp(&a[46 * 5], &pop8[46 * 5], 5 * sizeof a[0]) != 0);
    /* Parallel workers: trials 60-63 asked while 60-62 are RUNNING get four different points
     * (each trial number draws its own stream from the same CMA-ES state). */
    run(ctx, sp, "auto:trials=100", 3, 60, styblinski_tang5, &st, NULL);
    static double pts[4][5];
    cairn_sampler *s = NULL;
    CHECK(cairn_sampler_new(ctx, sp, "auto:trials=100", 3, &s) == CAIRN_OK);
    CHECK(s && strcmp(cairn_sampler_name(s), "cmaes") == 0);
    for (int w = 0; w < 4 && s; w++) {
        cairn_history hw = {st.rec, st.n, false, "s"};
        CHECK(cairn_sampler_ask(s, &hw, 60 + w, pts[w]) == CAIRN_OK);
        CHECK(cairn_space_contains(sp, pts[w]));
        memcpy(st.params[st.n], pts[w], sizeof pts[w]);
        st.rec[st.n] = (cairn_trial_record){.number = 60 + w,
                                            .state = CAIRN_TRIAL_RUNNING,
                                            .value = NAN,
                                            .params = st.params[st.n]};
        st.n++;
    }
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            CHECK(memcmp(pts[i], pts[j], sizeof pts[i]) != 0);
    cairn_sampler_free(s);
    cairn_space_free(sp);
    cairn_close(ctx);
}

TEST(auto_chooses_by_the_kind_of_space)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *cont = load(ctx, "parameters:\n  a: {type: float, low: 0, high: 1}\n"
                                  "  b: {type: int, low: 1, high: 9}\n");
    cairn_space *mixed = load(ctx, bench_mixed_yaml);
    cairn_space *one_num = load(ctx, "parameters:\n  a: {type: float, low: 0, high: 1}\n"
                                     "  c: {type: categorical, values: [x, y]}\n");
    cairn_space *cond = load(ctx, mixed_yaml);
    cairn_space *grid = load(ctx, "parameters:\n  c: {type: categorical, values: [x, y]}\n"
                                  "  k: {type: int, low: 1, high: 3}\n");
    cairn_space *st5 = load(ctx, st5_yaml);
    cairn_space *r10 = load(ctx, "parameters:\n  a: {type: float, low: 0, high: 1}\n"
                                 "  b: {type: float, low: 0, high: 1}\n"
                                 "  c: {type: float, low: 0, high: 1}\n"
                                 "  d: {type: float, low: 0, high: 1}\n"
                                 "  e: {type: float, low: 0, high: 1}\n"
                                 "  f: {type: float, low: 0, high: 1}\n"
                                 "  g: {type: float, low: 0, high: 1}\n"
                                 "  h: {type: float, low: 0, high: 1}\n"
                                 "  i: {type: int, low: 0, high: 9}\n"
                                 "  j: {type: float, low: 1, high: 100, log: true}\n");
    if (!cont || !mixed || !one_num || !cond || !grid || !st5 || !r10) {
        CHECK(false);
    } else {
        /* popsize 4 + floor(1.5 ln d): 5 for the 2 parameters here */
        const char *warm = "cmaes:warm_start=%d,warm_sampler=tpe_mv,warm_density=optuna,popsize=5";
        char w50[CN_AUTO_SPEC_MAX], w99[CN_AUTO_SPEC_MAX], w200[CN_AUTO_SPEC_MAX];
        snprintf(w50, sizeof w50, warm, 20); /* 40 % of the budget, at most 40 */
        snprintf(w99, sizeof w99, warm, 39);
        snprintf(w200, sizeof w200, warm, 40);
        char buf[CN_AUTO_SPEC_MAX];
        const char *hybrid =
            "cmaes:warm_start=%d,warm_sampler=tpe_mv,warm_density=optuna,independent=warm";
        char h100[CN_AUTO_SPEC_MAX], h200[CN_AUTO_SPEC_MAX], h1000[CN_AUTO_SPEC_MAX];
        snprintf(h100, sizeof h100, hybrid, 40); /* 30 % of the budget, at least 40 */
        snprintf(h200, sizeof h200, hybrid, 60);
        snprintf(h1000, sizeof h1000, hybrid, 300);
        const char *tpe = "tpe:multivariate=true,group=true,constant_liar=true";
        CHECK_STR(cn_sampler_auto_choose(ctx, cont, 50, buf, sizeof buf), w50);
        CHECK_STR(cn_sampler_auto_choose(ctx, cont, 99, buf, sizeof buf), w99);
        CHECK_STR(cn_sampler_auto_choose(ctx, cont, 200, buf, sizeof buf), w200);
        CHECK_STR(cn_sampler_auto_choose(ctx, st5, 100, buf, sizeof buf),
                  "cmaes:warm_start=40,warm_sampler=tpe_mv,warm_density=optuna,popsize=6");
        CHECK_STR(cn_sampler_auto_choose(ctx, r10, 200, buf, sizeof buf),
                  "cmaes:warm_start=40,warm_sampler=tpe_mv,warm_density=optuna,popsize=7");
        CHECK_STR(cn_sampler_auto_choose(ctx, cont, 49, buf, sizeof buf), "cmaes");
        CHECK_STR(cn_sampler_auto_choose(ctx, cont, 29, buf, sizeof buf), tpe);
        /* categorical + at least 2 numeric parameters, from 100 trials: the hybrid */
        CHECK_STR(cn_sampler_auto_choose(ctx, mixed, 100, buf, sizeof buf), h100);
        CHECK_STR(cn_sampler_auto_choose(ctx, mixed, 200, buf, sizeof buf), h200);
        CHECK_STR(cn_sampler_auto_choose(ctx, mixed, 1000, buf, sizeof buf), h1000);
        CHECK_STR(cn_sampler_auto_choose(ctx, mixed, 99, buf, sizeof buf), tpe);
        /* the largest budget still makes a sampler (warm_start within cmaes's limit) */
        cairn_sampler *big = NULL;
        CHECK(cairn_sampler_new(ctx, mixed, "auto:trials=1000000000", 1, &big) == CAIRN_OK);
        cairn_sampler_free(big);
        CHECK(cairn_sampler_new(ctx, cont, "auto:trials=1000000000", 1, &big) == CAIRN_OK);
        cairn_sampler_free(big);
        CHECK_STR(cn_sampler_auto_choose(ctx, one_num, 1000, buf, sizeof buf), tpe);
        /* conditional parameters: grouped TPE models them */
        CHECK_STR(cn_sampler_auto_choose(ctx, cond, 1000, buf, sizeof buf), tpe);
        CHECK_STR(cn_sampler_auto_choose(ctx, grid, 6, buf, sizeof buf), "grid");
        CHECK_STR(cn_sampler_auto_choose(ctx, grid, 5, buf, sizeof buf), tpe);
    }
    cairn_space_free(cont);
    cairn_space_free(mixed);
    cairn_space_free(one_num);
    cairn_space_free(cond);
    cairn_space_free(grid);
    cairn_space_free(st5);
    cairn_space_free(r10);
    cairn_close(ctx);
}

TEST(auto_on_a_categorical_space_is_tpe_then_cmaes_with_tpe_categoricals)
{
    /* auto:trials=120 on the benchmark's mixed space: the first 40 trials are the multivariate
     * TPE's (the same points as that sampler with the same seed); after them CMA-ES draws the
     * numeric parameters and the categorical is the one the TPE proposes for that trial; the
     * same seed repeats the sequence. */
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = load(ctx, bench_mixed_yaml);
    static study st;
    static double a[120 * 5], b[120 * 5], tpe[40 * 5];
    const char *tpe_spec = "tpe:multivariate=true,group=true,constant_liar=true,density=optuna";
    run(ctx, sp, "auto:trials=120", 7, 120, bench_mixed, &st, a);
    run(ctx, sp, "auto:trials=120", 7, 120, bench_mixed, &st, b);
    CHECK(memcmp(a, b, sizeof a) == 0);
    run(ctx, sp, tpe_spec, 7, 40, bench_mixed, &st, tpe);
    CHECK(memcmp(a, tpe, sizeof tpe) == 0);
    /* trial 100 of the auto run: its categorical is the TPE's answer on the same history */
    run(ctx, sp, "auto:trials=120", 7, 100, bench_mixed, &st, NULL);
    cairn_sampler *t = NULL;
    double x[5];
    cairn_history h = {st.rec, st.n, false, "s"};
    CHECK(cairn_sampler_new(ctx, sp, tpe_spec, 7, &t) == CAIRN_OK);
    CHECK(t && cairn_sampler_ask(t, &h, 100, x) == CAIRN_OK);
    CHECK(x[0] == a[100 * 5]);
    CHECK(x[1] != a[100 * 5 + 1] || x[4] != a[100 * 5 + 4]); /* the numbers are CMA-ES's */
    cairn_sampler_free(t);
    /* Parallel workers: trials 100-103 asked while 100-102 are RUNNING still get four different
     * points (each trial number draws its own stream; the TPE counts RUNNING trials as bad). */
    static double pts[4][5];
    cairn_sampler *s = NULL;
    CHECK(cairn_sampler_new(ctx, sp, "auto:trials=120", 7, &s) == CAIRN_OK);
    for (int w = 0; w < 4 && s; w++) {
        cairn_history hw = {st.rec, st.n, false, "s"};
        CHECK(cairn_sampler_ask(s, &hw, 100 + w, pts[w]) == CAIRN_OK);
        CHECK(cairn_space_contains(sp, pts[w]));
        memcpy(st.params[st.n], pts[w], sizeof pts[w]);
        st.rec[st.n] = (cairn_trial_record){.number = 100 + w,
                                            .state = CAIRN_TRIAL_RUNNING,
                                            .value = NAN,
                                            .params = st.params[st.n]};
        st.n++;
    }
    for (int i = 0; i < 4; i++)
        for (int j = i + 1; j < 4; j++)
            CHECK(memcmp(pts[i], pts[j], sizeof pts[i]) != 0);
    cairn_sampler_free(s);
    /* and it finds more than multivariate TPE alone at 120 trials (median of 9 seeds) */
    double hyb = median_best(ctx, sp, "auto:trials=120", 9, 120, bench_mixed);
    double mv = median_best(ctx, sp, "tpe:multivariate=true,group=true", 9, 120, bench_mixed);
    printf("# mixed space, median best of 9 seeds at 120 trials: auto %.4g, tpe "
           "multivariate %.4g\n",
           hyb, mv);
    CHECK(hyb < mv);
    cairn_space_free(sp);
    cairn_close(ctx);
}

TEST(bad_specs_are_refused_by_name)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = load(ctx, "parameters:\n  x: {type: float, low: 0, high: 1}\n");
    cairn_sampler *s = NULL;
    CHECK(cairn_sampler_new(ctx, sp, "cmaes2", 1, &s) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "unknown sampler 'cmaes2'") != NULL);
    CHECK(cairn_sampler_new(ctx, sp, "tpe:multivariat=true", 1, &s) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "unknown or repeated option 'multivariat'") != NULL);
    CHECK(cairn_sampler_new(ctx, sp, "tpe:group=true", 1, &s) == CAIRN_EINVAL);
    CHECK(cairn_sampler_new(ctx, sp, "tpe:n_startup_trials=-1", 1, &s) == CAIRN_EINVAL);
    CHECK(cairn_sampler_new(ctx, sp, "grid:points", 1, &s) == CAIRN_EINVAL);
    CHECK(cairn_sampler_new(ctx, sp, "cmaes:restart=bipop", 1, &s) == CAIRN_EINVAL);
    CHECK(cairn_sampler_new(ctx, sp, "cmaes:popsize=2", 1, &s) == CAIRN_EINVAL);
    CHECK(cairn_sampler_new(ctx, sp, "cmaes:independent=tpe", 1, &s) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "independent must be random or warm, got 'tpe'") != NULL);
    CHECK(cairn_sampler_new(ctx, sp, "cmaes:warm_density=textbook", 1, &s) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "warm_density must be optuna or normalized") != NULL);
    CHECK(cairn_sampler_new(ctx, sp, "", 1, &s) == CAIRN_EINVAL);
    CHECK(s == NULL);
    CHECK(cairn_sampler_new(ctx, sp, "tpe:multivariate=true,group=true", 1, &s) == CAIRN_OK);
    CHECK_STR(cairn_sampler_name(s), "tpe");
    cairn_sampler_free(s);
    cairn_sampler_free(NULL);
    cairn_space_free(sp);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(every_sampler_stays_in_the_space_and_repeats_under_a_seed),
          UNIT_CASE(pending_and_failed_trials_do_not_break_tpe),
          UNIT_CASE(grid_covers_every_point_once), UNIT_CASE(sobol_matches_the_published_sequence),
          UNIT_CASE(scrambled_sobol_keeps_the_net_property),
          UNIT_CASE(tpe_beats_random_search_on_a_smooth_function),
          UNIT_CASE(tpe_beats_random_search_on_a_conditional_space),
          UNIT_CASE(constant_liar_steers_away_from_running_trials),
          UNIT_CASE(cmaes_beats_random_on_rosenbrock), UNIT_CASE(cmaes_restarts_after_converging),
          UNIT_CASE(cmaes_finds_the_integer_optimum),
          UNIT_CASE(cmaes_warm_start_takes_tpe_then_starts_from_its_best),
          UNIT_CASE(auto_chooses_by_the_kind_of_space),
          UNIT_CASE(auto_on_a_categorical_space_is_tpe_then_cmaes_with_tpe_categoricals),
          UNIT_CASE(auto_on_a_continuous_space_is_tpe_then_cmaes_with_a_smaller_population),
          UNIT_CASE(bad_specs_are_refused_by_name))
