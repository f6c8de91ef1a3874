/* SPDX-License-Identifier: MIT */
/* fuzz_config.c - feeds arbitrary bytes to the experiment-config.yaml parser and checks the
 * typed sections it accepts hold what the parser promises. */
#include <stdint.h>
#include <stddef.h>
#include "cairn/cairn.h"
#include "formats/yaml.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cn_config *cfg = NULL;
    if (cn_config_parse(ctx, "fuzz.yaml", (const char *)data, size, &cfg) == CAIRN_OK) {
        for (size_t i = 0; i < cfg->n_params; i++)
            if (!cfg->params[i].key || !cfg->params[i].value)
                __builtin_trap();
        for (size_t i = 0; i < cfg->learner.n_params; i++)
            if (!cfg->learner.params[i].key || !cfg->learner.params[i].value)
                __builtin_trap();
        if ((cfg->split.test >= 1) || (cfg->split.val >= 1) || cfg->cv == 1 ||
            (cfg->has_learner && !cfg->learner_yaml))
            __builtin_trap();
    } else if (cfg) {
        __builtin_trap();
    }
    cn_config_free(cfg);
    cairn_close(ctx);
    return 0;
}
