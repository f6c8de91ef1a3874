/* SPDX-License-Identifier: MIT */
/* run.c - runs a parsed pipeline: each stage as a child process of the cairn executable (or
 * the user's command), a child run per stage under the pipeline's parent run, the cache (a
 * stage whose inputs' digests, settings and upstream outputs are those of an earlier
 * successful run of it is skipped and that run's outputs reused, once its output files are
 * found with the same digests), the deploy stage's background server, and the status of the
 * last run. Rules: docs/pipeline.md. */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "pipeline/pipeline_int.h"
#include "cairn/tracking.h"
#include "core/core.h"
#include "formats/tree.h"
#include "train/train_config.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/jsonw.h"
#include "base/sha256.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define TAG_ROLE "cairn.pipeline.role"
#define TAG_PIPELINE "cairn.pipeline"
#define TAG_STAGE "cairn.pipeline.stage"
#define TAG_KIND "cairn.pipeline.kind"
#define TAG_KEY "cairn.pipeline.cache_key"
#define TAG_CACHE "cairn.pipeline.cache"
#define TAG_CACHED_FROM "cairn.pipeline.cached_from"
#define TAG_INPUTS "cairn.pipeline.inputs"
#define TAG_CONFIG "cairn.pipeline.config_sha256"
#define TAG_UPSTREAM "cairn.pipeline.upstream"
#define TAG_OUTPUTS "cairn.pipeline.outputs"
#define TAG_REASON "cairn.pipeline.reason"
#define TAG_ARGV "cairn.pipeline.argv"

/* ---- small string maps ---- */

typedef struct kv_list {
    char **keys;
    char **values;
    size_t n;
} kv_list;

static void kv_set(kv_list *l, const char *key, const char *value)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->keys[i], key) == 0) {
            free(l->values[i]);
            l->values[i] = cn_xstrdup(value);
            return;
        }
    l->keys = cn_tree_grow(l->keys, l->n, sizeof *l->keys);
    l->values = cn_tree_grow(l->values, l->n, sizeof *l->values);
    l->keys[l->n] = cn_xstrdup(key);
    l->values[l->n++] = cn_xstrdup(value);
}

static const char *kv_get(const kv_list *l, const char *key)
{
    for (size_t i = 0; i < l->n; i++)
        if (strcmp(l->keys[i], key) == 0)
            return l->values[i];
    return NULL;
}

static void kv_release(kv_list *l)
{
    for (size_t i = 0; i < l->n; i++) {
        free(l->keys[i]);
        free(l->values[i]);
    }
    free(l->keys);
    free(l->values);
    memset(l, 0, sizeof *l);
}

static char *kv_json(const kv_list *l)
{
    cn_buf b = CN_BUF_INIT;
    cn_json_write_map(&b, (const char *const *)l->keys, (const char *const *)l->values, l->n);
    return cn_buf_detach(&b);
}

/* A JSON object of strings (numbers, booleans as written) into l; false when text is not one. */
static bool kv_from_json(cairn_ctx *ctx, const char *text, kv_list *l)
{
    cn_tree *t = NULL;
    if (!text ||
        cn_tree_parse(ctx, "json", "outputs", CN_TREE_JSON, text, strlen(text), &t) != CAIRN_OK)
        return false;
    const cn_node *root = cn_tree_root(t);
    bool ok = root && root->kind == CN_NODE_MAP;
    for (size_t i = 0; ok && i < root->n; i++)
        if (root->pairs[i].value->kind == CN_NODE_SCALAR)
            kv_set(l, root->pairs[i].key->text, root->pairs[i].value->text);
    cn_tree_free(t);
    return ok;
}

/* ---- the per-stage state of one pipeline run ---- */

typedef struct stage_run {
    cairn_stage_result r;
    char *reason, *message, *run_id, *outputs_json;
    char *name; /* a copy: the report outlives the pipeline */
    kv_list outputs;
    kv_list inputs; /* path as written -> sha256 */
    char key[65];
    bool will_run; /* dry run: would run */
} stage_run;

typedef struct runner {
    cairn_ctx *ctx;
    const cairn_pipeline *p; /* NULL once the report is made */
    size_t n_stages;
    char *pipeline_name;
    const cairn_pipeline_opts *opts;
    const char *store_uri, *artifact_root;
    char *experiment_id;
    cairn_run *parent;
    stage_run *st; /* by file index */
} runner;

static char *in_dir(const cairn_pipeline *p, const char *path)
{
    if (path[0] == '/' || strcmp(p->dir, ".") == 0)
        return cn_xstrdup(path);
    return cn_path_join(p->dir, path);
}

static char *state_dir(const cairn_pipeline *p, const cn_stage *s)
{
    char *rel = cn_asprintf(CN_PIPELINE_STATE_DIR "/%s", s->name);
    char *abs = in_dir(p, rel);
    free(rel);
    return abs;
}

/* The closest ancestor's output `key` (the latest in the run order among the stages s
 * depends on, directly or not), or NULL. */
static const char *upstream(const runner *rn, const cn_stage *s, const char *key)
{
    const cairn_pipeline *p = rn->p;
    bool *anc = cn_xcalloc(p->n, sizeof *anc);
    size_t *todo = cn_xcalloc(p->n + 1, sizeof *todo), n_todo = 0;
    size_t self = (size_t)(s - p->stages);
    todo[n_todo++] = self;
    while (n_todo) {
        const cn_stage *x = &p->stages[todo[--n_todo]];
        for (size_t d = 0; d < x->n_deps; d++)
            if (!anc[x->deps[d]]) {
                anc[x->deps[d]] = true;
                todo[n_todo++] = x->deps[d];
            }
    }
    const char *found = NULL;
    for (size_t k = p->n; k-- > 0 && !found;) {
        size_t i = p->order[k];
        if (anc[i])
            found = kv_get(&rn->st[i].outputs, key);
    }
    free(anc);
    free(todo);
    return found;
}

/* ---- child processes ---- */

/* Runs argv (argv[0] through PATH) in dir with stdout and stderr to files; *code is its exit
 * status, or 128 + the signal that ended it. */
cairn_status cn_pipeline_spawn_wait(cairn_ctx *ctx, char *const *argv, const char *dir,
                                    const char *out_path, const char *err_path, int *code)
{
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = out < 0 ? -1 : open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (out < 0 || err < 0) {
        int e = errno;
        if (out >= 0)
            close(out);
        errno = e;
        return cn_fail_errno(ctx, CAIRN_EIO, "stage log '%s'", out < 0 ? out_path : err_path);
    }
    pid_t pid = fork();
    if (pid < 0) {
        close(out);
        close(err);
        return cn_fail_errno(ctx, CAIRN_EIO, "fork");
    }
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        if (in >= 0)
            dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        if (chdir(dir) != 0)
            _exit(126);
        execvp(argv[0], argv);
        const char *m = "cairn: error: cannot run the stage's program: ";
        if (write(2, m, strlen(m)) < 0 || write(2, argv[0], strlen(argv[0])) < 0 ||
            write(2, "\n", 1) < 0)
            _exit(127);
        _exit(127);
    }
    close(out);
    close(err);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return cn_fail_errno(ctx, CAIRN_EIO, "waitpid");
    *code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return CAIRN_OK;
}

char *cn_pipeline_read_small(const char *path)
{
    cn_buf b = CN_BUF_INIT;
    if (cn_fs_read_file(path, &b, 16u << 20) != 0) {
        cn_buf_release(&b);
        return NULL;
    }
    return cn_buf_detach(&b);
}

/* The last "cairn: error: ..." line of a stage's stderr, else its last non-empty line. */
char *cn_pipeline_last_error(const char *err_path)
{
    char *text = cn_pipeline_read_small(err_path);
    if (!text)
        return NULL;
    char *best = NULL, *last = NULL;
    for (char *line = text; *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = '\0';
        if (*line) {
            last = line;
            if (cn_str_starts(line, "cairn: error: "))
                best = line + strlen("cairn: error: ");
        }
        if (!nl)
            break;
        line = nl + 1;
    }
    char *r = cn_xstrdup(best ? best : last);
    free(text);
    return r;
}

/* ---- argv per kind ---- */

typedef struct argv_b {
    char **v;
    size_t n;
} argv_b;

static void arg(argv_b *a, const char *s)
{
    a->v = cn_tree_grow(a->v, a->n, sizeof *a->v);
    a->v[a->n++] = cn_xstrdup(s);
}

static void argv_release(argv_b *a)
{
    for (size_t i = 0; i < a->n; i++)
        free(a->v[i]);
    free(a->v);
    memset(a, 0, sizeof *a);
}

static void cairn_head(const runner *rn, argv_b *a)
{
    arg(a, rn->opts->cairn_exe);
    if (rn->store_uri && *rn->store_uri) {
        arg(a, "--store");
        arg(a, rn->store_uri);
    }
    if (rn->artifact_root && *rn->artifact_root) {
        arg(a, "--artifacts");
        arg(a, rn->artifact_root);
    }
}

static cairn_status need_up(const runner *rn, const cn_stage *s, const char *key, const char *what,
                            const char **out)
{
    *out = upstream(rn, s, key);
    if (*out)
        return CAIRN_OK;
    return cn_fail(rn->ctx, CAIRN_EINVAL,
                   "stage '%s' (kind %s) needs %s from a stage before it; add that stage to its "
                   "'after:'",
                   s->name, cn_pipeline_kind_names[s->kind], what);
}

/* "${stage.key}" in a command's argument: that stage's output. */
static cairn_status substitute(const runner *rn, const cn_stage *s, const char *in, char **out)
{
    cn_buf b = CN_BUF_INIT;
    const char *c = in;
    while (*c) {
        const char *open = strstr(c, "${");
        if (!open) {
            cn_buf_puts(&b, c);
            break;
        }
        cn_buf_append(&b, c, (size_t)(open - c));
        const char *close = strchr(open, '}');
        const char *dot = close ? memchr(open, '.', (size_t)(close - open)) : NULL;
        if (!close || !dot) {
            cn_buf_release(&b);
            return cn_fail(rn->ctx, CAIRN_EINVAL,
                           "stage '%s': argument '%s': write an output as ${stage.key}", s->name,
                           in);
        }
        char *stage = cn_xstrndup(open + 2, (size_t)(dot - open - 2));
        char *key = cn_xstrndup(dot + 1, (size_t)(close - dot - 1));
        const char *value = NULL;
        for (size_t i = 0; i < rn->p->n; i++)
            if (strcmp(rn->p->stages[i].name, stage) == 0)
                value = kv_get(&rn->st[i].outputs, key);
        if (!value) {
            cairn_status rc = cn_fail(rn->ctx, CAIRN_EINVAL,
                                      "stage '%s': argument '%s': stage '%s' has no output '%s' "
                                      "(outputs exist once that stage ran, so it must come before)",
                                      s->name, in, stage, key);
            free(stage);
            free(key);
            cn_buf_release(&b);
            return rc;
        }
        cn_buf_puts(&b, value);
        free(stage);
        free(key);
        c = close + 1;
    }
    *out = cn_buf_detach(&b);
    return CAIRN_OK;
}

static cairn_status build_argv(runner *rn, const cn_stage *s, argv_b *a)
{
    cairn_ctx *ctx = rn->ctx;
    const cairn_pipeline *p = rn->p;
    const char *run_id = NULL, *version = NULL, *model_file = NULL;
    cairn_status rc = CAIRN_OK;
    char buf[64];
    if (s->kind != CN_STAGE_COMMAND)
        cairn_head(rn, a);
    switch (s->kind) {
    case CN_STAGE_VALIDATE:
        arg(a, "data");
        arg(a, "validate");
        arg(a, s->data);
        if (s->label) {
            arg(a, "--label");
            arg(a, s->label);
        }
        if (s->expect) {
            arg(a, "--expect");
            arg(a, s->expect);
        }
        break;
    case CN_STAGE_SPLIT: {
        cn_train_config *cfg = NULL;
        if (s->config) {
            char *path = in_dir(p, s->config);
            rc = cn_train_config_load(ctx, path, &cfg);
            free(path);
            if (rc != CAIRN_OK) {
                cn_errctx(ctx, "stage '%s'", s->name);
                return rc;
            }
        }
        arg(a, "data");
        arg(a, "split");
        arg(a, s->data);
        arg(a, "--out");
        char *out = cn_asprintf(CN_PIPELINE_STATE_DIR "/%s", s->name);
        arg(a, out);
        free(out);
        const char *label = s->label ? s->label : cfg ? cfg->data.label : NULL;
        if (label) {
            arg(a, "--label");
            arg(a, label);
        }
        if (cfg && cfg->split.method) {
            arg(a, "--method");
            arg(a, cfg->split.method);
        }
        if (cfg && cfg->split.test >= 0) {
            cn_format_double(cfg->split.test, buf, sizeof buf);
            arg(a, "--test");
            arg(a, buf);
        }
        if (cfg && cfg->split.val >= 0) {
            cn_format_double(cfg->split.val, buf, sizeof buf);
            arg(a, "--val");
            arg(a, buf);
        }
        if (cfg && cfg->run.has_seed) {
            snprintf(buf, sizeof buf, "%lld", (long long)cfg->run.seed);
            arg(a, "--seed");
            arg(a, buf);
        }
        cn_train_config_free(cfg);
        arg(a, "--json");
        break;
    }
    case CN_STAGE_TRAIN:
        arg(a, "train");
        arg(a, "--config");
        arg(a, s->config);
        if (s->experiment) {
            arg(a, "--experiment");
            arg(a, s->experiment);
        }
        arg(a, "--json");
        break;
    case CN_STAGE_TUNE: {
        arg(a, "tune");
        arg(a, "--space");
        arg(a, s->space);
        arg(a, "--study");
        char *study = cn_asprintf("%s-%s", p->name, s->name);
        arg(a, study);
        free(study);
        snprintf(buf, sizeof buf, "%lld", (long long)(s->trials ? s->trials : 20));
        arg(a, "--trials");
        arg(a, buf);
        if (s->experiment) {
            arg(a, "--experiment");
            arg(a, s->experiment);
        }
        arg(a, "--quiet");
        arg(a, "--");
        cairn_head(rn, a);
        arg(a, "train");
        arg(a, "--config");
        arg(a, s->config);
        break;
    }
    case CN_STAGE_EVALUATE:
        rc = need_up(rn, s, "run_id", "a training run (a train or tune stage)", &run_id);
        if (rc != CAIRN_OK)
            return rc;
        arg(a, "eval");
        if (s->data) {
            arg(a, "model");
            arg(a, run_id);
            arg(a, "--data");
            arg(a, s->data);
            arg(a, "--log");
        } else {
            arg(a, "final");
            arg(a, run_id);
        }
        arg(a, "--json");
        break;
    case CN_STAGE_REGISTER:
        rc = need_up(rn, s, "run_id", "a training run (a train or tune stage)", &run_id);
        if (rc != CAIRN_OK)
            return rc;
        arg(a, "model");
        arg(a, "register");
        arg(a, "--name");
        arg(a, s->model);
        arg(a, "--run");
        arg(a, run_id);
        arg(a, "--json");
        break;
    case CN_STAGE_PROMOTE:
        rc = need_up(rn, s, "version", "a model version (a register stage)", &version);
        if (rc != CAIRN_OK)
            return rc;
        arg(a, "model");
        arg(a, "promote");
        arg(a, s->model);
        arg(a, version);
        arg(a, "--to");
        arg(a, s->to);
        break;
    case CN_STAGE_CARD: {
        rc = need_up(rn, s, "version", "a model version (a register stage)", &version);
        if (rc != CAIRN_OK)
            return rc;
        arg(a, "model");
        arg(a, "card");
        char *ref = cn_asprintf("%s@%s", s->model, version);
        arg(a, ref);
        free(ref);
        if (s->template_path) {
            arg(a, "--template");
            arg(a, s->template_path);
        }
        char *out = cn_asprintf(CN_PIPELINE_STATE_DIR "/%s/model-card.md", s->name);
        arg(a, "-o");
        arg(a, out);
        free(out);
        break;
    }
    case CN_STAGE_DEPLOY: {
        arg(a, "serve");
        const char *alias = s->alias ? s->alias : upstream(rn, s, "alias");
        version = upstream(rn, s, "version");
        char *ref = alias     ? cn_asprintf("models:/%s@%s", s->model, alias)
                    : version ? cn_asprintf("models:/%s/%s", s->model, version)
                              : cn_asprintf("models:/%s@production", s->model);
        arg(a, ref);
        free(ref);
        arg(a, "--host");
        arg(a, "127.0.0.1");
        snprintf(buf, sizeof buf, "%lld", (long long)s->port);
        arg(a, "--port");
        arg(a, buf);
        break;
    }
    case CN_STAGE_MONITOR:
        rc = need_up(rn, s, "model_file", "a model (a train stage)", &model_file);
        if (rc != CAIRN_OK)
            return rc;
        arg(a, "drift");
        arg(a, "--reference");
        arg(a, model_file);
        arg(a, "--current");
        arg(a, s->data);
        arg(a, "--json");
        break;
    case CN_STAGE_COMMAND:
        for (size_t i = 0; i < s->n_run; i++) {
            if (i == 0 && strcmp(s->run[0], "cairn") == 0) {
                cairn_head(rn, a);
                continue;
            }
            char *x = NULL;
            rc = substitute(rn, s, s->run[i], &x);
            if (rc != CAIRN_OK)
                return rc;
            arg(a, x);
            free(x);
        }
        break;
    default: CN_BUG("stage kind");
    }
    return CAIRN_OK;
}

/* ---- digests and the cache key ---- */

/* The input files of s with their SHA-256 into st->inputs; train and tune add their config's
 * data file. A missing file that no earlier stage writes is an error naming it. */
static cairn_status hash_inputs(runner *rn, const cn_stage *s, stage_run *st, bool dry)
{
    const cairn_pipeline *p = rn->p;
    char **in = NULL;
    size_t n_in = 0;
    cn_pipeline_stage_inputs(s, &in, &n_in);
    if ((s->kind == CN_STAGE_TRAIN || s->kind == CN_STAGE_TUNE) && s->config) {
        char *path = in_dir(p, s->config);
        cn_train_config *cfg = NULL;
        if (cn_fs_exists(path) && cn_train_config_load(rn->ctx, path, &cfg) == CAIRN_OK &&
            cfg->data.path) {
            in = cn_tree_grow(in, n_in, sizeof *in);
            in[n_in++] = cn_xstrdup(cfg->data.path);
        }
        cn_train_config_free(cfg);
        free(path);
    }
    cairn_status rc = CAIRN_OK;
    for (size_t i = 0; i < n_in && rc == CAIRN_OK; i++) {
        char *path = in_dir(p, in[i]);
        char hex[65];
        int64_t size = 0;
        if (cn_sha256_file(path, hex, &size) != 0) {
            if (dry) {
                kv_set(&st->inputs, in[i], "missing");
            } else {
                rc = cn_fail(rn->ctx, CAIRN_ENOTFOUND,
                             "pipeline '%s' line %u: stage '%s': input '%s' does not exist (%s); "
                             "create it or fix the path (relative to the pipeline's folder)",
                             p->label, s->line, s->name, in[i], strerror(errno));
            }
        } else {
            kv_set(&st->inputs, in[i], hex);
        }
        free(path);
    }
    cn_tree_strv_free(in, n_in);
    return rc;
}

static void compute_key(runner *rn, const cn_stage *s, stage_run *st)
{
    cn_sha256 *h = cn_sha256_new();
    cn_buf b = CN_BUF_INIT;
    cn_buf_printf(&b, "cairn-pipeline-stage v1\nkind %s\nconfig %s\n",
                  cn_pipeline_kind_names[s->kind], s->config_sha256);
    for (size_t i = 0; i < st->inputs.n; i++)
        cn_buf_printf(&b, "input %zu:%s=%s\n", strlen(st->inputs.keys[i]), st->inputs.keys[i],
                      st->inputs.values[i]);
    for (size_t d = 0; d < s->n_deps; d++) {
        const stage_run *up = &rn->st[s->deps[d]];
        cn_buf_printf(&b, "upstream %s=%s\n", rn->p->stages[s->deps[d]].name,
                      up->outputs_json ? up->outputs_json : "{}");
    }
    cn_sha256_update(h, b.data, b.len);
    cn_sha256_final(h, st->key);
    cn_buf_release(&b);
}

static char *upstream_json(const runner *rn, const cn_stage *s)
{
    kv_list l = {0};
    for (size_t d = 0; d < s->n_deps; d++) {
        const stage_run *up = &rn->st[s->deps[d]];
        char hex[65];
        const char *o = up->outputs_json ? up->outputs_json : "{}";
        cn_sha256_hex(o, strlen(o), hex);
        kv_set(&l, rn->p->stages[s->deps[d]].name, hex);
    }
    char *j = kv_json(&l);
    kv_release(&l);
    return j;
}

static const char *tag_of(const cairn_run_record *r, const char *key)
{
    for (size_t i = 0; i < r->n_tags; i++)
        if (strcmp(r->tags[i].key, key) == 0)
            return r->tags[i].value;
    return NULL;
}

/* The latest FINISHED run of stage s (with key: with that cache key), or NULL. */
static cairn_status find_stage_run(runner *rn, const cn_stage *s, const char *key,
                                   cairn_run_page **out)
{
    cn_buf f = CN_BUF_INIT;
    cn_buf_printf(&f, "tags.`" TAG_STAGE "` = '%s' AND attributes.status = 'FINISHED'", s->name);
    if (key)
        cn_buf_printf(&f, " AND tags.`" TAG_KEY "` = '%s'", key);
    const char *ids[1] = {rn->experiment_id};
    const char *order[1] = {"attributes.start_time DESC"};
    cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
    q.experiment_ids = ids;
    q.n_experiment_ids = 1;
    q.filter = cn_buf_str(&f);
    q.order_by = order;
    q.n_order_by = 1;
    q.max_results = 1;
    cairn_status rc = cairn_runs_search(rn->ctx, &q, out);
    cn_buf_release(&f);
    return rc;
}

/* Whether every output file a cached run lists is there with its digest; else *why says
 * which is not. */
static bool outputs_intact(const runner *rn, const kv_list *outputs, char **why)
{
    for (size_t i = 0; i < outputs->n; i++) {
        if (!cn_str_starts(outputs->keys[i], "file:"))
            continue;
        const char *rel = outputs->keys[i] + 5;
        char *path = in_dir(rn->p, rel);
        char hex[65];
        int64_t size;
        bool ok = cn_sha256_file(path, hex, &size) == 0 && strcmp(hex, outputs->values[i]) == 0;
        free(path);
        if (!ok) {
            *why = cn_asprintf("its output '%s' is missing or changed", rel);
            return false;
        }
    }
    return true;
}

bool cn_pipeline_pid_alive(const char *pid_file, pid_t *pid_out)
{
    char *text = cn_pipeline_read_small(pid_file);
    int64_t pid = 0;
    bool ok = false;
    if (text) {
        char *nl = strchr(text, '\n');
        if (nl)
            *nl = '\0';
        ok = cn_parse_int64(text, &pid) && pid > 1 && kill((pid_t)pid, 0) == 0;
    }
    free(text);
    if (pid_out)
        *pid_out = ok ? (pid_t)pid : 0;
    return ok;
}

/* Why stage s must run though its key is new: compares with its last successful run. */
static char *miss_reason(runner *rn, const cn_stage *s, const stage_run *st)
{
    cairn_run_page *page = NULL;
    if (find_stage_run(rn, s, NULL, &page) != CAIRN_OK || page->n == 0) {
        cairn_run_page_free(page);
        return cn_xstrdup("no earlier successful run");
    }
    const cairn_run_record *r = &page->items[0];
    char *why = NULL;
    const char *cfg = tag_of(r, TAG_CONFIG);
    if (cfg && strcmp(cfg, s->config_sha256) != 0)
        why = cn_asprintf("its settings in '%s' changed", rn->p->label);
    kv_list old = {0};
    if (!why && kv_from_json(rn->ctx, tag_of(r, TAG_INPUTS), &old)) {
        for (size_t i = 0; i < st->inputs.n && !why; i++) {
            const char *was = kv_get(&old, st->inputs.keys[i]);
            if (!was)
                why = cn_asprintf("input '%s' is new", st->inputs.keys[i]);
            else if (strcmp(was, st->inputs.values[i]) != 0)
                why = cn_asprintf("input '%s' changed", st->inputs.keys[i]);
        }
    }
    kv_release(&old);
    if (!why && kv_from_json(rn->ctx, tag_of(r, TAG_UPSTREAM), &old)) {
        char *now = upstream_json(rn, s);
        kv_list cur = {0};
        kv_from_json(rn->ctx, now, &cur);
        for (size_t i = 0; i < cur.n && !why; i++) {
            const char *was = kv_get(&old, cur.keys[i]);
            if (!was || strcmp(was, cur.values[i]) != 0)
                why = cn_asprintf("upstream '%s' has new outputs", cur.keys[i]);
        }
        kv_release(&cur);
        free(now);
    }
    kv_release(&old);
    cairn_run_page_free(page);
    return why ? why : cn_xstrdup("its cache key changed");
}

/* ---- outputs per kind ---- */

static void add_file_output(runner *rn, stage_run *st, const char *rel)
{
    char *path = in_dir(rn->p, rel);
    char hex[65];
    int64_t size;
    if (cn_sha256_file(path, hex, &size) == 0) {
        char *k = cn_asprintf("file:%s", rel);
        kv_set(&st->outputs, k, hex);
        free(k);
    }
    free(path);
}

static void pass_up(runner *rn, const cn_stage *s, stage_run *st, const char *key)
{
    const char *v = upstream(rn, s, key);
    if (v && !kv_get(&st->outputs, key))
        kv_set(&st->outputs, key, v);
}

/* What later stages look for passes through every stage. */
static void pass_all(runner *rn, const cn_stage *s, stage_run *st)
{
    static const char *const keys[] = {"run_id", "model_file", "model", "version", "alias", "card"};
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
        pass_up(rn, s, st, keys[i]);
}

static cairn_status collect_outputs(runner *rn, const cn_stage *s, stage_run *st,
                                    const char *out_path)
{
    kv_list j = {0};
    char *text = cn_pipeline_read_small(out_path);
    bool has_json = text && kv_from_json(rn->ctx, text, &j);
    cairn_status rc = CAIRN_OK;
    char **files = NULL;
    size_t n_files = 0;
    switch (s->kind) {
    case CN_STAGE_TRAIN:
        if (!has_json || !kv_get(&j, "run_id") || !kv_get(&j, "artifact_dir")) {
            rc = cn_fail(rn->ctx, CAIRN_EINTERNAL,
                         "stage '%s': 'cairn train --json' printed no run_id and artifact_dir",
                         s->name);
            break;
        }
        kv_set(&st->outputs, "run_id", kv_get(&j, "run_id"));
        {
            char *model = cn_asprintf("%s/model/model.cairn", kv_get(&j, "artifact_dir"));
            kv_set(&st->outputs, "model_file", model);
            add_file_output(rn, st, model);
            free(model);
        }
        break;
    case CN_STAGE_TUNE: break; /* run_id comes from the study's best trial: run_stage asks for it */
    case CN_STAGE_REGISTER:
        if (!has_json || !kv_get(&j, "version")) {
            rc = cn_fail(rn->ctx, CAIRN_EINTERNAL,
                         "stage '%s': 'cairn model register --json' printed no version", s->name);
            break;
        }
        kv_set(&st->outputs, "model", s->model);
        kv_set(&st->outputs, "version", kv_get(&j, "version"));
        break;
    case CN_STAGE_PROMOTE: kv_set(&st->outputs, "alias", s->to); break;
    case CN_STAGE_CARD: {
        char *card = cn_asprintf(CN_PIPELINE_STATE_DIR "/%s/model-card.md", s->name);
        kv_set(&st->outputs, "card", card);
        free(card);
        break;
    }
    case CN_STAGE_MONITOR:
        if (has_json) {
            const char *d = kv_get(&j, "dataset_drift");
            kv_set(&st->outputs, "drift", d ? d : "unknown");
        }
        break;
    case CN_STAGE_EVALUATE:
        if (has_json && kv_get(&j, "logged_run_id"))
            kv_set(&st->outputs, "eval_run_id", kv_get(&j, "logged_run_id"));
        break;
    default: break;
    }
    cn_pipeline_stage_outputs(rn->p, s, &files, &n_files);
    for (size_t i = 0; i < n_files && rc == CAIRN_OK; i++) {
        char *path = in_dir(rn->p, files[i]);
        bool there = cn_fs_exists(path);
        free(path);
        if (!there && s->kind == CN_STAGE_COMMAND)
            rc = cn_fail(rn->ctx, CAIRN_EIO,
                         "stage '%s' succeeded but did not write its declared output '%s'", s->name,
                         files[i]);
        else
            add_file_output(rn, st, files[i]);
    }
    cn_tree_strv_free(files, n_files);
    pass_all(rn, s, st);
    kv_release(&j);
    free(text);
    return rc;
}

/* ---- deploy: a server in the background ---- */

cairn_status cn_pipeline_start_server(cairn_ctx *ctx, char *const *argv, const char *dir,
                                      const char *sdir, const char *stage, char **url_out,
                                      pid_t *pid_out)
{
    char *pid_file = cn_asprintf("%s/serve.pid", sdir);
    char *out_path = cn_asprintf("%s/serve.out", sdir);
    char *err_path = cn_asprintf("%s/serve.err", sdir);
    cairn_status rc = CAIRN_OK;
    pid_t old;
    *url_out = NULL;
    *pid_out = 0;
    if (cn_pipeline_pid_alive(pid_file, &old)) { /* a new version replaces the running one */
        kill(old, SIGTERM);
        for (int i = 0; i < 100 && kill(old, 0) == 0; i++)
            usleep(50000);
    }
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    pid_t pid = (out < 0 || err < 0) ? -1 : fork();
    if (pid == 0) {
        setsid();
        int in = open("/dev/null", O_RDONLY);
        if (in >= 0)
            dup2(in, 0);
        dup2(out, 1);
        dup2(err, 2);
        if (chdir(dir) != 0)
            _exit(126);
        execvp(argv[0], argv);
        _exit(127);
    }
    if (out >= 0)
        close(out);
    if (err >= 0)
        close(err);
    if (pid < 0) {
        rc = cn_fail_errno(ctx, CAIRN_EIO, "stage '%s': starting the server", stage);
        goto done;
    }
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "%lld\n", (long long)pid);
    if (cn_fs_write_atomic(pid_file, pid_text, strlen(pid_text)) != 0) {
        kill(pid, SIGTERM);
        rc = cn_fail_errno(ctx, CAIRN_EIO, "pid file '%s'", pid_file);
        goto done;
    }
    /* Wait for "cairn serve listening on http://H:P (...)" on its stdout. */
    char *url = NULL;
    for (int i = 0; i < 600 && !url; i++) {
        char *text = cn_pipeline_read_small(out_path);
        const char *at = text ? strstr(text, "listening on ") : NULL;
        if (at) {
            at += strlen("listening on ");
            size_t len = strcspn(at, " \n");
            url = cn_xstrndup(at, len);
        }
        free(text);
        if (url)
            break;
        int status;
        if (waitpid(pid, &status, WNOHANG) == pid) {
            char *why = cn_pipeline_last_error(err_path);
            rc = cn_fail(ctx, CAIRN_EINVAL, "stage '%s': the server stopped at start: %s", stage,
                         why ? why : "(no message)");
            free(why);
            unlink(pid_file);
            goto done;
        }
        usleep(50000);
    }
    if (!url) {
        kill(pid, SIGTERM);
        unlink(pid_file);
        rc = cn_fail(ctx, CAIRN_EIO, "stage '%s': the server did not start within 30 s (see '%s')",
                     stage, err_path);
        goto done;
    }
    *url_out = url;
    *pid_out = pid;
done:
    free(pid_file);
    free(out_path);
    free(err_path);
    return rc;
}

static cairn_status deploy(runner *rn, const cn_stage *s, stage_run *st, char *const *argv,
                           const char *sdir)
{
    char *url = NULL;
    pid_t pid = 0;
    cairn_status rc =
        cn_pipeline_start_server(rn->ctx, argv, rn->p->dir, sdir, s->name, &url, &pid);
    if (rc != CAIRN_OK)
        return rc;
    kv_set(&st->outputs, "serve_url", url);
    char pid_text[32];
    snprintf(pid_text, sizeof pid_text, "%lld", (long long)pid);
    kv_set(&st->outputs, "pid", pid_text);
    free(url);
    return CAIRN_OK;
}

/* ---- one stage ---- */

static void set_result(stage_run *st, const cn_stage *s)
{
    if (!st->name)
        st->name = cn_xstrdup(s->name);
    st->r.name = st->name;
    st->r.kind = cn_pipeline_kind_names[s->kind];
    st->r.reason = st->reason;
    st->r.message = st->message;
    st->r.run_id = st->run_id;
    st->r.outputs = st->outputs_json;
    st->r.n_outputs = st->outputs.n;
    st->r.output_keys = (const char *const *)st->outputs.keys;
    st->r.output_values = (const char *const *)st->outputs.values;
}

static cairn_status start_stage_run(runner *rn, const cn_stage *s, stage_run *st, bool hit,
                                    const char *argv_text, cairn_run **out)
{
    char *inputs = kv_json(&st->inputs);
    char *up = upstream_json(rn, s);
    cairn_tag tags[] = {
        {"mlflow.parentRunId", cairn_run_id(rn->parent)},
        {TAG_ROLE, "stage"},
        {TAG_PIPELINE, rn->p->name},
        {TAG_STAGE, s->name},
        {TAG_KIND, cn_pipeline_kind_names[s->kind]},
        {TAG_KEY, st->key},
        {TAG_CONFIG, s->config_sha256},
        {TAG_INPUTS, inputs},
        {TAG_UPSTREAM, up},
        {TAG_CACHE, hit ? "hit" : "miss"},
        {TAG_REASON, st->reason ? st->reason : ""},
        {TAG_ARGV, argv_text ? argv_text : ""},
    };
    cairn_run_opts ro = CAIRN_RUN_OPTS_INIT;
    ro.experiment_id = rn->experiment_id;
    ro.name = s->name;
    ro.tags = tags;
    ro.n_tags = sizeof tags / sizeof tags[0];
    cairn_status rc = cairn_run_start(rn->ctx, &ro, out);
    free(inputs);
    free(up);
    return rc;
}

static char *argv_text(char *const *v, size_t n)
{
    cn_buf b = CN_BUF_INIT;
    for (size_t i = 0; i < n; i++) {
        if (i)
            cn_buf_putc(&b, ' ');
        bool plain = *v[i] != '\0' && strpbrk(v[i], " \t'\"\\$") == NULL;
        if (plain) {
            cn_buf_puts(&b, v[i]);
        } else {
            cn_buf_putc(&b, '\'');
            for (const char *c = v[i]; *c; c++)
                if (*c == '\'')
                    cn_buf_puts(&b, "'\\''");
                else
                    cn_buf_putc(&b, *c);
            cn_buf_putc(&b, '\'');
        }
    }
    if (b.len > 7000) { /* a tag holds at most 8000 characters */
        b.len = 6996;
        cn_buf_puts(&b, "...");
    }
    return cn_buf_detach(&b);
}

static cairn_status tune_best(runner *rn, const cn_stage *s, stage_run *st, const char *sdir)
{
    argv_b a = {0};
    cairn_head(rn, &a);
    arg(&a, "study");
    arg(&a, "best");
    char *study = cn_asprintf("%s-%s", rn->p->name, s->name);
    arg(&a, study);
    free(study);
    arg(&a, "--json");
    a.v = cn_tree_grow(a.v, a.n, sizeof *a.v);
    a.v[a.n] = NULL;
    char *out_path = cn_asprintf("%s/best.out", sdir), *err_path = cn_asprintf("%s/best.err", sdir);
    int code = 0;
    cairn_status rc = cn_pipeline_spawn_wait(rn->ctx, a.v, rn->p->dir, out_path, err_path, &code);
    kv_list j = {0};
    char *text = rc == CAIRN_OK ? cn_pipeline_read_small(out_path) : NULL;
    if (rc == CAIRN_OK &&
        (code != 0 || !text || !kv_from_json(rn->ctx, text, &j) || !kv_get(&j, "run_id"))) {
        char *why = cn_pipeline_last_error(err_path);
        rc = cn_fail(rn->ctx, CAIRN_EINVAL, "stage '%s': no best trial: %s", s->name,
                     why ? why : "(no message)");
        free(why);
    }
    if (rc == CAIRN_OK) {
        kv_set(&st->outputs, "run_id", kv_get(&j, "run_id"));
        cairn_run_record *rec = NULL;
        if (cairn_run_get(rn->ctx, kv_get(&j, "run_id"), &rec) == CAIRN_OK) {
            char *model = cn_asprintf("%s/model/model.cairn", rec->info.artifact_uri);
            kv_set(&st->outputs, "model_file", model);
            add_file_output(rn, st, model);
            free(model);
        }
        cairn_run_record_free(rec);
    }
    kv_release(&j);
    free(text);
    free(out_path);
    free(err_path);
    argv_release(&a);
    return rc;
}

/* Runs stage s (its decision made): returns CAIRN_OK with st->r.state RAN or FAILED; other
 * errors are the store's. */
static cairn_status run_stage(runner *rn, const cn_stage *s, stage_run *st)
{
    cairn_ctx *ctx = rn->ctx;
    argv_b a = {0};
    cairn_run *run = NULL;
    char *sdir = state_dir(rn->p, s);
    char *text = NULL, *out_path = NULL, *err_path = NULL;
    int64_t t0 = cn_mono_ns();
    cairn_status rc = CAIRN_OK, stage_rc;

    if (cn_fs_mkdirs(sdir, 0755) != 0) {
        rc = cn_fail_errno(ctx, CAIRN_EIO, "state folder '%s'", sdir);
        goto done;
    }
    stage_rc = build_argv(rn, s, &a);
    if (stage_rc == CAIRN_OK) {
        text = argv_text(a.v, a.n);
        a.v = cn_tree_grow(a.v, a.n, sizeof *a.v);
        a.v[a.n] = NULL; /* execvp's terminator, not counted */
    }
    rc = start_stage_run(rn, s, st, false, text, &run);
    if (rc != CAIRN_OK)
        goto done;
    free(st->run_id);
    st->run_id = cn_xstrdup(cairn_run_id(run));
    out_path = cn_asprintf("%s/stdout.log", sdir);
    err_path = cn_asprintf("%s/stderr.log", sdir);
    if (stage_rc == CAIRN_OK && s->kind == CN_STAGE_DEPLOY) {
        stage_rc = deploy(rn, s, st, a.v, sdir);
        if (stage_rc == CAIRN_OK)
            pass_all(rn, s, st);
    } else if (stage_rc == CAIRN_OK) {
        int code = 0;
        stage_rc = cn_pipeline_spawn_wait(ctx, a.v, rn->p->dir, out_path, err_path, &code);
        bool ok = code == 0 || (s->kind == CN_STAGE_MONITOR && code == 1);
        if (stage_rc == CAIRN_OK && !ok) {
            char *why = cn_pipeline_last_error(err_path);
            if (!why)
                why = cn_pipeline_last_error(out_path);
            if (!why)
                why = cn_asprintf("(no output; its logs: %s)", sdir);
            if (code == 2 && why &&
                (strstr(why, "unknown verb") || strstr(why, "unknown option") ||
                 strstr(why, "did you mean")))
                stage_rc = cn_fail(ctx, CAIRN_EINVAL,
                                   "stage '%s': this cairn does not support what the stage "
                                   "asks: %s",
                                   s->name, why);
            else
                stage_rc = cn_fail(ctx, CAIRN_EINVAL, "stage '%s' failed (exit %d): %s", s->name,
                                   code, why);
            free(why);
        }
        if (stage_rc == CAIRN_OK && s->kind == CN_STAGE_TUNE)
            stage_rc = tune_best(rn, s, st, sdir);
        if (stage_rc == CAIRN_OK)
            stage_rc = collect_outputs(rn, s, st, out_path);
    }
    st->r.duration_ms = (cn_mono_ns() - t0) / 1000000;
    if (stage_rc == CAIRN_OK) {
        free(st->outputs_json);
        st->outputs_json = kv_json(&st->outputs);
        st->r.state = CAIRN_STAGE_RAN;
        rc = cairn_run_set_tag(run, TAG_OUTPUTS, st->outputs_json);
        if (rc == CAIRN_OK)
            rc = cairn_run_finish(run, CAIRN_RUN_FINISHED);
    } else {
        st->message = cn_xstrdup(cairn_errmsg(ctx));
        st->r.state = CAIRN_STAGE_FAILED;
        rc = cairn_run_set_tag(run, "cairn.failure_reason", st->message);
        if (rc == CAIRN_OK)
            rc = cairn_run_finish(run, CAIRN_RUN_FAILED);
    }
done:
    cairn_run_free(run);
    argv_release(&a);
    free(text);
    free(sdir);
    free(out_path);
    free(err_path);
    return rc;
}

/* ---- the whole run ---- */

static void report_fill(cairn_pipeline_report *rep, runner *rn)
{
    const cairn_pipeline *p = rn->p;
    rn->pipeline_name = cn_xstrdup(p->name);
    rep->pipeline = rn->pipeline_name;
    rep->n_stages = p->n;
    rep->stages = cn_xcalloc(p->n, sizeof *rep->stages);
    for (size_t k = 0; k < p->n; k++) {
        size_t i = p->order[k];
        set_result(&rn->st[i], &p->stages[i]);
        rep->stages[k] = rn->st[i].r;
        const char *url = kv_get(&rn->st[i].outputs, "serve_url");
        if (url && p->stages[i].kind == CN_STAGE_DEPLOY)
            rep->serve_url = url;
    }
    rn->p = NULL;
    rn->opts = NULL;
}

typedef struct report_internal {
    runner rn;
    char *run_id;
} report_internal;

static void runner_release(runner *rn)
{
    if (rn->st)
        for (size_t i = 0; i < rn->n_stages; i++) {
            stage_run *st = &rn->st[i];
            free(st->name);
            free(st->reason);
            free(st->message);
            free(st->run_id);
            free(st->outputs_json);
            kv_release(&st->outputs);
            kv_release(&st->inputs);
        }
    free(rn->st);
    free(rn->pipeline_name);
    free(rn->experiment_id);
    cairn_run_free(rn->parent);
}

void cairn_pipeline_report_free(cairn_pipeline_report *r)
{
    if (!r)
        return;
    report_internal *in = r->internal_;
    if (in) {
        runner_release(&in->rn);
        free(in->run_id);
        free(in);
    }
    free(r->stages);
    free(r);
}

static cairn_status decide(runner *rn, const cn_stage *s, stage_run *st, bool forced,
                           bool upstream_runs, bool *hit)
{
    *hit = false;
    if (forced) {
        st->reason = cn_asprintf("--from %s", rn->opts->from_stage);
        return CAIRN_OK;
    }
    if (upstream_runs) {
        for (size_t d = 0; d < s->n_deps; d++)
            if (rn->st[s->deps[d]].will_run) {
                st->reason = cn_asprintf("upstream '%s' will run", rn->p->stages[s->deps[d]].name);
                break;
            }
        return CAIRN_OK;
    }
    cairn_run_page *page = NULL;
    cairn_status rc = find_stage_run(rn, s, st->key, &page);
    if (rc != CAIRN_OK)
        return rc;
    if (page->n == 1) {
        kv_list outs = {0};
        char *why = NULL;
        const cairn_run_record *r = &page->items[0];
        if (kv_from_json(rn->ctx, tag_of(r, TAG_OUTPUTS), &outs) &&
            outputs_intact(rn, &outs, &why)) {
            bool alive = true;
            if (s->kind == CN_STAGE_DEPLOY) {
                char *sdir = state_dir(rn->p, s);
                char *pid_file = cn_asprintf("%s/serve.pid", sdir);
                alive = cn_pipeline_pid_alive(pid_file, NULL);
                if (!alive)
                    why = cn_xstrdup("its server is not running");
                free(pid_file);
                free(sdir);
            }
            if (alive) {
                *hit = true;
                kv_release(&st->outputs);
                st->outputs = outs;
                memset(&outs, 0, sizeof outs);
                st->outputs_json = kv_json(&st->outputs);
                const char *from = tag_of(r, TAG_CACHED_FROM);
                st->reason =
                    cn_asprintf("unchanged since run %.8s", from && *from ? from : r->info.run_id);
                free(st->run_id);
                st->run_id = cn_xstrdup(from && *from ? from : r->info.run_id);
            }
        }
        kv_release(&outs);
        if (!*hit)
            st->reason = why ? why : cn_xstrdup("its cached outputs are unreadable");
        else
            free(why);
    } else {
        st->reason = miss_reason(rn, s, st);
    }
    cairn_run_page_free(page);
    return CAIRN_OK;
}

static cairn_status record_hit(runner *rn, const cn_stage *s, stage_run *st)
{
    cairn_run *run = NULL;
    cairn_status rc = start_stage_run(rn, s, st, true, NULL, &run);
    if (rc == CAIRN_OK)
        rc = cairn_run_set_tag(run, TAG_CACHED_FROM, st->run_id);
    if (rc == CAIRN_OK)
        rc = cairn_run_set_tag(run, TAG_OUTPUTS, st->outputs_json);
    if (rc == CAIRN_OK)
        rc = cairn_run_finish(run, CAIRN_RUN_FINISHED);
    cairn_run_free(run);
    return rc;
}

cairn_status cairn_pipeline_run(cairn_ctx *ctx, const cairn_pipeline *p,
                                const cairn_pipeline_opts *opts, cairn_pipeline_report **out)
{
    *out = NULL;
    if (!opts || !opts->cairn_exe)
        return cn_fail(ctx, CAIRN_EINVAL, "pipeline: no cairn executable to run stages with");
    report_internal *in = cn_xcalloc(1, sizeof *in);
    cairn_pipeline_report *rep = cn_xcalloc(1, sizeof *rep);
    rep->internal_ = in;
    runner *rn = &in->rn;
    rn->ctx = ctx;
    rn->p = p;
    rn->opts = opts;
    rn->store_uri = opts->store_uri ? opts->store_uri : cairn_store_uri(ctx);
    rn->artifact_root = opts->artifact_root ? opts->artifact_root : cairn_artifact_root(ctx);
    rn->st = cn_xcalloc(p->n, sizeof *rn->st);
    rn->n_stages = p->n;
    cairn_status rc = CAIRN_OK;
    size_t from = (size_t)-1;
    if (opts->from_stage) {
        for (size_t k = 0; k < p->n; k++)
            if (strcmp(p->stages[p->order[k]].name, opts->from_stage) == 0)
                from = k;
        if (from == (size_t)-1) {
            rc = cn_fail(ctx, CAIRN_EINVAL, "--from: pipeline '%s' has no stage '%s'", p->label,
                         opts->from_stage);
            goto done;
        }
    }
    /* Inputs that exist before anything runs: a missing one that no stage writes stops the
     * pipeline before it starts. */
    for (size_t k = 0; k < p->n && rc == CAIRN_OK; k++) {
        const cn_stage *s = &p->stages[p->order[k]];
        char **ins = NULL, **outs = NULL;
        size_t n_ins = 0, n_outs = 0;
        cn_pipeline_stage_inputs(s, &ins, &n_ins);
        for (size_t j = 0; j < p->n; j++)
            cn_pipeline_stage_outputs(p, &p->stages[j], &outs, &n_outs);
        for (size_t i = 0; i < n_ins && rc == CAIRN_OK; i++) {
            bool made = false;
            for (size_t j = 0; j < n_outs; j++)
                made = made || strcmp(ins[i], outs[j]) == 0;
            char *path = in_dir(p, ins[i]);
            if (!made && !cn_fs_exists(path))
                rc = cn_fail(ctx, CAIRN_ENOTFOUND,
                             "pipeline '%s' line %u: stage '%s': input '%s' does not exist; "
                             "create it or fix the path (relative to the pipeline's folder)",
                             p->label, s->line, s->name, ins[i]);
            free(path);
        }
        cn_tree_strv_free(ins, n_ins);
        cn_tree_strv_free(outs, n_outs);
    }
    if (rc != CAIRN_OK)
        goto done;

    cairn_experiment *exp = NULL;
    if (opts->is_dry_run) {
        if (cairn_experiment_get_by_name(ctx, p->name, &exp) == CAIRN_OK)
            rn->experiment_id = cn_xstrdup(exp->experiment_id);
        cairn_experiment_free(exp);
    } else {
        rc = cairn_experiment_ensure(ctx, p->name, &rn->experiment_id);
        if (rc != CAIRN_OK)
            goto done;
        cairn_tag tags[] = {
            {TAG_ROLE, "pipeline"}, {TAG_PIPELINE, p->name}, {"cairn.pipeline.file", p->label}};
        cairn_run_opts ro = CAIRN_RUN_OPTS_INIT;
        ro.experiment_id = rn->experiment_id;
        char *name = cn_asprintf("pipeline %s", p->name);
        ro.name = name;
        ro.tags = tags;
        ro.n_tags = 3;
        rc = cairn_run_start(ctx, &ro, &rn->parent);
        free(name);
        if (rc != CAIRN_OK)
            goto done;
        in->run_id = cn_xstrdup(cairn_run_id(rn->parent));
        rep->run_id = in->run_id;
    }
    rep->start_time_ms = cn_now_ms();

    bool failed = false;
    const char *failed_stage = NULL;
    for (size_t k = 0; k < p->n && rc == CAIRN_OK && !failed; k++) {
        size_t i = p->order[k];
        const cn_stage *s = &p->stages[i];
        stage_run *st = &rn->st[i];
        bool upstream_runs = false;
        for (size_t d = 0; d < s->n_deps; d++)
            upstream_runs = upstream_runs || rn->st[s->deps[d]].will_run;
        bool forced = from != (size_t)-1 && k >= from;
        bool hit = false;
        rc = hash_inputs(rn, s, st, opts->is_dry_run);
        if (rc != CAIRN_OK)
            break;
        if (!opts->is_dry_run || !upstream_runs)
            compute_key(rn, s, st);
        if (!rn->experiment_id && !forced && !upstream_runs) {
            st->reason = cn_xstrdup("no earlier successful run");
        } else {
            rc = decide(rn, s, st, forced, opts->is_dry_run && upstream_runs, &hit);
            if (rc != CAIRN_OK)
                break;
        }
        st->will_run = !hit;
        st->r.state = hit                ? CAIRN_STAGE_CACHED
                      : opts->is_dry_run ? CAIRN_STAGE_WOULD_RUN
                                         : CAIRN_STAGE_RAN;
        set_result(st, s);
        if (opts->progress)
            opts->progress(opts->user, k, p->n, &st->r, false);
        if (opts->is_dry_run) {
            if (opts->progress)
                opts->progress(opts->user, k, p->n, &st->r, true);
            continue;
        }
        if (hit)
            rc = record_hit(rn, s, st);
        else
            rc = run_stage(rn, s, st);
        set_result(st, s);
        if (opts->progress)
            opts->progress(opts->user, k, p->n, &st->r, true);
        if (st->r.state == CAIRN_STAGE_FAILED) {
            failed = true;
            failed_stage = s->name;
        }
    }
    rep->status = failed || rc != CAIRN_OK ? CAIRN_RUN_FAILED : CAIRN_RUN_FINISHED;
    if (rn->parent) {
        cairn_status rc2 = CAIRN_OK;
        if (failed_stage)
            rc2 = cairn_run_set_tag(rn->parent, "cairn.pipeline.failed_stage", failed_stage);
        if (rc2 == CAIRN_OK)
            rc2 = cairn_run_finish(rn->parent, rep->status);
        if (rc == CAIRN_OK)
            rc = rc2;
    }
    report_fill(rep, rn);
done:
    if (rc != CAIRN_OK) {
        cairn_pipeline_report_free(rep);
        return rc;
    }
    *out = rep;
    return CAIRN_OK;
}

/* ---- status ---- */

cairn_status cairn_pipeline_status(cairn_ctx *ctx, const cairn_pipeline *p,
                                   cairn_pipeline_report **out)
{
    *out = NULL;
    cairn_experiment *exp = NULL;
    cairn_run_page *parents = NULL, *kids = NULL;
    cn_buf f = CN_BUF_INIT;
    cairn_status rc = cairn_experiment_get_by_name(ctx, p->name, &exp);
    if (rc != CAIRN_OK) {
        cairn_experiment_free(exp);
        return cn_fail(ctx, CAIRN_ENOTFOUND,
                       "pipeline '%s' has not run yet (no experiment '%s'); run it with 'cairn "
                       "pipeline run %s'",
                       p->name, p->name, p->label);
    }
    const char *ids[1] = {exp->experiment_id};
    const char *order[1] = {"attributes.start_time DESC"};
    cairn_run_search q = CAIRN_RUN_SEARCH_INIT;
    q.experiment_ids = ids;
    q.n_experiment_ids = 1;
    q.filter = "tags.`" TAG_ROLE "` = 'pipeline'";
    q.order_by = order;
    q.n_order_by = 1;
    q.max_results = 1;
    rc = cairn_runs_search(ctx, &q, &parents);
    if (rc != CAIRN_OK)
        goto done;
    if (parents->n == 0) {
        rc = cn_fail(ctx, CAIRN_ENOTFOUND,
                     "pipeline '%s' has not run yet; run it with 'cairn "
                     "pipeline run %s'",
                     p->name, p->label);
        goto done;
    }
    const cairn_run_record *parent = &parents->items[0];
    cn_buf_printf(&f, "tags.`mlflow.parentRunId` = '%s'", parent->info.run_id);
    q.filter = cn_buf_str(&f);
    q.max_results = 1000;
    rc = cairn_runs_search(ctx, &q, &kids);
    if (rc != CAIRN_OK)
        goto done;
    report_internal *in = cn_xcalloc(1, sizeof *in);
    cairn_pipeline_report *rep = cn_xcalloc(1, sizeof *rep);
    rep->internal_ = in;
    in->rn.p = p;
    in->rn.ctx = ctx;
    in->rn.st = cn_xcalloc(p->n, sizeof *in->rn.st);
    in->rn.n_stages = p->n;
    in->run_id = cn_xstrdup(parent->info.run_id);
    rep->run_id = in->run_id;
    rep->status = parent->info.status;
    rep->start_time_ms = parent->info.start_time_ms;
    for (size_t i = 0; i < p->n; i++) {
        stage_run *st = &in->rn.st[i];
        /* kids are newest first: the first of a stage is its latest attempt */
        for (size_t k = 0; k < kids->n; k++) {
            const cairn_run_record *r = &kids->items[k];
            const char *name = tag_of(r, TAG_STAGE);
            if (!name || strcmp(name, p->stages[i].name) != 0)
                continue;
            const char *cache = tag_of(r, TAG_CACHE);
            const char *reason = tag_of(r, TAG_REASON);
            const char *fail = tag_of(r, "cairn.failure_reason");
            const char *outs = tag_of(r, TAG_OUTPUTS);
            st->run_id = cn_xstrdup(r->info.run_id);
            st->reason = reason && *reason ? cn_xstrdup(reason) : NULL;
            st->message = fail ? cn_xstrdup(fail) : NULL;
            st->outputs_json = outs ? cn_xstrdup(outs) : NULL;
            if (outs)
                kv_from_json(ctx, outs, &st->outputs);
            switch (r->info.status) {
            case CAIRN_RUN_FINISHED:
                st->r.state =
                    cache && strcmp(cache, "hit") == 0 ? CAIRN_STAGE_CACHED : CAIRN_STAGE_RAN;
                break;
            case CAIRN_RUN_RUNNING:
            case CAIRN_RUN_SCHEDULED: st->r.state = CAIRN_STAGE_RUNNING; break;
            default:
                st->r.state = CAIRN_STAGE_FAILED;
                if (!st->message)
                    st->message = cn_asprintf("the stage's run ended %s",
                                              cairn_run_status_str(r->info.status));
                break;
            }
            int64_t end = r->info.end_time_ms ? r->info.end_time_ms : cn_now_ms();
            st->r.duration_ms = end - r->info.start_time_ms;
            break;
        }
    }
    report_fill(rep, &in->rn);
    *out = rep;
done:
    cn_buf_release(&f);
    cairn_run_page_free(parents);
    cairn_run_page_free(kids);
    cairn_experiment_free(exp);
    return rc;
}

cairn_status cairn_pipeline_stop(cairn_ctx *ctx, const cairn_pipeline *p, int64_t timeout_ms,
                                 bool *stopped)
{
    *stopped = false;
    cairn_status rc = CAIRN_OK;
    for (size_t i = 0; i < p->n && rc == CAIRN_OK; i++) {
        const cn_stage *s = &p->stages[i];
        if (s->kind != CN_STAGE_DEPLOY)
            continue;
        char *sdir = state_dir(p, s);
        char *pid_file = cn_asprintf("%s/serve.pid", sdir);
        pid_t pid;
        if (cn_pipeline_pid_alive(pid_file, &pid)) {
            if (kill(pid, SIGTERM) != 0) {
                rc = cn_fail_errno(ctx, CAIRN_EIO, "stage '%s': stopping server %lld", s->name,
                                   (long long)pid);
            } else {
                int64_t until = cn_now_ms() + timeout_ms;
                while (kill(pid, 0) == 0 && cn_now_ms() < until)
                    usleep(20000);
                if (kill(pid, 0) == 0)
                    rc = cn_fail(ctx, CAIRN_EIO,
                                 "stage '%s': server %lld did not stop within %lld ms", s->name,
                                 (long long)pid, (long long)timeout_ms);
                else
                    *stopped = true;
            }
        }
        if (rc == CAIRN_OK)
            unlink(pid_file);
        free(pid_file);
        free(sdir);
    }
    return rc;
}
