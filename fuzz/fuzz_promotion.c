/* SPDX-License-Identifier: MIT */
/* fuzz_promotion.c - feeds arbitrary bytes to the promotion: section reader of `cairn model
 * promote` (cairn_promotion_policy_parse) and checks an accepted policy holds what it
 * promises: named floors with finite values, a positive or zero latency and size ceiling. */
#include <math.h>
#include <stdint.h>
#include <stddef.h>
#include "cairn/registry.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_promotion_policy *p = NULL;
    if (cairn_promotion_policy_parse(ctx, (const char *)data, size, &p) == CAIRN_OK) {
        if (!p->found && (p->n_min_metric || p->max_p99_ms != 0 || p->max_size_bytes != 0))
            __builtin_trap();
        for (size_t i = 0; i < p->n_min_metric; i++)
            if (!p->min_metric[i].metric || !*p->min_metric[i].metric ||
                !isfinite(p->min_metric[i].min))
                __builtin_trap();
        if (!(p->max_p99_ms >= 0) || !isfinite(p->max_p99_ms) || p->max_size_bytes < 0)
            __builtin_trap();
    } else if (p) {
        __builtin_trap();
    }
    cairn_promotion_policy_free(p);
    cairn_close(ctx);
    return 0;
}
