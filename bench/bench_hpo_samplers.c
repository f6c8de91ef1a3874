/* SPDX-License-Identifier: MIT */
/* bench_hpo_samplers.c - the measurement behind the `auto` sampler's rule (docs/hpo.md): the
 * in-memory samplers on Branin (2-D), Rosenbrock (5-D, 10-D), a shifted Ackley (5-D) and a
 * mixed space (log-float, int, 5-way categorical, 2 floats), best value after N trials (default
 * 100), median and inter-quartile range over S seeds (default 10).
 *     bench_hpo_samplers [N_TRIALS [N_SEEDS]] */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cairn/hpo.h"

#define MAX_P 16

typedef double (*fn)(const double *x);

static double branin(const double *x)
{
    const double pi = 3.14159265358979323846;
    double a = 1, b = 5.1 / (4 * pi * pi), c = 5 / pi, r = 6, s = 10, t = 1 / (8 * pi);
    return a * pow(x[1] - b * x[0] * x[0] + c * x[0] - r, 2) + s * (1 - t) * cos(x[0]) + s;
}

static double rosen(const double *x, int d)
{
    double v = 0;
    for (int i = 0; i + 1 < d; i++)
        v += 100 * pow(x[i + 1] - x[i] * x[i], 2) + pow(1 - x[i], 2);
    return v;
}
static double rosen5(const double *x)
{
    return rosen(x, 5);
}
static double rosen10(const double *x)
{
    return rosen(x, 10);
}

static double ackley5(const double *x) /* optimum at 1.3 in every coordinate */
{
    double s1 = 0, s2 = 0;
    for (int i = 0; i < 5; i++) {
        double z = x[i] - 1.3;
        s1 += z * z;
        s2 += cos(2 * 3.14159265358979323846 * z);
    }
    return -20 * exp(-0.2 * sqrt(s1 / 5)) - exp(s2 / 5) + 20 + exp(1);
}

static double mixed(const double *x)
{
    static const double cat[5] = {0.5, 0, 1, 2, 0.3};
    return pow(log10(x[0]) + 3, 2) + pow(log2(x[1]) - 4, 2) / 4 + cat[(int)x[2]] +
           pow(x[3] - 1, 2) + pow(x[4] + 2, 2);
}

typedef struct problem {
    const char *name;
    const char *space;
    fn f;
} problem;

static const problem problems[] = {
    {"branin",
     "parameters:\n  x0: {type: float, low: -5, high: 10}\n"
     "  x1: {type: float, low: 0, high: 15}\n",
     branin},
    {"rosenbrock5",
     "parameters:\n  a: {type: float, low: -2, high: 2}\n  b: {type: float, low: -2, high: 2}\n"
     "  c: {type: float, low: -2, high: 2}\n  d: {type: float, low: -2, high: 2}\n"
     "  e: {type: float, low: -2, high: 2}\n",
     rosen5},
    {"rosenbrock10",
     "parameters:\n  a: {type: float, low: -2, high: 2}\n  b: {type: float, low: -2, high: 2}\n"
     "  c: {type: float, low: -2, high: 2}\n  d: {type: float, low: -2, high: 2}\n"
     "  e: {type: float, low: -2, high: 2}\n  f: {type: float, low: -2, high: 2}\n"
     "  g: {type: float, low: -2, high: 2}\n  h: {type: float, low: -2, high: 2}\n"
     "  i: {type: float, low: -2, high: 2}\n  j: {type: float, low: -2, high: 2}\n",
     rosen10},
    {"ackley5_shifted",
     "parameters:\n  a: {type: float, low: -5, high: 5}\n  b: {type: float, low: -5, high: 5}\n"
     "  c: {type: float, low: -5, high: 5}\n  d: {type: float, low: -5, high: 5}\n"
     "  e: {type: float, low: -5, high: 5}\n",
     ackley5},
    {"mixed",
     "parameters:\n  lr: {type: float, low: 1.0e-5, high: 0.1, log: true}\n"
     "  n: {type: int, low: 1, high: 64}\n  c: {type: categorical, values: [a, b, c, d, e]}\n"
     "  u: {type: float, low: -5, high: 5}\n  v: {type: float, low: -5, high: 5}\n",
     mixed},
};

static const char *const samplers[] = {
    "random", "sobol", "tpe", "tpe:multivariate=true,group=true", "cmaes", "auto",
};

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
    int n_trials = argc > 1 ? atoi(argv[1]) : 100, n_seeds = argc > 2 ? atoi(argv[2]) : 10;
    if (n_trials < 1 || n_seeds < 1 || n_trials > 5000 || n_seeds > 1000) {
        fprintf(stderr, "usage: bench_hpo_samplers [N_TRIALS [N_SEEDS]]\n");
        return 2;
    }
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_trial_record *rec = calloc((size_t)n_trials, sizeof *rec);
    double *params = calloc((size_t)n_trials * MAX_P, sizeof *params);
    double *best = calloc((size_t)n_seeds, sizeof *best);
    printf("best value after %d trials, median [q1, q3] over %d seeds; ms per trial\n", n_trials,
           n_seeds);
    for (size_t p = 0; p < sizeof problems / sizeof problems[0]; p++) {
        cairn_space *sp = NULL;
        if (cairn_space_parse(ctx, problems[p].name, CAIRN_SPACE_YAML, problems[p].space,
                              strlen(problems[p].space), &sp) != CAIRN_OK) {
            fprintf(stderr, "%s\n", cairn_errmsg(ctx));
            return 1;
        }
        for (size_t k = 0; k < sizeof samplers / sizeof samplers[0]; k++) {
            clock_t t0 = clock();
            for (int seed = 0; seed < n_seeds; seed++) {
                cairn_sampler *s = NULL;
                if (cairn_sampler_new(ctx, sp, samplers[k], (uint64_t)seed + 1, &s) != CAIRN_OK) {
                    fprintf(stderr, "%s\n", cairn_errmsg(ctx));
                    return 1;
                }
                double b = INFINITY;
                for (int t = 0; t < n_trials; t++) {
                    cairn_history h = {rec, (size_t)t, false, "bench"};
                    double *x = params + (size_t)t * MAX_P;
                    if (cairn_sampler_ask(s, &h, t, x) != CAIRN_OK) {
                        fprintf(stderr, "%s: %s\n", samplers[k], cairn_errmsg(ctx));
                        return 1;
                    }
                    double v = problems[p].f(x);
                    rec[t] = (cairn_trial_record){
                        .number = t, .state = CAIRN_TRIAL_COMPLETE, .value = v, .params = x};
                    b = v < b ? v : b;
                }
                best[seed] = b;
                cairn_sampler_free(s);
            }
            double ms = 1000.0 * (double)(clock() - t0) / CLOCKS_PER_SEC / n_trials / n_seeds;
            qsort(best, (size_t)n_seeds, sizeof *best, cmp);
            printf("%-16s %-34s %10.4g [%.4g, %.4g]  %.3f ms\n", problems[p].name, samplers[k],
                   best[n_seeds / 2], best[n_seeds / 4], best[(3 * n_seeds) / 4], ms);
            fflush(stdout);
        }
        cairn_space_free(sp);
    }
    free(rec);
    free(params);
    free(best);
    cairn_close(ctx);
    return 0;
}
