/* SPDX-License-Identifier: MIT */
/* fuzz_hpo_space.c - feeds arbitrary bytes to the search-space readers (the first byte picks
 * cairn's YAML, JSON, a W&B sweep or an NNI space) and checks that an accepted space keeps the
 * rules, that samplers asked over it stay inside it, and that values survive a text round
 * trip. */
#include <math.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "cairn/hpo.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_P 1024

static void check_sampler(cairn_ctx *ctx, const cairn_space *sp, const char *spec, int n)
{
    static double x[8][MAX_P];
    static cairn_trial_record rec[8];
    cairn_sampler *s = NULL;
    if (cairn_sampler_new(ctx, sp, spec, 42, &s) != CAIRN_OK)
        return; /* e.g. a grid too large: refused with a message */
    size_t done = 0;
    for (int t = 0; t < n && t < 8; t++) {
        cairn_history h = {rec, done, false, "fuzz"};
        if (cairn_sampler_ask(s, &h, t, x[t]) != CAIRN_OK)
            break;
        if (!cairn_space_contains(sp, x[t]))
            __builtin_trap();
        rec[done] = (cairn_trial_record){
            .number = t, .state = CAIRN_TRIAL_COMPLETE, .value = (double)(t % 3), .params = x[t]};
        done++;
    }
    cairn_sampler_free(s);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    static const cairn_space_format formats[4] = {CAIRN_SPACE_YAML, CAIRN_SPACE_JSON,
                                                  CAIRN_SPACE_WANDB, CAIRN_SPACE_NNI};
    cairn_space_format fmt = formats[data[0] % 4];
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *sp = NULL;
    cairn_status rc = cairn_space_parse(ctx, "fuzz", fmt, (const char *)data + 1, size - 1, &sp);
    if (rc != CAIRN_OK) {
        if (sp || !cairn_errmsg(ctx)[0])
            __builtin_trap();
        cairn_close(ctx);
        return 0;
    }
    size_t n = cairn_space_n_params(sp);
    if (n == 0 || n > MAX_P)
        __builtin_trap();
    for (size_t i = 0; i < n; i++) {
        cairn_param_info p;
        cairn_space_param(sp, i, &p);
        if (!p.name || !p.name[0] || cairn_space_find(sp, p.name) != (int64_t)i)
            __builtin_trap();
        if (p.type == CAIRN_SPACE_PARAM_FLOAT || p.type == CAIRN_SPACE_PARAM_INT) {
            if (!(p.low <= p.high) || p.step < 0 || (p.log && !(p.low > 0)))
                __builtin_trap();
            if (p.type == CAIRN_SPACE_PARAM_FLOAT ? p.log && p.step > 0
                                                  : p.step < 1 || (p.log && p.step != 1))
                __builtin_trap();
        } else if (p.n_choices == 0) {
            __builtin_trap();
        }
        /* Every categorical value reads back as its own index. */
        for (size_t k = 0; k < p.n_choices && k < 4; k++) {
            char buf[512];
            double v = -1;
            cairn_space_format_value(sp, i, (double)k, buf, sizeof buf);
            if (strlen(p.choices[k]) < sizeof buf &&
                (cairn_space_parse_value(ctx, sp, i, buf, &v) != CAIRN_OK || v > (double)k))
                __builtin_trap();
        }
    }
    check_sampler(ctx, sp, "random", 4);
    check_sampler(ctx, sp, "sobol", 3);
    check_sampler(ctx, sp, "tpe:n_startup_trials=2,n_ei_candidates=4", 5);
    check_sampler(ctx, sp, "tpe:n_startup_trials=2,multivariate=true,group=true", 5);
    check_sampler(ctx, sp, "cmaes:popsize=4", 8);
    if (n <= 6)
        check_sampler(ctx, sp, "grid:points=2", 3);
    cairn_space_free(sp);
    cairn_close(ctx);
    return 0;
}
