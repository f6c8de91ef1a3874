/* SPDX-License-Identifier: MIT */
/* util.c - helpers shared by the command files: store opening, errors, option handling,
 * JSON strings, metric lines, tables, times. */
#include <getopt.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "cli.h"
#include "base/xmalloc.h"
#include "base/banned.h"

const char *cli_store_uri;
const char *cli_artifact_root;

cairn_ctx *cli_open_store(void)
{
    cairn_open_opts opts = CAIRN_OPEN_OPTS_INIT;
    opts.artifact_root = cli_artifact_root;
    cairn_ctx *ctx = NULL;
    if (cairn_open(cli_store_uri, &opts, &ctx) != CAIRN_OK) {
        cli_fail(ctx);
        cairn_close(ctx);
        return NULL;
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

cairn_ctx *cli_open_store_log(cairn_log_level max_level)
{
    cairn_ctx *ctx = cli_open_store();
    if (ctx)
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

int cli_dispatch(const char *group, const cli_command *verbs, size_t n_verbs, int argc, char **argv)
{
    bool help = argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0;
    if (!help) {
        for (size_t i = 0; i < n_verbs; i++)
            if (strcmp(argv[1], verbs[i].name) == 0)
                return verbs[i].fn(argc - 1, argv + 1);
    }
    FILE *out = help && argc >= 2 ? stdout : stderr;
    fprintf(out, "usage: cairn %s <verb> [options]\n\nverbs:\n", group);
    for (size_t i = 0; i < n_verbs; i++)
        fprintf(out, "  %-10s %s\n", verbs[i].name, verbs[i].summary);
    if (help && argc >= 2)
        return 0;
    if (argc >= 2)
        fprintf(stderr, "cairn: error: unknown verb '%s' for 'cairn %s'\n", argv[1], group);
    return 2;
}

int cli_dispatch_usages(const char *group, const char *const *usages, size_t n_usages,
                        const cli_command *verbs, size_t n_verbs, int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "--help") != 0 && strcmp(argv[1], "-h") != 0))
        return cli_dispatch(group, verbs, n_verbs, argc, argv);
    for (size_t i = 0; i < n_usages; i++)
        printf("%s%s", i ? "   or: " : "usage: ", usages[i] + strlen("usage: "));
    printf("\nverbs:\n");
    for (size_t i = 0; i < n_verbs; i++)
        printf("  %-10s %s\n", verbs[i].name, verbs[i].summary);
    printf("\nRun 'cairn %s <verb> --help' for a verb's options.\n", group);
    return 0;
}

int cli_other_option(int c, const char *usage, const char *help, char **argv)
{
    if (c == 'h') {
        fputs(usage, stdout);
        fputs(help, stdout);
        return 0;
    }
    if (c == ':')
        return cli_usage(usage, "%s needs a value", argv[optind - 1]);
    return cli_usage(usage, "unknown option '%s'", argv[optind - 1]);
}

void cli_json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(out, "\\%c", c);
        else if (c < 0x20)
            fprintf(out, "\\u%04x", c);
        else
            fputc(c, out);
    }
    fputc('"', out);
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

void cli_table_free(cli_table *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_rows * t->n_cols; i++)
        free(t->cells[i]);
    free(t->cells);
    free(t);
}
