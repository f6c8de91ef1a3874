/* SPDX-License-Identifier: MIT */
/* parse.c - pipeline.yaml: name, stages (a mapping of stage name to its fields), trigger; the
 * DAG from `after:` and from inputs that are another stage's outputs; the topological order
 * (Kahn's, ties in file order) and, when there is none, the cycle named stage by stage. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "pipeline/pipeline_int.h"
#include "core/core.h"
#include "formats/tree.h"
#include "base/buf.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

const char *const cn_pipeline_kind_names[CN_STAGE_N_KINDS] = {
    "validate", "split",  "train",   "tune",    "evaluate", "register",
    "promote",  "deploy", "monitor", "command", "card",
};

#define ST(w) ((cn_stage *)(w)->user)
#define PL(w) ((cairn_pipeline *)(w)->user)

static void stage_release(cn_stage *s)
{
    free(s->name);
    free(s->data);
    free(s->expect);
    free(s->config);
    free(s->model);
    free(s->to);
    free(s->alias);
    free(s->label);
    free(s->experiment);
    free(s->space);
    free(s->template_path);
    cn_tree_strv_free(s->run, s->n_run);
    cn_tree_strv_free(s->inputs, s->n_inputs);
    cn_tree_strv_free(s->outputs, s->n_outputs);
    cn_tree_strv_free(s->after, s->n_after);
    free(s->deps);
}

void cairn_pipeline_free(cairn_pipeline *p)
{
    if (!p)
        return;
    for (size_t i = 0; i < p->n; i++)
        stage_release(&p->stages[i]);
    free(p->stages);
    free(p->order);
    free(p->label);
    free(p->dir);
    free(p->name);
    free(p->trigger_data);
    free(p->trigger_monitor_run);
    free(p->trigger_slice_by);
    free(p);
}

/* ---- one stage's fields ---- */

#define STRING_FIELD(fn, member, what)                                                             \
    static cairn_status fn(const cn_tree_walk *w, const cn_node *k, const cn_node *v)              \
    {                                                                                              \
        (void)k;                                                                                   \
        free(ST(w)->member);                                                                       \
        ST(w)->member = NULL;                                                                      \
        return cn_tree_string(w, what, v, &ST(w)->member);                                         \
    }
STRING_FIELD(read_data, data, "data")
STRING_FIELD(read_expect, expect, "expect")
STRING_FIELD(read_config, config, "config")
STRING_FIELD(read_model, model, "model")
STRING_FIELD(read_to, to, "to")
STRING_FIELD(read_alias, alias, "alias")
STRING_FIELD(read_label, label, "label")
STRING_FIELD(read_experiment, experiment, "experiment")
STRING_FIELD(read_space, space, "space")
STRING_FIELD(read_template, template_path, "template")

static cairn_status read_kind(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    char *text = NULL;
    cairn_status rc = cn_tree_string(w, "kind", v, &text);
    if (rc != CAIRN_OK)
        return rc;
    for (int i = 0; i < CN_STAGE_N_KINDS; i++)
        if (strcmp(text, cn_pipeline_kind_names[i]) == 0) {
            ST(w)->kind = (cn_stage_kind)i;
            free(text);
            return CAIRN_OK;
        }
    const char *near = cn_str_nearest(text, cn_pipeline_kind_names, CN_STAGE_N_KINDS);
    cn_buf known = CN_BUF_INIT;
    for (int i = 0; i < CN_STAGE_N_KINDS; i++)
        cn_buf_printf(&known, "%s%s", i ? ", " : "", cn_pipeline_kind_names[i]);
    rc = cn_tree_fail(w->ctx, w->tree, v, "stage '%s': unknown kind '%s'%s%s%s; known kinds: %s",
                      ST(w)->name, text, near ? " (did you mean '" : "", near ? near : "",
                      near ? "'?)" : "", cn_buf_str(&known));
    cn_buf_release(&known);
    free(text);
    return rc;
}

static cairn_status read_list(const cn_tree_walk *w, const char *what, const cn_node *v,
                              char ***list, size_t *n)
{
    if (v->kind == CN_NODE_MAP)
        return cn_tree_fail(w->ctx, w->tree, v, "stage '%s': '%s' must be a list, got a mapping",
                            ST(w)->name, what);
    return cn_tree_string_list(w, what, v, list, n);
}

static cairn_status read_run(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return read_list(w, "run", v, &ST(w)->run, &ST(w)->n_run);
}

static cairn_status read_inputs(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return read_list(w, "inputs", v, &ST(w)->inputs, &ST(w)->n_inputs);
}

static cairn_status read_outputs(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return read_list(w, "outputs", v, &ST(w)->outputs, &ST(w)->n_outputs);
}

static cairn_status read_after(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return read_list(w, "after", v, &ST(w)->after, &ST(w)->n_after);
}

static cairn_status read_trials(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_int(w, "trials", v, 1, 1000000, &ST(w)->trials);
}

static cairn_status read_port(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_int(w, "port", v, 0, 65535, &ST(w)->port);
}

static const cn_tree_field stage_fields[] = {
    {"kind", read_kind},     {"data", read_data},         {"expect", read_expect},
    {"config", read_config}, {"model", read_model},       {"to", read_to},
    {"alias", read_alias},   {"label", read_label},       {"experiment", read_experiment},
    {"space", read_space},   {"trials", read_trials},     {"port", read_port},
    {"run", read_run},       {"inputs", read_inputs},     {"outputs", read_outputs},
    {"after", read_after},   {"template", read_template},
};

/* A canonical text of a node: kinds and lengths spelled out, so two spellings of one value
 * ("a" and a) digest alike and nothing else does. */
static void canon(cn_buf *b, const cn_node *n)
{
    if (n->kind == CN_NODE_SCALAR) {
        cn_buf_printf(b, "s%zu:", n->len);
        cn_buf_append(b, n->text, n->len);
    } else if (n->kind == CN_NODE_LIST) {
        cn_buf_printf(b, "l%zu[", n->n);
        for (size_t i = 0; i < n->n; i++)
            canon(b, n->items[i]);
        cn_buf_putc(b, ']');
    } else {
        cn_buf_printf(b, "m%zu{", n->n);
        for (size_t i = 0; i < n->n; i++) {
            canon(b, n->pairs[i].key);
            canon(b, n->pairs[i].value);
        }
        cn_buf_putc(b, '}');
    }
}

static bool name_ok(const char *s)
{
    if (!*s || strlen(s) > 100)
        return false;
    for (const char *c = s; *c; c++)
        if (!((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') ||
              *c == '_' || *c == '-' || *c == '.'))
            return false;
    return true;
}

static cairn_status check_stage(const cn_tree_walk *w, const cn_node *at, cn_stage *s)
{
    const char *need = NULL;
    switch (s->kind) {
    case CN_STAGE_VALIDATE:
    case CN_STAGE_SPLIT:
    case CN_STAGE_MONITOR:
        need = s->data ? NULL : "data";
        if (!need && s->kind == CN_STAGE_SPLIT && !s->config && !s->label)
            need = "config (or label)";
        break;
    case CN_STAGE_TRAIN: need = s->config ? NULL : "config"; break;
    case CN_STAGE_TUNE: need = !s->config ? "config" : !s->space ? "space" : NULL; break;
    case CN_STAGE_REGISTER: need = s->model ? NULL : "model"; break;
    case CN_STAGE_PROMOTE: need = !s->model ? "model" : !s->to ? "to" : NULL; break;
    case CN_STAGE_DEPLOY:
    case CN_STAGE_CARD: need = s->model ? NULL : "model"; break;
    case CN_STAGE_COMMAND: need = s->n_run ? NULL : "run"; break;
    default: break;
    }
    if (need)
        return cn_tree_fail(w->ctx, w->tree, at, "stage '%s' (kind %s) needs '%s'", s->name,
                            cn_pipeline_kind_names[s->kind], need);
    return CAIRN_OK;
}

static cairn_status read_stages(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cairn_pipeline *p = PL(w);
    if (v->kind != CN_NODE_MAP)
        return cn_tree_fail(w->ctx, w->tree, v,
                            "'stages' must be a mapping of stage name to its fields, got %s",
                            cn_node_kind_name(v));
    if (v->n == 0)
        return cn_tree_fail(w->ctx, w->tree, v, "'stages' is empty; add at least one stage");
    p->stages = cn_xcalloc(v->n, sizeof *p->stages);
    for (size_t i = 0; i < v->n; i++) {
        const cn_node *key = v->pairs[i].key, *val = v->pairs[i].value;
        if (key->kind != CN_NODE_SCALAR || !name_ok(key->text))
            return cn_tree_fail(w->ctx, w->tree, key,
                                "a stage name must be 1 to 100 letters, digits, '_', '-' or '.'");
        if (v->pairs[i].is_dup)
            return cn_tree_fail(w->ctx, w->tree, key, "stage '%s' is defined twice", key->text);
        cn_stage *s = &p->stages[p->n++];
        s->name = cn_xstrdup(key->text);
        s->line = key->line;
        s->kind = CN_STAGE_N_KINDS;
        if (val->kind != CN_NODE_MAP)
            return cn_tree_fail(w->ctx, w->tree, val,
                                "stage '%s' must be a mapping of its fields (kind: ...), got %s",
                                s->name, cn_node_kind_name(val));
        cn_tree_walk sw = {w->ctx, w->tree, s};
        char section[128];
        snprintf(section, sizeof section, "stages.%s", s->name);
        cairn_status rc = cn_tree_walk_map(&sw, val, section, stage_fields,
                                           sizeof stage_fields / sizeof stage_fields[0]);
        if (rc != CAIRN_OK)
            return rc;
        if (s->kind == CN_STAGE_N_KINDS) {
            cn_buf known = CN_BUF_INIT;
            for (int j = 0; j < CN_STAGE_N_KINDS; j++)
                cn_buf_printf(&known, "%s%s", j ? ", " : "", cn_pipeline_kind_names[j]);
            rc = cn_tree_fail(w->ctx, w->tree, val, "stage '%s' has no 'kind'; known kinds: %s",
                              s->name, cn_buf_str(&known));
            cn_buf_release(&known);
            return rc;
        }
        rc = check_stage(&sw, val, s);
        if (rc != CAIRN_OK)
            return rc;
        cn_buf c = CN_BUF_INIT;
        canon(&c, val);
        cn_sha256_hex(c.data, c.len, s->config_sha256);
        cn_buf_release(&c);
    }
    return CAIRN_OK;
}

static cairn_status read_name(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    cairn_status rc = cn_tree_string(w, "name", v, &PL(w)->name);
    if (rc == CAIRN_OK && !name_ok(PL(w)->name))
        return cn_tree_fail(w->ctx, w->tree, v,
                            "'name' must be 1 to 100 letters, digits, '_', '-' or '.'");
    return rc;
}

/* ---- trigger: {on_drift: {data: CSV, monitor_run: ID}, schedule: {every: 1h}} ---- */

static cairn_status drift_data(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string(w, "trigger.on_drift.data", v, &PL(w)->trigger_data);
}

static cairn_status drift_run(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string(w, "trigger.on_drift.monitor_run", v, &PL(w)->trigger_monitor_run);
}

static const cn_tree_field drift_fields[] = {{"data", drift_data}, {"monitor_run", drift_run}};

static cairn_status on_drift(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    if (v->kind != CN_NODE_MAP)
        return cn_tree_fail(w->ctx, w->tree, v, "'trigger.on_drift' must be a mapping, got %s",
                            cn_node_kind_name(v));
    PL(w)->trigger_on_drift = true;
    return cn_tree_walk_map(w, v, "trigger.on_drift", drift_fields, 2);
}

/* trigger.data: the feed, for a pipeline triggered by its schedule alone. */
static cairn_status trigger_data(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    char *text = NULL;
    cairn_status rc = cn_tree_string(w, "trigger.data", v, &text);
    if (rc != CAIRN_OK)
        return rc;
    if (PL(w)->trigger_data && strcmp(PL(w)->trigger_data, text) != 0)
        rc = cn_tree_fail(w->ctx, w->tree, v,
                          "'trigger.data' ('%s') and 'trigger.on_drift.data' ('%s') name two "
                          "feeds; keep one",
                          text, PL(w)->trigger_data);
    if (rc == CAIRN_OK) {
        free(PL(w)->trigger_data);
        PL(w)->trigger_data = text;
        text = NULL;
    }
    free(text);
    return rc;
}

static cairn_status trigger_slice_by(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    return cn_tree_string(w, "trigger.slice_by", v, &PL(w)->trigger_slice_by);
}

static cairn_status schedule_every(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    char *text = NULL;
    cairn_status rc = cn_tree_string(w, "trigger.schedule.every", v, &text);
    if (rc != CAIRN_OK)
        return rc;
    char *end = NULL;
    double x = strtod(text, &end);
    double unit = 0;
    if (end && end != text) {
        if (strcmp(end, "s") == 0 || *end == '\0')
            unit = 1;
        else if (strcmp(end, "m") == 0)
            unit = 60;
        else if (strcmp(end, "h") == 0)
            unit = 3600;
        else if (strcmp(end, "d") == 0)
            unit = 86400;
    }
    if (unit == 0 || !(x * unit >= 1) || x * unit > 365.0 * 86400)
        rc = cn_tree_fail(w->ctx, w->tree, v,
                          "'trigger.schedule.every' must be a duration such as 90s, 30m, 1h or "
                          "1d (at least 1s, at most 365d), got '%s'",
                          text);
    else
        PL(w)->trigger_every_s = (int64_t)(x * unit);
    free(text);
    return rc;
}

static const cn_tree_field schedule_fields[] = {{"every", schedule_every}};

static cairn_status schedule(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    if (v->kind != CN_NODE_MAP)
        return cn_tree_fail(w->ctx, w->tree, v, "'trigger.schedule' must be a mapping, got %s",
                            cn_node_kind_name(v));
    return cn_tree_walk_map(w, v, "trigger.schedule", schedule_fields, 1);
}

static const cn_tree_field trigger_fields[] = {{"on_drift", on_drift},
                                               {"schedule", schedule},
                                               {"data", trigger_data},
                                               {"slice_by", trigger_slice_by}};

static cairn_status read_trigger(const cn_tree_walk *w, const cn_node *k, const cn_node *v)
{
    (void)k;
    if (v->kind != CN_NODE_MAP)
        return cn_tree_fail(w->ctx, w->tree, v, "'trigger' must be a mapping, got %s",
                            cn_node_kind_name(v));
    return cn_tree_walk_map(w, v, "trigger", trigger_fields,
                            sizeof trigger_fields / sizeof trigger_fields[0]);
}

static const cn_tree_field top_fields[] = {
    {"name", read_name}, {"stages", read_stages}, {"trigger", read_trigger}};

/* ---- inputs, outputs, the DAG ---- */

static void push(char ***list, size_t *n, const char *s)
{
    *list = cn_tree_grow(*list, *n, sizeof **list);
    (*list)[(*n)++] = cn_xstrdup(s);
}

void cn_pipeline_stage_inputs(const cn_stage *s, char ***list, size_t *n)
{
    if (s->data)
        push(list, n, s->data);
    if (s->expect)
        push(list, n, s->expect);
    if (s->config)
        push(list, n, s->config);
    if (s->space)
        push(list, n, s->space);
    if (s->template_path)
        push(list, n, s->template_path);
    for (size_t i = 0; i < s->n_inputs; i++)
        push(list, n, s->inputs[i]);
}

void cn_pipeline_stage_outputs(const cairn_pipeline *p, const cn_stage *s, char ***list, size_t *n)
{
    (void)p;
    if (s->kind == CN_STAGE_SPLIT) {
        static const char *const parts[] = {"train", "val", "test"};
        for (int i = 0; i < 3; i++) {
            char *path = cn_asprintf(CN_PIPELINE_STATE_DIR "/%s/%s.idx", s->name, parts[i]);
            push(list, n, path);
            free(path);
        }
    }
    if (s->kind == CN_STAGE_CARD) {
        char *path = cn_asprintf(CN_PIPELINE_STATE_DIR "/%s/model-card.md", s->name);
        push(list, n, path);
        free(path);
    }
    for (size_t i = 0; i < s->n_outputs; i++)
        push(list, n, s->outputs[i]);
}

/* "./a//b" and "a/b" name one file. */
static char *norm_path(const char *path)
{
    cn_buf b = CN_BUF_INIT;
    const char *c = path;
    while (c[0] == '.' && c[1] == '/')
        c += 2;
    for (; *c; c++) {
        if (*c == '/' && (c[1] == '/' || (c[1] == '.' && c[2] == '/')))
            continue;
        cn_buf_putc(&b, *c);
    }
    return cn_buf_detach(&b);
}

static size_t stage_index(const cairn_pipeline *p, const char *name)
{
    for (size_t i = 0; i < p->n; i++)
        if (strcmp(p->stages[i].name, name) == 0)
            return i;
    return (size_t)-1;
}

static void add_dep(cn_stage *s, size_t j)
{
    for (size_t i = 0; i < s->n_deps; i++)
        if (s->deps[i] == j)
            return;
    s->deps = cn_tree_grow(s->deps, s->n_deps, sizeof *s->deps);
    s->deps[s->n_deps++] = j;
}

static cairn_status build_deps(cairn_ctx *ctx, cairn_pipeline *p)
{
    const char **names = cn_xcalloc(p->n, sizeof *names);
    for (size_t i = 0; i < p->n; i++)
        names[i] = p->stages[i].name;
    cairn_status rc = CAIRN_OK;
    for (size_t i = 0; i < p->n && rc == CAIRN_OK; i++) {
        cn_stage *s = &p->stages[i];
        for (size_t a = 0; a < s->n_after; a++) {
            size_t j = stage_index(p, s->after[a]);
            if (j == (size_t)-1) {
                const char *near = cn_str_nearest(s->after[a], names, p->n);
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "pipeline '%s' line %u: stage '%s': after: no stage '%s'%s%s%s",
                             p->label, s->line, s->name, s->after[a],
                             near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
                break;
            }
            if (j == i) {
                rc = cn_fail(ctx, CAIRN_EINVAL,
                             "pipeline '%s' line %u: stage '%s' comes after itself", p->label,
                             s->line, s->name);
                break;
            }
            add_dep(s, j);
        }
    }
    /* A command naming another stage's output (${stage.key}) comes after that stage. */
    for (size_t i = 0; i < p->n && rc == CAIRN_OK; i++) {
        cn_stage *s = &p->stages[i];
        for (size_t a = 0; a < s->n_run && rc == CAIRN_OK; a++)
            for (const char *c = strstr(s->run[a], "${"); c && rc == CAIRN_OK;
                 c = strstr(c + 2, "${")) {
                size_t len = strcspn(c + 2, ".}");
                size_t j = (size_t)-1;
                for (size_t k = 0; k < p->n; k++)
                    if (strlen(p->stages[k].name) == len &&
                        strncmp(p->stages[k].name, c + 2, len) == 0)
                        j = k;
                if (j == (size_t)-1 || j == i || c[2 + len] != '.')
                    rc = cn_fail(ctx, CAIRN_EINVAL,
                                 "pipeline '%s' line %u: stage '%s': run: '%s' names no other "
                                 "stage's output; write ${stage.key}, e.g. ${register.version}",
                                 p->label, s->line, s->name, s->run[a]);
                else
                    add_dep(s, j);
            }
    }
    /* A stage reading a file another stage writes comes after it. */
    for (size_t i = 0; i < p->n && rc == CAIRN_OK; i++) {
        char **in = NULL;
        size_t n_in = 0;
        cn_pipeline_stage_inputs(&p->stages[i], &in, &n_in);
        for (size_t j = 0; j < p->n; j++) {
            if (j == i)
                continue;
            char **out = NULL;
            size_t n_out = 0;
            cn_pipeline_stage_outputs(p, &p->stages[j], &out, &n_out);
            for (size_t a = 0; a < n_in; a++)
                for (size_t b = 0; b < n_out; b++) {
                    char *x = norm_path(in[a]), *y = norm_path(out[b]);
                    if (strcmp(x, y) == 0)
                        add_dep(&p->stages[i], j);
                    free(x);
                    free(y);
                }
            cn_tree_strv_free(out, n_out);
        }
        cn_tree_strv_free(in, n_in);
    }
    free(names);
    return rc;
}

/* Depth-first search from stage `at` for a path back to a stage on the stack. */
static bool find_cycle(const cairn_pipeline *p, size_t at, int *color, size_t *stack, size_t depth,
                       cn_buf *msg)
{
    color[at] = 1;
    stack[depth] = at;
    const cn_stage *s = &p->stages[at];
    for (size_t d = 0; d < s->n_deps; d++) {
        size_t j = s->deps[d];
        if (color[j] == 1) {
            size_t from = 0;
            while (stack[from] != j)
                from++;
            /* stack[from..depth] each depends on the next, so the run order is from depth
             * down to from; printed from the stage first in the file, back to it. */
            size_t len = depth - from + 1, start = 0;
            for (size_t k = 0; k < len; k++)
                if (stack[depth - k] < stack[depth - start])
                    start = k;
            for (size_t k = 0; k <= len; k++)
                cn_buf_printf(msg, "%s'%s'", k ? " -> " : "",
                              p->stages[stack[depth - (start + k) % len]].name);
            return true;
        }
        if (color[j] == 0 && find_cycle(p, j, color, stack, depth + 1, msg))
            return true;
    }
    color[at] = 2;
    return false;
}

static cairn_status topo_order(cairn_ctx *ctx, cairn_pipeline *p)
{
    size_t *indeg = cn_xcalloc(p->n, sizeof *indeg);
    bool *done = cn_xcalloc(p->n, sizeof *done);
    p->order = cn_xcalloc(p->n, sizeof *p->order);
    for (size_t i = 0; i < p->n; i++)
        indeg[i] = p->stages[i].n_deps;
    size_t n_done = 0;
    while (n_done < p->n) {
        size_t pick = (size_t)-1;
        for (size_t i = 0; i < p->n; i++)
            if (!done[i] && indeg[i] == 0) {
                pick = i;
                break;
            }
        if (pick == (size_t)-1)
            break;
        done[pick] = true;
        p->order[n_done++] = pick;
        for (size_t i = 0; i < p->n; i++)
            for (size_t d = 0; d < p->stages[i].n_deps; d++)
                if (p->stages[i].deps[d] == pick)
                    indeg[i]--;
    }
    cairn_status rc = CAIRN_OK;
    if (n_done < p->n) {
        int *color = cn_xcalloc(p->n, sizeof *color);
        size_t *stack = cn_xcalloc(p->n + 1, sizeof *stack);
        cn_buf msg = CN_BUF_INIT;
        for (size_t i = 0; i < p->n && msg.len == 0; i++)
            if (!done[i] && color[i] == 0)
                find_cycle(p, i, color, stack, 0, &msg);
        size_t first = 0;
        while (first < p->n && done[first])
            first++;
        rc = cn_fail(ctx, CAIRN_EINVAL,
                     "pipeline '%s' line %u: stages %s form a cycle (by 'after:' or by one "
                     "reading what the other writes); remove one of those dependencies",
                     p->label, p->stages[first].line, cn_buf_str(&msg));
        cn_buf_release(&msg);
        free(color);
        free(stack);
    }
    free(indeg);
    free(done);
    return rc;
}

cairn_status cairn_pipeline_parse(cairn_ctx *ctx, const char *label, const char *dir,
                                  const char *text, size_t len, cairn_pipeline **out)
{
    cn_tree *tree = NULL;
    cairn_pipeline *p = cn_xcalloc(1, sizeof *p);
    *out = NULL;
    p->label = cn_xstrdup(label ? label : "pipeline.yaml");
    p->dir = cn_xstrdup(dir && *dir ? dir : ".");
    cairn_status rc = cn_tree_parse(ctx, "pipeline", p->label, CN_TREE_YAML, text, len, &tree);
    if (rc != CAIRN_OK)
        goto done;
    const cn_node *root = cn_tree_root(tree);
    if (!root || root->kind != CN_NODE_MAP) {
        rc = cn_tree_fail(ctx, tree, root,
                          "a pipeline is a mapping with 'name' and 'stages', got %s",
                          root ? cn_node_kind_name(root) : "an empty document");
        goto done;
    }
    cn_tree_walk w = {ctx, tree, p};
    rc = cn_tree_walk_map(&w, root, NULL, top_fields, sizeof top_fields / sizeof top_fields[0]);
    if (rc != CAIRN_OK)
        goto done;
    if (!p->name) {
        rc = cn_tree_fail(ctx, tree, root, "the pipeline has no 'name' (its experiment's name)");
        goto done;
    }
    if (p->n == 0) {
        rc = cn_tree_fail(ctx, tree, root, "the pipeline has no 'stages'");
        goto done;
    }
    rc = build_deps(ctx, p);
    if (rc == CAIRN_OK)
        rc = topo_order(ctx, p);
    if (rc == CAIRN_OK) {
        *out = p;
        p = NULL;
    }
done:
    cn_tree_free(tree);
    cairn_pipeline_free(p);
    return rc;
}

cairn_status cairn_pipeline_load(cairn_ctx *ctx, const char *path, cairn_pipeline **out)
{
    cn_buf text = CN_BUF_INIT;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return cn_fail_errno(ctx, CAIRN_ENOTFOUND, "pipeline '%s'", path);
    char chunk[65536];
    size_t got;
    while ((got = fread(chunk, 1, sizeof chunk, f)) > 0) {
        cn_buf_append(&text, chunk, got);
        if (text.len > CN_TREE_MAX_BYTES) {
            fclose(f);
            cn_buf_release(&text);
            return cn_fail(ctx, CAIRN_ELIMIT, "pipeline '%s' is larger than %u bytes", path,
                           CN_TREE_MAX_BYTES);
        }
    }
    fclose(f);
    char *dir = cn_xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash[slash == dir ? 1 : 0] = '\0';
    else {
        free(dir);
        dir = cn_xstrdup(".");
    }
    cairn_status rc =
        cairn_pipeline_parse(ctx, path, dir, text.data ? text.data : "", text.len, out);
    free(dir);
    cn_buf_release(&text);
    return rc;
}

const char *cairn_pipeline_name(const cairn_pipeline *p)
{
    return p->name;
}

size_t cairn_pipeline_n_stages(const cairn_pipeline *p)
{
    return p->n;
}

const char *cairn_pipeline_stage_name(const cairn_pipeline *p, size_t i)
{
    return i < p->n ? p->stages[p->order[i]].name : NULL;
}

const char *cairn_pipeline_stage_kind(const cairn_pipeline *p, size_t i)
{
    return i < p->n ? cn_pipeline_kind_names[p->stages[p->order[i]].kind] : NULL;
}

size_t cairn_pipeline_stage_deps(const cairn_pipeline *p, size_t i, const char **names, size_t max)
{
    if (i >= p->n)
        return 0;
    const cn_stage *s = &p->stages[p->order[i]];
    for (size_t d = 0; d < s->n_deps && d < max; d++)
        names[d] = p->stages[s->deps[d]].name;
    return s->n_deps;
}

const char *cairn_stage_state_str(cairn_stage_state s)
{
    switch (s) {
    case CAIRN_STAGE_RAN: return "ran";
    case CAIRN_STAGE_CACHED: return "cached";
    case CAIRN_STAGE_FAILED: return "failed";
    case CAIRN_STAGE_WOULD_RUN: return "would run";
    case CAIRN_STAGE_RUNNING: return "running";
    default: return "pending";
    }
}
