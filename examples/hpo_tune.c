/* SPDX-License-Identifier: MIT */
/* hpo_tune.c - tunes a function in memory with the optimizer core (cairn/hpo.h): a search
 * space with a conditional parameter, TPE, and the median pruner stopping poor "training
 * curves" early. The caller keeps the trial history; the sampler and the pruner read it.
 *   ./hpo_tune [SAMPLER] [N_TRIALS]      e.g. ./hpo_tune tpe:multivariate=true 60 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/hpo.h"

#define MAX_TRIALS 1000
#define N_STEPS 20

static const char space_yaml[] =
    "objective: {name: val_loss, goal: minimize}\n"
    "parameters:\n"
    "  lr:       {type: float, low: 1.0e-4, high: 1.0, log: true}\n"
    "  layers:   {type: int, low: 1, high: 6}\n"
    "  opt:      {type: categorical, values: [adam, sgd]}\n"
    "  momentum: {type: float, low: 0.0, high: 0.99, when: {opt: sgd}}\n";

/* A made-up validation loss after `step` epochs: best near lr = 0.01, 3 layers, sgd with
 * momentum 0.9. */
static double val_loss(const double *x, int step)
{
    double final = pow(log10(x[0]) + 2, 2) + 0.1 * pow(x[1] - 3, 2) +
                   (x[2] == 1 ? 2 * pow(x[3] - 0.9, 2) : 0.05);
    return final + 2.0 * exp(-0.3 * step);
}

int main(int argc, char **argv)
{
    const char *spec = argc > 1 ? argv[1] : "tpe";
    int n_trials = argc > 2 ? (int)strtol(argv[2], NULL, 10) : 60;
    if (n_trials < 1 || n_trials > MAX_TRIALS)
        n_trials = 60;
    static cairn_trial_record trials[MAX_TRIALS];
    static double params[MAX_TRIALS][4], values[MAX_TRIALS][N_STEPS];
    static int64_t steps[N_STEPS];
    for (int s = 0; s < N_STEPS; s++)
        steps[s] = s;

    cairn_ctx *ctx = cairn_ctx_new();
    cairn_space *space = NULL;
    cairn_sampler *sampler = NULL;
    cairn_pruner *pruner = NULL;
    if (cairn_space_parse(ctx, "space.yaml", CAIRN_SPACE_YAML, space_yaml, strlen(space_yaml),
                          &space) != CAIRN_OK ||
        cairn_sampler_new(ctx, space, spec, 42, &sampler) != CAIRN_OK ||
        cairn_pruner_new(ctx, "median:n_warmup_steps=3", &pruner) != CAIRN_OK) {
        fprintf(stderr, "hpo_tune: %s\n", cairn_errmsg(ctx));
        return 1;
    }
    int best = -1, n_pruned = 0;
    for (int n = 0; n < n_trials; n++) {
        cairn_history h = {trials, (size_t)n, false, "example"};
        if (cairn_sampler_ask(sampler, &h, n, params[n]) != CAIRN_OK) {
            fprintf(stderr, "hpo_tune: %s\n", cairn_errmsg(ctx));
            return 1;
        }
        cairn_trial_record *t = &trials[n];
        *t = (cairn_trial_record){.number = n,
                                  .state = CAIRN_TRIAL_RUNNING,
                                  .params = params[n],
                                  .steps = steps,
                                  .values = values[n]};
        for (int s = 0; s < N_STEPS && t->state == CAIRN_TRIAL_RUNNING; s++) {
            values[n][s] = val_loss(params[n], s); /* report the value at step s */
            t->n_steps = (size_t)s + 1;
            bool stop = false;
            cairn_pruner_should_prune(pruner, &h, t, &stop);
            if (stop) {
                t->state = CAIRN_TRIAL_PRUNED;
                n_pruned++;
            }
        }
        if (t->state == CAIRN_TRIAL_RUNNING) {
            t->state = CAIRN_TRIAL_COMPLETE;
            t->value = values[n][N_STEPS - 1];
            if (best < 0 || t->value < trials[best].value)
                best = n;
        }
    }
    printf("%d trials (%d pruned) with %s; best trial %d: val_loss %.4f\n", n_trials, n_pruned,
           spec, best, best >= 0 ? trials[best].value : NAN);
    for (size_t i = 0; best >= 0 && i < cairn_space_n_params(space); i++) {
        cairn_param_info p;
        char text[64];
        cairn_space_param(space, i, &p);
        cairn_space_format_value(space, i, params[best][i], text, sizeof text);
        printf("  %-9s %s\n", p.name, text[0] ? text : "(inactive)");
    }
    cairn_pruner_free(pruner);
    cairn_sampler_free(sampler);
    cairn_space_free(space);
    cairn_close(ctx);
    return 0;
}
