/* SPDX-License-Identifier: MIT */
/* bench_hpo_samplers.c - cairn's samplers on the benchmark problems of the optimizer bench
 * (docs/bench.md "Optimizer", driven by bench/bench_hpo.py against Optuna), and the per-trial
 * overhead of ask + tell in memory and on a SQLite store.
 *
 * Quality: every (problem, sampler, seed) is a fresh in-memory study of N trials, minimizing;
 * the best value after each checkpoint (25, 50, 100, 200, ... up to N) is printed, as a table
 * (median [q1, q3] over the seeds) or, with --json, one JSON object per run.
 *     bench_hpo_samplers [--trials N] [--seeds S] [--seed0 K] [--problems a,b,...]
 *                        [--samplers "label=spec;..."] [--json]
 *     bench_hpo_samplers N_TRIALS [N_SEEDS]        (the same, the old positional form)
 * Samplers default to auto, tpe, tpe multivariate, cmaes, random ("auto" is auto:trials=N).
 *
 * Overhead: one study of N trials (default 2000) on a 5-float space (or --space mixed), the
 * wall and CPU time of ask + tell per trial, median over trials n-19 .. n at n = 100, 1000,
 * 2000 (those <= N), for the sampler in memory (cairn_sampler_ask on a caller-held history)
 * and through a study on a fresh SQLite store in a temporary directory (cairn_study_open,
 * cairn_study_ask, cairn_study_tell).
 *     bench_hpo_samplers --overhead [--trials N] [--sampler SPEC] [--space float5|mixed]
 *                        [--store memory|sqlite|both] [--json] */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cairn/cairn.h"
#include "cairn/hpo.h"

#define MAX_P 16
#define MAX_SAMPLERS 16
#define PI 3.14159265358979323846

typedef double (*fn)(const double *x);

/* ---- the problems (docs/bench.md "Optimizer" gives their definitions) ---- */

static double branin(const double *x)
{
    double b = 5.1 / (4 * PI * PI), c = 5 / PI, t = 1 / (8 * PI);
    return pow(x[1] - b * x[0] * x[0] + c * x[0] - 6, 2) + 10 * (1 - t) * cos(x[0]) + 10;
}

static double hartmann6(const double *x)
{
    static const double alpha[4] = {1.0, 1.2, 3.0, 3.2};
    static const double a[4][6] = {{10, 3, 17, 3.5, 1.7, 8},
                                   {0.05, 10, 17, 0.1, 8, 14},
                                   {3, 3.5, 1.7, 10, 17, 8},
                                   {17, 8, 0.05, 10, 0.1, 14}};
    static const double p[4][6] = {{0.1312, 0.1696, 0.5569, 0.0124, 0.8283, 0.5886},
                                   {0.2329, 0.4135, 0.8307, 0.3736, 0.1004, 0.9991},
                                   {0.2348, 0.1451, 0.3522, 0.2883, 0.3047, 0.6650},
                                   {0.4047, 0.8828, 0.8732, 0.5743, 0.1091, 0.0381}};
    double v = 0;
    for (int i = 0; i < 4; i++) {
        double s = 0;
        for (int j = 0; j < 6; j++)
            s += a[i][j] * (x[j] - p[i][j]) * (x[j] - p[i][j]);
        v -= alpha[i] * exp(-s);
    }
    return v;
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

/* Ackley 10-D on [-32.768, 32.768]^10 with its optimum moved from the centre (where CMA-ES's
 * start and TPE's prior sit) to x_i = ACKLEY_SHIFT. */
#define ACKLEY_SHIFT 12.5
static double ackley10(const double *x)
{
    double s1 = 0, s2 = 0;
    for (int i = 0; i < 10; i++) {
        double z = x[i] - ACKLEY_SHIFT;
        s1 += z * z;
        s2 += cos(2 * PI * z);
    }
    return -20 * exp(-0.2 * sqrt(s1 / 10)) - exp(s2 / 10) + 20 + exp(1);
}

static double styblinski_tang5(const double *x)
{
    double v = 0;
    for (int i = 0; i < 5; i++)
        v += x[i] * x[i] * x[i] * x[i] - 16 * x[i] * x[i] + 5 * x[i];
    return v / 2;
}

/* Held-out checks for auto's continuous rule (not among bench_hpo.py's seven): Rastrigin 5-D
 * on [-5.12, 5.12]^5 with its optimum moved from the centre to x_i = 1.5 (a grid of local
 * minima), and Levy 5-D on [-10, 10]^5 (optimum at x_i = 1); f* = 0 for both. */
static double rastrigin5(const double *x)
{
    double v = 50;
    for (int i = 0; i < 5; i++) {
        double z = x[i] - 1.5;
        v += z * z - 10 * cos(2 * PI * z);
    }
    return v;
}

static double levy5(const double *x)
{
    double w[5];
    for (int i = 0; i < 5; i++)
        w[i] = 1 + (x[i] - 1) / 4;
    double v = pow(sin(PI * w[0]), 2) + pow(w[4] - 1, 2) * (1 + pow(sin(2 * PI * w[4]), 2));
    for (int i = 0; i < 4; i++)
        v += pow(w[i] - 1, 2) * (1 + 10 * pow(sin(PI * w[i] + 1), 2));
    return v;
}

/* The "training run" surface of the notes: a 5-way categorical that shifts the best learning
 * rate, a log float, an int, a log int and a float whose optimum depends on the int; f* = 0. */
static double mixed(const double *x)
{
    static const double offset[5] = {0.30, 0.15, 0, 0.10, 0.60};
    static const double best_lr[5] = {-1, -2, -3, -3.5, -1.5};
    int opt = (int)x[0];
    double layers = x[2];
    return offset[opt] + 0.5 * pow(log10(x[1]) - best_lr[opt], 2) + 0.05 * pow(layers - 4, 2) +
           0.1 * pow(log2(x[3]) - 7, 2) + 4 * pow(x[4] - 0.05 * layers, 2);
}

/* A held-out check for auto's categorical rule (not one of bench_hpo.py's seven): a 4-way
 * categorical whose every value moves the optimum of 4 floats in [-5, 5] to its own place, the
 * best category not the first; f* = 0. */
static double cat_shift(const double *x)
{
    static const double offset[4] = {0.5, 0.3, 0, 0.2};
    static const double centre[4] = {-2, 3, 1.5, -3.5};
    int c = (int)x[0];
    double v = offset[c];
    for (int i = 1; i <= 4; i++)
        v += pow(x[i] - centre[c] - 0.3 * i, 2) / 10;
    return v;
}

typedef struct problem {
    const char *name;
    const char *space;
    fn f;
} problem;

#define FLOAT_P(n, lo, hi) "  " n ": {type: float, low: " lo ", high: " hi "}\n"
#define ROSEN_P(n) FLOAT_P(n, "-5", "10")
#define ACK_P(n) FLOAT_P(n, "-32.768", "32.768")
#define ST_P(n) FLOAT_P(n, "-5", "5")

static const problem problems[] = {
    {"branin", "parameters:\n" FLOAT_P("x0", "-5", "10") FLOAT_P("x1", "0", "15"), branin},
    {"hartmann6",
     "parameters:\n" FLOAT_P("x0", "0", "1") FLOAT_P("x1", "0", "1") FLOAT_P("x2", "0", "1")
         FLOAT_P("x3", "0", "1") FLOAT_P("x4", "0", "1") FLOAT_P("x5", "0", "1"),
     hartmann6},
    {"rosenbrock5",
     "parameters:\n" ROSEN_P("x0") ROSEN_P("x1") ROSEN_P("x2") ROSEN_P("x3") ROSEN_P("x4"), rosen5},
    {"rosenbrock10",
     "parameters:\n" ROSEN_P("x0") ROSEN_P("x1") ROSEN_P("x2") ROSEN_P("x3") ROSEN_P("x4")
         ROSEN_P("x5") ROSEN_P("x6") ROSEN_P("x7") ROSEN_P("x8") ROSEN_P("x9"),
     rosen10},
    {"ackley10_shifted",
     "parameters:\n" ACK_P("x0") ACK_P("x1") ACK_P("x2") ACK_P("x3") ACK_P("x4") ACK_P("x5")
         ACK_P("x6") ACK_P("x7") ACK_P("x8") ACK_P("x9"),
     ackley10},
    {"styblinski_tang5", "parameters:\n" ST_P("x0") ST_P("x1") ST_P("x2") ST_P("x3") ST_P("x4"),
     styblinski_tang5},
    {"rastrigin5_shifted",
     "parameters:\n" FLOAT_P("x0", "-5.12", "5.12") FLOAT_P("x1", "-5.12", "5.12") FLOAT_P(
         "x2", "-5.12", "5.12") FLOAT_P("x3", "-5.12", "5.12") FLOAT_P("x4", "-5.12", "5.12"),
     rastrigin5},
    {"levy5",
     "parameters:\n" FLOAT_P("x0", "-10", "10") FLOAT_P("x1", "-10", "10")
         FLOAT_P("x2", "-10", "10") FLOAT_P("x3", "-10", "10") FLOAT_P("x4", "-10", "10"),
     levy5},
    {"mixed",
     "parameters:\n"
     "  optimizer: {type: categorical, values: [sgd, momentum, adam, rmsprop, adagrad]}\n"
     "  lr: {type: float, low: 1.0e-5, high: 1, log: true}\n"
     "  n_layers: {type: int, low: 1, high: 10}\n"
     "  n_units: {type: int, low: 8, high: 1024, log: true}\n"
     "  dropout: {type: float, low: 0, high: 0.8}\n",
     mixed},
    {"cat_shift",
     "parameters:\n"
     "  c: {type: categorical, values: [a, b, c, d]}\n" ST_P("x1") ST_P("x2") ST_P("x3") ST_P("x4"),
     cat_shift},
};
#define N_PROBLEMS (sizeof problems / sizeof problems[0])

static const char float5_space[] =
    "parameters:\n" ST_P("x0") ST_P("x1") ST_P("x2") ST_P("x3") ST_P("x4");

static double sumsq5(const double *x)
{
    double v = 0;
    for (int i = 0; i < 5; i++)
        v += x[i] * x[i];
    return v;
}

typedef struct sampler_def {
    char label[64];
    char spec[192];
} sampler_def;

static int cmp(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* Quartiles as NumPy's default (linear interpolation), so that the table and the Python
 * driver agree. */
static double quantile(const double *sorted, int n, double q)
{
    double pos = q * (n - 1);
    int lo = (int)floor(pos);
    int hi = lo + 1 < n ? lo + 1 : lo;
    return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
}

static double now_s(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + 1e-9 * (double)ts.tv_nsec;
}

static int usage(void)
{
    fprintf(stderr,
            "usage: bench_hpo_samplers [--trials N] [--seeds S] [--seed0 K] [--problems a,b]\n"
            "                          [--samplers \"label=spec;...\"] [--json]\n"
            "       bench_hpo_samplers --overhead [--trials N] [--sampler SPEC]\n"
            "                          [--space float5|mixed] [--store memory|sqlite|both] "
            "[--json]\n");
    return 2;
}

static bool wanted(const char *list, const char *name)
{
    if (!list)
        return true;
    size_t n = strlen(name);
    for (const char *p = list; *p;) {
        const char *e = strchr(p, ',');
        size_t len = e ? (size_t)(e - p) : strlen(p);
        if (len == n && strncmp(p, name, n) == 0)
            return true;
        p += len + (e != NULL);
    }
    return false;
}

static size_t parse_samplers(const char *text, int n_trials, sampler_def *out)
{
    size_t n = 0;
    if (!text) {
        static const char *const defaults[][2] = {
            {"auto", "auto"},
            {"tpe", "tpe"},
            {"tpe_mv", "tpe:multivariate=true,group=true"},
            {"cmaes", "cmaes"},
            {"random", "random"},
        };
        for (size_t i = 0; i < sizeof defaults / sizeof defaults[0]; i++) {
            snprintf(out[n].label, sizeof out[n].label, "%s", defaults[i][0]);
            snprintf(out[n].spec, sizeof out[n].spec, "%s", defaults[i][1]);
            n++;
        }
    } else {
        for (const char *p = text; *p && n < MAX_SAMPLERS;) {
            const char *e = strchr(p, ';');
            size_t len = e ? (size_t)(e - p) : strlen(p);
            char item[256];
            snprintf(item, sizeof item, "%.*s", (int)len, p);
            char *eq = strchr(item, '=');
            char *colon = strchr(item, ':');
            if (eq && (!colon || eq < colon)) { /* label=spec */
                *eq = '\0';
                snprintf(out[n].label, sizeof out[n].label, "%.63s", item);
                snprintf(out[n].spec, sizeof out[n].spec, "%.191s", eq + 1);
            } else {
                snprintf(out[n].label, sizeof out[n].label, "%.63s", item);
                snprintf(out[n].spec, sizeof out[n].spec, "%.191s", item);
            }
            n++;
            p += len + (e != NULL);
        }
    }
    /* auto gets the run's budget, as `cairn tune --trials N` gives it */
    for (size_t i = 0; i < n; i++)
        if (strcmp(out[i].spec, "auto") == 0)
            snprintf(out[i].spec, sizeof out[i].spec, "auto:trials=%d", n_trials);
    return n;
}

static int run_quality(int n_trials, int n_seeds, int seed0, const char *plist, const char *slist,
                       bool json)
{
    static const int marks_all[] = {10, 25, 50, 100, 200, 500, 1000, 2000, 5000};
    int marks[16], n_marks = 0;
    for (size_t i = 0; i < sizeof marks_all / sizeof marks_all[0]; i++)
        if (marks_all[i] < n_trials && marks_all[i] >= 25)
            marks[n_marks++] = marks_all[i];
    marks[n_marks++] = n_trials;

    sampler_def samplers[MAX_SAMPLERS];
    size_t n_samplers = parse_samplers(slist, n_trials, samplers);
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_trial_record *rec = calloc((size_t)n_trials, sizeof *rec);
    double *params = calloc((size_t)n_trials * MAX_P, sizeof *params);
    double *best = calloc((size_t)n_seeds * (size_t)n_marks, sizeof *best);
    double *col = calloc((size_t)n_seeds, sizeof *col);
    if (!json) {
        printf("best value (minimized), median [q1, q3] over %d seeds; ms per trial (ask + "
               "objective, CPU)\n%-17s %-8s %-10s\n",
               n_seeds, "problem", "sampler", "chosen");
    }
    for (size_t p = 0; p < N_PROBLEMS; p++) {
        if (!wanted(plist, problems[p].name))
            continue;
        cairn_space *sp = NULL;
        if (cairn_space_parse(ctx, problems[p].name, CAIRN_SPACE_YAML, problems[p].space,
                              strlen(problems[p].space), &sp) != CAIRN_OK) {
            fprintf(stderr, "%s\n", cairn_errmsg(ctx));
            return 1;
        }
        for (size_t k = 0; k < n_samplers; k++) {
            double cpu0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
            char chosen[32] = "";
            for (int si = 0; si < n_seeds; si++) {
                int seed = seed0 + si;
                cairn_sampler *s = NULL;
                if (cairn_sampler_new(ctx, sp, samplers[k].spec, (uint64_t)seed, &s) != CAIRN_OK) {
                    fprintf(stderr, "%s\n", cairn_errmsg(ctx));
                    return 1;
                }
                snprintf(chosen, sizeof chosen, "%s", cairn_sampler_name(s));
                double b = INFINITY, r0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
                int m = 0;
                for (int t = 0; t < n_trials; t++) {
                    cairn_history h = {rec, (size_t)t, false, "bench"};
                    double *x = params + (size_t)t * MAX_P;
                    if (cairn_sampler_ask(s, &h, t, x) != CAIRN_OK) {
                        fprintf(stderr, "%s: %s\n", samplers[k].spec, cairn_errmsg(ctx));
                        return 1;
                    }
                    double v = problems[p].f(x);
                    rec[t] = (cairn_trial_record){
                        .number = t, .state = CAIRN_TRIAL_COMPLETE, .value = v, .params = x};
                    b = v < b ? v : b;
                    if (t + 1 == marks[m])
                        best[(size_t)m++ * (size_t)n_seeds + (size_t)si] = b;
                }
                double run_ms = 1000.0 * (now_s(CLOCK_PROCESS_CPUTIME_ID) - r0);
                cairn_sampler_free(s);
                if (json) {
                    printf("{\"problem\":\"%s\",\"sampler\":\"%s\",\"spec\":\"%s\",\"chosen\":"
                           "\"%s\",\"seed\":%d,\"trials\":%d,\"ms\":%.3f,\"best\":{",
                           problems[p].name, samplers[k].label, samplers[k].spec, chosen, seed,
                           n_trials, run_ms);
                    for (int j = 0; j < n_marks; j++)
                        printf("%s\"%d\":%.17g", j ? "," : "", marks[j],
                               best[(size_t)j * (size_t)n_seeds + (size_t)si]);
                    printf("}}\n");
                    fflush(stdout);
                }
            }
            if (json)
                continue;
            double ms = 1000.0 * (now_s(CLOCK_PROCESS_CPUTIME_ID) - cpu0) / n_trials / n_seeds;
            printf("%-17s %-8s %-10s", problems[p].name, samplers[k].label, chosen);
            for (int m = 0; m < n_marks; m++) {
                memcpy(col, best + (size_t)m * (size_t)n_seeds, (size_t)n_seeds * sizeof *col);
                qsort(col, (size_t)n_seeds, sizeof *col, cmp);
                char cell[64];
                snprintf(cell, sizeof cell, "@%d %.4g [%.4g, %.4g]", marks[m],
                         quantile(col, n_seeds, 0.5), quantile(col, n_seeds, 0.25),
                         quantile(col, n_seeds, 0.75));
                printf(" %28s", cell);
            }
            printf("  %.3f ms\n", ms);
            fflush(stdout);
        }
        cairn_space_free(sp);
    }
    free(rec);
    free(params);
    free(best);
    free(col);
    cairn_close(ctx);
    return 0;
}

/* ---- overhead ---- */

typedef struct timing {
    double *wall, *cpu; /* per trial, seconds */
} timing;

static void report_overhead(const char *where, const char *spec, const char *space, int n_trials,
                            const timing *tm, double total_s, bool json)
{
    static const int at[] = {100, 500, 1000, 2000, 5000};
    double win_w[20], win_c[20];
    if (json)
        printf("{\"store\":\"%s\",\"sampler\":\"%s\",\"space\":\"%s\",\"trials\":%d,"
               "\"total_s\":%.4f,\"at\":{",
               where, spec, space, n_trials, total_s);
    else
        printf("%-7s %-36s %-7s", where, spec, space);
    bool first = true;
    for (size_t i = 0; i < sizeof at / sizeof at[0]; i++) {
        int n = at[i];
        if (n > n_trials)
            continue;
        /* trials n-19 .. n (1-based), the notes' window */
        int k = 0;
        for (int t = n - 20; t < n; t++, k++) {
            win_w[k] = tm->wall[t];
            win_c[k] = tm->cpu[t];
        }
        qsort(win_w, 20, sizeof *win_w, cmp);
        qsort(win_c, 20, sizeof *win_c, cmp);
        double w = 1000 * quantile(win_w, 20, 0.5), c = 1000 * quantile(win_c, 20, 0.5);
        if (json)
            printf("%s\"%d\":{\"wall_ms\":%.5f,\"cpu_ms\":%.5f}", first ? "" : ",", n, w, c);
        else
            printf("  @%d wall %.4f cpu %.4f ms", n, w, c);
        first = false;
    }
    printf(json ? "}}\n" : "  (total %.2f s)\n", total_s);
    fflush(stdout);
}

static int overhead_memory(const char *spec, const char *space_name, const char *space_text, fn f,
                           int n_trials, bool json)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = NULL;
    cairn_sampler *s = NULL;
    if (cairn_space_parse(ctx, space_name, CAIRN_SPACE_YAML, space_text, strlen(space_text), &sp) !=
            CAIRN_OK ||
        cairn_sampler_new(ctx, sp, spec, 0, &s) != CAIRN_OK) {
        fprintf(stderr, "%s\n", cairn_errmsg(ctx));
        return 1;
    }
    cairn_trial_record *rec = calloc((size_t)n_trials, sizeof *rec);
    double *params = calloc((size_t)n_trials * MAX_P, sizeof *params);
    timing tm = {calloc((size_t)n_trials, sizeof(double)),
                 calloc((size_t)n_trials, sizeof(double))};
    double t_start = now_s(CLOCK_MONOTONIC);
    for (int t = 0; t < n_trials; t++) {
        double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
        cairn_history h = {rec, (size_t)t, false, "bench"};
        double *x = params + (size_t)t * MAX_P;
        if (cairn_sampler_ask(s, &h, t, x) != CAIRN_OK) {
            fprintf(stderr, "%s\n", cairn_errmsg(ctx));
            return 1;
        }
        /* tell: the trial joins the history the next ask reads */
        rec[t] = (cairn_trial_record){
            .number = t, .state = CAIRN_TRIAL_COMPLETE, .value = f(x), .params = x};
        tm.wall[t] = now_s(CLOCK_MONOTONIC) - w0;
        tm.cpu[t] = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    report_overhead("memory", spec, space_name, n_trials, &tm, now_s(CLOCK_MONOTONIC) - t_start,
                    json);
    free(tm.wall);
    free(tm.cpu);
    free(rec);
    free(params);
    cairn_sampler_free(s);
    cairn_space_free(sp);
    cairn_close(ctx);
    return 0;
}

static int overhead_sqlite(const char *spec, const char *space_name, const char *space_text, fn f,
                           int n_trials, bool json)
{
    char dir[] = "/tmp/cairn-bench-hpo-XXXXXX", uri[256], db[200];
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    snprintf(db, sizeof db, "%s/store.db", dir);
    snprintf(uri, sizeof uri, "sqlite://%s", db);
    cairn_ctx *ctx = NULL;
    cairn_study *st = NULL;
    cairn_study_opts o = CAIRN_STUDY_OPTS_INIT;
    o.space_text = space_text;
    o.space_format = CAIRN_SPACE_YAML;
    o.sampler = spec;
    o.has_seed = true;
    o.seed = 0;
    int rc = 1;
    timing tm = {calloc((size_t)n_trials, sizeof(double)),
                 calloc((size_t)n_trials, sizeof(double))};
    if (cairn_open(uri, NULL, &ctx) != CAIRN_OK ||
        cairn_study_open(ctx, "bench", &o, &st) != CAIRN_OK) {
        fprintf(stderr, "%s\n", ctx ? cairn_errmsg(ctx) : "cannot open the store");
        goto done;
    }
    double t_start = now_s(CLOCK_MONOTONIC);
    for (int t = 0; t < n_trials; t++) {
        double w0 = now_s(CLOCK_MONOTONIC), c0 = now_s(CLOCK_PROCESS_CPUTIME_ID);
        cairn_trial tr;
        if (cairn_study_ask(st, &tr) != CAIRN_OK ||
            cairn_study_tell(st, tr.number, CAIRN_TRIAL_COMPLETE, f(tr.params)) != CAIRN_OK) {
            fprintf(stderr, "%s\n", cairn_errmsg(ctx));
            goto done;
        }
        tm.wall[t] = now_s(CLOCK_MONOTONIC) - w0;
        tm.cpu[t] = now_s(CLOCK_PROCESS_CPUTIME_ID) - c0;
    }
    report_overhead("sqlite", spec, space_name, n_trials, &tm, now_s(CLOCK_MONOTONIC) - t_start,
                    json);
    rc = 0;
done:
    cairn_study_free(st);
    cairn_close(ctx);
    free(tm.wall);
    free(tm.cpu);
    char side[256];
    unlink(db);
    snprintf(side, sizeof side, "%s-wal", db);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db);
    unlink(side);
    rmdir(dir);
    return rc;
}

int main(int argc, char **argv)
{
    int n_trials = -1, n_seeds = 10, seed0 = 0, positional = 0;
    const char *plist = NULL, *slist = NULL, *spec = "tpe", *space = "float5", *store = "both";
    bool json = false, overhead = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool has_val = i + 1 < argc;
        if (strcmp(a, "--json") == 0)
            json = true;
        else if (strcmp(a, "--overhead") == 0)
            overhead = true;
        else if (strcmp(a, "--trials") == 0 && has_val)
            n_trials = atoi(argv[++i]);
        else if (strcmp(a, "--seeds") == 0 && has_val)
            n_seeds = atoi(argv[++i]);
        else if (strcmp(a, "--seed0") == 0 && has_val)
            seed0 = atoi(argv[++i]);
        else if (strcmp(a, "--problems") == 0 && has_val)
            plist = argv[++i];
        else if (strcmp(a, "--samplers") == 0 && has_val)
            slist = argv[++i];
        else if (strcmp(a, "--sampler") == 0 && has_val)
            spec = argv[++i];
        else if (strcmp(a, "--space") == 0 && has_val)
            space = argv[++i];
        else if (strcmp(a, "--store") == 0 && has_val)
            store = argv[++i];
        else if (a[0] != '-' && positional == 0 && (positional = 1))
            n_trials = atoi(a);
        else if (a[0] != '-' && positional == 1 && (positional = 2))
            n_seeds = atoi(a);
        else
            return usage();
    }
    if (overhead) {
        if (n_trials < 0)
            n_trials = 2000;
        if (n_trials < 20 || n_trials > 100000)
            return usage();
        const char *text = float5_space;
        fn f = sumsq5;
        if (strcmp(space, "mixed") == 0) {
            text = problems[N_PROBLEMS - 1].space;
            f = mixed;
        } else if (strcmp(space, "float5") != 0) {
            return usage();
        }
        bool mem = strcmp(store, "memory") == 0 || strcmp(store, "both") == 0;
        bool sql = strcmp(store, "sqlite") == 0 || strcmp(store, "both") == 0;
        if (!mem && !sql)
            return usage();
        if (mem && overhead_memory(spec, space, text, f, n_trials, json) != 0)
            return 1;
        if (sql && overhead_sqlite(spec, space, text, f, n_trials, json) != 0)
            return 1;
        return 0;
    }
    if (n_trials < 0)
        n_trials = 100;
    if (n_trials < 1 || n_seeds < 1 || n_trials > 5000 || n_seeds > 1000 || seed0 < 0)
        return usage();
    return run_quality(n_trials, n_seeds, seed0, plist, slist, json);
}
