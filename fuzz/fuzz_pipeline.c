/* SPDX-License-Identifier: MIT */
/* fuzz_pipeline.c - feeds arbitrary bytes to the pipeline.yaml reader (the generic tree, the
 * stage schema, the DAG and its topological order) and checks what it accepts: every stage
 * once in the order, after each of its dependencies, with a known kind. */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include "cairn/cairn.h"
#include "cairn/pipeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_pipeline *p = NULL;
    if (cairn_pipeline_parse(ctx, "fuzz.yaml", NULL, (const char *)data, size, &p) == CAIRN_OK) {
        size_t n = cairn_pipeline_n_stages(p);
        if (n == 0 || !cairn_pipeline_name(p))
            __builtin_trap();
        const char **deps = calloc(n + 1, sizeof *deps);
        for (size_t i = 0; i < n; i++) {
            const char *name = cairn_pipeline_stage_name(p, i);
            if (!name || !cairn_pipeline_stage_kind(p, i))
                __builtin_trap();
            for (size_t j = 0; j < i; j++)
                if (strcmp(cairn_pipeline_stage_name(p, j), name) == 0)
                    __builtin_trap();
            size_t n_deps = cairn_pipeline_stage_deps(p, i, deps, n);
            for (size_t d = 0; d < n_deps && d < n; d++) {
                size_t at = n;
                for (size_t j = 0; j < n; j++)
                    if (strcmp(cairn_pipeline_stage_name(p, j), deps[d]) == 0)
                        at = j;
                if (at >= i) /* a dependency comes first */
                    __builtin_trap();
            }
        }
        free(deps);
    } else if (p) {
        __builtin_trap();
    }
    cairn_pipeline_free(p);
    cairn_close(ctx);
    return 0;
}
