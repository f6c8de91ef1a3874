/* SPDX-License-Identifier: MIT */
/* test_hpo_insight.c - parameter importance ranks a parameter that matters above ones that do
 * not (numbers, categories, conditions); the SVG plots hold one point per COMPLETE trial and
 * one curve per trial that reported; too little data is refused by name. */
#include <math.h>
#include <stdint.h>
#include "unit.h"
#include "cairn/hpo.h"
#include "base/rng.h"
#include "base/xmalloc.h"

#define N 120
#define NP 4

static const char mixed_space[] = "parameters:\n"
                                  "  x: {type: float, low: -5, high: 5}\n"
                                  "  y: {type: float, low: -5, high: 5}\n"
                                  "  opt: {type: categorical, values: [adam, sgd]}\n"
                                  "  m: {type: float, low: 0, high: 1, when: {opt: sgd}}\n";

static const char space_yaml[] = "parameters:\n"
                                 "  x:   {type: float, low: -5, high: 5}\n"
                                 "  y:   {type: float, low: 1.0e-3, high: 1, log: true}\n"
                                 "  c:   {type: categorical, values: [a, b, c]}\n"
                                 "  k:   {type: int, low: 1, high: 8, when: {c: b}}\n";

typedef struct synth {
    cairn_trial t[N];
    double params[N][NP];
    int64_t steps[N][5];
    double values[N][5];
} synth;

/* Random points of the space with the value f(x, y, c) = x^2 + noise * y-independent noise. */
static void make(cairn_ctx *ctx, const cairn_space *sp, synth *s, uint64_t seed, bool cat_matters)
{
    cairn_sampler *smp = NULL;
    CHECK(cairn_sampler_new(ctx, sp, "random", seed, &smp) == CAIRN_OK);
    cn_rng r;
    cn_rng_seed(&r, seed + 17);
    memset(s, 0, sizeof *s);
    for (int j = 0; j < N; j++) {
        CHECK(cairn_sampler_ask(smp, NULL, j, s->params[j]) == CAIRN_OK);
        double x = s->params[j][0];
        double v = x * x + 0.5 * cn_rng_uniform(&r);
        if (cat_matters)
            v = 10.0 * s->params[j][2] + 0.1 * x * x;
        cairn_trial *t = &s->t[j];
        t->number = N - 1 - j; /* any order */
        t->state = j % 10 == 9 ? CAIRN_TRIAL_FAIL : CAIRN_TRIAL_COMPLETE;
        t->value = t->state == CAIRN_TRIAL_COMPLETE ? v : NAN;
        t->params = s->params[j];
        t->n_params = NP;
        t->run_id = "";
        t->retry_of = -1;
        if (j % 3 == 0) {
            for (int i = 0; i < 5; i++) {
                s->steps[j][i] = i * 10;
                s->values[j][i] = v + (5 - i);
            }
            t->n_steps = 5;
            t->steps = s->steps[j];
            t->values = s->values[j];
        }
    }
    cairn_sampler_free(smp);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

/* Circles (or another element) between <g class="cls"...> and the next </g>, over all such
 * groups. */
static size_t in_groups(const char *svg, const char *cls, const char *elem)
{
    char open[64];
    snprintf(open, sizeof open, "<g class=\"%s\"", cls);
    size_t n = 0;
    for (const char *p = strstr(svg, open); p; p = strstr(p + 1, open)) {
        const char *end = strstr(p, "</g>");
        for (const char *q = strstr(p, elem); q && q < end; q = strstr(q + 1, elem))
            n++;
    }
    return n;
}

TEST(importance_ranks_the_parameter_that_matters_first)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = NULL;
    CHECK(cairn_space_parse(ctx, "t.yaml", CAIRN_SPACE_YAML, space_yaml, strlen(space_yaml), &sp) ==
          CAIRN_OK);
    synth *s = cn_xmalloc(sizeof *s);
    for (uint64_t seed = 1; seed <= 5; seed++) {
        double imp[NP];
        make(ctx, sp, s, seed, false);
        CHECK(cairn_insight_importance(ctx, sp, s->t, N, imp) == CAIRN_OK);
        fprintf(stderr, "# seed %llu: x %.3f y %.3f c %.3f k %.3f\n", (unsigned long long)seed,
                imp[0], imp[1], imp[2], imp[3]);
        CHECK(imp[0] > 0.5);
        CHECK(imp[1] < 0.2 && imp[2] < 0.2 && imp[3] < 0.2); /* sampling noise of 108 trials */
        double again[NP];
        CHECK(cairn_insight_importance(ctx, sp, s->t, N, again) == CAIRN_OK);
        CHECK(memcmp(imp, again, sizeof imp) == 0);

        make(ctx, sp, s, seed, true); /* the category decides; x a little */
        CHECK(cairn_insight_importance(ctx, sp, s->t, N, imp) == CAIRN_OK);
        CHECK(imp[2] > 0.5);
        CHECK(imp[2] > imp[0] && imp[0] > imp[1]);
    }
    free(s);
    cairn_space_free(sp);
    cairn_close(ctx);
}

TEST(plots_hold_one_point_per_complete_trial)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = NULL;
    CHECK(cairn_space_parse(ctx, "t.yaml", CAIRN_SPACE_YAML, space_yaml, strlen(space_yaml), &sp) ==
          CAIRN_OK);
    synth *s = cn_xmalloc(sizeof *s);
    make(ctx, sp, s, 3, false);
    size_t n_complete = 0, n_curves = 0, active[NP] = {0};
    for (int j = 0; j < N; j++) {
        n_complete += s->t[j].state == CAIRN_TRIAL_COMPLETE;
        n_curves += s->t[j].n_steps > 0;
        for (int p = 0; p < NP; p++)
            active[p] += s->t[j].state == CAIRN_TRIAL_COMPLETE && !isnan(s->params[j][p]);
    }
    char *svg = NULL;
    CHECK(cairn_insight_svg(ctx, sp, s->t, N, false, CAIRN_INSIGHT_HISTORY, &svg) == CAIRN_OK);
    CHECK(in_groups(svg, "trials", "<circle") == n_complete);
    CHECK(count(svg, "<polyline") == 1);
    CHECK(strncmp(svg, "<svg", 4) == 0 || strstr(svg, "<svg") != NULL);
    free(svg);
    CHECK(cairn_insight_svg(ctx, sp, s->t, N, false, CAIRN_INSIGHT_SLICE, &svg) == CAIRN_OK);
    CHECK(in_groups(svg, "trials", "<circle") == active[0] + active[1] + active[2] + active[3]);
    CHECK(active[3] < active[0]); /* k is conditional */
    free(svg);
    CHECK(cairn_insight_svg(ctx, sp, s->t, N, false, CAIRN_INSIGHT_INTERMEDIATE, &svg) == CAIRN_OK);
    CHECK(in_groups(svg, "curves", "<polyline") == n_curves);
    free(svg);
    CHECK(cairn_insight_svg(ctx, sp, s->t, N, true, CAIRN_INSIGHT_IMPORTANCE, &svg) == CAIRN_OK);
    CHECK(in_groups(svg, "bars", "<rect") == NP);
    free(svg);
    char *json = NULL;
    CHECK(cairn_insight_json(ctx, sp, s->t, N, false, &json) == CAIRN_OK);
    CHECK(count(json, "\"number\"") ==
          N + n_curves + active[0] + active[1] + active[2] + active[3]);
    free(json);

    /* too little to say */
    CHECK(cairn_insight_svg(ctx, sp, s->t, 0, false, CAIRN_INSIGHT_HISTORY, &svg) == CAIRN_EINVAL);
    CHECK(svg == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "completed") != NULL);
    double imp[NP];
    CHECK(cairn_insight_importance(ctx, sp, s->t, 3, imp) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "at least 4") != NULL);
    for (int j = 0; j < N; j++)
        s->t[j].n_steps = 0;
    CHECK(cairn_insight_svg(ctx, sp, s->t, N, false, CAIRN_INSIGHT_INTERMEDIATE, &svg) ==
          CAIRN_EINVAL);
    CHECK(cairn_insight_json(ctx, sp, s->t, 2, false, &json) == CAIRN_OK);
    CHECK(strstr(json, "\"importance\": null") != NULL);
    free(json);
    CHECK_STR(cairn_insight_plot_file(CAIRN_INSIGHT_SLICE), "slice.svg");
    free(s);
    cairn_space_free(sp);
    cairn_close(ctx);
}

static const char *auto_choice(cairn_ctx *ctx, const char *yaml, const char *spec)
{
    static char name[32];
    cairn_space *sp = NULL;
    cairn_sampler *s = NULL;
    name[0] = 0;
    CHECK(cairn_space_parse(ctx, "t.yaml", CAIRN_SPACE_YAML, yaml, strlen(yaml), &sp) == CAIRN_OK);
    if (cairn_sampler_new(ctx, sp, spec, 1, &s) == CAIRN_OK) {
        snprintf(name, sizeof name, "%s", cairn_sampler_name(s));
        double x[8];
        CHECK(cairn_sampler_ask(s, NULL, 0, x) == CAIRN_OK);
        CHECK(cairn_space_contains(sp, x));
    }
    cairn_sampler_free(s);
    cairn_space_free(sp);
    return name;
}

TEST(auto_chooses_by_the_space_and_the_budget)
{
    cairn_ctx *ctx = cairn_ctx_new();
    static const char discrete[] = "parameters:\n"
                                   "  n: {type: int, low: 1, high: 4}\n"
                                   "  opt: {type: categorical, values: [adam, sgd]}\n"
                                   "  q: {type: float, low: 0, high: 1, step: 0.5}\n"
                                   "  e: 3\n"; /* 4 x 2 x 3 = 24 points */
    static const char continuous[] = "parameters:\n"
                                     "  x: {type: float, low: -5, high: 5}\n"
                                     "  lr: {type: float, low: 1.0e-5, high: 1, log: true}\n"
                                     "  k: {type: int, low: 1, high: 100}\n";
    static const char one[] = "parameters:\n  x: {type: float, low: -5, high: 5}\n";
    CHECK_STR(auto_choice(ctx, discrete, "auto"), "grid");
    CHECK_STR(auto_choice(ctx, discrete, "auto:trials=24"), "grid");
    CHECK_STR(auto_choice(ctx, discrete, "auto:trials=23"), "tpe");
    CHECK_STR(auto_choice(ctx, continuous, "auto"), "cmaes");
    CHECK_STR(auto_choice(ctx, continuous, "auto:trials=30"), "cmaes");
    CHECK_STR(auto_choice(ctx, continuous, "auto:trials=29"), "tpe");
    CHECK_STR(auto_choice(ctx, one, "auto"), "tpe");
    CHECK_STR(auto_choice(ctx, mixed_space, "auto:trials=1000"), "tpe");
    CHECK_STR(auto_choice(ctx, discrete, "auto:trials=0"), "");
    CHECK(strstr(cairn_errmsg(ctx), "trials") != NULL);
    CHECK_STR(auto_choice(ctx, discrete, "auto:budget=5"), "");
    CHECK(strstr(cairn_errmsg(ctx), "budget") != NULL);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(importance_ranks_the_parameter_that_matters_first),
          UNIT_CASE(plots_hold_one_point_per_complete_trial),
          UNIT_CASE(auto_chooses_by_the_space_and_the_budget))
