/* SPDX-License-Identifier: MIT */
/* yaml.c - libyaml's home: turns libyaml's events into a cn_tree, with the line and column of
 * every node, anchors and aliases resolved to shared nodes, and a nesting limit checked as
 * each collection opens (so a deep input costs no more than the limit). */
#include <string.h>
#include <yaml.h>
#include "formats/yaml.h"
#include "core/core.h"
#include "base/banned.h"

typedef struct reader {
    cairn_ctx *ctx;
    cn_tree *t;
    yaml_parser_t parser;
    cn_node *stack[CN_TREE_MAX_DEPTH];
    int depth;
    cn_tree_names *anchors;
    int docs;   /* documents completed */
    bool extra; /* inside a second document: read to its end, then refused */
} reader;

static cairn_status parse_error(reader *r)
{
    const yaml_parser_t *p = &r->parser;
    const char *problem = p->problem ? p->problem : "malformed YAML";
    if (r->docs > 0) /* after the first document libyaml's context adds nothing */
        return cn_tree_fail_pos(r->ctx, r->t, p->problem_mark.line + 1, p->problem_mark.column + 1,
                                "%s", problem);
    return cn_tree_fail_pos(r->ctx, r->t, p->problem_mark.line + 1, p->problem_mark.column + 1,
                            "%s%s%s", problem, p->context ? " " : "", p->context ? p->context : "");
}

static cairn_status fail_mark(reader *r, const yaml_mark_t *m, const char *msg)
{
    return cn_tree_fail_pos(r->ctx, r->t, m->line + 1, m->column + 1, "%s", msg);
}

/* Hangs a complete or newly opened node on its parent (or makes it the root). */
static cairn_status place(reader *r, cn_node *n, const yaml_char_t *anchor, const yaml_mark_t *mark)
{
    if (anchor) {
        if (cn_tree_names_get(r->anchors, (const char *)anchor))
            return fail_mark(r, mark, "second occurrence found duplicate anchor; first occurrence");
        cn_tree_names_set(r->anchors, (const char *)anchor, n);
    }
    if (r->depth > 0)
        cn_tree_add(r->t, r->stack[r->depth - 1], n);
    else
        cn_tree_set_root(r->t, n);
    return CAIRN_OK;
}

static bool is_open(const reader *r, const cn_node *n)
{
    for (int i = 0; i < r->depth; i++)
        if (r->stack[i] == n)
            return true;
    return false;
}

static cairn_status on_event(reader *r, const yaml_event_t *ev)
{
    const yaml_mark_t *m = &ev->start_mark;
    if (r->extra && ev->type != YAML_DOCUMENT_END_EVENT)
        return CAIRN_OK;
    switch (ev->type) {
    case YAML_DOCUMENT_START_EVENT: r->extra = r->docs > 0; return CAIRN_OK;
    case YAML_DOCUMENT_END_EVENT:
        if (r->extra) /* one document per file: a second one is almost always a mistake */
            return cn_tree_fail(r->ctx, r->t, NULL, "holds more than one YAML document");
        r->docs++;
        return CAIRN_OK;
    case YAML_SCALAR_EVENT: {
        cn_node *n = cn_tree_node(r->t, CN_NODE_SCALAR, m->line + 1, m->column + 1);
        cn_tree_set_text(r->t, n, (const char *)ev->data.scalar.value, ev->data.scalar.length,
                         ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE);
        return place(r, n, ev->data.scalar.anchor, m);
    }
    case YAML_ALIAS_EVENT: {
        cn_node *n = cn_tree_names_get(r->anchors, (const char *)ev->data.alias.anchor);
        if (!n)
            return fail_mark(r, m, "found undefined alias");
        if (is_open(r, n))
            return fail_mark(r, m, "an alias inside the node it names (a cycle)");
        return place(r, n, NULL, m);
    }
    case YAML_SEQUENCE_START_EVENT:
    case YAML_MAPPING_START_EVENT: {
        if (r->depth == CN_TREE_MAX_DEPTH)
            return cn_tree_fail_pos(r->ctx, r->t, m->line + 1, m->column + 1,
                                    "nested deeper than %d levels", CN_TREE_MAX_DEPTH);
        bool is_map = ev->type == YAML_MAPPING_START_EVENT;
        cn_node *n =
            cn_tree_node(r->t, is_map ? CN_NODE_MAP : CN_NODE_LIST, m->line + 1, m->column + 1);
        cairn_status rc =
            place(r, n, is_map ? ev->data.mapping_start.anchor : ev->data.sequence_start.anchor, m);
        r->stack[r->depth++] = n;
        return rc;
    }
    case YAML_SEQUENCE_END_EVENT:
    case YAML_MAPPING_END_EVENT: {
        cn_node *n = r->stack[--r->depth];
        if (cn_tree_close(r->t, n) > CN_TREE_MAX_NODES)
            return cn_tree_fail(r->ctx, r->t, n, "aliases expand to more than %u nodes",
                                CN_TREE_MAX_NODES);
        return CAIRN_OK;
    }
    default: return CAIRN_OK;
    }
}

cairn_status cn_yaml_read(cairn_ctx *ctx, cn_tree *t, const char *text, size_t len)
{
    reader r = {.ctx = ctx, .t = t};
    cairn_status rc = CAIRN_OK;
    if (!yaml_parser_initialize(&r.parser))
        return cn_fail(ctx, CAIRN_EINTERNAL, "cannot start the YAML parser");
    r.anchors = cn_tree_names_new();
    yaml_parser_set_input_string(&r.parser, (const unsigned char *)text, len);
    for (bool end = false; !end && rc == CAIRN_OK;) {
        yaml_event_t ev;
        if (!yaml_parser_parse(&r.parser, &ev)) {
            rc = parse_error(&r);
            break;
        }
        end = ev.type == YAML_STREAM_END_EVENT;
        rc = on_event(&r, &ev);
        yaml_event_delete(&ev);
    }
    cn_tree_names_free(r.anchors);
    yaml_parser_delete(&r.parser);
    return rc;
}
