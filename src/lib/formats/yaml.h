/* SPDX-License-Identifier: MIT */
/* yaml.h - libyaml's home: reads one YAML document into a cn_tree (formats/tree.h), event by
 * event, so nesting is refused at CN_TREE_MAX_DEPTH before libyaml goes deeper. cn_tree_parse
 * and cn_tree_load call it; schemas live with their modules. */
#ifndef CN_YAML_H
#define CN_YAML_H
#include <stddef.h>
#include "cairn/cairn.h"
#include "formats/tree.h"

/* Fills t from text[0 .. len): an empty stream leaves no root; a second document, an
 * undefined or duplicate anchor, an alias to a node that holds it, and malformed YAML are
 * EINVAL with the line and column. */
cairn_status cn_yaml_read(cairn_ctx *ctx, cn_tree *t, const char *text, size_t len);
#endif
