/* SPDX-License-Identifier: MIT */
/* hpo_prune_driver.c - replays a crafted pruning scenario through cairn's pruners (public API
 * only) for tests/e2e/test_hpo_pruners.py, which replays the same one through Optuna's.
 * Input on stdin, one directive a line:
 *   pruner SPEC            (cairn_pruner_new's spec)
 *   direction minimize|maximize
 *   study NAME
 *   trial V V V ... [final X]      a trial that reports V at steps 0, 1, ... (or STEP:V),
 *   running V V V ...              the same, left RUNNING at the end
 * Each trial asks should_prune after every report and stops at the first yes (PRUNED, or
 * still RUNNING for `running`); otherwise it completes with `final` (default: its last value).
 * Output: one line per trial, its decisions as 0/1 characters. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/hpo.h"

#define MAX_TRIALS 512
#define MAX_STEPS 256

typedef struct trial {
    int64_t steps[MAX_STEPS];
    double values[MAX_STEPS];
} trial;

static trial trials[MAX_TRIALS];
static cairn_trial_record recs[MAX_TRIALS];

static double parse_value(const char *s)
{
    if (strcmp(s, "nan") == 0)
        return NAN;
    return strtod(s, NULL);
}

int main(void)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_pruner *p = NULL;
    cairn_history h = {recs, 0, false, ""};
    static char study[256] = "";
    char line[65536];
    int rc = 0;
    while (fgets(line, sizeof line, stdin)) {
        line[strcspn(line, "\r\n")] = '\0';
        char *save = NULL;
        char *word = strtok_r(line, " ", &save);
        if (!word)
            continue;
        if (strcmp(word, "pruner") == 0) {
            char *spec = strtok_r(NULL, " ", &save);
            if (!spec || cairn_pruner_new(ctx, spec, &p) != CAIRN_OK) {
                fprintf(stderr, "hpo_prune_driver: %s\n", cairn_errmsg(ctx));
                rc = 1;
                break;
            }
        } else if (strcmp(word, "direction") == 0) {
            char *d = strtok_r(NULL, " ", &save);
            h.maximize = d && strcmp(d, "maximize") == 0;
        } else if (strcmp(word, "study") == 0) {
            char *n = strtok_r(NULL, " ", &save);
            snprintf(study, sizeof study, "%s", n ? n : "");
            h.study_name = study;
        } else if ((strcmp(word, "trial") == 0 || strcmp(word, "running") == 0) && p &&
                   h.n_trials < MAX_TRIALS) {
            bool running = word[0] == 'r';
            size_t t = h.n_trials;
            cairn_trial_record *r = &recs[t];
            *r = (cairn_trial_record){.number = (int64_t)t,
                                      .state = CAIRN_TRIAL_RUNNING,
                                      .steps = trials[t].steps,
                                      .values = trials[t].values};
            h.n_trials++;
            double final = NAN;
            bool has_final = false, pruned = false;
            int64_t next_step = 0;
            char *tok;
            while ((tok = strtok_r(NULL, " ", &save)) != NULL) {
                if (strcmp(tok, "final") == 0) {
                    char *v = strtok_r(NULL, " ", &save);
                    final = v ? parse_value(v) : NAN;
                    has_final = true;
                    break;
                }
                if (pruned || r->n_steps >= MAX_STEPS)
                    continue;
                char *colon = strchr(tok, ':');
                int64_t step = next_step;
                if (colon) {
                    *colon = '\0';
                    step = strtoll(tok, NULL, 10);
                    tok = colon + 1;
                }
                trials[t].steps[r->n_steps] = step;
                trials[t].values[r->n_steps] = parse_value(tok);
                r->n_steps++;
                next_step = step + 1;
                bool prune = false;
                if (cairn_pruner_should_prune(p, &h, r, &prune) != CAIRN_OK) {
                    fprintf(stderr, "hpo_prune_driver: %s\n", cairn_errmsg(ctx));
                    rc = 1;
                }
                putchar(prune ? '1' : '0');
                pruned = prune;
            }
            putchar('\n');
            if (running)
                continue;
            if (pruned) {
                r->state = CAIRN_TRIAL_PRUNED;
            } else {
                r->state = CAIRN_TRIAL_COMPLETE;
                r->value = has_final ? final : r->n_steps ? r->values[r->n_steps - 1] : 0;
            }
        }
    }
    cairn_pruner_free(p);
    cairn_close(ctx);
    return rc;
}
