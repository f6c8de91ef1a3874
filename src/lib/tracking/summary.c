/* SPDX-License-Identifier: MIT */
/* summary.c - experiment summaries for the web UI's experiment list, through the store's
 * operations table (store/store_ops.h). */
#include "core/core.h"
#include "base/arena.h"
#include "store/store_ops.h"
#include "base/banned.h"

cairn_status cairn_experiments_summary(cairn_ctx *ctx, cairn_view view,
                                       cairn_experiment_summary_list **out)
{
    *out = NULL;
    cairn_status rc = cn_need_store(ctx);
    if (rc != CAIRN_OK)
        return rc;
    if ((unsigned)view > CAIRN_VIEW_ALL)
        return cn_fail(ctx, CAIRN_EINVAL, "unknown view type %d", (int)view);
    if (!CN_STORE_OPS(ctx)->experiments_summary)
        return cn_fail(ctx, CAIRN_EINVAL,
                       "the store '%s' gives no experiment summaries; ask its server "
                       "(GET cairn/experiments/summary)",
                       cairn_store_uri(ctx));
    return CN_STORE_OPS(ctx)->experiments_summary(ctx, view, out);
}

CN_DEFINE_ARENA_FREE(cairn_experiment_summary_list_free, cairn_experiment_summary_list)
