/* SPDX-License-Identifier: MIT */
/* fuzz_tree.c - feeds arbitrary bytes to the generic tree reader as YAML and as JSON and
 * checks what it accepts: positions from 1, scalars terminated at their length, every pair
 * with a value, nesting within CN_TREE_MAX_DEPTH. */
#include <stdint.h>
#include <stddef.h>
#include "cairn/cairn.h"
#include "formats/tree.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Visits at most *budget nodes (aliases share nodes, so a tree may expand a lot). */
static void walk(const cn_node *n, int depth, size_t *budget)
{
    if (*budget == 0)
        return;
    (*budget)--;
    if (!n || n->line < 1 || n->column < 1 || depth > CN_TREE_MAX_DEPTH + 1)
        __builtin_trap();
    if (n->kind == CN_NODE_SCALAR) {
        if (!n->text || n->text[n->len] != '\0')
            __builtin_trap();
        return;
    }
    for (size_t i = 0; i < n->n; i++) {
        if (n->kind == CN_NODE_LIST) {
            walk(n->items[i], depth + 1, budget);
        } else {
            if (!n->pairs[i].value)
                __builtin_trap();
            walk(n->pairs[i].key, depth + 1, budget);
            walk(n->pairs[i].value, depth + 1, budget);
        }
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    cairn_ctx *ctx = cairn_ctx_new();
    for (int f = 0; f < 2; f++) {
        cn_tree *t = NULL;
        cairn_status rc = cn_tree_parse(ctx, "input", "fuzz", f ? CN_TREE_JSON : CN_TREE_YAML,
                                        (const char *)data, size, &t);
        if (rc == CAIRN_OK) {
            size_t budget = 100000;
            if (cn_tree_root(t))
                walk(cn_tree_root(t), 1, &budget);
        } else if (t) {
            __builtin_trap();
        }
        cn_tree_free(t);
    }
    cairn_close(ctx);
    return 0;
}
