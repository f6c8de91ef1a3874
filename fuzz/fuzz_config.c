/* SPDX-License-Identifier: MIT */
/* fuzz_config.c - feeds arbitrary bytes to the experiment-config.yaml parser. */
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
    } else if (cfg) {
        __builtin_trap();
    }
    cn_config_free(cfg);
    cairn_close(ctx);
    return 0;
}
