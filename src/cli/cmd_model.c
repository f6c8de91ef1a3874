/* SPDX-License-Identifier: MIT */
/* cmd_model.c - `cairn model`: the model registry (list, show, register, alias, rollback,
 * history) over cairn/registry.h. Output formats are documented in docs/cli/cairn-model.md.
 * Verbs that later take model files (show, compress, profile) join this table. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "cli_robust_util.h"
#include "cairn/registry.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define MAX_TAGS 64

static const char *const synopsis_lines[] = {
    "cairn model list [--name-like PATTERN] [--tag KEY=VALUE]... [--json]",
    "cairn model show NAME [--version N | --alias ALIAS] [--json]",
    "cairn model show MODEL [--json]",
    "cairn model register --name NAME (--run RUN [--path P] | SOURCE) [--semver V] "
    "[--description D] [--tag KEY=VALUE]... [--json]",
    "cairn model alias NAME ALIAS VERSION [--reason TEXT]",
    "cairn model rollback NAME ALIAS [--reason TEXT]",
    "cairn model card NAME@VERSION [-o FILE] [--template model-card.md] [--no-store] [--show] "
    "[--json]",
    "cairn model promote NAME VERSION --to ALIAS [--config FILE] [--force --reason TEXT] "
    "[--json]",
    "cairn model history NAME [--alias ALIAS] [--json]",
    "cairn model profile MODEL --data CSV [--batches 1,32,1024] [--seconds S] [--no-record] "
    "[--json]",
    "cairn model compress MODEL --method int8|prune|distill (--out FILE | --log-to RUN) "
    "[--data CSV] [--sparsity S] [--hidden LIST] [--param KEY=VALUE]... [--seed N] [--json]",
};
static const cli_verb_help helps[] = {
    {"list", "Lists registered models: name, latest version, aliases, last update.\n"
             "\n"
             "options:\n"
             "      --name-like PATTERN  only names matching PATTERN (SQL LIKE: % and _)\n"
             "  -t, --tag KEY=VALUE      only models with this tag (repeatable: all of them)\n"
             "      --json               print {\"registered_models\": [...]} as JSON\n"
             "  -h, --help               this help\n"
             "\n"
             "examples:\n"
             "  cairn model list\n"
             "  cairn model list --name-like 'churn%' -t team=growth\n"},
    {"show", "Shows a registered model with its tags, aliases and live versions, or one version\n"
             "of it (by number or alias): source, run, semver, stage, description and tags.\n"
             "Given a MODEL instead (a model file, runs:/RUN_ID/model, models:/NAME@ALIAS or\n"
             "models:/NAME/VERSION), shows what the model holds: learner, task, label and\n"
             "classes, params, features with their types and preprocessing (standardisation\n"
             "mean and sd, the categories' levels), the coefficients by input name (linear,\n"
             "ridge, logistic: one column per class; one-hot inputs as \"color=red\"), the\n"
             "training data digest, the metadata and the drift reference profile.\n"
             "\n"
             "options:\n"
             "      --version N     that version\n"
             "      --alias ALIAS   the version ALIAS points at\n"
             "      --json          print it as JSON\n"
             "  -h, --help          this help\n"
             "\n"
             "examples:\n"
             "  cairn model show churn\n"
             "  cairn model show churn --alias production --json\n"
             "  cairn model show models:/churn@production\n"
             "  cairn model show runs:/7451aa3c/model --json\n"},
    {"register",
     "Registers the next version of a model (created when missing) from a run's model\n"
     "artifact or from a source (a path or an artifact URI), and prints its number.\n"
     "\n"
     "options:\n"
     "  -n, --name NAME          the model (required)\n"
     "      --run RUN            the run (an id or a unique prefix of 6 or more characters)\n"
     "      --path P             the run's artifact (default model/model.cairn, where\n"
     "                           'cairn train' saves it)\n"
     "      --semver V           a SemVer 2.0.0 label, unique per model\n"
     "      --description D      what the version is\n"
     "  -t, --tag KEY=VALUE      a tag on the version (repeatable)\n"
     "      --json               print the version as JSON\n"
     "  -h, --help               this help\n"
     "\n"
     "examples:\n"
     "  cairn model register -n churn --run RUN_ID --semver 1.0.0\n"
     "  cairn model register -n churn runs:/7451aa3c9e02b417/model/model.cairn\n"},
    {"alias", "Points an alias (production, staging, ...) at a version, moving it from where it\n"
              "was; the move is kept in the model's history with who made it and why.\n"
              "\n"
              "options:\n"
              "      --reason TEXT   why, kept in the history\n"
              "  -h, --help          this help\n"
              "\n"
              "examples:\n"
              "  cairn model alias churn production 3 --reason \"beats v2 on AUC\"\n"},
    {"rollback", "Moves an alias back through its recorded history: the move before the\n"
                 "last one still in effect is undone (v1 -> v2 -> v3 rolls back to v2, then\n"
                 "v1). Refused when there is nothing older.\n"
                 "\n"
                 "options:\n"
                 "      --reason TEXT   why, kept in the history\n"
                 "  -h, --help          this help\n"
                 "\n"
                 "examples:\n"
                 "  cairn model rollback churn production --reason \"v3 latency\"\n"},
    {"card",
     "Writes the model card of a version as Markdown: the facts the store records (data\n"
     "digests and sizes, split, class balance, preprocessing, params, metrics with 95% CIs on\n"
     "the validation and the sealed test rows, confusion matrices, per-slice metrics, the drift\n"
     "reference, the inference profile, lineage to the run and code version) and the four\n"
     "sections only a person can write (Intended use, Assumptions, Limitations, Ethical\n"
     "considerations), from --template, else the version's stored card, else the run's\n"
     "model-card.md artifact, else TODO placeholders that leave the card incomplete. The card\n"
     "is stored with the version (an artifact of its run, named by its cairn.model_card tags).\n"
     "\n"
     "options:\n"
     "  -o, --output FILE    write the Markdown there (default: stdout)\n"
     "      --template FILE  the person's sections (a model-card.md)\n"
     "      --no-store       do not store the card with the version\n"
     "      --show           print the stored card\n"
     "      --json           print {complete, missing, stored_as, markdown, ...} as JSON\n"
     "  -h, --help           this help\n"
     "\n"
     "examples:\n"
     "  cairn model card churn@3 --template model-card.md -o card.md\n"
     "  cairn model card churn@3 --show\n"},
    {"promote",
     "Points ALIAS at a version once its promotion gates pass: a complete stored model card;\n"
     "exactly one look at its run's sealed test split; no validation or test row equal to a\n"
     "training row; a drift reference in the model file; the promotion: thresholds of the\n"
     "config (min_metric floors, max_p99_ms and max_size_bytes against the inference\n"
     "profile); not significantly worse than the alias's current holder on the rows both\n"
     "scored (McNemar for classification, the paired-bootstrap CI for regression). Prints one\n"
     "line per gate (PASS, FAIL or SKIP) with its evidence and, for a failure, the fix; every\n"
     "verdict is recorded in the alias event. Exits 1 when refused.\n"
     "\n"
     "options:\n"
     "      --to ALIAS       the alias to move (required)\n"
     "      --config FILE    the config whose promotion: section holds the thresholds\n"
     "                       (default ./experiment-config.yaml when it exists)\n"
     "      --force          promote even when gates fail; needs --reason\n"
     "      --reason TEXT    why; recorded in the event\n"
     "      --json           print the verdicts as JSON\n"
     "  -h, --help           this help\n"
     "\n"
     "examples:\n"
     "  cairn model promote churn 3 --to production\n"
     "  cairn model promote churn 3 --to production --force --reason \"hotfix, card to "
     "follow\"\n"},
    {"history", "Lists the alias and stage moves of a model, newest first: when, who, which\n"
                "alias, from and to which version, and why.\n"
                "\n"
                "options:\n"
                "      --alias ALIAS   only the moves of ALIAS\n"
                "      --json          print {\"events\": [...]} as JSON\n"
                "  -h, --help          this help\n"
                "\n"
                "examples:\n"
                "  cairn model history churn --alias production\n"},
    {"profile",
     "Times a model: its load, then its predictions on batches of 1, 32 and 1024 rows of\n"
     "CSV (its features), one thread: p50, p95 and p99 latency and rows per second, with the\n"
     "file's size. MODEL is a file, runs:/RUN_ID/model or models:/NAME@ALIAS; the figures\n"
     "are recorded on the registry version (tags) or the run (metrics).\n"
     "\n"
     "options:\n"
     "      --data CSV        the rows to predict (required)\n"
     "      --batches LIST    the batch sizes (default 1,32,1024)\n"
     "      --seconds S       time each size this long (default 1)\n"
     "      --no-record       record nothing\n"
     "      --json            print the figures as JSON\n"
     "  -h, --help            this help\n"
     "\n"
     "examples:\n"
     "  cairn model profile models:/churn@production --data data/breast_cancer.csv\n"},
    {"compress",
     "Writes a compressed copy of a model: int8 quantization of the weights (logistic, mlp;\n"
     "symmetric, one scale per class row or layer, predictions from the dequantized weights),\n"
     "magnitude pruning of an mlp (the smallest |w| over all layers zeroed, stored as a bitmap),\n"
     "or distillation of any model into a small mlp fitted on its probabilities on the rows of\n"
     "--data it was trained on. Reports file size, latency (1 row and the batch, medians), the\n"
     "metric before and after on the held-out rows of --data with a paired-bootstrap 95% CI of\n"
     "the difference, and McNemar (classification) or Wilcoxon on squared errors (regression).\n"
     "\n"
     "options:\n"
     "      --method M        int8, prune or distill (required)\n"
     "      --out FILE        write the compressed model there\n"
     "      --log-to RUN      log it on RUN as compressed/<method>.cairn, with metrics\n"
     "                        compress_<method>_* (one of --out and --log-to, or both)\n"
     "  -d, --data CSV        rows to score both models on (its held-out rows) and, for\n"
     "                        distill, to fit the student on (its training rows)\n"
     "      --sparsity S      prune: the fraction of weights zeroed (default 0.5)\n"
     "      --hidden LIST     distill: the student's hidden widths (default 16)\n"
     "  -p, --param KEY=VALUE distill: a student mlp param (repeatable); an mlp teacher lends\n"
     "                        its own params first\n"
     "      --seed N          the student's and the bootstrap's seed (default 0)\n"
     "      --json            print the report as JSON\n"
     "  -h, --help            this help\n"
     "\n"
     "examples:\n"
     "  cairn model compress runs:/7451aa3c9e02b417/model --method int8 --out small.cairn "
     "--data data/breast_cancer.csv\n"
     "  cairn model compress model.cairn --method distill --hidden 8 --out student.cairn "
     "--data data/digits.csv\n"},
};
static const cli_synopsis synopsis = {synopsis_lines, CN_ARRAY_LEN(synopsis_lines), helps,
                                      CN_ARRAY_LEN(helps)};

enum {
    OPT_JSON = 1000,
    OPT_NAME_LIKE,
    OPT_VERSION,
    OPT_ALIAS,
    OPT_RUN,
    OPT_PATH,
    OPT_SEMVER,
    OPT_DESCRIPTION
};

static const char *usage_of(const char *verb)
{
    return cli_verb_usage(&synopsis, verb);
}

/* A version number argument: a whole number from 1. */
static bool parse_version(const char *arg, int64_t *out)
{
    return cn_parse_int64(arg, out) && *out >= 1;
}

/* Adds a --tag KEY=VALUE to tags (keys are new strings the caller frees). */
static int add_tag(const char *usage, const char *arg, cairn_tag *tags, size_t *n)
{
    char *key;
    const char *value;
    if (*n == MAX_TAGS)
        return cli_usage(usage, "at most %d --tag options", MAX_TAGS);
    if (!cli_split_kv(arg, &key, &value))
        return cli_usage(usage, "tag '%s': expected KEY=VALUE", arg);
    tags[*n].key = key;
    tags[(*n)++].value = value;
    return -1;
}

static void free_tags(cairn_tag *tags, size_t n)
{
    for (size_t i = 0; i < n; i++)
        free((char *)tags[i].key);
}

static void write_tags(cn_jsonw *w, const cairn_tag *tags, size_t n)
{
    cn_jsonw_key(w, "tags");
    cn_jsonw_object_begin(w);
    for (size_t i = 0; i < n; i++)
        cn_jsonw_kstring(w, tags[i].key, tags[i].value);
    cn_jsonw_object_end(w);
}

static void write_version(cn_jsonw *w, const cairn_model_version *v)
{
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "name", v->name);
    cn_jsonw_kint(w, "version", v->version);
    cn_jsonw_kstring(w, "source", v->source);
    cn_jsonw_kstring(w, "run_id", v->run_id);
    cn_jsonw_kstring(w, "description", v->description);
    cn_jsonw_kstring(w, "user_id", v->user_id);
    cn_jsonw_kstring(w, "status", v->status);
    cn_jsonw_kstring(w, "current_stage", cairn_model_stage_str(v->stage));
    cn_jsonw_kstring(w, "semver", v->semver);
    cn_jsonw_kint(w, "creation_timestamp", v->creation_time_ms);
    cn_jsonw_kint(w, "last_updated_timestamp", v->last_updated_time_ms);
    write_tags(w, v->tags, v->n_tags);
    cn_jsonw_key(w, "aliases");
    cn_jsonw_strings(w, v->aliases, v->n_aliases);
    cn_jsonw_object_end(w);
}

static void write_model(cn_jsonw *w, const cairn_registered_model *m,
                        const cairn_model_version_page *versions)
{
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "name", m->name);
    cn_jsonw_kstring(w, "description", m->description);
    cn_jsonw_kint(w, "creation_timestamp", m->creation_time_ms);
    cn_jsonw_kint(w, "last_updated_timestamp", m->last_updated_time_ms);
    cn_jsonw_kint(w, "latest_version", m->latest_version);
    write_tags(w, m->tags, m->n_tags);
    cn_jsonw_key(w, "aliases");
    cn_jsonw_array_begin(w);
    for (size_t i = 0; i < m->n_aliases; i++) {
        cn_jsonw_flat(w);
        cn_jsonw_object_begin(w);
        cn_jsonw_kstring(w, "alias", m->aliases[i].alias);
        cn_jsonw_kint(w, "version", m->aliases[i].version);
        cn_jsonw_object_end(w);
    }
    cn_jsonw_array_end(w);
    if (versions) {
        cn_jsonw_key(w, "versions");
        cn_jsonw_array_begin(w);
        for (size_t i = 0; i < versions->n; i++)
            write_version(w, &versions->items[i]);
        cn_jsonw_array_end(w);
    }
    cn_jsonw_object_end(w);
}

static int finish_json(cn_jsonw *w)
{
    int rc = cn_jsonw_finish(w) ? 0 : cli_error("writing the output failed");
    cn_jsonw_release(w);
    return rc;
}

/* "production@3, staging@4" into out. */
static void alias_list(const cairn_registered_model *m, cn_buf *out)
{
    for (size_t i = 0; i < m->n_aliases; i++)
        cn_buf_printf(out, "%s%s@%lld", i ? ", " : "", m->aliases[i].alias,
                      (long long)m->aliases[i].version);
}

static int models_page(cairn_ctx *ctx, void *query, cli_listing *l, size_t *n, char **next)
{
    cairn_registered_model_page *page = NULL;
    if (cairn_registry_search_models(ctx, query, &page) != CAIRN_OK)
        return cli_fail(ctx);
    for (size_t i = 0; i < page->n; i++) {
        const cairn_registered_model *m = &page->items[i];
        if (!l->table) {
            write_model(&l->w, m, NULL);
            continue;
        }
        char latest[24], updated[32];
        cn_buf aliases = CN_BUF_INIT;
        snprintf(latest, sizeof latest, "%lld", (long long)m->latest_version);
        cli_format_time(m->last_updated_time_ms, updated, sizeof updated);
        alias_list(m, &aliases);
        const char *cells[] = {m->name, m->latest_version ? latest : "-",
                               aliases.len ? aliases.data : "-", updated, m->description};
        cli_table_add(l->table, cells);
        cn_buf_release(&aliases);
    }
    *n = page->n;
    *next = page->next_page_token ? cn_xstrdup(page->next_page_token) : NULL;
    cairn_registered_model_page_free(page);
    return 0;
}

static int list_models(cairn_ctx *ctx, cairn_registered_model_query *q, bool json)
{
    static const char *const headers[] = {"NAME", "LATEST", "ALIASES", "UPDATED", "DESCRIPTION"};
    cli_listing l;
    cli_listing_begin(&l, json, "registered_models", CN_ARRAY_LEN(headers), headers);
    return cli_listing_pages(ctx, &l, models_page, q, &q->page_token, &q->max_results, 0);
}

static int model_list(int argc, char **argv)
{
    static const struct option opts[] = {{"name-like", required_argument, NULL, OPT_NAME_LIKE},
                                         {"tag", required_argument, NULL, 't'},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *usage = usage_of("list");
    cairn_registered_model_query q = CAIRN_REGISTERED_MODEL_QUERY_INIT;
    cairn_tag tags[MAX_TAGS];
    size_t n_tags = 0;
    bool json = false;
    int rc = -1, c;

    while (rc < 0 && (c = getopt_long(argc, argv, ":t:h", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_help(usage, NULL);
            rc = 0;
        } else if (c == OPT_NAME_LIKE) {
            q.name_like = optarg;
        } else if (c == 't') {
            rc = add_tag(usage, optarg, tags, &n_tags);
        } else if (c == OPT_JSON) {
            json = true;
        } else {
            rc = cli_other_option(c, usage, NULL, argv);
        }
    }
    if (rc < 0 && optind != argc)
        rc = cli_usage(usage, "unexpected argument '%s'", argv[optind]);
    if (rc < 0) {
        q.tags = tags;
        q.n_tags = n_tags;
        cairn_ctx *ctx = cli_open_store();
        rc = ctx ? list_models(ctx, &q, json) : 1;
        cairn_close(ctx);
    }
    free_tags(tags, n_tags);
    return rc;
}

static void print_version(const cairn_model_version *v)
{
    char created[32];
    cn_buf aliases = CN_BUF_INIT;
    cli_format_time(v->creation_time_ms, created, sizeof created);
    for (size_t i = 0; i < v->n_aliases; i++)
        cn_buf_printf(&aliases, "%s%s", i ? ", " : "", v->aliases[i]);
    printf("name:           %s\n"
           "version:        %lld\n"
           "semver:         %s\n"
           "aliases:        %s\n"
           "stage:          %s\n"
           "status:         %s\n"
           "source:         %s\n"
           "run_id:         %s\n"
           "user:           %s\n"
           "created:        %s\n"
           "description:    %s\n",
           v->name, (long long)v->version, v->semver ? v->semver : "-",
           aliases.len ? aliases.data : "-", cairn_model_stage_str(v->stage), v->status, v->source,
           *v->run_id ? v->run_id : "-", v->user_id, created, v->description);
    for (size_t i = 0; i < v->n_tags; i++)
        printf("tag:            %s=%s\n", v->tags[i].key, v->tags[i].value);
    cn_buf_release(&aliases);
}

static void print_model(const cairn_registered_model *m, const cairn_model_version_page *versions)
{
    static const char *const headers[] = {"VERSION", "SEMVER", "STAGE",
                                          "ALIASES", "RUN",    "CREATED"};
    cn_buf aliases = CN_BUF_INIT;
    char created[32];
    alias_list(m, &aliases);
    cli_format_time(m->creation_time_ms, created, sizeof created);
    printf("name:           %s\n"
           "description:    %s\n"
           "created:        %s\n"
           "aliases:        %s\n",
           m->name, m->description, created, aliases.len ? aliases.data : "-");
    for (size_t i = 0; i < m->n_tags; i++)
        printf("tag:            %s=%s\n", m->tags[i].key, m->tags[i].value);
    cn_buf_release(&aliases);
    cli_table *t = cli_table_new(CN_ARRAY_LEN(headers), headers);
    for (size_t i = 0; i < versions->n; i++) {
        const cairn_model_version *v = &versions->items[i];
        char num[24], run[9];
        snprintf(num, sizeof num, "%lld", (long long)v->version);
        snprintf(run, sizeof run, "%s", v->run_id);
        cli_format_time(v->creation_time_ms, created, sizeof created);
        cn_buf_clear(&aliases);
        for (size_t k = 0; k < v->n_aliases; k++)
            cn_buf_printf(&aliases, "%s%s", k ? ", " : "", v->aliases[k]);
        const char *cells[] = {num,
                               v->semver ? v->semver : "-",
                               cairn_model_stage_str(v->stage),
                               aliases.len ? aliases.data : "-",
                               *run ? run : "-",
                               created};
        cli_table_add(t, cells);
    }
    printf("\n");
    cli_table_print(t, stdout);
    cli_table_free(t);
    cn_buf_release(&aliases);
}

/* Shows a model with its versions (up to the newest 1000). */
static int show_model(cairn_ctx *ctx, const char *name, bool json)
{
    cairn_registered_model *m = NULL;
    cairn_model_version_page *versions = NULL;
    cairn_model_version_query q = CAIRN_MODEL_VERSION_QUERY_INIT;
    q.name = name;
    q.max_results = 1000;
    if (cairn_registry_get_model(ctx, name, &m) != CAIRN_OK ||
        cairn_model_version_search(ctx, &q, &versions) != CAIRN_OK) {
        cairn_registered_model_free(m);
        return cli_fail(ctx);
    }
    int rc = 0;
    if (json) {
        cn_jsonw w;
        cn_jsonw_init(&w, stdout, 2);
        write_model(&w, m, versions);
        rc = finish_json(&w);
    } else {
        print_model(m, versions);
    }
    cairn_model_version_page_free(versions);
    cairn_registered_model_free(m);
    return rc;
}

static int model_show(int argc, char **argv)
{
    static const struct option opts[] = {{"version", required_argument, NULL, OPT_VERSION},
                                         {"alias", required_argument, NULL, OPT_ALIAS},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *usage = usage_of("show");
    const char *alias = NULL;
    int64_t version = 0;
    bool json = false;
    int c;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_help(usage, NULL);
            return 0;
        } else if (c == OPT_VERSION) {
            if (!parse_version(optarg, &version))
                return cli_usage(usage, "--version '%s': expected a whole number from 1", optarg);
        } else if (c == OPT_ALIAS) {
            alias = optarg;
        } else if (c == OPT_JSON) {
            json = true;
        } else {
            return cli_other_option(c, usage, NULL, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage(usage, "expected one model name or MODEL (a file, runs:/RUN_ID/model "
                                "or models:/NAME@ALIAS)");
    if (version && alias)
        return cli_usage(usage, "--version and --alias exclude each other");
    const char *arg = argv[optind];
    if (!version && !alias &&
        (strchr(arg, '/') || strchr(arg, ':') || cn_str_ends(arg, ".cairn") ||
         access(arg, F_OK) == 0))
        return cli_model_show_file(arg, json);
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    const char *name = argv[optind];
    int rc = 0;
    if (!version && !alias) {
        rc = show_model(ctx, name, json);
    } else {
        cairn_model_version *v = NULL;
        cairn_status st = alias ? cairn_model_version_get_by_alias(ctx, name, alias, &v)
                                : cairn_model_version_get(ctx, name, version, &v);
        if (st != CAIRN_OK) {
            rc = cli_fail(ctx);
        } else if (json) {
            cn_jsonw w;
            cn_jsonw_init(&w, stdout, 2);
            write_version(&w, v);
            rc = finish_json(&w);
        } else {
            print_version(v);
        }
        cairn_model_version_free(v);
    }
    cairn_close(ctx);
    return rc;
}

/* Registers the version o describes, creating its model when missing. */
static int do_register(cairn_ctx *ctx, cairn_model_version_opts *o, const char *run_ref, bool json)
{
    cairn_run_record *run = NULL;
    cairn_model_version *v = NULL;
    int rc = 0;
    if (run_ref) {
        run = cli_run_load(ctx, run_ref); /* a unique prefix is enough */
        if (!run)
            return 1;
        o->run_id = run->info.run_id;
    }
    cairn_status st = cairn_registry_create_model(ctx, o->name, NULL, NULL, 0);
    if (st == CAIRN_OK || st == CAIRN_EEXIST)
        st = cairn_model_version_create(ctx, o, &v);
    if (st != CAIRN_OK) {
        rc = cli_fail(ctx);
    } else if (json) {
        cn_jsonw w;
        cn_jsonw_init(&w, stdout, 2);
        write_version(&w, v);
        rc = finish_json(&w);
    } else {
        printf("registered %s version %lld%s%s%s from %s\n", v->name, (long long)v->version,
               v->semver ? " (" : "", v->semver ? v->semver : "", v->semver ? ")" : "", v->source);
    }
    cairn_model_version_free(v);
    cairn_run_record_free(run);
    return rc;
}

static int model_register(int argc, char **argv)
{
    static const struct option opts[] = {{"name", required_argument, NULL, 'n'},
                                         {"run", required_argument, NULL, OPT_RUN},
                                         {"path", required_argument, NULL, OPT_PATH},
                                         {"semver", required_argument, NULL, OPT_SEMVER},
                                         {"description", required_argument, NULL, OPT_DESCRIPTION},
                                         {"tag", required_argument, NULL, 't'},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *usage = usage_of("register");
    cairn_model_version_opts o = CAIRN_MODEL_VERSION_OPTS_INIT;
    cairn_tag tags[MAX_TAGS];
    size_t n_tags = 0;
    const char *run = NULL;
    bool json = false;
    int rc = -1, c;

    while (rc < 0 && (c = getopt_long(argc, argv, ":n:t:h", opts, NULL)) != -1) {
        switch (c) {
        case 'h':
            cli_help(usage, NULL);
            rc = 0;
            break;
        case 'n': o.name = optarg; break;
        case OPT_RUN: run = optarg; break;
        case OPT_PATH: o.path = optarg; break;
        case OPT_SEMVER: o.semver = optarg; break;
        case OPT_DESCRIPTION: o.description = optarg; break;
        case 't': rc = add_tag(usage, optarg, tags, &n_tags); break;
        case OPT_JSON: json = true; break;
        default: rc = cli_other_option(c, usage, NULL, argv); break;
        }
    }
    if (rc < 0 && !o.name)
        rc = cli_usage(usage, "missing --name");
    else if (rc < 0 && argc - optind > 1)
        rc = cli_usage(usage, "expected at most one SOURCE");
    else if (rc < 0 && (argc - optind == 1) == (run != NULL))
        rc = cli_usage(usage, "give either --run RUN or a SOURCE");
    else if (rc < 0 && o.path && !run)
        rc = cli_usage(usage, "--path goes with --run");
    if (rc < 0) {
        o.source = optind < argc ? argv[optind] : NULL;
        o.tags = tags;
        o.n_tags = n_tags;
        cairn_ctx *ctx = cli_open_store();
        rc = ctx ? do_register(ctx, &o, run, json) : 1;
        cairn_close(ctx);
    }
    free_tags(tags, n_tags);
    return rc;
}

static int model_alias(int argc, char **argv)
{
    const char *usage = usage_of("alias");
    cairn_registry_move_opts mv = CAIRN_REGISTRY_MOVE_OPTS_INIT;
    int rc = cli_value_args(argc, argv, usage, "reason", &mv.reason, 3);
    if (rc >= 0)
        return rc;
    const char *name = argv[optind], *alias = argv[optind + 1];
    int64_t version;
    if (!parse_version(argv[optind + 2], &version))
        return cli_usage(usage, "version '%s': expected a whole number from 1", argv[optind + 2]);
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    rc = 0;
    if (cairn_registry_set_alias(ctx, name, alias, version, &mv) != CAIRN_OK)
        rc = cli_fail(ctx);
    else
        printf("%s@%s -> version %lld\n", name, alias, (long long)version);
    cairn_close(ctx);
    return rc;
}

static int model_rollback(int argc, char **argv)
{
    cairn_registry_move_opts mv = CAIRN_REGISTRY_MOVE_OPTS_INIT;
    int rc = cli_value_args(argc, argv, usage_of("rollback"), "reason", &mv.reason, 2);
    if (rc >= 0)
        return rc;
    const char *name = argv[optind], *alias = argv[optind + 1];
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    int64_t version = 0;
    rc = 0;
    if (cairn_registry_rollback(ctx, name, alias, &mv, &version) != CAIRN_OK)
        rc = cli_fail(ctx);
    else
        printf("%s@%s rolled back to version %lld\n", name, alias, (long long)version);
    cairn_close(ctx);
    return rc;
}

static void write_event(cn_jsonw *w, const cairn_registry_event *e)
{
    bool is_stage = e->kind == CAIRN_EVENT_STAGE;
    cn_jsonw_object_begin(w);
    cn_jsonw_kstring(w, "name", e->name);
    cn_jsonw_kint(w, "seq", e->seq);
    cn_jsonw_kstring(w, "kind", cairn_registry_event_kind_str(e->kind));
    cn_jsonw_kstring(w, "alias", e->alias);
    if (is_stage) {
        cn_jsonw_kint(w, "version", e->to_version);
        cn_jsonw_kstring(w, "from_stage", cairn_model_stage_str(e->from_stage));
        cn_jsonw_kstring(w, "to_stage", cairn_model_stage_str(e->to_stage));
    } else {
        cn_jsonw_key(w, "from_version");
        if (e->from_version)
            cn_jsonw_int(w, e->from_version);
        else
            cn_jsonw_null(w);
        cn_jsonw_key(w, "to_version");
        if (e->to_version)
            cn_jsonw_int(w, e->to_version);
        else
            cn_jsonw_null(w);
    }
    cn_jsonw_kstring(w, "user", e->user);
    cn_jsonw_kstring(w, "reason", e->reason);
    cn_jsonw_kint(w, "timestamp", e->time_ms);
    cn_jsonw_object_end(w);
}

static void add_event_row(cli_table *t, const cairn_registry_event *e)
{
    char when[32], what[96], from[32], to[32];
    cli_format_time(e->time_ms, when, sizeof when);
    if (e->kind == CAIRN_EVENT_STAGE) {
        snprintf(what, sizeof what, "stage of v%lld", (long long)e->to_version);
        snprintf(from, sizeof from, "%s", cairn_model_stage_str(e->from_stage));
        snprintf(to, sizeof to, "%s", cairn_model_stage_str(e->to_stage));
    } else {
        snprintf(what, sizeof what, "@%s", e->alias ? e->alias : "");
        snprintf(from, sizeof from, e->from_version ? "v%lld" : "-", (long long)e->from_version);
        snprintf(to, sizeof to, e->to_version ? "v%lld" : "-", (long long)e->to_version);
    }
    const char *cells[] = {when,
                           cairn_registry_event_kind_str(e->kind),
                           what,
                           from,
                           to,
                           e->user,
                           *e->reason ? e->reason : "-"};
    cli_table_add(t, cells);
}

static int history_page(cairn_ctx *ctx, void *query, cli_listing *l, size_t *n, char **next)
{
    cairn_registry_event_page *page = NULL;
    if (cairn_registry_history(ctx, query, &page) != CAIRN_OK)
        return cli_fail(ctx);
    for (size_t i = 0; i < page->n; i++) {
        if (l->table)
            add_event_row(l->table, &page->items[i]);
        else
            write_event(&l->w, &page->items[i]);
    }
    *n = page->n;
    *next = page->next_page_token ? cn_xstrdup(page->next_page_token) : NULL;
    cairn_registry_event_page_free(page);
    return 0;
}

static int print_history(cairn_ctx *ctx, cairn_registry_history_query *q, bool json)
{
    static const char *const headers[] = {"WHEN", "EVENT", "WHAT", "FROM", "TO", "USER", "REASON"};
    cli_listing l;
    cli_listing_begin(&l, json, "events", CN_ARRAY_LEN(headers), headers);
    return cli_listing_pages(ctx, &l, history_page, q, &q->page_token, &q->max_results, 0);
}

static int model_history(int argc, char **argv)
{
    static const struct option opts[] = {{"alias", required_argument, NULL, OPT_ALIAS},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {NULL, 0, NULL, 0}};
    const char *usage = usage_of("history");
    cairn_registry_history_query q = CAIRN_REGISTRY_HISTORY_QUERY_INIT;
    bool json = false;
    int c;

    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_help(usage, NULL);
            return 0;
        } else if (c == OPT_ALIAS) {
            q.alias = optarg;
        } else if (c == OPT_JSON) {
            json = true;
        } else {
            return cli_other_option(c, usage, NULL, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage(usage, "expected one model name");
    q.name = argv[optind];
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    int rc = print_history(ctx, &q, json);
    cairn_close(ctx);
    return rc;
}

static int model_profile(int argc, char **argv)
{
    return cmd_model_profile(usage_of("profile"), argc, argv);
}

static int model_compress(int argc, char **argv)
{
    return cmd_model_compress(usage_of("compress"), argc, argv);
}

static int model_card(int argc, char **argv)
{
    return cmd_model_card(usage_of("card"), argc, argv);
}

static int model_promote(int argc, char **argv)
{
    return cmd_model_promote(usage_of("promote"), argc, argv);
}

static const cli_command verbs[] = {
    {"list", model_list, "list registered models"},
    {"show", model_show, "show a model with its versions, or one version"},
    {"register", model_register, "register a new version of a model from a run or a source"},
    {"alias", model_alias, "point an alias (production, staging, ...) at a version"},
    {"rollback", model_rollback, "move an alias back to the version it pointed at before"},
    {"card", model_card, "write, store or show the model card of a version"},
    {"promote", model_promote, "move an alias to a version once its promotion gates pass"},
    {"history", model_history, "list the alias and stage moves of a model, newest first"},
    {"profile", model_profile,
     "time a model's predictions at batch sizes 1, 32, 1024 and record them on its version"},
    {"compress", model_compress, "int8-quantize, prune or distill a model into a smaller one"},
};

int cmd_model(int argc, char **argv)
{
    return cli_group_main("model", &synopsis, verbs, CN_ARRAY_LEN(verbs), argc, argv);
}
