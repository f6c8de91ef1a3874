/* SPDX-License-Identifier: MIT */
/* cmd_study.c - `cairn study list|show|best|trials|delete|plot|export|import`: reads studies
 * through the public API (cairn/hpo.h) and renders tables or --json. */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"
#include "cairn/hpo.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/str.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char *const synopsis_lines[] = {
    "cairn study list [--json]",
    "cairn study show NAME [--json]",
    "cairn study best NAME [--json]",
    "cairn study trials NAME [--json]",
    "cairn study delete NAME",
    "cairn study plot NAME [--out DIR] [--json]",
    "cairn study export NAME [--format json|csv|optuna-journal] [-o FILE]",
    "cairn study import FILE [--study NAME] [--as NAME] [--experiment NAME]",
};
static const cli_verb_help helps[] = {
    {"list", "Lists the studies of the store: name, trials by state, objective and direction,\n"
             "best value so far.\n"
             "\n"
             "options:\n"
             "      --json      print {\"studies\": [...]} as JSON\n"
             "  -h, --help      this help\n"
             "\n"
             "examples:\n"
             "  cairn study list\n"
             "  cairn study list --json\n"},
    {"show", "Shows a study: its objective metric and direction, sampler, pruner, seed,\n"
             "experiment, trial counts by state, best trial and search space.\n"
             "\n"
             "options:\n"
             "      --json      print it as JSON\n"
             "  -h, --help      this help\n"
             "\n"
             "examples:\n"
             "  cairn study show lr-sweep\n"},
    {"best", "Prints the best COMPLETE trial of a study: its number, value, params and run.\n"
             "\n"
             "options:\n"
             "      --json      print it as JSON\n"
             "  -h, --help      this help\n"
             "\n"
             "examples:\n"
             "  cairn study best lr-sweep\n"
             "  cairn study best lr-sweep --json\n"},
    {"trials", "Lists every trial of a study: number, state, value, params, run and duration.\n"
               "\n"
               "options:\n"
               "      --json      print {\"trials\": [...]} as JSON\n"
               "  -h, --help      this help\n"
               "\n"
               "examples:\n"
               "  cairn study trials lr-sweep\n"},
    {"delete", "Deletes a study and its trials; the trials' runs stay in their experiment.\n"
               "\n"
               "options:\n"
               "  -h, --help      this help\n"
               "\n"
               "examples:\n"
               "  cairn study delete lr-sweep\n"},
};
static const cli_synopsis synopsis = {synopsis_lines, CN_ARRAY_LEN(synopsis_lines), helps,
                                      CN_ARRAY_LEN(helps)};

static const char *usage_of(const char *verb)
{
    return cli_verb_usage(&synopsis, verb);
}

static cairn_study *load(cairn_ctx *ctx, const char *name)
{
    cairn_study_opts o = CAIRN_STUDY_OPTS_INIT;
    o.must_exist = true;
    cairn_study *s = NULL;
    if (cairn_study_open(ctx, name, &o, &s) != CAIRN_OK)
        return NULL;
    return s;
}

static void write_params(cn_jsonw *w, const cairn_study *s, const cairn_trial *t)
{
    const cairn_space *space = cairn_study_space(s);
    char v[CAIRN_PARAM_VALUE_MAX + 1];
    cn_jsonw_key(w, "params");
    cn_jsonw_object_begin(w);
    for (size_t i = 0; i < t->n_params; i++) {
        if (isnan(t->params[i]))
            continue;
        cairn_param_info info;
        cairn_space_param(space, i, &info);
        cairn_space_format_value(space, i, t->params[i], v, sizeof v);
        cn_jsonw_key(w, info.name);
        if (info.type == CAIRN_SPACE_PARAM_INT)
            cn_jsonw_int(w, (int64_t)t->params[i]);
        else if (info.type == CAIRN_SPACE_PARAM_FLOAT)
            cn_jsonw_double(w, t->params[i]);
        else
            cn_jsonw_string(w, v);
    }
    cn_jsonw_object_end(w);
}

/* A trial's members (`cairn study trials --json`); the caller opens and closes the object. */
static void write_trial_members(cn_jsonw *w, const cairn_study *s, const cairn_trial *t)
{
    cn_jsonw_key(w, "number");
    cn_jsonw_int(w, t->number);
    cn_jsonw_key(w, "state");
    cn_jsonw_string(w, cairn_trial_state_str(t->state));
    cn_jsonw_key(w, "value");
    cn_jsonw_double_or_null(w, t->state == CAIRN_TRIAL_COMPLETE ? t->value : NAN);
    write_params(w, s, t);
    cn_jsonw_key(w, "run_id");
    cn_jsonw_string(w, t->run_id[0] ? t->run_id : NULL);
    cn_jsonw_key(w, "retry_of");
    if (t->retry_of >= 0)
        cn_jsonw_int(w, t->retry_of);
    else
        cn_jsonw_string(w, NULL);
    cn_jsonw_key(w, "start_time");
    cn_jsonw_int(w, t->start_ms);
    cn_jsonw_key(w, "end_time");
    cn_jsonw_int(w, t->end_ms);
    cn_jsonw_key(w, "n_steps");
    cn_jsonw_int(w, (int64_t)t->n_steps);
}

static void write_trial(cn_jsonw *w, const cairn_study *s, const cairn_trial *t)
{
    cn_jsonw_object_begin(w);
    write_trial_members(w, s, t);
    cn_jsonw_object_end(w);
}

static void write_info(cn_jsonw *w, const cairn_study_info *i, bool with_space)
{
    cn_jsonw_object_begin(w);
    cn_jsonw_key(w, "name");
    cn_jsonw_string(w, i->name);
    cn_jsonw_key(w, "experiment_id");
    cn_jsonw_string(w, i->experiment_id);
    cn_jsonw_key(w, "objective");
    cn_jsonw_string(w, i->objective);
    cn_jsonw_key(w, "direction");
    cn_jsonw_string(w, i->maximize ? "maximize" : "minimize");
    cn_jsonw_key(w, "strategy");
    cn_jsonw_string(w, i->strategy);
    cn_jsonw_key(w, "sampler");
    cn_jsonw_string(w, i->sampler);
    cn_jsonw_key(w, "pruner");
    cn_jsonw_string(w, i->pruner);
    cn_jsonw_key(w, "seed");
    cn_jsonw_uint(w, i->seed);
    cn_jsonw_key(w, "creation_time");
    cn_jsonw_int(w, i->creation_ms);
    cn_jsonw_key(w, "n_trials");
    cn_jsonw_int(w, i->n_trials);
    cn_jsonw_key(w, "n_complete");
    cn_jsonw_int(w, i->n_complete);
    cn_jsonw_key(w, "n_pruned");
    cn_jsonw_int(w, i->n_pruned);
    cn_jsonw_key(w, "n_failed");
    cn_jsonw_int(w, i->n_failed);
    cn_jsonw_key(w, "n_running");
    cn_jsonw_int(w, i->n_running);
    cn_jsonw_key(w, "best_value");
    cn_jsonw_double_or_null(w, i->has_best ? i->best_value : NAN);
    if (with_space) {
        cn_jsonw_key(w, "space");
        cn_jsonw_string(w, i->space);
    }
    cn_jsonw_object_end(w);
}

static int study_list(int argc, char **argv)
{
    bool json = false;
    const char *usage = usage_of("list");
    int code = cli_simple_args(argc, argv, usage, true, 0, false, &json);
    if (code >= 0)
        return code;
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    cairn_study_list *list = NULL;
    if (cairn_studies_list(ctx, &list) != CAIRN_OK) {
        code = cli_fail(ctx);
        cairn_close(ctx);
        return code;
    }
    if (json) {
        cn_jsonw w;
        cn_jsonw_init(&w, stdout, 2);
        cn_jsonw_object_begin(&w);
        cn_jsonw_key(&w, "studies");
        cn_jsonw_array_begin(&w);
        for (size_t i = 0; i < list->n; i++)
            write_info(&w, &list->items[i], false);
        cn_jsonw_array_end(&w);
        cn_jsonw_object_end(&w);
        cn_jsonw_finish(&w);
        cn_jsonw_release(&w);
    } else {
        static const char *const headers[] = {"name",   "trials", "complete",  "pruned",
                                              "failed", "best",   "objective", "sampler"};
        cli_table *t = cli_table_new(8, headers);
        for (size_t i = 0; i < list->n; i++) {
            const cairn_study_info *s = &list->items[i];
            char nt[24], nc[24], np[24], nf[24], best[40] = "-", obj[300];
            snprintf(nt, sizeof nt, "%lld", (long long)s->n_trials);
            snprintf(nc, sizeof nc, "%lld", (long long)s->n_complete);
            snprintf(np, sizeof np, "%lld", (long long)s->n_pruned);
            snprintf(nf, sizeof nf, "%lld", (long long)s->n_failed);
            if (s->has_best)
                snprintf(best, sizeof best, "%.6g", s->best_value);
            snprintf(obj, sizeof obj, "%s (%s)", s->objective, s->maximize ? "max" : "min");
            const char *cells[] = {s->name, nt, nc, np, nf, best, obj, s->sampler};
            cli_table_add(t, cells);
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
    }
    cairn_study_list_free(list);
    cairn_close(ctx);
    return 0;
}

static int study_show(int argc, char **argv)
{
    bool json = false;
    const char *usage = usage_of("show");
    int code = cli_simple_args(argc, argv, usage, true, 1, false, &json);
    if (code >= 0)
        return code;
    const char *name = argv[optind];
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    cairn_study_list *list = NULL;
    if (cairn_studies_list(ctx, &list) != CAIRN_OK) {
        code = cli_fail(ctx);
        cairn_close(ctx);
        return code;
    }
    const cairn_study_info *info = NULL;
    for (size_t i = 0; i < list->n; i++)
        if (strcmp(list->items[i].name, name) == 0)
            info = &list->items[i];
    if (!info) {
        code = cli_error("study '%s' not found; `cairn study list` shows them", name);
    } else if (json) {
        cn_jsonw w;
        cn_jsonw_init(&w, stdout, 2);
        write_info(&w, info, true);
        cn_jsonw_finish(&w);
        cn_jsonw_release(&w);
        code = 0;
    } else {
        printf("name:        %s\n", info->name);
        printf("experiment:  %s\n", info->experiment_id);
        printf("objective:   %s (%s, %s)\n", info->objective,
               info->maximize ? "maximize" : "minimize", info->strategy);
        printf("sampler:     %s\n", info->sampler);
        printf("pruner:      %s\n", info->pruner);
        printf("seed:        %llu\n", (unsigned long long)info->seed);
        printf("trials:      %lld (%lld complete, %lld pruned, %lld failed, %lld running)\n",
               (long long)info->n_trials, (long long)info->n_complete, (long long)info->n_pruned,
               (long long)info->n_failed, (long long)info->n_running);
        if (info->has_best)
            printf("best value:  %.10g\n", info->best_value);
        printf("space:\n%s%s", info->space,
               info->space[0] && info->space[strlen(info->space) - 1] == '\n' ? "" : "\n");
        code = 0;
    }
    cairn_study_list_free(list);
    cairn_close(ctx);
    return code;
}

/* best and trials: one study's trials. */
static int study_trials_or_best(int argc, char **argv, bool best_only)
{
    bool json = false;
    const char *usage = usage_of(best_only ? "best" : "trials");
    int code = cli_simple_args(argc, argv, usage, true, 1, false, &json);
    if (code >= 0)
        return code;
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    cairn_study *s = load(ctx, argv[optind]);
    const cairn_trial *trials = NULL;
    cairn_trial best;
    size_t n = 0;
    cairn_status rc = !s          ? CAIRN_ENOTFOUND
                      : best_only ? cairn_study_best(s, &best)
                                  : cairn_study_trials(s, &trials, &n);
    if (rc != CAIRN_OK) {
        code = cli_fail(ctx);
        cairn_study_free(s);
        cairn_close(ctx);
        return code;
    }
    if (best_only) {
        trials = &best;
        n = 1;
    }
    const cairn_space *space = cairn_study_space(s);
    if (json) {
        cn_jsonw w;
        cn_jsonw_init(&w, stdout, 2);
        if (best_only) {
            write_trial(&w, s, &best);
        } else {
            cn_jsonw_object_begin(&w);
            cn_jsonw_key(&w, "trials");
            cn_jsonw_array_begin(&w);
            for (size_t i = 0; i < n; i++)
                write_trial(&w, s, &trials[i]);
            cn_jsonw_array_end(&w);
            cn_jsonw_object_end(&w);
        }
        cn_jsonw_finish(&w);
        cn_jsonw_release(&w);
    } else {
        size_t n_params = cairn_space_n_params(space);
        const char **headers = cn_xcalloc(n_params + 4, sizeof *headers);
        headers[0] = "trial";
        headers[1] = "state";
        headers[2] = "value";
        headers[3] = "run";
        for (size_t i = 0; i < n_params; i++) {
            cairn_param_info info;
            cairn_space_param(space, i, &info);
            headers[4 + i] = info.name;
        }
        cli_table *t = cli_table_new(n_params + 4, headers);
        char **cells = cn_xcalloc(n_params + 4, sizeof *cells);
        for (size_t k = 0; k < n; k++) {
            cells[0] = cn_asprintf("%lld", (long long)trials[k].number);
            cells[1] = cn_xstrdup(cairn_trial_state_str(trials[k].state));
            cells[2] = trials[k].state == CAIRN_TRIAL_COMPLETE
                           ? cn_asprintf("%.6g", trials[k].value)
                           : cn_xstrdup("");
            cells[3] = cn_asprintf("%.8s", trials[k].run_id);
            for (size_t i = 0; i < n_params; i++) {
                char v[64];
                cli_format_param(space, i, trials[k].params[i], v, sizeof v);
                cells[4 + i] = cn_xstrdup(v);
            }
            cli_table_add(t, (const char *const *)cells);
            for (size_t i = 0; i < n_params + 4; i++)
                free(cells[i]);
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
        free(cells);
        free(headers);
    }
    cairn_study_free(s);
    cairn_close(ctx);
    return 0;
}

static int study_best(int argc, char **argv)
{
    return study_trials_or_best(argc, argv, true);
}

static int study_trials(int argc, char **argv)
{
    return study_trials_or_best(argc, argv, false);
}

static int study_delete(int argc, char **argv)
{
    bool json = false;
    const char *usage = usage_of("delete");
    int code = cli_simple_args(argc, argv, usage, false, 1, false, &json);
    if (code >= 0)
        return code;
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    code = 0;
    if (cairn_study_delete(ctx, argv[optind]) != CAIRN_OK)
        code = cli_fail(ctx);
    else
        fprintf(stderr, "cairn: deleted study '%s' (its runs stay)\n", argv[optind]);
    cairn_close(ctx);
    return code;
}

static const char plot_help[] =
    "Writes a study's pictures as SVG into DIR (default: studies/NAME): history.svg (each\n"
    "trial's value and the best so far), importance.svg (parameter importance), slice.svg (the\n"
    "value against each parameter), contour.svg (the value over pairs of the most important\n"
    "numeric parameters) and intermediate.svg (one line per trial that reported intermediate\n"
    "values); a picture with nothing to draw yet is skipped.\n"
    "\n"
    "options:\n"
    "      --out DIR   the folder to write into (created)\n"
    "      --json      print the same data as JSON instead of writing files\n"
    "  -h, --help      this help\n"
    "\n"
    "examples:\n"
    "  cairn study plot lr-sweep\n"
    "  cairn study plot lr-sweep --out plots/lr-sweep\n";

/* The study's folder (as cairn tune's): studies/NAME, '/' and ".." made '_'. */
static char *study_dir(const char *name)
{
    char *dir = cn_asprintf("studies/%s", name);
    for (char *p = dir + 8; *p; p++)
        if (*p == '/' || (p[0] == '.' && p[1] == '.'))
            *p = '_';
    return dir;
}

static int study_plot(int argc, char **argv)
{
    const char *usage = usage_of("plot");
    enum { OPT_OUT = 256, OPT_JSON };
    static const struct option opts[] = {
        {"out", required_argument, NULL, OPT_OUT},
        {"json", no_argument, NULL, OPT_JSON},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *out = NULL;
    bool json = false;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_OUT: out = optarg; break;
        case OPT_JSON: json = true; break;
        case 'h': cli_help(usage, plot_help); return 0;
        default: return cli_other_option(c, usage, plot_help, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage(usage, "expected one study name");
    const char *name = argv[optind];
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    int code = 0;
    cairn_study *s = load(ctx, name);
    if (!s) {
        code = cli_fail(ctx);
    } else if (json) {
        const cairn_trial *trials = NULL;
        size_t n = 0;
        char *text = NULL;
        bool maximize = false;
        cairn_study_objective(s, &maximize, NULL);
        if (cairn_study_trials(s, &trials, &n) != CAIRN_OK ||
            cairn_insight_json(ctx, cairn_study_space(s), trials, n, maximize, &text) != CAIRN_OK)
            code = cli_fail(ctx);
        else
            fputs(text, stdout);
        free(text);
    } else {
        char *dir = out ? cn_xstrdup(out) : study_dir(name);
        unsigned written = 0;
        if (cairn_study_write_plots(s, dir, ~0u, &written) != CAIRN_OK) {
            code = cli_fail(ctx);
        } else {
            for (int w = 0; w < CAIRN_INSIGHT_N_PLOTS; w++)
                if (written & (1u << w))
                    printf("%s/%s\n", dir, cairn_insight_plot_file((cairn_insight_plot)w));
            if (written == 0) {
                fprintf(stderr, "cairn: study '%s' has no finished trial to draw yet\n", name);
                code = 1;
            }
        }
        free(dir);
    }
    cairn_study_free(s);
    cairn_close(ctx);
    return code;
}

/* ---- export and import ---- */

static const char export_help[] =
    "Writes a study with every trial: json (default; the study as `cairn study show --json`\n"
    "with its space, and each trial as `cairn study trials --json` with its intermediate\n"
    "values), csv (one row per trial, its params as columns) or optuna-journal (an Optuna 3.1\n"
    "JournalStorage file: optuna.load_study(study_name=NAME,\n"
    "storage=JournalStorage(JournalFileStorage(FILE))) opens it).\n"
    "\n"
    "options:\n"
    "  -f, --format F       json, csv or optuna-journal\n"
    "  -o, --output FILE    write FILE (replaced) instead of standard output\n"
    "  -h, --help           this help\n"
    "\n"
    "examples:\n"
    "  cairn study export lr-sweep --format csv -o lr-sweep.csv\n"
    "  cairn study export lr-sweep --format optuna-journal -o lr-sweep.journal\n";

/* A CSV cell, quoted when it must be (RFC 4180). */
static void csv_cell(cn_buf *b, const char *v, bool first)
{
    if (!first)
        cn_buf_putc(b, ',');
    if (!strpbrk(v, ",\"\r\n")) {
        cn_buf_puts(b, v);
        return;
    }
    cn_buf_putc(b, '"');
    for (const char *p = v; *p; p++) {
        if (*p == '"')
            cn_buf_putc(b, '"');
        cn_buf_putc(b, *p);
    }
    cn_buf_putc(b, '"');
}

static char *export_csv(const cairn_study *s, const cairn_trial *trials, size_t n)
{
    const cairn_space *space = cairn_study_space(s);
    size_t n_params = cairn_space_n_params(space);
    cn_buf b = CN_BUF_INIT;
    bool maximize = false;
    const char *objective = cairn_study_objective(s, &maximize, NULL);
    csv_cell(&b, "number", true);
    csv_cell(&b, "state", false);
    csv_cell(&b, objective, false);
    for (size_t i = 0; i < n_params; i++) {
        cairn_param_info info;
        cairn_space_param(space, i, &info);
        csv_cell(&b, info.name, false);
    }
    csv_cell(&b, "run_id", false);
    csv_cell(&b, "start_time", false);
    csv_cell(&b, "end_time", false);
    cn_buf_puts(&b, "\n");
    for (size_t k = 0; k < n; k++) {
        const cairn_trial *t = &trials[k];
        char v[CAIRN_PARAM_VALUE_MAX + 1];
        snprintf(v, sizeof v, "%lld", (long long)t->number);
        csv_cell(&b, v, true);
        csv_cell(&b, cairn_trial_state_str(t->state), false);
        v[0] = '\0';
        if (t->state == CAIRN_TRIAL_COMPLETE)
            snprintf(v, sizeof v, "%.17g", t->value);
        csv_cell(&b, v, false);
        for (size_t i = 0; i < n_params; i++) {
            cairn_space_format_value(space, i, t->params[i], v, sizeof v);
            csv_cell(&b, v, false);
        }
        csv_cell(&b, t->run_id, false);
        snprintf(v, sizeof v, "%lld", (long long)t->start_ms);
        csv_cell(&b, v, false);
        snprintf(v, sizeof v, "%lld", (long long)t->end_ms);
        csv_cell(&b, v, false);
        cn_buf_puts(&b, "\n");
    }
    return cn_buf_detach(&b);
}

static void export_json(FILE *out, const cairn_study_info *info, const cairn_study *s,
                        const cairn_trial *trials, size_t n)
{
    cn_jsonw w;
    cn_jsonw_init(&w, out, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_key(&w, "study");
    write_info(&w, info, true);
    cn_jsonw_key(&w, "trials");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < n; i++) {
        cn_jsonw_object_begin(&w);
        write_trial_members(&w, s, &trials[i]);
        cn_jsonw_key(&w, "intermediate_values");
        cn_jsonw_array_begin(&w);
        for (size_t k = 0; k < trials[i].n_steps; k++) {
            cn_jsonw_object_begin(&w);
            cn_jsonw_kint(&w, "step", trials[i].steps[k]);
            cn_jsonw_key(&w, "value");
            cn_jsonw_double_or_null(&w, trials[i].values[k]);
            cn_jsonw_object_end(&w);
        }
        cn_jsonw_array_end(&w);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_jsonw_release(&w);
}

static int write_output(const char *path, const char *text, size_t len)
{
    if (!path) {
        if (fwrite(text, 1, len, stdout) != len || fflush(stdout) != 0)
            return cli_error("cannot write the export to standard output");
        return 0;
    }
    if (cn_fs_write_atomic(path, text, len) != 0)
        return cli_error("cannot write '%s': %s", path, cn_fs_strerror(errno));
    return 0;
}

static int study_export(int argc, char **argv)
{
    const char *usage = usage_of("export");
    static const struct option opts[] = {
        {"format", required_argument, NULL, 'f'},
        {"output", required_argument, NULL, 'o'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    const char *format = "json", *output = NULL;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":hf:o:", opts, NULL)) != -1) {
        switch (c) {
        case 'f': format = optarg; break;
        case 'o': output = optarg; break;
        default: return cli_other_option(c, usage, export_help, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage(usage, "expected one study name");
    bool json = strcmp(format, "json") == 0, csv = strcmp(format, "csv") == 0;
    bool journal = strcmp(format, "optuna-journal") == 0 || strcmp(format, "optuna") == 0;
    if (!json && !csv && !journal)
        return cli_usage(usage, "unknown --format '%s'; use json, csv or optuna-journal", format);
    const char *name = argv[optind];
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    int code = 0;
    cairn_study *s = load(ctx, name);
    const cairn_trial *trials = NULL;
    size_t n = 0;
    cairn_study_list *list = NULL;
    char *text = NULL;
    size_t len = 0;
    if (!s || cairn_study_trials(s, &trials, &n) != CAIRN_OK) {
        code = cli_fail(ctx);
    } else if (journal) {
        if (cairn_study_journal_text(s, &text, &len) != CAIRN_OK)
            code = cli_fail(ctx);
    } else if (csv) {
        text = export_csv(s, trials, n);
        len = strlen(text);
    } else if (cairn_studies_list(ctx, &list) != CAIRN_OK) {
        code = cli_fail(ctx);
    } else {
        const cairn_study_info *info = NULL;
        for (size_t i = 0; i < list->n; i++)
            if (strcmp(list->items[i].name, name) == 0)
                info = &list->items[i];
        char *buf = NULL;
        size_t size = 0;
        FILE *mem = info ? open_memstream(&buf, &size) : NULL;
        if (!mem) {
            code = cli_error("study '%s': cannot gather its export", name);
        } else {
            export_json(mem, info, s, trials, n);
            fclose(mem);
            text = buf;
            len = size;
        }
    }
    if (code == 0 && text)
        code = write_output(output, text, len);
    if (code == 0 && output)
        fprintf(stderr, "cairn: exported study '%s' (%zu trials) to %s\n", name, n, output);
    free(text);
    cairn_study_list_free(list);
    cairn_study_free(s);
    cairn_close(ctx);
    return code;
}

static const char import_help[] =
    "Imports an Optuna JournalStorage file (JournalFileStorage, written by Optuna or by `cairn\n"
    "study export --format optuna-journal`) as a new study: its search space is rebuilt from\n"
    "the distributions the trials used, and each trial becomes a trial of the study and a run\n"
    "of its experiment, with its state, value and intermediate values. Nothing is imported\n"
    "when anything is wrong.\n"
    "\n"
    "options:\n"
    "      --study NAME       the journal's study to import (needed when it holds several)\n"
    "      --as NAME          the new study's name (default: the journal study's name)\n"
    "  -e, --experiment NAME  the trials' experiment (default: the study's name)\n"
    "  -h, --help             this help\n"
    "\n"
    "examples:\n"
    "  cairn study import optuna.journal --study my-study --as my-study-imported\n";

static int study_import(int argc, char **argv)
{
    const char *usage = usage_of("import");
    enum { OPT_STUDY = 256, OPT_AS };
    static const struct option opts[] = {
        {"study", required_argument, NULL, OPT_STUDY},
        {"study-name", required_argument, NULL, OPT_STUDY},
        {"as", required_argument, NULL, OPT_AS},
        {"experiment", required_argument, NULL, 'e'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    cairn_journal_import_opts o = CAIRN_JOURNAL_IMPORT_OPTS_INIT;
    optind = 1;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, ":he:", opts, NULL)) != -1) {
        switch (c) {
        case OPT_STUDY: o.study = optarg; break;
        case OPT_AS: o.name = optarg; break;
        case 'e': o.experiment = optarg; break;
        default: return cli_other_option(c, usage, import_help, argv);
        }
    }
    if (argc - optind != 1)
        return cli_usage(usage, "expected one journal file");
    const char *path = argv[optind];
    cairn_ctx *ctx = cli_open_store();
    if (!ctx)
        return 1;
    int code = 0;
    cairn_study *s = NULL;
    const cairn_trial *trials = NULL;
    size_t n = 0;
    if (cairn_study_import_journal(ctx, path, &o, &s) != CAIRN_OK ||
        cairn_study_trials(s, &trials, &n) != CAIRN_OK) {
        code = cli_fail(ctx);
    } else {
        size_t counts[CAIRN_TRIAL_STALE + 1] = {0};
        for (size_t i = 0; i < n; i++)
            counts[trials[i].state]++;
        printf("imported study '%s' from %s: %zu trials (%zu complete, %zu pruned, %zu failed, "
               "%zu running, %zu waiting), %zu parameters\n",
               cairn_study_name(s), path, n, counts[CAIRN_TRIAL_COMPLETE],
               counts[CAIRN_TRIAL_PRUNED], counts[CAIRN_TRIAL_FAIL], counts[CAIRN_TRIAL_RUNNING],
               counts[CAIRN_TRIAL_WAITING], cairn_space_n_params(cairn_study_space(s)));
    }
    cairn_study_free(s);
    cairn_close(ctx);
    return code;
}

static const cli_command verbs[] = {
    {"list", study_list, "list the studies with their trial counts and best values"},
    {"show", study_show, "show a study: objective, sampler, pruner, counts, space"},
    {"best", study_best, "the best trial of a study"},
    {"trials", study_trials, "every trial of a study: number, state, value, params"},
    {"delete", study_delete, "delete a study and its trials (their runs stay)"},
    {"plot", study_plot,
     "a study's pictures as SVG (history, importance, slices, contours, curves)"},
    {"export", study_export, "write a study with its trials as JSON, CSV or an Optuna journal"},
    {"import", study_import, "import an Optuna JournalStorage file as a new study"},
};

int cmd_study(int argc, char **argv)
{
    return cli_group_main("study", &synopsis, verbs, CN_ARRAY_LEN(verbs), argc, argv);
}
