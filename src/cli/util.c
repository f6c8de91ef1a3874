/* SPDX-License-Identifier: MIT */
/* util.c - the helpers the command files share (declared in cli.h): store opening, errors,
 * group help and verb dispatch, option handling, metric lines, tables, times, and the lookups
 * of experiments and runs by what users type. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "cli.h"
#include "base/buf.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

const char *cli_store_uri;
const char *cli_artifact_root;

int cli_load_model(const char *spec, cairn_ctx **ctx, cairn_model_ref *ref, cairn_model **m)
{
    memset(ref, 0, sizeof *ref);
    *m = NULL;
    bool in_store = cn_str_starts(spec, "runs:/") || cn_str_starts(spec, "models:/");
    *ctx = in_store ? cli_open_store() : cairn_ctx_new();
    if (!*ctx)
        return 1;
    if (cairn_model_ref_resolve(*ctx, spec, ref) != CAIRN_OK ||
        cairn_model_load(*ctx, ref->path, m) != CAIRN_OK)
        return cli_fail(*ctx);
    return 0;
}

cairn_ctx *cli_open_store(void)
{
    cairn_open_opts opts = CAIRN_OPEN_OPTS_INIT;
    opts.artifact_root = cli_artifact_root;
    cairn_ctx *ctx = NULL;
    /* No store named anywhere: the default ./cairn.db, created here if it is new; say so. */
    const char *env = getenv("CAIRN_STORE");
    bool fresh =
        (!cli_store_uri || !*cli_store_uri) && (!env || !*env) && access("cairn.db", F_OK) != 0;
    if (cairn_open(cli_store_uri, &opts, &ctx) != CAIRN_OK) {
        cli_fail(ctx);
        cairn_close(ctx);
        return NULL;
    }
    if (fresh && access("cairn.db", F_OK) == 0) {
        char cwd[4096];
        fprintf(stderr,
                "cairn: note: no store named (--store URI or $CAIRN_STORE): created "
                "sqlite://%s/cairn.db\n",
                getcwd(cwd, sizeof cwd) ? cwd : ".");
    }
    return ctx;
}

static void log_to_stderr(void *user, cairn_log_level level, const char *component, const char *msg)
{
    (void)user;
    (void)component;
    const char *what = level == CAIRN_LOG_ERROR  ? "error"
                       : level == CAIRN_LOG_WARN ? "warning"
                                                 : "note";
    fprintf(stderr, "cairn: %s: %s\n", what, msg);
}

void cli_log_to_stderr(cairn_ctx *ctx, cairn_log_level max_level)
{
    cairn_set_log(ctx, log_to_stderr, NULL, max_level);
}

cairn_ctx *cli_open_store_log(cairn_log_level max_level)
{
    cairn_ctx *ctx = cli_open_store();
    if (ctx)
        cairn_set_log(ctx, log_to_stderr, NULL, max_level);
    return ctx;
}

cairn_ctx *cli_open_store_with(const cairn_open_opts *opts, cairn_log_level max_level,
                               const char *hint)
{
    cairn_open_opts o = *opts;
    if (!o.artifact_root)
        o.artifact_root = cli_artifact_root;
    cairn_ctx *ctx = NULL;
    if (cairn_open(cli_store_uri, &o, &ctx) != CAIRN_OK) {
        cli_fail(ctx);
        if (hint)
            fprintf(stderr, "cairn: hint: %s\n", hint);
        cairn_close(ctx);
        return NULL;
    }
    cairn_set_log(ctx, log_to_stderr, NULL, max_level);
    return ctx;
}

static void print_error(const char *fmt, va_list ap)
{
    fputs("cairn: error: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

int cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_error(fmt, ap);
    va_end(ap);
    return 1;
}

int cli_fail(cairn_ctx *ctx)
{
    return cli_error("%s", cairn_errmsg(ctx));
}

int cli_usage(const char *usage, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    print_error(fmt, ap);
    va_end(ap);
    fputs(usage, stderr);
    return 2;
}

/* The group cli_group_main runs a verb of, for cli_help. */
static const char *help_group;
static const cli_synopsis *help_synopsis;

void cli_help(const char *usage, const char *help)
{
    fputs(usage, stdout);
    if (!help && help_synopsis && help_group) {
        char prefix[128];
        int len = snprintf(prefix, sizeof prefix, "usage: cairn %s ", help_group);
        for (size_t i = 0; len > 0 && i < help_synopsis->n_helps; i++) {
            const cli_verb_help *h = &help_synopsis->helps[i];
            size_t vl = strlen(h->verb);
            if (strncmp(usage, prefix, (size_t)len) == 0 &&
                strncmp(usage + len, h->verb, vl) == 0 &&
                (usage[len + vl] == ' ' || usage[len + vl] == '\n'))
                help = h->text;
        }
    }
    if (help) {
        if (help[0] != '\n')
            fputc('\n', stdout);
        fputs(help, stdout);
    }
}

int cli_other_option(int c, const char *usage, const char *help, char **argv)
{
    if (c == 'h') {
        cli_help(usage, help);
        return 0;
    }
    const char *arg = optind > 0 ? argv[optind - 1] : "?";
    if (c == ':')
        return cli_usage(usage, "option '%s' needs a value", arg);
    char near[64];
    if (cli_option_nearest(arg, usage, help, near, sizeof near))
        return cli_usage(usage, "unknown option '%s' (did you mean '%s'?)", arg, near);
    return cli_usage(usage, "unknown option '%s'", arg);
}

bool cli_option_nearest(const char *arg, const char *usage, const char *help, char *out,
                        size_t size)
{
    if (!cn_str_starts(arg, "--") || !arg[2])
        return false;
    char word[64];
    size_t len = strcspn(arg + 2, "=");
    if (len >= sizeof word)
        return false;
    memcpy(word, arg + 2, len);
    word[len] = '\0';
    /* the long options a verb has are the "--name" words of its usage and help text */
    const char *cand[128];
    char names[128][40];
    size_t n = 0;
    const char *texts[] = {usage, help};
    for (size_t t = 0; t < 2; t++)
        for (const char *p = texts[t]; p && (p = strstr(p, "--")) != NULL && n < 128;) {
            p += 2;
            size_t l = 0;
            while ((p[l] >= 'a' && p[l] <= 'z') || (p[l] >= '0' && p[l] <= '9') || p[l] == '-')
                l++;
            if (l > 0 && l < sizeof names[0]) {
                memcpy(names[n], p, l);
                names[n][l] = '\0';
                cand[n] = names[n];
                n++;
            }
            p += l;
        }
    const char *near = cn_str_nearest(word, cand, n);
    if (!near)
        return false;
    snprintf(out, size, "--%s", near);
    return true;
}

void cli_print_scored(const cairn_scored_metric *m, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        if (!isfinite(m[i].value))
            printf("  %-18s undefined\n", m[i].name);
        else if (isfinite(m[i].ci_low))
            printf("  %-18s %.4f  95%% CI [%.4f, %.4f]\n", m[i].name, m[i].value, m[i].ci_low,
                   m[i].ci_high);
        else
            printf("  %-18s %.4f\n", m[i].name, m[i].value);
    }
}

void cli_write_scored(cn_jsonw *w, const char *key, const cairn_scored_metric *m, size_t n)
{
    cn_jsonw_key(w, key);
    cn_jsonw_object_begin(w);
    for (size_t i = 0; i < n; i++) {
        cn_jsonw_key(w, m[i].name);
        cn_jsonw_object_begin(w);
        cn_jsonw_kdouble(w, "value", m[i].value);
        cn_jsonw_kdouble(w, "ci_low", m[i].ci_low);
        cn_jsonw_kdouble(w, "ci_high", m[i].ci_high);
        cn_jsonw_object_end(w);
    }
    cn_jsonw_object_end(w);
}

void cli_format_time(int64_t ms, char *out, size_t size)
{
    time_t t = (time_t)(ms / 1000);
    struct tm tm;
    if (ms <= 0 || !localtime_r(&t, &tm)) {
        snprintf(out, size, "-");
        return;
    }
    strftime(out, size, "%Y-%m-%d %H:%M:%S", &tm);
}

struct cli_table {
    size_t n_cols, n_rows, cap;
    char **cells; /* n_rows x n_cols, row 0 is the header */
};

cli_table *cli_table_new(size_t n_cols, const char *const *headers)
{
    cli_table *t = cn_xcalloc(1, sizeof *t);
    t->n_cols = n_cols;
    cli_table_add(t, headers);
    return t;
}

void cli_table_add(cli_table *t, const char *const *cells)
{
    if (t->n_rows == t->cap) {
        t->cap = t->cap ? t->cap * 2 : 16;
        t->cells = cn_xrealloc(t->cells, t->cap * t->n_cols * sizeof(char *));
    }
    for (size_t c = 0; c < t->n_cols; c++)
        t->cells[t->n_rows * t->n_cols + c] = cn_xstrdup(cells[c] ? cells[c] : "");
    t->n_rows++;
}

static size_t display_width(const char *s)
{
    size_t w = 0;
    for (; *s; s++)
        if (((unsigned char)*s & 0xC0) != 0x80)
            w++;
    return w;
}

void cli_table_print(cli_table *t, FILE *out)
{
    size_t *width = cn_xcalloc(t->n_cols, sizeof *width);
    for (size_t r = 0; r < t->n_rows; r++)
        for (size_t c = 0; c < t->n_cols; c++) {
            size_t w = display_width(t->cells[r * t->n_cols + c]);
            if (w > width[c])
                width[c] = w;
        }
    for (size_t r = 0; r < t->n_rows; r++) {
        for (size_t c = 0; c < t->n_cols; c++) {
            const char *cell = t->cells[r * t->n_cols + c];
            bool last = c + 1 == t->n_cols;
            fputs(cell, out);
            if (!last)
                for (size_t k = display_width(cell); k < width[c] + 2; k++)
                    fputc(' ', out);
        }
        fputc('\n', out);
    }
    free(width);
}

void cli_listing_begin(cli_listing *l, bool json, const char *key, size_t n_cols,
                       const char *const *headers)
{
    l->table = json ? NULL : cli_table_new(n_cols, headers);
    cn_jsonw_init(&l->w, stdout, 2);
    if (json) {
        cn_jsonw_object_begin(&l->w);
        cn_jsonw_key(&l->w, key);
        cn_jsonw_array_begin(&l->w);
    }
}

int cli_listing_pages(cairn_ctx *ctx, cli_listing *l, cli_page_fn page, void *query,
                      const char **page_token, int64_t *max_results, int64_t max)
{
    enum { PAGE_SIZE = 1000 };
    char *token = NULL;
    int64_t shown = 0;
    int rc;
    do {
        char *next = NULL;
        size_t n = 0;
        *page_token = token;
        *max_results = max > 0 && max - shown < PAGE_SIZE ? max - shown : PAGE_SIZE;
        rc = page(ctx, query, l, &n, &next);
        *page_token = NULL;
        free(token);
        token = next;
        shown += (int64_t)n;
    } while (rc == 0 && token && !(max > 0 && shown >= max));
    free(token);
    if (rc == 0)
        return cli_listing_end(l);
    cn_jsonw_release(&l->w);
    cli_table_free(l->table);
    return rc;
}

int cli_listing_end(cli_listing *l)
{
    int rc = 0;
    if (!l->table) {
        cn_jsonw_array_end(&l->w);
        cn_jsonw_object_end(&l->w);
        if (!cn_jsonw_finish(&l->w))
            rc = cli_error("writing the output failed");
    } else {
        cli_table_print(l->table, stdout);
    }
    cn_jsonw_release(&l->w);
    cli_table_free(l->table);
    l->table = NULL;
    return rc;
}

void cli_table_free(cli_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}

/* ---- tracking groups (exp, runs): synopses, arguments, lookups ---- */

static void print_synopsis(const cli_synopsis *syn, const char *verb, size_t verb_len, cn_buf *b)
{
    bool first = true;
    for (size_t i = 0; i < syn->n; i++) {
        const char *line = syn->lines[i];
        if (verb) {
            /* "cairn <group> <verb> ...": the third word must be the verb */
            const char *p = strchr(line, ' ');
            p = p ? strchr(p + 1, ' ') : NULL;
            if (!p || strncmp(p + 1, verb, verb_len) != 0 ||
                (p[1 + verb_len] != ' ' && p[1 + verb_len] != '\0'))
                continue;
        }
        cn_buf_printf(b, "%s%s\n", first ? "usage: " : "   or: ", line);
        first = false;
    }
}

int cli_group_main(const char *group, const cli_synopsis *syn, const cli_command *verbs,
                   size_t n_verbs, int argc, char **argv)
{
    bool help = argc >= 2 && (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0);
    for (size_t i = 0; argc >= 2 && !help && i < n_verbs; i++)
        if (strcmp(argv[1], verbs[i].name) == 0) {
            help_group = group;
            help_synopsis = syn;
            return verbs[i].fn(argc - 1, argv + 1);
        }
    cn_buf b = CN_BUF_INIT;
    print_synopsis(syn, NULL, 0, &b);
    cn_buf_puts(&b, "\nverbs:\n");
    for (size_t i = 0; i < n_verbs; i++)
        cn_buf_printf(&b, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    cn_buf_printf(&b,
                  "\nRun 'cairn %s <verb> --help' for one verb's options; "
                  "docs/cli/cairn-%s.md has the details.\n",
                  group, group);
    fputs(cn_buf_str(&b), help ? stdout : stderr);
    cn_buf_release(&b);
    if (argc >= 2 && !help) {
        const char **names = cn_xcalloc(n_verbs + 1, sizeof *names);
        for (size_t i = 0; i < n_verbs; i++)
            names[i] = verbs[i].name;
        const char *near = cn_str_nearest(argv[1], names, n_verbs);
        fprintf(stderr, "cairn: error: unknown verb '%s' for 'cairn %s'", argv[1], group);
        if (near)
            fprintf(stderr, " (did you mean 'cairn %s %s'?)", group, near);
        fputc('\n', stderr);
        free(names);
    }
    return help ? 0 : 2;
}

const char *cli_verb_usage(const cli_synopsis *syn, const char *verb)
{
    static char text[2048];
    cn_buf b = CN_BUF_INIT;
    print_synopsis(syn, verb, strlen(verb), &b);
    cn_strlcpy(text, cn_buf_str(&b), sizeof text);
    cn_buf_release(&b);
    return text;
}

/* cli_simple_args, and with value_option (NULL: none) cli_value_args. */
static int simple_args(int argc, char **argv, const char *usage, bool allow_json,
                       const char *value_option, const char **value, int n_args, bool at_least,
                       bool *json)
{
    enum { OPT_JSON = 1000, OPT_VALUE };
    const struct option opts[] = {{"help", no_argument, NULL, 'h'},
                                  {"json", no_argument, NULL, OPT_JSON},
                                  {value_option, required_argument, NULL, OPT_VALUE},
                                  {NULL, 0, NULL, 0}};
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        if (c == 'h') {
            cli_help(usage, NULL);
            return 0;
        } else if (c == OPT_JSON && allow_json) {
            *json = true;
        } else if (c == OPT_VALUE) {
            *value = optarg;
        } else {
            return cli_other_option(c == OPT_JSON ? '?' : c, usage, NULL, argv);
        }
    }
    int got = argc - optind;
    if (got < n_args || (!at_least && got > n_args))
        return cli_usage(usage, "expected %s%d argument%s, got %d", at_least ? "at least " : "",
                         n_args, n_args == 1 ? "" : "s", got);
    return -1;
}

int cli_simple_args(int argc, char **argv, const char *usage, bool allow_json, int n_args,
                    bool at_least, bool *json)
{
    return simple_args(argc, argv, usage, allow_json, NULL, NULL, n_args, at_least, json);
}

int cli_value_args(int argc, char **argv, const char *usage, const char *option, const char **value,
                   int n_args)
{
    bool json = false;
    return simple_args(argc, argv, usage, false, option, value, n_args, false, &json);
}

bool cli_split_kv(const char *arg, char **key, const char **value)
{
    const char *eq = strchr(arg, '=');
    if (!eq || eq == arg)
        return false;
    *key = cn_xstrndup(arg, (size_t)(eq - arg));
    *value = eq + 1;
    return true;
}

static bool is_all_digits(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!isdigit((unsigned char)*s))
            return false;
    return true;
}

bool cli_parse_count(const char *arg, int64_t max, int64_t *out)
{
    int64_t v;
    if (!is_all_digits(arg) || !cn_parse_int64(arg, &v) || v < 1 || v > max)
        return false;
    *out = v;
    return true;
}

bool cli_parse_bytes(const char *arg, int64_t *out)
{
    char *end;
    errno = 0;
    double v = strtod(arg, &end);
    if (end == arg || errno || !(v > 0) || arg[0] == '-' || arg[0] == '+')
        return false;
    static const char units[] = "KMGT";
    const char *u = *end ? strchr(units, end[0] >= 'a' ? end[0] - 'a' + 'A' : end[0]) : NULL;
    if (*end && !u)
        return false;
    if (u) {
        end++;
        if (strcmp(end, "iB") == 0 || strcmp(end, "B") == 0 || strcmp(end, "ib") == 0 ||
            strcmp(end, "b") == 0)
            end += strlen(end);
        for (const char *k = units; k <= u; k++)
            v *= 1024.0;
    }
    if (*end || v < 1 || v >= 1152921504606846976.0)
        return false;
    *out = (int64_t)v;
    return true;
}

cairn_experiment *cli_experiment_find(cairn_ctx *ctx, const char *id_or_name)
{
    cairn_experiment *exp = NULL;
    cairn_status rc = is_all_digits(id_or_name)
                          ? cairn_experiment_get(ctx, id_or_name, &exp)
                          : cairn_experiment_get_by_name(ctx, id_or_name, &exp);
    if (rc == CAIRN_ENOTFOUND) {
        cli_error("experiment '%s' not found; 'cairn exp list --all' shows them", id_or_name);
        return NULL;
    }
    if (rc != CAIRN_OK) {
        cli_fail(ctx);
        return NULL;
    }
    return exp;
}

char *cli_run_resolve(cairn_ctx *ctx, const char *id_or_prefix)
{
    char *id = NULL;
    if (cairn_run_resolve(ctx, id_or_prefix, &id) != CAIRN_OK) {
        cli_fail(ctx);
        return NULL;
    }
    return id;
}

cairn_run_record *cli_run_load(cairn_ctx *ctx, const char *id_or_prefix)
{
    cairn_run_record *rec = NULL;
    char *id = cli_run_resolve(ctx, id_or_prefix);
    if (!id)
        return NULL;
    cairn_status rc = cairn_run_get(ctx, id, &rec);
    cairn_free(id);
    if (rc != CAIRN_OK) {
        cli_fail(ctx);
        return NULL;
    }
    return rec;
}

const char *cli_clip(const char *s, size_t max_chars, char *out, size_t size)
{
    size_t chars = 0, cut = 0;
    for (size_t i = 0; s[i]; i++) {
        if (((unsigned char)s[i] & 0xC0) == 0x80)
            continue;
        if (chars == max_chars - 1)
            cut = i;
        if (++chars > max_chars)
            break;
    }
    if (chars <= max_chars || max_chars < 1 || cut + 4 > size)
        return s;
    memcpy(out, s, cut);
    memcpy(out + cut, "\xE2\x80\xA6", 4); /* U+2026 and the NUL */
    return out;
}

void cli_format_duration(int64_t ms, char *out, size_t size)
{
    if (ms < 0) {
        snprintf(out, size, "-");
        return;
    }
    long long s = ms / 1000;
    if (ms < 1000)
        snprintf(out, size, "%lldms", (long long)ms);
    else if (s < 60)
        snprintf(out, size, "%.1fs", (double)ms / 1000.0);
    else if (s < 3600)
        snprintf(out, size, "%lldm%02llds", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, size, "%lldh%02lldm", s / 3600, s % 3600 / 60);
    else
        snprintf(out, size, "%lldd%02lldh", s / 86400, s % 86400 / 3600);
}

void cli_format_value(double v, char *out, size_t size)
{
    if (isnan(v))
        snprintf(out, size, "NaN");
    else if (isinf(v))
        snprintf(out, size, v > 0 ? "Infinity" : "-Infinity");
    else
        snprintf(out, size, "%.6g", v);
}

void cli_format_param(const cairn_space *space, size_t i, double v, char *out, size_t size)
{
    cairn_param_info info;
    cairn_space_param(space, i, &info);
    if (info.type == CAIRN_SPACE_PARAM_FLOAT && info.step == 0 && isfinite(v))
        snprintf(out, size, "%.6g", v);
    else
        cairn_space_format_value(space, i, v, out, size);
}

int cli_access_log_open(const char *path, FILE **out, FILE **owned)
{
    *out = *owned = NULL;
    if (!path)
        return 0;
    if (strcmp(path, "-") == 0) {
        *out = stderr;
        return 0;
    }
    FILE *f = fopen(path, "a");
    if (!f)
        return cli_error("cannot open the access log '%s': %s", path, strerror(errno));
    setvbuf(f, NULL, _IOLBF, 0);
    *out = *owned = f;
    return 0;
}

/* ---- "did you mean" for the metric, param and tag names of a filter or order-by ---- */

typedef struct key_sets {
    cairn_key_list *lists[3]; /* by cairn_key_kind, loaded when first needed */
    bool failed;
} key_sets;

static const cairn_key_list *key_set(cairn_ctx *ctx, key_sets *ks, const char *const *ids, size_t n,
                                     cairn_view view, cairn_key_kind kind)
{
    if (!ks->lists[kind] && !ks->failed &&
        cairn_experiment_keys(ctx, ids, n, view, kind, &ks->lists[kind]) != CAIRN_OK)
        ks->failed = true; /* a note is a courtesy: no error over it */
    return ks->lists[kind];
}

static bool key_listed(const cairn_key_list *l, const char *key)
{
    for (size_t i = 0; l && i < l->n; i++)
        if (strcmp(l->keys[i], key) == 0)
            return true;
    return false;
}

static bool is_ident(char c)
{
    return isalnum((unsigned char)c) || c == '_';
}

/* One named key: its kind and its text (unquoted) in key[]. */
static void note_key(cairn_ctx *ctx, key_sets *ks, const char *const *ids,
                     const char *const *labels, size_t n, cairn_view view, cairn_key_kind kind,
                     const char *key)
{
    static const char *const kinds[] = {"metric", "param", "tag"};
    static const char *const prefixes[] = {"metrics", "params", "tags"};
    const cairn_key_list *have = key_set(ctx, ks, ids, n, view, kind);
    if (!have || key_listed(have, key))
        return;
    cn_buf where = CN_BUF_INIT;
    if (n == 0)
        cn_buf_puts(&where, "any experiment");
    else
        cn_buf_printf(&where, "experiment%s ", n > 1 ? "s" : "");
    for (size_t i = 0; i < n; i++)
        cn_buf_printf(&where, "%s'%s'", i ? ", " : "", labels ? labels[i] : ids[i]);
    /* the same name as another kind first (metrics.lr when lr is a param), else the nearest */
    const char *near = NULL;
    cairn_key_kind near_kind = kind;
    for (int k = 0; k < 3 && !near; k++)
        if ((cairn_key_kind)k != kind &&
            key_listed(key_set(ctx, ks, ids, n, view, (cairn_key_kind)k), key)) {
            near = key;
            near_kind = (cairn_key_kind)k;
        }
    if (!near && have->n)
        near = cn_str_nearest(key, have->keys, have->n);
    bool plain = near && strspn(near, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                      "0123456789_.") == strlen(near);
    if (near)
        fprintf(stderr, "cairn: note: no run in %s has %s '%s' (did you mean '%s.%s%s%s'?)\n",
                cn_buf_str(&where), kinds[kind], key, prefixes[near_kind], plain ? "" : "`", near,
                plain ? "" : "`");
    else
        fprintf(stderr, "cairn: note: no run in %s has %s '%s'\n", cn_buf_str(&where), kinds[kind],
                key);
    cn_buf_release(&where);
}

void cli_note_missing_keys(cairn_ctx *ctx, const char *const *ids, const char *const *labels,
                           size_t n, cairn_view view, const char *const *exprs, size_t n_exprs)
{
    key_sets ks = {{NULL}, false};
    for (size_t e = 0; e < n_exprs; e++) {
        const char *p = exprs[e];
        while (p && *p) {
            if (*p == '\'' || *p == '"') { /* a value (or a quoted name with no prefix) */
                char q = *p++;
                while (*p && !(*p == q && p[1] != q))
                    p += *p == q ? 2 : 1;
                p += *p ? 1 : 0;
                continue;
            }
            if (!is_ident(*p)) {
                p++;
                continue;
            }
            const char *w = p;
            while (is_ident(*p))
                p++;
            size_t wl = (size_t)(p - w);
            int kind = -1;
            if (*p == '.') {
                static const char *const words[] = {"metrics", "metric", "params",
                                                    "param",   "tags",   "tag"};
                for (int k = 0; k < 6; k++)
                    if (strlen(words[k]) == wl && strncmp(w, words[k], wl) == 0)
                        kind = k / 2;
            }
            if (kind < 0)
                continue;
            p++; /* the '.' */
            char key[256];
            size_t kl = 0;
            if (*p == '`' || *p == '"') {
                char q = *p++;
                while (*p && *p != q) {
                    if (kl + 1 < sizeof key)
                        key[kl++] = *p;
                    p++;
                }
                p += *p ? 1 : 0;
            } else {
                while (is_ident(*p) || *p == '.' || *p == '-' || *p == '/' || *p == ':') {
                    if (kl + 1 < sizeof key)
                        key[kl++] = *p;
                    p++;
                }
            }
            key[kl] = '\0';
            if (kl)
                note_key(ctx, &ks, ids, labels, n, view, (cairn_key_kind)kind, key);
        }
    }
    for (int k = 0; k < 3; k++)
        cairn_key_list_free(ks.lists[k]);
}
