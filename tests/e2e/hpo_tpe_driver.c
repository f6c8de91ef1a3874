/* SPDX-License-Identifier: MIT */
/* hpo_tpe_driver.c - asks a sampler (public API only) for the next trial of a crafted history,
 * once per seed, for tests/e2e/test_hpo_tpe.py, which asks Optuna's TPESampler the same.
 *     cairn_hpo_tpe SPACE_FILE SPEC N_SEEDS < HISTORY
 * HISTORY: one completed trial a line, "VALUE P0 P1 ...", the params as internal values
 * (cairn/hpo.h: a categorical is its choice index). Output: one line per seed 0 .. N_SEEDS-1,
 * the proposed trial's internal values, full precision. */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/hpo.h"

#define MAX_TRIALS 4096
#define MAX_PARAMS 32

static cairn_trial_record recs[MAX_TRIALS];
static double params[MAX_TRIALS][MAX_PARAMS];

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: cairn_hpo_tpe SPACE_FILE SPEC N_SEEDS < HISTORY\n");
        return 2;
    }
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *space = NULL;
    if (cairn_space_load(ctx, argv[1], CAIRN_SPACE_AUTO, &space) != CAIRN_OK) {
        fprintf(stderr, "hpo_tpe_driver: %s\n", cairn_errmsg(ctx));
        cairn_close(ctx);
        return 1;
    }
    size_t d = cairn_space_n_params(space), n = 0;
    bool bad = d > MAX_PARAMS;
    while (!bad && n < MAX_TRIALS && scanf("%lf", &recs[n].value) == 1) {
        for (size_t j = 0; j < d && !bad; j++)
            bad = scanf("%lf", &params[n][j]) != 1;
        if (bad)
            break;
        recs[n].number = (int64_t)n;
        recs[n].state = CAIRN_TRIAL_COMPLETE;
        recs[n].params = params[n];
        n++;
    }
    if (bad) {
        fprintf(stderr, "hpo_tpe_driver: a history line is short or not numbers\n");
        cairn_space_free(space);
        cairn_close(ctx);
        return 1;
    }
    cairn_history h = {recs, n, false, "tpe"};
    long n_seeds = strtol(argv[3], NULL, 10);
    double out[MAX_PARAMS];
    int rc = 0;
    for (long seed = 0; seed < n_seeds && rc == 0; seed++) {
        cairn_sampler *s = NULL;
        if (cairn_sampler_new(ctx, space, argv[2], (uint64_t)seed, &s) != CAIRN_OK ||
            cairn_sampler_ask(s, &h, (int64_t)n, out) != CAIRN_OK) {
            fprintf(stderr, "hpo_tpe_driver: %s\n", cairn_errmsg(ctx));
            rc = 1;
        } else {
            for (size_t j = 0; j < d; j++)
                printf("%.17g%c", out[j], j + 1 == d ? '\n' : ' ');
        }
        cairn_sampler_free(s);
    }
    cairn_space_free(space);
    cairn_close(ctx);
    return rc;
}
