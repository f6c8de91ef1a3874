/* SPDX-License-Identifier: MIT */
/* fuzz_config.c - feeds arbitrary bytes to the experiment-config reader (the generic tree,
 * then the run and `cairn train` schemas) and checks the typed sections it accepts hold what
 * the schemas promise. */
#include <stdint.h>
#include <stddef.h>
#include <string.h>
#include "cairn/cairn.h"
#include "train/train_config.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cn_train_config *cfg = NULL;
    if (cn_train_config_parse(ctx, "fuzz.yaml", CN_TREE_YAML, (const char *)data, size, &cfg) ==
        CAIRN_OK) {
        for (size_t i = 0; i < cfg->run.n_params; i++)
            if (!cfg->run.params[i].key || !cfg->run.params[i].value)
                __builtin_trap();
        for (size_t i = 0; i < cfg->learner.n_params; i++)
            if (!cfg->learner.params[i].key || !cfg->learner.params[i].value)
                __builtin_trap();
        if (!(cfg->split.test < 1) || !(cfg->split.val < 1) || cfg->cv == 1 ||
            ((cfg->split.test_idx || cfg->split.val_idx) && !cfg->split.train_idx))
            __builtin_trap();
        if (cfg->task && strcmp(cfg->task, "classification") != 0 &&
            strcmp(cfg->task, "regression") != 0)
            __builtin_trap();
    } else if (cfg) {
        __builtin_trap();
    }
    cn_train_config_free(cfg);
    cairn_close(ctx);
    return 0;
}
