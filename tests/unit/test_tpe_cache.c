/* SPDX-License-Identifier: MIT */
/* test_tpe_cache.c - TPE keeps each parameter's sorted observations between asks and merges a
 * tell into them: a sampler that has seen other histories proposes exactly what a fresh one
 * proposes, whether the next history grows by one trial, loses one, comes in another order,
 * has a value changed or grows by many. */
#include <math.h>
#include <stdint.h>
#include <string.h>
#include "unit.h"
#include "cairn/hpo.h"

static const char space_yaml[] = "parameters:\n"
                                 "  x: {type: float, low: -5, high: 5}\n"
                                 "  lr: {type: float, low: 1.0e-4, high: 1, log: true}\n"
                                 "  n: {type: int, low: 1, high: 12}\n"
                                 "  opt: {type: categorical, values: [a, b, c]}\n";

#define N 90
#define NP 4

static double P[N][NP];
static cairn_trial_record R[N];

static void make_trials(void)
{
    uint64_t s = 12345;
    for (int t = 0; t < N; t++) {
        double u[NP];
        for (int j = 0; j < NP; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            u[j] = (double)(s >> 11) / 9007199254740992.0;
        }
        P[t][0] = -5 + 10 * u[0];
        P[t][1] = pow(10, -4 + 4 * u[1]);
        P[t][2] = 1 + floor(12 * u[2] * 0.999);
        P[t][3] = floor(3 * u[3] * 0.999);
        R[t] = (cairn_trial_record){.number = t,
                                    .state = CAIRN_TRIAL_COMPLETE,
                                    .value = P[t][0] * P[t][0] + log10(P[t][1]) + P[t][3],
                                    .params = P[t]};
    }
}

/* kept asks on h; a fresh sampler of the same seed asks too: the same proposal, bit for bit */
static void same_as_fresh(cairn_ctx *ctx, cairn_space *sp, const char *spec, cairn_sampler *kept,
                          const cairn_trial_record *trials, size_t n, int64_t number)
{
    cairn_history h = {trials, n, false, "t"};
    double a[NP], b[NP];
    cairn_sampler *fresh = NULL;
    CHECK(cairn_sampler_new(ctx, sp, spec, 7, &fresh) == CAIRN_OK);
    CHECK(cairn_sampler_ask(kept, &h, number, a) == CAIRN_OK);
    CHECK(cairn_sampler_ask(fresh, &h, number, b) == CAIRN_OK);
    CHECK(memcmp(a, b, sizeof a) == 0);
    cairn_sampler_free(fresh);
}

TEST(kept_order_proposes_what_a_fresh_sampler_proposes)
{
    static const char *specs[] = {"tpe", "tpe:multivariate=true,bandwidth=neighbor",
                                  "tpe:constant_liar=true,endpoints=true"};
    make_trials();
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = NULL;
    CHECK(cairn_space_parse(ctx, "t.yaml", CAIRN_SPACE_YAML, space_yaml, strlen(space_yaml), &sp) ==
          CAIRN_OK);
    static cairn_trial_record h[N];
    static double changed[NP];
    for (size_t si = 0; si < sizeof specs / sizeof specs[0]; si++) {
        cairn_sampler *kept = NULL;
        CHECK(cairn_sampler_new(ctx, sp, specs[si], 7, &kept) == CAIRN_OK);
        /* growing one trial at a time */
        for (size_t n = 20; n < 45; n++)
            same_as_fresh(ctx, sp, specs[si], kept, R, n, (int64_t)n);
        /* trial 30 gone */
        memcpy(h, R, 30 * sizeof *h);
        memcpy(h + 30, R + 31, 14 * sizeof *h);
        same_as_fresh(ctx, sp, specs[si], kept, h, 44, 100);
        /* and back, then in reverse order */
        same_as_fresh(ctx, sp, specs[si], kept, R, 45, 101);
        for (size_t i = 0; i < 46; i++)
            h[i] = R[45 - i];
        same_as_fresh(ctx, sp, specs[si], kept, h, 46, 102);
        /* a trial's values changed under the same number */
        memcpy(h, R, 46 * sizeof *h);
        memcpy(changed, P[12], sizeof changed);
        changed[0] = -changed[0];
        changed[1] = changed[1] / 3;
        h[12].params = changed;
        same_as_fresh(ctx, sp, specs[si], kept, h, 46, 103);
        /* many new at once, then running trials the liar counts */
        same_as_fresh(ctx, sp, specs[si], kept, R, N, 104);
        memcpy(h, R, N * sizeof *h);
        for (size_t i = N - 5; i < N; i++)
            h[i].state = CAIRN_TRIAL_RUNNING;
        same_as_fresh(ctx, sp, specs[si], kept, h, N, 105);
        cairn_sampler_free(kept);
    }
    cairn_space_free(sp);
    cairn_close(ctx);
}

UNIT_MAIN(UNIT_CASE(kept_order_proposes_what_a_fresh_sampler_proposes))
