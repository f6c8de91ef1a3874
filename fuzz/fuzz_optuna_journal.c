/* SPDX-License-Identifier: MIT */
/* fuzz_optuna_journal.c - feeds arbitrary bytes to the Optuna JournalStorage reader (the study
 * of a journal, mapped onto a cairn space) and checks what it accepts: trials numbered 0, 1, 2,
 * ... in order, every param absent (NaN) or a value of its parameter (a categorical index in
 * range, an integer for an int), intermediate steps ascending and distinct, a value only on a
 * COMPLETE trial, and a space that reads back. A rejection must leave a message. */
#include <math.h>
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "cairn/hpo.h"
#include "hpo/journal.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check(cairn_ctx *ctx, const cn_journal *j)
{
    size_t np = cairn_space_n_params(j->space);
    if (!j->study_name || !j->space_text)
        __builtin_trap();
    for (size_t i = 0; i < j->n_trials; i++) {
        const cn_journal_trial *t = &j->trials[i];
        if (t->number != (int64_t)i || (int)t->state < 0 || t->state > CAIRN_TRIAL_WAITING)
            __builtin_trap();
        if (t->has_value != (t->state == CAIRN_TRIAL_COMPLETE))
            __builtin_trap();
        for (size_t k = 0; k < np; k++) {
            double v = t->params[k];
            if (isnan(v))
                continue;
            cairn_param_info info;
            cairn_space_param(j->space, k, &info);
            if (!isfinite(v))
                __builtin_trap();
            if ((info.type == CAIRN_SPACE_PARAM_CATEGORICAL ||
                 info.type == CAIRN_SPACE_PARAM_CONST) &&
                (v != floor(v) || v < 0 || v >= (double)info.n_choices))
                __builtin_trap();
            if (info.type == CAIRN_SPACE_PARAM_INT && v != floor(v))
                __builtin_trap();
        }
        for (size_t k = 1; k < t->n_steps; k++)
            if (t->steps[k] <= t->steps[k - 1])
                __builtin_trap();
    }
    cairn_space *again = NULL;
    if (cairn_space_parse(ctx, "again", j->space_format, j->space_text, strlen(j->space_text),
                          &again) != CAIRN_OK ||
        cairn_space_n_params(again) != np)
        __builtin_trap();
    cairn_space_free(again);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cn_journal *j = NULL;
    cairn_status rc = cn_journal_parse(ctx, "fuzz", (const char *)data, size, NULL, &j);
    if (rc != CAIRN_OK) {
        if (j || !cairn_errmsg(ctx)[0])
            __builtin_trap();
    } else {
        check(ctx, j);
    }
    cn_journal_free(j);
    cairn_close(ctx);
    return 0;
}
