/* SPDX-License-Identifier: MIT */
/* fuzz_filter.c - parses arbitrary bytes as a search filter with the grammar of every search
 * target (runs, experiments, registered models, model versions), and each line of them as an
 * order_by entry; checks the tree's shape against the
 * grammar and the limits, then compiles it to SQL for the target (store/search_sql.c) and
 * checks that every '?' has its bound argument. A failure must say why and return no tree. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "core/core.h"
#include "formats/filter.h"
#include "store/search_sql.h"
#include "base/xmalloc.h"
#include "base/banned.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static size_t count_marks(const cn_buf *b)
{
    size_t n = 0;
    for (size_t k = 0; k < b->len; k++)
        n += b->data[k] == '?';
    return n;
}

/* An identifier names only what the grammar allows. */
static void check_ident(const cn_filter_grammar *g, const cn_filter_ident *id, bool for_order)
{
    CN_ASSERT(g->kinds & CN_FILTER_BIT(id->kind));
    CN_ASSERT(!for_order || (g->order_kinds & CN_FILTER_BIT(id->kind)));
    CN_ASSERT(id->text != NULL);
    if (id->kind == CN_FILTER_ATTR)
        CN_ASSERT(id->field >= g->attrs && id->field < g->attrs + g->n_attrs);
    else if (id->kind == CN_FILTER_DATASET)
        CN_ASSERT(id->field >= g->dataset_fields &&
                  id->field < g->dataset_fields + g->n_dataset_fields);
    else
        CN_ASSERT(id->key != NULL && id->key_len > 0 && strlen(id->key) == id->key_len);
}

/* Walks the tree: AND/OR have two or more children, clauses are well-typed; returns the
 * number of clauses. */
static size_t check_node(const cn_filter_grammar *g, const cn_filter_node *n)
{
    if (n->kind == CN_FILTER_CLAUSE) {
        check_ident(g, &n->id, false);
        if (n->cmp == CN_FILTER_IN || n->cmp == CN_FILTER_NOT_IN)
            CN_ASSERT(n->val.kind == CN_FILTER_VAL_LIST && n->val.items != NULL);
        else if (n->id.kind == CN_FILTER_METRIC)
            CN_ASSERT(n->val.kind == CN_FILTER_VAL_REAL);
        else if (n->id.field && n->id.field->type != CN_FILTER_STRING &&
                 n->id.field->type != CN_FILTER_STRING_SCALAR)
            CN_ASSERT(n->val.kind == CN_FILTER_VAL_INT);
        else
            CN_ASSERT(n->val.kind == CN_FILTER_VAL_STRING);
        /* lists only where the type (or the grammar's tag type) takes them */
        bool scalar = (n->id.field && n->id.field->type == CN_FILTER_STRING_SCALAR) ||
                      (n->id.kind == CN_FILTER_TAG && g->tag_type == CN_FILTER_STRING_SCALAR);
        CN_ASSERT(!scalar || n->val.kind != CN_FILTER_VAL_LIST);
        return 1;
    }
    size_t n_kids = 0, n_clauses = 0;
    for (const cn_filter_node *k = n->first; k; k = k->next, n_kids++)
        n_clauses += check_node(g, k);
    CN_ASSERT(n_kids >= 2);
    return n_clauses;
}

static void one_filter(cairn_ctx *ctx, cn_search_target t, const char *text, size_t size)
{
    const cn_filter_grammar *g = cn_search_grammar(t);
    cn_filter *f = NULL;
    cairn_status rc = cn_filter_parse(ctx, g, text, size, &f);
    if (rc != CAIRN_OK) {
        CN_ASSERT(rc == CAIRN_EINVAL || rc == CAIRN_ELIMIT);
        CN_ASSERT(f == NULL);
        CN_ASSERT(strlen(cairn_errmsg(ctx)) > 0);
        return;
    }
    if (f->root)
        CN_ASSERT(check_node(g, f->root) <= CN_FILTER_MAX_CLAUSES);
    cn_sql where;
    cn_sql_init(&where);
    cn_search_sql_where(t, f, &where);
    CN_ASSERT(where.sql.len > 0);
    CN_ASSERT(count_marks(&where.sql) == where.n_args);
    for (size_t k = 0; k < where.n_args; k++)
        CN_ASSERT(where.args[k].type != CN_SQLARG_TEXT || where.args[k].text != NULL);
    cn_sql_release(&where);
    cn_filter_free(f);
}

/* Each line is an order_by entry. */
static void one_order(cairn_ctx *ctx, cn_search_target t, const char *text, size_t size)
{
    size_t n = 0, start = 0;
    char **entries = cn_xcalloc(size + 1, sizeof *entries);
    for (size_t k = 0; k <= size; k++) {
        if (k == size || text[k] == '\n') {
            entries[n++] = cn_xstrndup(text + start, k - start);
            start = k + 1;
        }
    }
    cn_order *o = NULL;
    const cn_filter_grammar *g = cn_search_grammar(t);
    cairn_status rc = cn_order_parse(ctx, g, (const char *const *)entries, n, &o);
    if (rc == CAIRN_OK) {
        CN_ASSERT(o->n == n);
        for (size_t k = 0; k < o->n; k++)
            check_ident(g, &o->keys[k].id, true);
        cn_sql joins;
        cn_buf order = CN_BUF_INIT;
        cn_sql_init(&joins);
        cn_search_sql_order(t, o->keys, o->n, &joins, &order);
        CN_ASSERT(order.len > 0);
        CN_ASSERT(count_marks(&joins.sql) == joins.n_args);
        CN_ASSERT(count_marks(&order) == 0);
        cn_sql_release(&joins);
        cn_buf_release(&order);
    } else {
        CN_ASSERT(o == NULL);
        CN_ASSERT(strlen(cairn_errmsg(ctx)) > 0);
    }
    cn_order_free(o);
    for (size_t k = 0; k < n; k++)
        free(entries[k]);
    free(entries);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_ctx *ctx = cairn_ctx_new();
    for (int t = CN_SEARCH_RUNS; t <= CN_SEARCH_TARGET_LAST; t++) {
        one_filter(ctx, (cn_search_target)t, (const char *)data, size);
        one_order(ctx, (cn_search_target)t, (const char *)data, size);
    }
    /* The context has no store: released by hand, so the store proper is not linked in. */
    cn_buf_release(&ctx->err);
    free(ctx);
    return 0;
}
