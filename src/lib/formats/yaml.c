/* SPDX-License-Identifier: MIT */
/* yaml.c - libyaml's home: loads experiment-config.yaml into a cn_config with errors that
 * give the line and column, and re-emits the learner: sub-tree as text for its own parser. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>
#include "formats/yaml.h"
#include "core/core.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define CONFIG_MAX_BYTES (16u << 20)
#define LEARNER_MAX_DEPTH 64
#define LEARNER_MAX_NODES 100000 /* aliases can multiply nodes: cap the copy */

static const char *const allowed_keys = "name, experiment, command, params, inputs, seed, tags, "
                                        "metrics, artifacts, learner, data, split, bootstrap, cv";

typedef struct parse_state {
    cairn_ctx *ctx;
    const char *label;
    yaml_document_t doc;
    cn_config *cfg;
} parse_state;

static cairn_status fail_at(parse_state *st, const yaml_node_t *node, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static cairn_status fail_at(parse_state *st, const yaml_node_t *node, const char *fmt, ...)
{
    cn_buf b = CN_BUF_INIT;
    va_list ap;
    cn_buf_printf(&b, "config '%s'", st->label);
    if (node)
        cn_buf_printf(&b, " line %zu column %zu", node->start_mark.line + 1,
                      node->start_mark.column + 1);
    cn_buf_puts(&b, ": ");
    va_start(ap, fmt);
    cn_buf_vprintf(&b, fmt, ap);
    va_end(ap);
    cairn_status rc = cn_fail(st->ctx, CAIRN_EINVAL, "%s", cn_buf_str(&b));
    cn_buf_release(&b);
    return rc;
}

static const char *node_kind(const yaml_node_t *n)
{
    switch (n->type) {
    case YAML_SCALAR_NODE: return "a scalar";
    case YAML_SEQUENCE_NODE: return "a list";
    case YAML_MAPPING_NODE: return "a mapping";
    default: return "nothing";
    }
}

static bool is_null(const yaml_node_t *n)
{
    if (n->type != YAML_SCALAR_NODE || n->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
        return false;
    const char *v = (const char *)n->data.scalar.value;
    return n->data.scalar.length == 0 || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 ||
           strcmp(v, "Null") == 0 || strcmp(v, "NULL") == 0;
}

static cairn_status scalar(parse_state *st, const char *what, const yaml_node_t *n, char **out)
{
    if (n->type != YAML_SCALAR_NODE)
        return fail_at(st, n, "'%s' must be a scalar, got %s", what, node_kind(n));
    if (memchr(n->data.scalar.value, '\0', n->data.scalar.length))
        return fail_at(st, n, "'%s' holds a NUL character", what);
    free(*out);
    *out = cn_xstrndup((const char *)n->data.scalar.value, n->data.scalar.length);
    return CAIRN_OK;
}

static void push_str(char ***list, size_t *n, char *s)
{
    *list = cn_xrealloc(*list, (*n + 1) * sizeof **list);
    (*list)[(*n)++] = s;
}

/* A list of scalars (or one scalar, taken as a one-item list). */
static cairn_status string_list(parse_state *st, const char *what, const yaml_node_t *n,
                                char ***list, size_t *count)
{
    if (is_null(n))
        return CAIRN_OK;
    if (n->type == YAML_SCALAR_NODE) {
        char *s = NULL;
        cairn_status rc = scalar(st, what, n, &s);
        if (rc == CAIRN_OK)
            push_str(list, count, s);
        return rc;
    }
    if (n->type != YAML_SEQUENCE_NODE)
        return fail_at(st, n, "'%s' must be a list, got %s", what, node_kind(n));
    for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
         it++) {
        yaml_node_t *item = yaml_document_get_node(&st->doc, *it);
        char *s = NULL;
        if (item->type != YAML_SCALAR_NODE)
            return fail_at(st, item, "'%s' items must be scalars, got %s", what, node_kind(item));
        cairn_status rc = scalar(st, what, item, &s);
        if (rc != CAIRN_OK)
            return rc;
        push_str(list, count, s);
    }
    return CAIRN_OK;
}

static cairn_status string_map(parse_state *st, const char *what, const yaml_node_t *n,
                               cn_config_kv **map, size_t *count)
{
    if (is_null(n))
        return CAIRN_OK;
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(st, n, "'%s' must be a mapping, got %s", what, node_kind(n));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&st->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&st->doc, p->value);
        char *key = NULL, *value = NULL;
        cairn_status rc = scalar(st, what, k, &key);
        if (rc != CAIRN_OK)
            return rc;
        for (size_t i = 0; i < *count; i++)
            if (strcmp((*map)[i].key, key) == 0) {
                rc = fail_at(st, k, "'%s.%s' appears twice", what, key);
                free(key);
                return rc;
            }
        if (v->type != YAML_SCALAR_NODE) {
            rc = fail_at(st, v, "'%s.%s' must be a scalar, got %s", what, key, node_kind(v));
            free(key);
            return rc;
        }
        rc = scalar(st, what, v, &value);
        if (rc != CAIRN_OK) {
            free(key);
            return rc;
        }
        *map = cn_xrealloc(*map, (*count + 1) * sizeof **map);
        (*map)[*count].key = key;
        (*map)[*count].value = value;
        (*count)++;
    }
    return CAIRN_OK;
}

static cairn_status command(parse_state *st, const yaml_node_t *n)
{
    cn_config *cfg = st->cfg;
    if (n->type == YAML_SCALAR_NODE && !is_null(n)) {
        /* A string is split on spaces: no shell, no quoting. Use a list for arguments with
         * spaces. */
        char *s = NULL;
        cairn_status rc = scalar(st, "command", n, &s);
        if (rc != CAIRN_OK)
            return rc;
        for (char *p = s; *p;) {
            while (*p == ' ' || *p == '\t' || *p == '\n')
                p++;
            char *start = p;
            while (*p && *p != ' ' && *p != '\t' && *p != '\n')
                p++;
            if (p > start)
                push_str(&cfg->command, &cfg->n_command, cn_xstrndup(start, (size_t)(p - start)));
        }
        free(s);
        return CAIRN_OK;
    }
    return string_list(st, "command", n, &cfg->command, &cfg->n_command);
}

/* ---- the learner: sub-tree, copied into a new document and emitted ---- */

static int copy_node(parse_state *st, yaml_document_t *out, const yaml_node_t *n, int depth,
                     size_t *budget)
{
    if (depth > LEARNER_MAX_DEPTH || *budget == 0)
        return 0;
    (*budget)--;
    switch (n->type) {
    case YAML_SCALAR_NODE:
        return yaml_document_add_scalar(out, NULL, n->data.scalar.value, (int)n->data.scalar.length,
                                        n->data.scalar.style);
    case YAML_SEQUENCE_NODE: {
        int id = yaml_document_add_sequence(out, NULL, n->data.sequence.style);
        if (!id)
            return 0;
        for (yaml_node_item_t *it = n->data.sequence.items.start; it < n->data.sequence.items.top;
             it++) {
            int child =
                copy_node(st, out, yaml_document_get_node(&st->doc, *it), depth + 1, budget);
            if (!child || !yaml_document_append_sequence_item(out, id, child))
                return 0;
        }
        return id;
    }
    case YAML_MAPPING_NODE: {
        int id = yaml_document_add_mapping(out, NULL, n->data.mapping.style);
        if (!id)
            return 0;
        for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top;
             p++) {
            int k = copy_node(st, out, yaml_document_get_node(&st->doc, p->key), depth + 1, budget);
            int v = k ? copy_node(st, out, yaml_document_get_node(&st->doc, p->value), depth + 1,
                                  budget)
                      : 0;
            if (!v || !yaml_document_append_mapping_pair(out, id, k, v))
                return 0;
        }
        return id;
    }
    default: return 0;
    }
}

static int emit_cb(void *data, unsigned char *buffer, size_t size)
{
    cn_buf_append(data, buffer, size);
    return 1;
}

static cairn_status learner(parse_state *st, const yaml_node_t *n)
{
    yaml_document_t out;
    yaml_emitter_t emitter;
    cn_buf text = CN_BUF_INIT;
    size_t budget = LEARNER_MAX_NODES;
    if (!yaml_document_initialize(&out, NULL, NULL, NULL, 1, 1))
        return fail_at(st, n, "'learner': out of memory");
    if (!copy_node(st, &out, n, 0, &budget)) {
        yaml_document_delete(&out);
        return fail_at(st, n,
                       "'learner' is nested deeper than %d levels or has more than %d "
                       "nodes",
                       LEARNER_MAX_DEPTH, LEARNER_MAX_NODES);
    }
    if (!yaml_emitter_initialize(&emitter)) {
        yaml_document_delete(&out);
        return fail_at(st, n, "'learner': out of memory");
    }
    yaml_emitter_set_output(&emitter, emit_cb, &text);
    yaml_emitter_set_unicode(&emitter, 1);
    /* yaml_emitter_dump deletes the document, whatever it returns. */
    int ok = yaml_emitter_open(&emitter) && yaml_emitter_dump(&emitter, &out) &&
             yaml_emitter_close(&emitter) && yaml_emitter_flush(&emitter);
    if (!ok) {
        cairn_status rc = fail_at(st, n, "'learner' cannot be re-emitted: %s",
                                  emitter.problem ? emitter.problem : "emitter error");
        yaml_emitter_delete(&emitter);
        cn_buf_release(&text);
        return rc;
    }
    yaml_emitter_delete(&emitter);
    free(st->cfg->learner_yaml);
    st->cfg->learner_yaml = cn_buf_detach(&text);
    return CAIRN_OK;
}

/* ---- typed sections for `cairn train`: data:, split:, learner:, bootstrap:, cv: ---- */

static const char *scalar_text(const yaml_node_t *n)
{
    return n->type == YAML_SCALAR_NODE ? (const char *)n->data.scalar.value : "";
}

static cairn_status int_value(parse_state *st, const char *what, const yaml_node_t *v, int64_t lo,
                              int64_t hi, int64_t *out)
{
    int64_t x;
    if (v->type != YAML_SCALAR_NODE || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
        !cn_parse_int64(scalar_text(v), &x) || x < lo || x > hi)
        return fail_at(st, v, "'%s' must be an integer in %lld..%lld, got '%s'", what,
                       (long long)lo, (long long)hi,
                       v->type == YAML_SCALAR_NODE ? scalar_text(v) : node_kind(v));
    *out = x;
    return CAIRN_OK;
}

static cairn_status fraction_value(parse_state *st, const char *what, const yaml_node_t *v,
                                   double *out)
{
    double x;
    if (v->type != YAML_SCALAR_NODE || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
        !cn_parse_double(scalar_text(v), &x) || !(x >= 0 && x < 1))
        return fail_at(st, v, "'%s' must be a fraction in [0, 1), got '%s'", what,
                       v->type == YAML_SCALAR_NODE ? scalar_text(v) : node_kind(v));
    *out = x;
    return CAIRN_OK;
}

static cairn_status bool_value(parse_state *st, const char *what, const yaml_node_t *v, bool *out)
{
    const char *t = scalar_text(v);
    if (v->type == YAML_SCALAR_NODE && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE) {
        if (strcmp(t, "true") == 0 || strcmp(t, "True") == 0 || strcmp(t, "yes") == 0) {
            *out = true;
            return CAIRN_OK;
        }
        if (strcmp(t, "false") == 0 || strcmp(t, "False") == 0 || strcmp(t, "no") == 0) {
            *out = false;
            return CAIRN_OK;
        }
    }
    return fail_at(st, v, "'%s' must be true or false, got '%s'", what,
                   v->type == YAML_SCALAR_NODE ? t : node_kind(v));
}

/* Walks a mapping section, checking keys against allowed (", "-separated) and duplicates;
 * calls fn for each pair. */
typedef cairn_status (*section_fn)(parse_state *st, const char *key, const yaml_node_t *k,
                                   const yaml_node_t *v);
static cairn_status section(parse_state *st, const char *what, const yaml_node_t *n, section_fn fn)
{
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(st, n, "'%s' must be a mapping, got %s", what, node_kind(n));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&st->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&st->doc, p->value);
        if (k->type != YAML_SCALAR_NODE)
            return fail_at(st, k, "'%s' keys must be scalars, got %s", what, node_kind(k));
        const char *key = scalar_text(k);
        for (yaml_node_pair_t *q = n->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *prev = yaml_document_get_node(&st->doc, q->key);
            if (prev->type == YAML_SCALAR_NODE && strcmp(scalar_text(prev), key) == 0)
                return fail_at(st, k, "'%s.%s' appears twice", what, key);
        }
        if (is_null(v))
            continue;
        cairn_status rc = fn(st, key, k, v);
        if (rc != CAIRN_OK)
            return rc;
    }
    return CAIRN_OK;
}

static cairn_status data_key(parse_state *st, const char *key, const yaml_node_t *k,
                             const yaml_node_t *v)
{
    cn_config_data *d = &st->cfg->data;
    if (strcmp(key, "path") == 0)
        return scalar(st, "data.path", v, &d->path);
    if (strcmp(key, "label") == 0)
        return scalar(st, "data.label", v, &d->label);
    if (strcmp(key, "features") == 0)
        return string_list(st, "data.features", v, &d->features, &d->n_features);
    if (strcmp(key, "numeric") == 0)
        return string_list(st, "data.numeric", v, &d->numeric, &d->n_numeric);
    if (strcmp(key, "categorical") == 0)
        return string_list(st, "data.categorical", v, &d->categorical, &d->n_categorical);
    return fail_at(st, k,
                   "unknown key 'data.%s'; allowed: path, label, features, numeric, "
                   "categorical",
                   key);
}

static cairn_status split_key(parse_state *st, const char *key, const yaml_node_t *k,
                              const yaml_node_t *v)
{
    cn_config_split *s = &st->cfg->split;
    if (strcmp(key, "method") == 0) {
        cairn_status rc = scalar(st, "split.method", v, &s->method);
        if (rc == CAIRN_OK && strcmp(s->method, "random") != 0 &&
            strcmp(s->method, "stratified") != 0 && strcmp(s->method, "group") != 0 &&
            strcmp(s->method, "time") != 0)
            rc = fail_at(st, v,
                         "'split.method' must be random, stratified, group or time, "
                         "got '%s'",
                         s->method);
        return rc;
    }
    /* test and val are fractions, or index files when given as paths. */
    if (strcmp(key, "test") == 0 || strcmp(key, "val") == 0) {
        bool is_test = key[0] == 't';
        double x;
        char what[16];
        snprintf(what, sizeof what, "split.%s", key);
        if (v->type == YAML_SCALAR_NODE && v->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
            cn_parse_double(scalar_text(v), &x)) {
            cairn_status rc = fraction_value(st, what, v, &x);
            if (rc == CAIRN_OK)
                *(is_test ? &s->test : &s->val) = x;
            return rc;
        }
        return scalar(st, what, v, is_test ? &s->test_idx : &s->val_idx);
    }
    if (strcmp(key, "train") == 0)
        return scalar(st, "split.train", v, &s->train_idx);
    if (strcmp(key, "group") == 0)
        return scalar(st, "split.group", v, &s->group);
    if (strcmp(key, "time") == 0)
        return scalar(st, "split.time", v, &s->time);
    return fail_at(st, k,
                   "unknown key 'split.%s'; allowed: method, test, val, group, time, "
                   "train",
                   key);
}

/* learner.params values: scalars, or lists of scalars joined with ','. */
static cairn_status learner_params(parse_state *st, const yaml_node_t *n)
{
    cn_config_learner *l = &st->cfg->learner;
    if (n->type != YAML_MAPPING_NODE)
        return fail_at(st, n, "'learner.params' must be a mapping, got %s", node_kind(n));
    for (yaml_node_pair_t *p = n->data.mapping.pairs.start; p < n->data.mapping.pairs.top; p++) {
        yaml_node_t *k = yaml_document_get_node(&st->doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&st->doc, p->value);
        char *key = NULL;
        cairn_status rc = scalar(st, "learner.params", k, &key);
        if (rc != CAIRN_OK)
            return rc;
        for (size_t i = 0; i < l->n_params; i++)
            if (strcmp(l->params[i].key, key) == 0) {
                rc = fail_at(st, k, "'learner.params.%s' appears twice", key);
                free(key);
                return rc;
            }
        cn_buf b = CN_BUF_INIT;
        if (v->type == YAML_SEQUENCE_NODE) {
            for (yaml_node_item_t *it = v->data.sequence.items.start;
                 it < v->data.sequence.items.top; it++) {
                yaml_node_t *item = yaml_document_get_node(&st->doc, *it);
                if (item->type != YAML_SCALAR_NODE) {
                    rc = fail_at(st, item, "'learner.params.%s' items must be scalars, got %s", key,
                                 node_kind(item));
                    break;
                }
                if (b.len)
                    cn_buf_putc(&b, ',');
                cn_buf_append(&b, item->data.scalar.value, item->data.scalar.length);
            }
        } else if (v->type == YAML_SCALAR_NODE) {
            cn_buf_append(&b, v->data.scalar.value, v->data.scalar.length);
        } else {
            rc = fail_at(st, v, "'learner.params.%s' must be a scalar or a list, got %s", key,
                         node_kind(v));
        }
        if (rc == CAIRN_OK && memchr(b.data ? b.data : "", '\0', b.len))
            rc = fail_at(st, v, "'learner.params.%s' holds a NUL character", key);
        if (rc != CAIRN_OK) {
            free(key);
            cn_buf_release(&b);
            return rc;
        }
        l->params = cn_xrealloc(l->params, (l->n_params + 1) * sizeof *l->params);
        l->params[l->n_params].key = key;
        l->params[l->n_params].value = b.len ? cn_buf_detach(&b) : cn_xstrdup("");
        cn_buf_release(&b);
        l->n_params++;
    }
    return CAIRN_OK;
}

static cairn_status learner_key(parse_state *st, const char *key, const yaml_node_t *k,
                                const yaml_node_t *v)
{
    cn_config_learner *l = &st->cfg->learner;
    if (strcmp(key, "name") == 0)
        return scalar(st, "learner.name", v, &l->name);
    if (strcmp(key, "params") == 0)
        return learner_params(st, v);
    if (strcmp(key, "class_weight") == 0) {
        cairn_status rc = scalar(st, "learner.class_weight", v, &l->class_weight);
        if (rc == CAIRN_OK && strcmp(l->class_weight, "balanced") != 0)
            rc = fail_at(st, v, "'learner.class_weight' must be balanced, got '%s'",
                         l->class_weight);
        return rc;
    }
    if (strcmp(key, "oversample") == 0)
        return bool_value(st, "learner.oversample", v, &l->oversample);
    return fail_at(st, k,
                   "unknown key 'learner.%s'; allowed: name, params, class_weight, "
                   "oversample",
                   key);
}

static cairn_status top_key(parse_state *st, const char *key, const yaml_node_t *k,
                            const yaml_node_t *v)
{
    cn_config *cfg = st->cfg;
    if (strcmp(key, "name") == 0)
        return is_null(v) ? CAIRN_OK : scalar(st, key, v, &cfg->name);
    if (strcmp(key, "experiment") == 0)
        return is_null(v) ? CAIRN_OK : scalar(st, key, v, &cfg->experiment);
    if (strcmp(key, "command") == 0)
        return command(st, v);
    if (strcmp(key, "params") == 0)
        return string_map(st, key, v, &cfg->params, &cfg->n_params);
    if (strcmp(key, "tags") == 0)
        return string_map(st, key, v, &cfg->tags, &cfg->n_tags);
    if (strcmp(key, "inputs") == 0)
        return string_list(st, key, v, &cfg->inputs, &cfg->n_inputs);
    if (strcmp(key, "metrics") == 0)
        return string_list(st, key, v, &cfg->metrics, &cfg->n_metrics);
    if (strcmp(key, "artifacts") == 0)
        return string_list(st, key, v, &cfg->artifacts, &cfg->n_artifacts);
    if (strcmp(key, "learner") == 0) {
        if (is_null(v))
            return CAIRN_OK;
        cairn_status rc = learner(st, v);
        cfg->has_learner = true;
        return rc == CAIRN_OK ? section(st, key, v, learner_key) : rc;
    }
    if (strcmp(key, "data") == 0) {
        cfg->has_data = !is_null(v);
        return is_null(v) ? CAIRN_OK : section(st, key, v, data_key);
    }
    if (strcmp(key, "split") == 0) {
        cfg->has_split = !is_null(v);
        return is_null(v) ? CAIRN_OK : section(st, key, v, split_key);
    }
    if (strcmp(key, "bootstrap") == 0)
        return is_null(v) ? CAIRN_OK : int_value(st, key, v, 0, 1000000, &cfg->bootstrap);
    if (strcmp(key, "cv") == 0) {
        if (is_null(v))
            return CAIRN_OK;
        cairn_status rc = int_value(st, key, v, 0, 100, &cfg->cv);
        if (rc == CAIRN_OK && cfg->cv == 1)
            rc = fail_at(st, v, "'cv' must be 0 (off) or at least 2 folds, got '1'");
        return rc;
    }
    if (strcmp(key, "seed") == 0) {
        if (is_null(v))
            return CAIRN_OK;
        const char *text = v->type == YAML_SCALAR_NODE ? (const char *)v->data.scalar.value : "";
        int64_t seed;
        if (v->type != YAML_SCALAR_NODE || v->data.scalar.style != YAML_PLAIN_SCALAR_STYLE ||
            !cn_parse_int64(text, &seed) || seed < 0)
            return fail_at(st, v, "'seed' must be a non-negative integer, got '%s'",
                           v->type == YAML_SCALAR_NODE ? text : node_kind(v));
        cfg->has_seed = true;
        cfg->seed = seed;
        return CAIRN_OK;
    }
    return fail_at(st, k, "unknown key '%s'; allowed: %s", key, allowed_keys);
}

void cn_config_free(cn_config *cfg)
{
    if (!cfg)
        return;
    free(cfg->name);
    free(cfg->experiment);
    char **lists[] = {cfg->command, cfg->inputs, cfg->metrics, cfg->artifacts};
    size_t counts[] = {cfg->n_command, cfg->n_inputs, cfg->n_metrics, cfg->n_artifacts};
    for (size_t l = 0; l < 4; l++) {
        for (size_t i = 0; i < counts[l]; i++)
            free(lists[l][i]);
        free(lists[l]);
    }
    for (size_t i = 0; i < cfg->n_params; i++) {
        free(cfg->params[i].key);
        free(cfg->params[i].value);
    }
    free(cfg->params);
    for (size_t i = 0; i < cfg->n_tags; i++) {
        free(cfg->tags[i].key);
        free(cfg->tags[i].value);
    }
    free(cfg->tags);
    free(cfg->learner_yaml);
    free(cfg->data.path);
    free(cfg->data.label);
    char **dl[] = {cfg->data.features, cfg->data.numeric, cfg->data.categorical};
    size_t dn[] = {cfg->data.n_features, cfg->data.n_numeric, cfg->data.n_categorical};
    for (size_t l = 0; l < 3; l++) {
        for (size_t i = 0; i < dn[l]; i++)
            free(dl[l][i]);
        free(dl[l]);
    }
    free(cfg->split.method);
    free(cfg->split.group);
    free(cfg->split.time);
    free(cfg->split.train_idx);
    free(cfg->split.val_idx);
    free(cfg->split.test_idx);
    free(cfg->learner.name);
    for (size_t i = 0; i < cfg->learner.n_params; i++) {
        free(cfg->learner.params[i].key);
        free(cfg->learner.params[i].value);
    }
    free(cfg->learner.params);
    free(cfg->learner.class_weight);
    free(cfg);
}

cairn_status cn_config_parse(cairn_ctx *ctx, const char *label, const char *text, size_t len,
                             cn_config **out)
{
    parse_state st = {.ctx = ctx, .label = label ? label : "<text>"};
    yaml_parser_t parser;
    cairn_status rc = CAIRN_OK;
    bool have_doc = false;

    *out = NULL;
    st.cfg = cn_xcalloc(1, sizeof *st.cfg);
    st.cfg->split.test = st.cfg->split.val = -1;
    st.cfg->bootstrap = st.cfg->cv = -1;
    if (!yaml_parser_initialize(&parser)) {
        cn_config_free(st.cfg);
        return cn_fail(ctx, CAIRN_EINTERNAL, "config '%s': cannot start the YAML parser", st.label);
    }
    yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
    if (!yaml_parser_load(&parser, &st.doc)) {
        rc = cn_fail(ctx, CAIRN_EINVAL, "config '%s' line %zu column %zu: %s%s%s", st.label,
                     parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                     parser.problem ? parser.problem : "malformed YAML", parser.context ? " " : "",
                     parser.context ? parser.context : "");
        goto done;
    }
    have_doc = true;
    yaml_node_t *root = yaml_document_get_root_node(&st.doc);
    if (!root || is_null(root))
        goto check_more; /* an empty file is an empty config */
    if (root->type != YAML_MAPPING_NODE) {
        rc = fail_at(&st, root, "the top level must be a mapping, got %s", node_kind(root));
        goto done;
    }
    for (yaml_node_pair_t *p = root->data.mapping.pairs.start; p < root->data.mapping.pairs.top;
         p++) {
        yaml_node_t *k = yaml_document_get_node(&st.doc, p->key);
        yaml_node_t *v = yaml_document_get_node(&st.doc, p->value);
        if (k->type != YAML_SCALAR_NODE) {
            rc = fail_at(&st, k, "keys must be scalars, got %s", node_kind(k));
            goto done;
        }
        const char *key = (const char *)k->data.scalar.value;
        for (yaml_node_pair_t *q = root->data.mapping.pairs.start; q < p; q++) {
            yaml_node_t *prev = yaml_document_get_node(&st.doc, q->key);
            if (prev->type == YAML_SCALAR_NODE &&
                strcmp((const char *)prev->data.scalar.value, key) == 0) {
                rc = fail_at(&st, k, "key '%s' appears twice", key);
                goto done;
            }
        }
        rc = top_key(&st, key, k, v);
        if (rc != CAIRN_OK)
            goto done;
    }
check_more : {
    /* One document per file: a second one is almost always a mistake. */
    yaml_document_t next;
    if (!yaml_parser_load(&parser, &next)) {
        rc = cn_fail(ctx, CAIRN_EINVAL, "config '%s' line %zu column %zu: %s", st.label,
                     parser.problem_mark.line + 1, parser.problem_mark.column + 1,
                     parser.problem ? parser.problem : "malformed YAML");
        goto done;
    }
    bool extra = yaml_document_get_root_node(&next) != NULL;
    yaml_document_delete(&next);
    if (extra) {
        rc = cn_fail(ctx, CAIRN_EINVAL, "config '%s': holds more than one YAML document", st.label);
        goto done;
    }
}
    *out = st.cfg;
    st.cfg = NULL;
done:
    if (have_doc)
        yaml_document_delete(&st.doc);
    yaml_parser_delete(&parser);
    cn_config_free(st.cfg);
    return rc;
}

cairn_status cn_config_load(cairn_ctx *ctx, const char *path, cn_config **out)
{
    cn_buf text = CN_BUF_INIT;
    *out = NULL;
    if (cn_fs_read_file(path, &text, CONFIG_MAX_BYTES) != 0) {
        cairn_status rc = errno == E2BIG
                              ? cn_fail(ctx, CAIRN_ELIMIT, "config '%s': larger than %u bytes",
                                        path, CONFIG_MAX_BYTES)
                              : cn_fail_errno(ctx, errno == ENOENT ? CAIRN_ENOTFOUND : CAIRN_EIO,
                                              "config '%s'", path);
        cn_buf_release(&text);
        return rc;
    }
    cairn_status rc = cn_config_parse(ctx, path, text.data, text.len, out);
    cn_buf_release(&text);
    return rc;
}
