/* SPDX-License-Identifier: MIT */
/* cmd_data.c - `cairn data validate|split|profile|hash`: argument parsing and output for the
 * dataset operations of cairn/data.h. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cairn/data.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

#define CSV_OPTS "[--delimiter C] [--numeric COL]... [--categorical COL]..."
#define SYN_VALIDATE                                                                               \
    "cairn data validate FILE [--label COL] [--splits DIR] [--expect FILE] " CSV_OPTS " [--json]"
#define SYN_SPLIT                                                                                  \
    "cairn data split FILE --out DIR [--method random|stratified|group|time] [--label COL] "       \
    "[--group COL] [--time COL] [--test F] [--val F] [--seed N] " CSV_OPTS " [--json]"
#define SYN_PROFILE "cairn data profile FILE " CSV_OPTS " [--json] [-o FILE]"
#define SYN_HASH "cairn data hash FILE... [--raw] " CSV_OPTS " [--json]"
static const char usage_validate[] = "usage: " SYN_VALIDATE "\n";
static const char usage_split[] = "usage: " SYN_SPLIT "\n";
static const char usage_profile[] = "usage: " SYN_PROFILE "\n";
static const char usage_hash[] = "usage: " SYN_HASH "\n";
#define HELP_CSV                                                                                   \
    "      --delimiter C      field delimiter (default ','; 'tab' for a tab)\n"                    \
    "      --numeric COL      read COL as numbers: a value that is not one is an error\n"          \
    "                         (repeatable)\n"                                                      \
    "      --categorical COL  read COL as categories even if its values look numeric\n"            \
    "                         (repeatable)\n"                                                      \
    "  -h, --help             this help\n"

static const char help_validate[] =
    "Checks a CSV file: schema, ranges, missing values, constant and duplicate columns,\n"
    "duplicate rows, class balance of --label, and rows shared between the splits in --splits\n"
    "(a folder written by 'cairn data split'). Exits 1 when the report has errors.\n"
    "With --expect, checks the data against an expectations file instead (types, ranges,\n"
    "categories, missing shares, uniqueness, min rows, class balance, slices, a sensitive\n"
    "attribute's coverage; docs/expectations.md): each failed rule with its rows and the\n"
    "fix; exits 1 when a rule fails, 2 when the expectations file is bad.\n"
    "\n"
    "options:\n"
    "      --label COL        the class column: counts and imbalance ratio\n"
    "      --splits DIR       check DIR/train.idx, val.idx, test.idx against each other\n"
    "      --expect FILE      check the rules of an expectations.yaml\n"
    "      --json             print the report as JSON\n" HELP_CSV "\n"
    "examples:\n"
    "  cairn data validate data/wine.csv --label target\n"
    "  cairn data validate data/wine.csv --label target --splits splits/wine\n"
    "  cairn data validate data.csv --expect expectations.yaml\n";
static const char help_split[] =
    "Splits the rows of a CSV file into train, validation and test index files in DIR\n"
    "(train.idx, val.idx, test.idx: one 0-based row index a line) plus DIR/split.json.\n"
    "The method defaults to stratified with --label, group with --group, time with --time,\n"
    "random otherwise.\n"
    "\n"
    "options:\n"
    "      --out DIR          where to write the index files (created)\n"
    "      --method M         random, stratified (by --label), group (by --group), time (by\n"
    "                         --time)\n"
    "      --label COL        the class column: each split keeps its class shares\n"
    "      --group COL        rows with the same COL value stay in one split\n"
    "      --time COL         the oldest rows train, the newest test\n"
    "      --test F           test fraction (default 0.2)\n"
    "      --val F            validation fraction (default 0.1)\n"
    "      --seed N           the same seed gives the same split (default 0)\n"
    "      --json             print the result as JSON\n" HELP_CSV "\n"
    "examples:\n"
    "  cairn data split data/wine.csv --out splits/wine --label target --seed 1\n"
    "  cairn data split data/iris.csv --out splits/iris --method random --test 0.3\n";
static const char help_profile[] =
    "Profiles every column of a CSV file: count, missing, mean, std, min, quantiles, max and\n"
    "a 20-bin histogram for numeric columns, level counts for categorical ones. This is the\n"
    "reference profile drift detection compares live traffic with.\n"
    "\n"
    "options:\n"
    "  -o, --output FILE      also write the profile as JSON to FILE\n"
    "      --json             print the profile as JSON\n" HELP_CSV "\n"
    "examples:\n"
    "  cairn data profile data/wine.csv --categorical target -o wine-profile.json\n";
static const char help_hash[] =
    "Prints, for each file, the SHA-256 of its bytes, its rows x columns and the digest of\n"
    "its parsed content (independent of number formatting). With --raw, any file (a model,\n"
    "an image, a binary) is hashed as bytes only, printed as sha256sum prints it.\n"
    "\n"
    "options:\n"
    "      --raw              the SHA-256 of the file's bytes only; the file is not parsed\n"
    "      --json             print a JSON array\n" HELP_CSV "\n"
    "examples:\n"
    "  cairn data hash data/wine.csv data/iris.csv\n"
    "  cairn data hash --raw data/SHA256SUMS data/iris.csv\n";

typedef struct data_args {
    const char *label, *splits, *expect, *out, *method, *group, *time, *output;
    const char *numeric[64], *categorical[64];
    size_t n_numeric, n_categorical;
    double test, val;
    uint64_t seed;
    bool json, has_method;
    bool raw; /* data hash: bytes only */
    char delimiter;
    int first_file;
} data_args;

enum {
    OPT_LABEL = 256,
    OPT_SPLITS,
    OPT_OUT,
    OPT_METHOD,
    OPT_GROUP,
    OPT_TIME,
    OPT_TEST,
    OPT_VAL,
    OPT_SEED,
    OPT_JSON,
    OPT_DELIM,
    OPT_NUMERIC,
    OPT_CATEGORICAL,
    OPT_HELP,
    OPT_RAW,
    OPT_EXPECT
};

/* Stores --delimiter, --numeric or --categorical (c) in a. Returns 0, or 2 after a usage
 * error. */
static int store_csv_option(int c, const char *usage, data_args *a)
{
    if (c == OPT_NUMERIC || c == OPT_CATEGORICAL) {
        size_t *n = c == OPT_NUMERIC ? &a->n_numeric : &a->n_categorical;
        const char **list = c == OPT_NUMERIC ? a->numeric : a->categorical;
        if (*n == 64)
            return cli_usage(usage, "at most 64 --numeric and 64 --categorical columns");
        list[(*n)++] = optarg;
    } else if (strcmp(optarg, "\\t") == 0 || strcmp(optarg, "tab") == 0) {
        a->delimiter = '\t';
    } else if (strlen(optarg) == 1 && optarg[0] != '"' && optarg[0] != '\n') {
        a->delimiter = optarg[0];
    } else {
        return cli_usage(usage, "--delimiter '%s': expected one character (or 'tab')", optarg);
    }
    return 0;
}

/* Stores option c (with its value in optarg) in a. Returns 0, or 2 after a usage error. */
static int store_option(int c, const char *usage, data_args *a)
{
    int64_t seed;
    double f;
    switch (c) {
    case OPT_LABEL: a->label = optarg; break;
    case OPT_SPLITS: a->splits = optarg; break;
    case OPT_EXPECT: a->expect = optarg; break;
    case OPT_OUT: a->out = optarg; break;
    case 'o': a->output = optarg; break;
    case OPT_METHOD:
        a->method = optarg;
        a->has_method = true;
        break;
    case OPT_GROUP: a->group = optarg; break;
    case OPT_TIME: a->time = optarg; break;
    case OPT_TEST:
    case OPT_VAL:
        if (!cn_parse_double(optarg, &f) || !(f >= 0 && f < 1))
            return cli_usage(usage, "--%s '%s': expected a fraction in [0, 1)",
                             c == OPT_TEST ? "test" : "val", optarg);
        *(c == OPT_TEST ? &a->test : &a->val) = f;
        break;
    case OPT_SEED:
        if (!cn_parse_int64(optarg, &seed) || seed < 0)
            return cli_usage(usage, "--seed '%s': expected a non-negative integer", optarg);
        a->seed = (uint64_t)seed;
        break;
    case OPT_JSON: a->json = true; break;
    case OPT_RAW: a->raw = true; break;
    case OPT_NUMERIC:
    case OPT_CATEGORICAL:
    case OPT_DELIM: return store_csv_option(c, usage, a);
    default: break;
    }
    return 0;
}

/* Parses the options a verb allows (allowed: OPT_ codes, 'o' for -o). Returns the exit code
 * with *done set after --help (0) or a usage error (2); else 0 with the FILEs at first_file. */
static int parse_args(int argc, char **argv, const char *usage, const char *help,
                      const int *allowed, size_t n_allowed, data_args *a, bool *done)
{
    static const struct option all[] = {
        {"label", required_argument, NULL, OPT_LABEL},
        {"splits", required_argument, NULL, OPT_SPLITS},
        {"out", required_argument, NULL, OPT_OUT},
        {"method", required_argument, NULL, OPT_METHOD},
        {"group", required_argument, NULL, OPT_GROUP},
        {"time", required_argument, NULL, OPT_TIME},
        {"test", required_argument, NULL, OPT_TEST},
        {"val", required_argument, NULL, OPT_VAL},
        {"seed", required_argument, NULL, OPT_SEED},
        {"json", no_argument, NULL, OPT_JSON},
        {"delimiter", required_argument, NULL, OPT_DELIM},
        {"numeric", required_argument, NULL, OPT_NUMERIC},
        {"categorical", required_argument, NULL, OPT_CATEGORICAL},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, OPT_HELP},
        {"raw", no_argument, NULL, OPT_RAW},
        {"expect", required_argument, NULL, OPT_EXPECT},
        {NULL, 0, NULL, 0},
    };
    *done = false;
    a->test = 0.2;
    a->val = 0.1;
    optind = 1;
    opterr = 0;
    for (;;) {
        int longidx = -1;
        int c = getopt_long(argc, argv, "ho:", all, &longidx);
        if (c == -1)
            break;
        if (c == 'h' || c == OPT_HELP) {
            cli_help(usage, help);
            *done = true;
            return 0;
        }
        bool ok = c == OPT_DELIM || c == OPT_NUMERIC || c == OPT_CATEGORICAL;
        for (size_t i = 0; i < n_allowed && !ok; i++)
            ok = allowed[i] == c;
        if (!ok) {
            *done = true;
            const char *bad = argv[optind - 1];
            return cli_usage(usage, "unknown or incomplete option '%s'", bad ? bad : "?");
        }
        int rc = store_option(c, usage, a);
        if (rc != 0) {
            *done = true;
            return rc;
        }
    }
    a->first_file = optind;
    if (optind >= argc) {
        *done = true;
        return cli_usage(usage, "a FILE is required");
    }
    return 0;
}

static const char *type_name(cairn_col_type t)
{
    return t == CAIRN_COL_NUMERIC ? "numeric" : "categorical";
}

static void fmt_num(double v, char *out, size_t size)
{
    if (isnan(v))
        snprintf(out, size, "-");
    else
        snprintf(out, size, "%.6g", v);
}

/* A failure after the file was read: the message gets the file's name in front. */
static int fail_file(cairn_ctx *ctx, const char *path)
{
    return cli_error("%s: %s", path, cairn_errmsg(ctx));
}

/* The CSV options (--delimiter, --numeric, --categorical) every verb takes. */
static cairn_csv_opts csv_opts(const data_args *a)
{
    cairn_csv_opts o = CAIRN_CSV_OPTS_INIT;
    o.delimiter = a->delimiter;
    o.numeric = a->numeric;
    o.n_numeric = a->n_numeric;
    o.categorical = a->categorical;
    o.n_categorical = a->n_categorical;
    return o;
}

static cairn_table *read_table(cairn_ctx *ctx, const char *path, const data_args *a)
{
    cairn_csv_opts o = csv_opts(a);
    cairn_table *t = NULL;
    if (cairn_csv_read(ctx, path, &o, &t) != CAIRN_OK) {
        cli_fail(ctx);
        return NULL;
    }
    return t;
}

/* The validation report of path as text: a summary, a table of the columns, the issues. */
static void print_validate_report(const char *path, const cairn_validate_report *r,
                                  const cairn_split *split)
{
    printf("file     %s\nrows     %zu\ncolumns  %zu\n", path, r->n_rows, r->n_cols);
    if (r->label) {
        printf("label    %s: %zu classes", r->label, r->n_classes);
        if (r->n_classes) {
            printf(", imbalance %.2f (", r->imbalance_ratio);
            for (size_t k = 0; k < r->n_classes && k < 10; k++)
                printf("%s%s: %zu", k ? ", " : "", r->classes[k].label, r->classes[k].count);
            printf("%s)", r->n_classes > 10 ? ", ..." : "");
        }
        putchar('\n');
    }
    if (split)
        printf("splits   train %zu, val %zu, test %zu rows\n", split->n[0], split->n[1],
               split->n[2]);
    putchar('\n');
    static const char *const head[] = {"column", "type", "missing", "min", "max", "notes"};
    cli_table *tab = cli_table_new(6, head);
    for (size_t c = 0; c < r->n_cols; c++) {
        const cairn_column_report *cr = &r->cols[c];
        char miss[32], lo[32], hi[32], notes[256];
        snprintf(miss, sizeof miss, "%zu", cr->n_missing);
        if (cr->type == CAIRN_COL_NUMERIC) {
            fmt_num(cr->min, lo, sizeof lo);
            fmt_num(cr->max, hi, sizeof hi);
        } else {
            snprintf(lo, sizeof lo, "%zu levels", cr->n_levels);
            hi[0] = '\0';
        }
        snprintf(notes, sizeof notes, "%s%s%s%s", cr->is_constant ? "constant " : "",
                 cr->duplicate_of >= 0 ? "duplicate of '" : "",
                 cr->duplicate_of >= 0 ? r->cols[cr->duplicate_of].name : "",
                 cr->duplicate_of >= 0 ? "'" : "");
        const char *cells[] = {cr->name, type_name(cr->type), miss, lo, hi, notes};
        cli_table_add(tab, cells);
    }
    cli_table_print(tab, stdout);
    cli_table_free(tab);
    putchar('\n');
    for (size_t i = 0; i < r->n_issues; i++)
        printf("%s: %s\n", r->issues[i].level == CAIRN_ISSUE_ERROR ? "error" : "warning",
               r->issues[i].message);
    printf("%s: %zu errors, %zu warnings\n", r->n_errors ? "failed" : "ok", r->n_errors,
           r->n_warnings);
}

/* `data validate FILE --expect E`: 0 when every rule holds, 1 when one fails or the data cannot
 * be read, 2 when E is bad. */
static int validate_expect(const char *path, const data_args *a)
{
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_expect *e = NULL;
    cairn_table *t = NULL;
    cairn_expect_result *r = NULL;
    char *text = NULL;
    int exit_code = 1;
    if (cairn_expect_load(ctx, a->expect, &e) != CAIRN_OK) {
        cli_fail(ctx);
        exit_code = 2;
        goto done;
    }
    t = read_table(ctx, path, a);
    if (!t)
        goto done;
    if (cairn_expect_check(ctx, e, t, &r) != CAIRN_OK) {
        fail_file(ctx, path);
        goto done;
    }
    if (a->json) {
        if (cairn_expect_result_json(ctx, r, &text) != CAIRN_OK) {
            cli_fail(ctx);
            goto done;
        }
        fputs(text, stdout);
    } else {
        printf("expectations %s on %s (%zu rows)\n", a->expect, path, t->n_rows);
        text = cairn_expect_result_text(r);
        fputs(text, stdout);
        if (r->n_failed)
            printf("failed: %zu of %zu rules\n", r->n_failed, r->n_rules);
        else
            printf("ok: all %zu rules hold\n", r->n_rules);
    }
    exit_code = r->n_failed ? 1 : 0;
done:
    cairn_free(text);
    cairn_expect_result_free(r);
    cairn_table_free(t);
    cairn_expect_free(e);
    cairn_close(ctx);
    return exit_code;
}

static int data_validate(int argc, char **argv)
{
    static const int allowed[] = {OPT_LABEL, OPT_SPLITS, OPT_JSON, OPT_EXPECT};
    data_args a = {0};
    bool done;
    int rc = parse_args(argc, argv, usage_validate, help_validate, allowed, CN_ARRAY_LEN(allowed),
                        &a, &done);
    if (done)
        return rc;
    if (argc - a.first_file != 1)
        return cli_usage(usage_validate, "validate takes one FILE");
    const char *path = argv[a.first_file];
    if (a.expect) {
        if (a.label || a.splits)
            return cli_usage(usage_validate, "--expect checks its own rules: the label is the "
                                             "file's 'label:'; drop --label and --splits");
        return validate_expect(path, &a);
    }
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_table *t = NULL;
    cairn_split *split = NULL;
    cairn_validate_report *r = NULL;
    char *json = NULL;
    int exit_code = 1;
    t = read_table(ctx, path, &a);
    if (!t)
        goto done;
    if (a.splits && cairn_split_read(ctx, a.splits, t->n_rows, &split) != CAIRN_OK) {
        cli_fail(ctx);
        goto done;
    }
    cairn_validate_opts vo = CAIRN_VALIDATE_OPTS_INIT;
    vo.label = a.label;
    vo.split = split;
    if (cairn_validate(ctx, t, &vo, &r) != CAIRN_OK) {
        fail_file(ctx, path);
        goto done;
    }
    if (a.json) {
        if (cairn_validate_json(ctx, r, &json) != CAIRN_OK) {
            cli_fail(ctx);
            goto done;
        }
        fputs(json, stdout);
    } else {
        print_validate_report(path, r, split);
    }
    exit_code = r->n_errors ? 1 : 0;
done:
    cairn_free(json);
    cairn_validate_report_free(r);
    cairn_split_free(split);
    cairn_table_free(t);
    cairn_close(ctx);
    return exit_code;
}

static void print_split_json(const char *path, const char *out, const cairn_split *s)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    w.flat_from = 3; /* one line per part */
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "file", path);
    cn_jsonw_kstring(&w, "out", out);
    cn_jsonw_kstring(&w, "method", cairn_split_method_name(s->method));
    cn_jsonw_kuint(&w, "seed", s->seed);
    cn_jsonw_kint(&w, "n_rows", (int64_t)s->n_rows);
    cn_jsonw_key(&w, "parts");
    cn_jsonw_object_begin(&w);
    for (int p = 0; p < CAIRN_SPLIT_N_PARTS; p++) {
        const char *name = cairn_split_part_name((cairn_split_part)p);
        char *file = cn_asprintf("%s.idx", name);
        cn_jsonw_key(&w, name);
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "file", file);
        cn_jsonw_kint(&w, "rows", (int64_t)s->n[p]);
        cn_jsonw_kstring(&w, "sha256", s->sha256[p]);
        cn_jsonw_object_end(&w);
        free(file);
    }
    cn_jsonw_object_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_jsonw_release(&w);
}

static int data_split(int argc, char **argv)
{
    static const int allowed[] = {OPT_LABEL, OPT_OUT, OPT_METHOD, OPT_GROUP, OPT_TIME,
                                  OPT_TEST,  OPT_VAL, OPT_SEED,   OPT_JSON};
    data_args a = {0};
    bool done;
    int rc =
        parse_args(argc, argv, usage_split, help_split, allowed, CN_ARRAY_LEN(allowed), &a, &done);
    if (done)
        return rc;
    if (argc - a.first_file != 1)
        return cli_usage(usage_split, "split takes one FILE");
    if (!a.out)
        return cli_usage(usage_split, "--out DIR is required");
    cairn_split_opts so = CAIRN_SPLIT_OPTS_INIT;
    if (a.has_method) {
        if (!cairn_split_method_parse(a.method, &so.method))
            return cli_usage(usage_split,
                             "--method '%s': expected random, stratified, group or "
                             "time",
                             a.method);
    } else {
        so.method = a.label   ? CAIRN_SPLIT_STRATIFIED
                    : a.group ? CAIRN_SPLIT_GROUP
                    : a.time  ? CAIRN_SPLIT_TIME
                              : CAIRN_SPLIT_RANDOM;
    }
    if (so.method == CAIRN_SPLIT_STRATIFIED && !a.label)
        return cli_usage(usage_split, "--method stratified needs --label COL");
    if (so.method == CAIRN_SPLIT_GROUP && !a.group)
        return cli_usage(usage_split, "--method group needs --group COL");
    if (so.method == CAIRN_SPLIT_TIME && !a.time)
        return cli_usage(usage_split, "--method time needs --time COL");
    so.test_fraction = a.test;
    so.val_fraction = a.val;
    so.seed = a.seed;
    so.label = a.label;
    so.group = a.group;
    so.time = a.time;
    const char *path = argv[a.first_file];
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_split *s = NULL;
    int exit_code = 1;
    cairn_table *t = read_table(ctx, path, &a);
    if (!t)
        goto done;
    if (cairn_split_make(ctx, t, &so, &s) != CAIRN_OK) {
        fail_file(ctx, path);
        goto done;
    }
    if (cairn_split_write(ctx, s, a.out) != CAIRN_OK) {
        cli_fail(ctx);
        goto done;
    }
    if (a.json) {
        print_split_json(path, a.out, s);
    } else {
        printf("%s split of %zu rows (seed %llu) into %s\n", cairn_split_method_name(s->method),
               s->n_rows, (unsigned long long)s->seed, a.out);
        for (int p = 0; p < CAIRN_SPLIT_N_PARTS; p++)
            printf("  %-5s %8zu rows  sha256 %s\n", cairn_split_part_name((cairn_split_part)p),
                   s->n[p], s->sha256[p]);
    }
    exit_code = 0;
done:
    cairn_split_free(s);
    cairn_table_free(t);
    cairn_close(ctx);
    return exit_code;
}

static int data_profile(int argc, char **argv)
{
    static const int allowed[] = {OPT_JSON, 'o'};
    data_args a = {0};
    bool done;
    int rc = parse_args(argc, argv, usage_profile, help_profile, allowed, CN_ARRAY_LEN(allowed), &a,
                        &done);
    if (done)
        return rc;
    if (argc - a.first_file != 1)
        return cli_usage(usage_profile, "profile takes one FILE");
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_profile *p = NULL;
    char *json = NULL;
    int exit_code = 1;
    cairn_table *t = read_table(ctx, argv[a.first_file], &a);
    if (!t)
        goto done;
    if (cairn_profile_table(ctx, t, &p) != CAIRN_OK ||
        cairn_profile_json(ctx, p, &json) != CAIRN_OK) {
        cli_fail(ctx);
        goto done;
    }
    if (a.output && cn_fs_write_atomic(a.output, json, strlen(json)) != 0) {
        cli_error("cannot write '%s': %s", a.output, strerror(errno));
        goto done;
    }
    if (a.json) {
        fputs(json, stdout);
    } else {
        static const char *const head[] = {"column", "type", "count",  "missing", "mean",
                                           "std",    "min",  "median", "max"};
        cli_table *tab = cli_table_new(9, head);
        for (size_t i = 0; i < p->n_features; i++) {
            const cairn_feature_profile *f = &p->features[i];
            char cnt[32], miss[32], v[5][32];
            snprintf(cnt, sizeof cnt, "%zu", f->count);
            snprintf(miss, sizeof miss, "%zu", f->n_missing);
            if (f->type == CAIRN_COL_NUMERIC) {
                fmt_num(f->mean, v[0], sizeof v[0]);
                fmt_num(f->std, v[1], sizeof v[1]);
                fmt_num(f->min, v[2], sizeof v[2]);
                fmt_num(f->quantiles[3], v[3], sizeof v[3]);
                fmt_num(f->max, v[4], sizeof v[4]);
            } else {
                snprintf(v[0], sizeof v[0], "%zu levels", f->n_levels);
                for (int k = 1; k < 5; k++)
                    v[k][0] = '\0';
            }
            const char *cells[] = {f->name, type_name(f->type), cnt, miss, v[0], v[1], v[2], v[3],
                                   v[4]};
            cli_table_add(tab, cells);
        }
        cli_table_print(tab, stdout);
        cli_table_free(tab);
        if (a.output)
            printf("\nprofile written to %s\n", a.output);
    }
    exit_code = 0;
done:
    cairn_free(json);
    cairn_profile_free(p);
    cairn_table_free(t);
    cairn_close(ctx);
    return exit_code;
}

static int data_hash(int argc, char **argv)
{
    static const int allowed[] = {OPT_JSON, OPT_RAW};
    data_args a = {0};
    bool done;
    int rc =
        parse_args(argc, argv, usage_hash, help_hash, allowed, CN_ARRAY_LEN(allowed), &a, &done);
    if (done)
        return rc;
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_csv_opts o = csv_opts(&a);
    int exit_code = 0;
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    w.flat_from = 2; /* one line per file */
    if (a.json)
        cn_jsonw_array_begin(&w);
    for (int i = a.first_file; i < argc; i++) {
        cairn_data_digest d;
        if (a.raw) {
            char hex[65];
            int64_t size = 0;
            if (cairn_file_sha256(ctx, argv[i], hex, &size) != CAIRN_OK) {
                cli_fail(ctx);
                exit_code = 1;
            } else if (a.json) {
                cn_jsonw_object_begin(&w);
                cn_jsonw_kstring(&w, "path", argv[i]);
                cn_jsonw_kstring(&w, "sha256", hex);
                cn_jsonw_kint(&w, "size_bytes", size);
                cn_jsonw_object_end(&w);
            } else {
                printf("%s  %s\n", hex, argv[i]);
            }
            continue;
        }
        if (cairn_data_hash(ctx, argv[i], &o, &d) != CAIRN_OK) {
            cli_fail(ctx);
            exit_code = 1;
            continue;
        }
        if (a.json) {
            cn_jsonw_object_begin(&w);
            cn_jsonw_kstring(&w, "path", argv[i]);
            cn_jsonw_kstring(&w, "sha256", d.file_sha256);
            cn_jsonw_kint(&w, "size_bytes", d.size_bytes);
            cn_jsonw_kint(&w, "n_rows", (int64_t)d.n_rows);
            cn_jsonw_kint(&w, "n_cols", (int64_t)d.n_cols);
            cn_jsonw_kstring(&w, "content_sha256", d.content_sha256);
            cn_jsonw_object_end(&w);
        } else {
            printf("%s  %zu x %zu  content %s  %s\n", d.file_sha256, d.n_rows, d.n_cols,
                   d.content_sha256, argv[i]);
        }
    }
    if (a.json) {
        cn_jsonw_array_end(&w);
        cn_jsonw_finish(&w);
    }
    cn_jsonw_release(&w);
    cairn_close(ctx);
    return exit_code;
}

static const cli_command verbs[] = {
    {"validate", data_validate,
     "check schema, ranges, missing values, duplicates, balance, splits"},
    {"split", data_split, "split rows into train, validation and test index files"},
    {"profile", data_profile, "per-column statistics and histograms: a reference profile"},
    {"hash", data_hash, "SHA-256, shape and content digest of files"},
};

int cmd_data(int argc, char **argv)
{
    static const char *const lines[] = {SYN_VALIDATE, SYN_SPLIT, SYN_PROFILE, SYN_HASH};
    static const cli_synopsis synopsis = {lines, CN_ARRAY_LEN(lines), NULL, 0};
    return cli_group_main("data", &synopsis, verbs, CN_ARRAY_LEN(verbs), argc, argv);
}
