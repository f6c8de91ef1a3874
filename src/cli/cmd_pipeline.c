/* SPDX-License-Identifier: MIT */
/* cmd_pipeline.c - `cairn pipeline`: run a pipeline.yaml's stages with their cache (run),
 * show the last run (status), stop the server a deploy stage started (stop). The work is
 * cairn_pipeline_run() and friends (include/cairn/pipeline.h); this file parses, prints
 * progress and renders. Output formats: docs/cli/cairn-pipeline.md. */
#include <getopt.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "cairn/pipeline.h"
#include "base/jsonw.h"
#include "base/str.h"
#include "base/time.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char *const synopsis_lines[] = {
    "cairn pipeline run [PIPELINE] [--dry-run] [--from STAGE] [--json]",
    "cairn pipeline status [PIPELINE] [--json]",
    "cairn pipeline stop [PIPELINE]",
    "cairn pipeline watch [PIPELINE] [--once] [--interval DUR] [--canary PCT] [--json]",
};
static const cli_verb_help helps[] = {
    {"run",
     "Runs the stages of PIPELINE (default pipeline.yaml) in the order their 'after:' lists\n"
     "and their inputs and outputs make: each stage is a child process of this cairn (or the\n"
     "stage's own command) and a run in the experiment named after the pipeline, under one\n"
     "parent run. A stage whose input files, settings and upstream outputs are unchanged since\n"
     "its last successful run is skipped and that run's outputs reused, so a pipeline that\n"
     "failed or was killed starts again at the stage that did not finish. Progress goes to\n"
     "stderr, one line per stage; the summary to stdout. Exits 1 when a stage fails.\n"
     "\n"
     "options:\n"
     "      --dry-run      print what each stage would do (run, or skip as cached) and why,\n"
     "                     run nothing\n"
     "      --from STAGE   run STAGE and every stage after it even when cached\n"
     "      --json         print {\"pipeline\", \"run_id\", \"status\", \"stages\": [...]} as "
     "JSON\n"
     "  -h, --help         this help\n"
     "\n"
     "examples:\n"
     "  cairn pipeline run\n"
     "  cairn pipeline run project/pipeline.yaml --dry-run\n"
     "  cairn pipeline run --from train --json\n"},
    {"status", "Shows the last run of PIPELINE (default pipeline.yaml): its parent run and\n"
               "status, and each stage's state (ran, cached, failed, running, pending), duration\n"
               "and why it ran or was skipped.\n"
               "\n"
               "options:\n"
               "      --json   print the same as 'pipeline run --json'\n"
               "  -h, --help   this help\n"
               "\n"
               "examples:\n"
               "  cairn pipeline status\n"
               "  cairn pipeline status project/pipeline.yaml --json\n"},
    {"stop", "Stops the model server a deploy stage of PIPELINE (default pipeline.yaml)\n"
             "started in the background (its pid file is in .cairn-pipeline/STAGE/serve.pid).\n"
             "\n"
             "options:\n"
             "  -h, --help   this help\n"
             "\n"
             "examples:\n"
             "  cairn pipeline stop\n"
             "  cairn pipeline stop project/pipeline.yaml\n"},
    {"watch",
     "Continual training. Checks the trigger: section of PIPELINE (default pipeline.yaml):\n"
     "on_drift fires when the feed (trigger.on_drift.data) drifted from the served model's\n"
     "training rows, or when the model's monitoring run decided dataset drift; schedule fires\n"
     "when 'every' has passed since the last retrain. When it fires, the served version's\n"
     "training data plus the feed are written to .cairn-pipeline/continual/N/data.csv and\n"
     "trained with the train stage's config (same learner and params; the old rows keep their\n"
     "split, 30% of the feed is held out). The candidate is gated against forgetting: champion\n"
     "and candidate are scored on the same held-out rows, per slice of the old rows and on\n"
     "the new ones (McNemar, or Wilcoxon for regression; Holm over the old slices); it is\n"
     "refused when significantly worse on any. Both ways it is registered; a candidate that\n"
     "passes gets the alias 'canary' and is served beside the champion with --route.\n"
     "Without --once it checks every --interval until SIGINT or SIGTERM.\n"
     "Exit: 0 nothing to do or a canary deployed, 1 the gate refused the candidate, 2 an\n"
     "error.\n"
     "\n"
     "options:\n"
     "      --once           check once, act if triggered, exit\n"
     "      --interval DUR   time between checks: 90s, 30m, 1h, 1d (default: the\n"
     "                       schedule's 'every', else 60s)\n"
     "      --canary PCT     the canary's share of the requests, 1 to 99 (default 10)\n"
     "      --json           print each check's report as JSON\n"
     "  -h, --help           this help\n"
     "\n"
     "examples:\n"
     "  cairn pipeline watch --once\n"
     "  cairn pipeline watch project/pipeline.yaml --interval 10m --canary 20\n"},
};
static const cli_synopsis synopsis = {synopsis_lines, CN_ARRAY_LEN(synopsis_lines), helps,
                                      CN_ARRAY_LEN(helps)};

static void format_seconds(int64_t ms, char *out, size_t size)
{
    if (ms < 10000)
        snprintf(out, size, "%.1f s", (double)ms / 1000.0);
    else
        cli_format_duration(ms, out, size);
}

typedef struct progress_state {
    bool dry;
} progress_state;

static void progress(void *user, size_t index, size_t n, const cairn_stage_result *s, bool is_done)
{
    progress_state *ps = user;
    if (ps->dry) {
        if (is_done)
            printf("%-10s %-12s %s\n", s->state == CAIRN_STAGE_CACHED ? "skip" : "would run",
                   s->name, s->reason ? s->reason : "");
        return;
    }
    if (!is_done) {
        fprintf(stderr, "[%zu/%zu] %-12s %-9s", index + 1, n, s->name, s->kind);
        if (s->state != CAIRN_STAGE_CACHED)
            fprintf(stderr, " ... ");
        fflush(stderr);
        return;
    }
    char took[32];
    format_seconds(s->duration_ms, took, sizeof took);
    if (s->state == CAIRN_STAGE_CACHED)
        fprintf(stderr, " cached (%s)\n", s->reason ? s->reason : "unchanged");
    else if (s->state == CAIRN_STAGE_FAILED)
        fprintf(stderr, "failed after %s\n", took);
    else
        fprintf(stderr, "%s (%s)\n", took, s->reason ? s->reason : "");
}

static void write_report(const cairn_pipeline_report *r, bool dry)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "pipeline", r->pipeline);
    cn_jsonw_kstring(&w, "run_id", r->run_id);
    cn_jsonw_kstring(&w, "status", dry ? "DRY_RUN" : cairn_run_status_str(r->status));
    cn_jsonw_kint(&w, "start_time", r->start_time_ms);
    cn_jsonw_kstring(&w, "serve_url", r->serve_url);
    cn_jsonw_key(&w, "stages");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < r->n_stages; i++) {
        const cairn_stage_result *s = &r->stages[i];
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "name", s->name);
        cn_jsonw_kstring(&w, "kind", s->kind);
        cn_jsonw_kstring(&w, "state", cairn_stage_state_str(s->state));
        cn_jsonw_kbool(&w, "cache_hit", s->state == CAIRN_STAGE_CACHED);
        cn_jsonw_kstring(&w, "reason", s->reason);
        cn_jsonw_kstring(&w, "message", s->message);
        cn_jsonw_kstring(&w, "run_id", s->run_id);
        cn_jsonw_kint(&w, "duration_ms", s->duration_ms);
        cn_jsonw_key(&w, "outputs");
        cn_jsonw_object_begin(&w);
        for (size_t k = 0; k < s->n_outputs; k++)
            cn_jsonw_kstring(&w, s->output_keys[k], s->output_values[k]);
        cn_jsonw_object_end(&w);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_jsonw_release(&w);
}

static const char *output_of(const cairn_stage_result *s, const char *key)
{
    for (size_t k = 0; k < s->n_outputs; k++)
        if (strcmp(s->output_keys[k], key) == 0)
            return s->output_values[k];
    return NULL;
}

static void print_summary(const cairn_pipeline_report *r)
{
    size_t ran = 0, cached = 0;
    const cairn_stage_result *failed = NULL, *last = NULL;
    for (size_t i = 0; i < r->n_stages; i++) {
        const cairn_stage_result *s = &r->stages[i];
        ran += s->state == CAIRN_STAGE_RAN;
        cached += s->state == CAIRN_STAGE_CACHED;
        if (s->state == CAIRN_STAGE_FAILED && !failed)
            failed = s;
        if (s->state == CAIRN_STAGE_RAN || s->state == CAIRN_STAGE_CACHED)
            last = s;
    }
    printf("pipeline %s: %s, %zu of %zu stages ran, %zu cached (run %s)\n", r->pipeline,
           failed ? "FAILED" : "done", ran, r->n_stages, cached, r->run_id ? r->run_id : "-");
    if (last) {
        const char *run = output_of(last, "run_id"), *model = output_of(last, "model");
        const char *version = output_of(last, "version"), *alias = output_of(last, "alias");
        if (run)
            printf("training run: %s\n", run);
        if (model && version)
            printf("model: %s version %s%s%s\n", model, version, alias ? ", alias " : "",
                   alias ? alias : "");
        const char *card = output_of(last, "card");
        if (card)
            printf("model card: %s (in the pipeline's folder; stored with the version: 'cairn "
                   "model card %s@%s --show')\n",
                   card, model ? model : "NAME", version ? version : "VERSION");
    }
    if (r->serve_url)
        printf("served at: %s (stop it with 'cairn pipeline stop')\n", r->serve_url);
}

/* The store and artifact folder as stages must see them: stages run in the pipeline's folder,
 * so a relative SQLite path becomes absolute. */
static char *absolute_uri(const char *uri)
{
    char cwd[PATH_MAX];
    if (!uri || !*uri || !getcwd(cwd, sizeof cwd))
        return uri ? cn_xstrdup(uri) : NULL;
    if (cn_str_starts(uri, "sqlite://") && uri[9] != '/')
        return cn_asprintf("sqlite://%s/%s", cwd, uri + 9);
    if (cn_str_starts(uri, "sqlite:") && !cn_str_starts(uri, "sqlite://") && uri[7] != '/')
        return cn_asprintf("sqlite:%s/%s", cwd, uri + 7);
    if (!strstr(uri, ":") && uri[0] != '/')
        return cn_asprintf("%s/%s", cwd, uri);
    return cn_xstrdup(uri);
}

static int pipeline_run(int argc, char **argv)
{
    enum { OPT_DRY = 1000, OPT_FROM, OPT_JSON };
    static const struct option opts[] = {{"dry-run", no_argument, NULL, OPT_DRY},
                                         {"from", required_argument, NULL, OPT_FROM},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    const char *usage = cli_verb_usage(&synopsis, "run");
    cairn_pipeline_opts po = CAIRN_PIPELINE_OPTS_INIT;
    bool json = false;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_DRY: po.is_dry_run = true; break;
        case OPT_FROM: po.from_stage = optarg; break;
        case OPT_JSON: json = true; break;
        default: return cli_other_option(c, usage, NULL, argv);
        }
    }
    if (argc - optind > 1)
        return cli_usage(usage, "expected at most one PIPELINE file");
    const char *path = optind < argc ? argv[optind] : "pipeline.yaml";
    cairn_ctx *ctx = NULL;
    cairn_pipeline *p = NULL;
    cairn_pipeline_report *rep = NULL;
    char exe[PATH_MAX];
    char *store = NULL, *artifacts = NULL;
    int code = 1;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        cli_error("cannot find this cairn executable (/proc/self/exe) to run the stages with");
        goto done;
    }
    exe[n] = '\0';
    ctx = cli_open_store_log(CAIRN_LOG_WARN);
    if (!ctx)
        goto done;
    if (cairn_pipeline_load(ctx, path, &p) != CAIRN_OK) {
        cli_fail(ctx);
        goto done;
    }
    store = absolute_uri(cairn_store_uri(ctx));
    artifacts = absolute_uri(cairn_artifact_root(ctx));
    progress_state ps = {po.is_dry_run};
    po.cairn_exe = exe;
    po.store_uri = store;
    po.artifact_root = artifacts;
    po.progress = json ? NULL : progress;
    po.user = &ps;
    if (cairn_pipeline_run(ctx, p, &po, &rep) != CAIRN_OK) {
        cli_fail(ctx);
        goto done;
    }
    if (json)
        write_report(rep, po.is_dry_run);
    else if (!po.is_dry_run)
        print_summary(rep);
    code = 0;
    for (size_t i = 0; i < rep->n_stages; i++)
        if (rep->stages[i].state == CAIRN_STAGE_FAILED) {
            cli_error("pipeline '%s' stopped at stage '%s': %s", path, rep->stages[i].name,
                      rep->stages[i].message ? rep->stages[i].message : "failed");
            fprintf(stderr,
                    "cairn: hint: fix it and run 'cairn pipeline run' again: the stages "
                    "before '%s' are cached and it resumes there\n",
                    rep->stages[i].name);
            code = 1;
            break;
        }
done:
    cairn_pipeline_report_free(rep);
    cairn_pipeline_free(p);
    free(store);
    free(artifacts);
    cairn_close(ctx);
    return code;
}

static int pipeline_status(int argc, char **argv)
{
    bool json = false;
    int rc = cli_simple_args(argc, argv, cli_verb_usage(&synopsis, "status"), true, 0, true, &json);
    if (rc >= 0)
        return rc;
    if (argc - optind > 1)
        return cli_usage(cli_verb_usage(&synopsis, "status"), "expected at most one PIPELINE");
    const char *path = optind < argc ? argv[optind] : "pipeline.yaml";
    cairn_ctx *ctx = cli_open_store();
    cairn_pipeline *p = NULL;
    cairn_pipeline_report *rep = NULL;
    int code = 1;
    if (!ctx)
        return 1;
    if (cairn_pipeline_load(ctx, path, &p) != CAIRN_OK ||
        cairn_pipeline_status(ctx, p, &rep) != CAIRN_OK) {
        cli_fail(ctx);
        goto done;
    }
    if (json) {
        write_report(rep, false);
    } else {
        char when[64];
        cli_format_time(rep->start_time_ms, when, sizeof when);
        printf("pipeline %s: run %s, %s, started %s\n", rep->pipeline, rep->run_id,
               cairn_run_status_str(rep->status), when);
        static const char *const headers[] = {"STAGE", "KIND", "STATE", "DURATION", "RUN", "WHY"};
        cli_table *t = cli_table_new(6, headers);
        for (size_t i = 0; i < rep->n_stages; i++) {
            const cairn_stage_result *s = &rep->stages[i];
            char took[32] = "-", run[16] = "-", clip[400];
            if (s->run_id) {
                format_seconds(s->duration_ms, took, sizeof took);
                snprintf(run, sizeof run, "%.8s", s->run_id);
            }
            const char *why = s->state == CAIRN_STAGE_FAILED && s->message ? s->message
                              : s->reason                                  ? s->reason
                                                                           : "";
            const char *cells[] = {s->name, s->kind, cairn_stage_state_str(s->state),
                                   took,    run,     cli_clip(why, 80, clip, sizeof clip)};
            cli_table_add(t, cells);
        }
        cli_table_print(t, stdout);
        cli_table_free(t);
        if (rep->serve_url)
            printf("served at: %s\n", rep->serve_url);
    }
    code = 0;
done:
    cairn_pipeline_report_free(rep);
    cairn_pipeline_free(p);
    cairn_close(ctx);
    return code;
}

static int pipeline_stop(int argc, char **argv)
{
    bool json = false;
    const char *usage = cli_verb_usage(&synopsis, "stop");
    int rc = cli_simple_args(argc, argv, usage, false, 0, true, &json);
    if (rc >= 0)
        return rc;
    if (argc - optind > 1)
        return cli_usage(usage, "expected at most one PIPELINE");
    const char *path = optind < argc ? argv[optind] : "pipeline.yaml";
    cairn_ctx *ctx = cairn_ctx_new();
    cairn_pipeline *p = NULL;
    bool stopped = false;
    int code = 1;
    if (cairn_pipeline_load(ctx, path, &p) != CAIRN_OK ||
        cairn_pipeline_stop(ctx, p, 15000, &stopped) != CAIRN_OK) {
        cli_fail(ctx);
        goto done;
    }
    printf("%s\n", stopped ? "stopped the pipeline's server"
                           : "no server of this pipeline is "
                             "running");
    code = 0;
done:
    cairn_pipeline_free(p);
    cairn_close(ctx);
    return code;
}

/* ---- watch ---- */

static volatile sig_atomic_t watch_stop;

static void on_stop_signal(int sig)
{
    (void)sig;
    watch_stop = 1;
}

/* 90s, 30m, 1h, 1d or plain seconds, as milliseconds; false unless 1 s to 365 days. */
static bool parse_duration(const char *text, int64_t *ms)
{
    char *end = NULL;
    double x = strtod(text, &end), unit = 0;
    if (!end || end == text)
        return false;
    if (*end == '\0' || strcmp(end, "s") == 0)
        unit = 1;
    else if (strcmp(end, "m") == 0)
        unit = 60;
    else if (strcmp(end, "h") == 0)
        unit = 3600;
    else if (strcmp(end, "d") == 0)
        unit = 86400;
    if (unit == 0 || !(x * unit >= 1) || x * unit > 365.0 * 86400)
        return false;
    *ms = (int64_t)(x * unit * 1000);
    return true;
}

static const char *outcome_str(cairn_watch_outcome o)
{
    return o == CAIRN_WATCH_DEPLOYED ? "deployed" : o == CAIRN_WATCH_REFUSED ? "refused" : "idle";
}

static void watch_json(const cairn_watch_report *r)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "outcome", outcome_str(r->outcome));
    cn_jsonw_kstring(&w, "trigger", r->trigger);
    cn_jsonw_kstring(&w, "reason", r->reason);
    cn_jsonw_key(&w, "drift_share");
    cn_jsonw_double_or_null(&w, r->drift_share);
    cn_jsonw_kstring(&w, "model", r->model);
    cn_jsonw_kint(&w, "champion_version", r->champion_version);
    if (r->candidate_version)
        cn_jsonw_kint(&w, "candidate_version", r->candidate_version);
    else {
        cn_jsonw_key(&w, "candidate_version");
        cn_jsonw_null(&w);
    }
    cn_jsonw_kstring(&w, "run_id", r->run_id);
    cn_jsonw_kstring(&w, "dir", r->dir);
    cn_jsonw_kstring(&w, "metric", r->metric);
    cn_jsonw_kstring(&w, "test", r->test);
    cn_jsonw_kstring(&w, "slice_rule", r->slice_rule);
    cn_jsonw_key(&w, "slices");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < r->n_slices; i++) {
        const cairn_watch_slice *s = &r->slices[i];
        cn_jsonw_object_begin(&w);
        cn_jsonw_kstring(&w, "slice", s->name);
        cn_jsonw_kbool(&w, "new", s->is_new);
        cn_jsonw_kint(&w, "n", (int64_t)s->n);
        cn_jsonw_key(&w, "champion");
        cn_jsonw_double_or_null(&w, s->champion);
        cn_jsonw_key(&w, "candidate");
        cn_jsonw_double_or_null(&w, s->candidate);
        cn_jsonw_key(&w, "diff");
        cn_jsonw_double_or_null(&w, s->diff);
        cn_jsonw_key(&w, "p");
        cn_jsonw_double_or_null(&w, s->pvalue);
        cn_jsonw_key(&w, "p_adjusted");
        cn_jsonw_double_or_null(&w, s->p_adjusted);
        cn_jsonw_kstring(&w, "verdict", s->verdict);
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_array_end(&w);
    cn_jsonw_kstring(&w, "refusal", r->refusal);
    cn_jsonw_kstring(&w, "serve_url", r->serve_url);
    if (r->serve_url)
        cn_jsonw_kint(&w, "canary_percent", r->canary_percent);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_jsonw_release(&w);
}

static void watch_print(const cairn_watch_report *r)
{
    char when[64];
    cli_format_time(cn_now_ms(), when, sizeof when);
    if (r->outcome == CAIRN_WATCH_IDLE) {
        printf("%s: nothing to do for %s v%lld: %s\n", when, r->model,
               (long long)r->champion_version, r->reason ? r->reason : "no trigger fired");
        fflush(stdout);
        return;
    }
    printf("%s: trigger %s: %s\n", when, r->trigger, r->reason);
    printf("retrained %s v%lld on its training data plus the feed: run %s (%s)\n", r->model,
           (long long)r->champion_version, r->run_id, r->dir);
    printf("gate against forgetting (%s, %s per slice, Holm over the old slices; %s):\n", r->metric,
           r->test, r->slice_rule);
    static const char *const headers[] = {"SLICE", "N", "CHAMPION", "CANDIDATE",
                                          "DIFF",  "P", "P_ADJ",    "VERDICT"};
    cli_table *t = cli_table_new(8, headers);
    for (size_t i = 0; i < r->n_slices; i++) {
        const cairn_watch_slice *s = &r->slices[i];
        char n[32], a[32], b[32], d[32], pv[32], pa[32];
        snprintf(n, sizeof n, "%zu", s->n);
        snprintf(a, sizeof a, "%.4f", s->champion);
        snprintf(b, sizeof b, "%.4f", s->candidate);
        snprintf(d, sizeof d, "%+.4f", s->diff);
        snprintf(pv, sizeof pv, "%.3g", s->pvalue);
        snprintf(pa, sizeof pa, "%.3g", s->p_adjusted);
        const char *cells[] = {s->name, n, a, b, d, pv, pa, s->verdict};
        cli_table_add(t, cells);
    }
    cli_table_print(t, stdout);
    cli_table_free(t);
    if (r->outcome == CAIRN_WATCH_REFUSED) {
        printf("candidate %s v%lld REFUSED: significantly worse on %s; registered for the record, "
               "not deployed\n",
               r->model, (long long)r->candidate_version, r->refusal);
    } else {
        printf("candidate %s v%lld passed: alias @canary; served at %s with v%lld=%d%%, "
               "v%lld=%d%% (stop it with 'cairn pipeline stop')\n",
               r->model, (long long)r->candidate_version, r->serve_url,
               (long long)r->champion_version, 100 - r->canary_percent,
               (long long)r->candidate_version, r->canary_percent);
    }
    fflush(stdout);
}

static int pipeline_watch(int argc, char **argv)
{
    enum { OPT_ONCE = 1000, OPT_INTERVAL, OPT_CANARY, OPT_JSON };
    static const struct option opts[] = {{"once", no_argument, NULL, OPT_ONCE},
                                         {"interval", required_argument, NULL, OPT_INTERVAL},
                                         {"canary", required_argument, NULL, OPT_CANARY},
                                         {"json", no_argument, NULL, OPT_JSON},
                                         {"help", no_argument, NULL, 'h'},
                                         {0, 0, 0, 0}};
    const char *usage = cli_verb_usage(&synopsis, "watch");
    bool once = false, json = false;
    int64_t interval_ms = 0, pct = 10;
    int c;
    optind = 1;
    while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
        switch (c) {
        case OPT_ONCE: once = true; break;
        case OPT_JSON: json = true; break;
        case OPT_INTERVAL:
            if (!parse_duration(optarg, &interval_ms))
                return cli_usage(usage,
                                 "--interval '%s': expected a duration such as 90s, 30m, 1h or "
                                 "1d (1s to 365d)",
                                 optarg);
            break;
        case OPT_CANARY:
            if (!cli_parse_count(optarg, 99, &pct) || pct < 1)
                return cli_usage(usage,
                                 "--canary '%s': expected the canary's share of the requests "
                                 "in percent, 1 to 99",
                                 optarg);
            break;
        default: return cli_other_option(c, usage, NULL, argv);
        }
    }
    if (argc - optind > 1)
        return cli_usage(usage, "expected at most one PIPELINE file");
    const char *path = optind < argc ? argv[optind] : "pipeline.yaml";
    cairn_ctx *ctx = NULL;
    cairn_pipeline *p = NULL;
    char exe[PATH_MAX];
    char *store = NULL, *artifacts = NULL;
    int code = 2;
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0) {
        cli_error("cannot find this cairn executable (/proc/self/exe) to run the children with");
        goto done;
    }
    exe[n] = '\0';
    ctx = cli_open_store_log(CAIRN_LOG_WARN);
    if (!ctx)
        goto done;
    if (cairn_pipeline_load(ctx, path, &p) != CAIRN_OK) {
        cli_fail(ctx);
        goto done;
    }
    store = absolute_uri(cairn_store_uri(ctx));
    artifacts = absolute_uri(cairn_artifact_root(ctx));
    cairn_watch_opts wo = CAIRN_WATCH_OPTS_INIT;
    wo.cairn_exe = exe;
    wo.store_uri = store;
    wo.artifact_root = artifacts;
    wo.canary_percent = (int)pct;
    if (!interval_ms)
        interval_ms = cairn_pipeline_watch_interval_s(p) * 1000;
    if (!once) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = on_stop_signal;
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        char every[32];
        cli_format_duration(interval_ms, every, sizeof every);
        fprintf(stderr, "watching %s every %s; stop with Ctrl-C\n", path, every);
    }
    for (;;) {
        cairn_watch_report *r = NULL;
        if (cairn_pipeline_watch_once(ctx, p, &wo, &r) != CAIRN_OK) {
            cli_fail(ctx);
            code = 2;
            if (once)
                break;
        } else {
            if (json)
                watch_json(r);
            else
                watch_print(r);
            code = r->outcome == CAIRN_WATCH_REFUSED ? 1 : 0;
            cairn_watch_report_free(r);
        }
        if (once)
            break;
        int64_t until = cn_now_ms() + interval_ms;
        while (!watch_stop && cn_now_ms() < until)
            usleep(100000);
        if (watch_stop) {
            fprintf(stderr, "stopped watching %s\n", path);
            code = 0;
            break;
        }
    }
done:
    cairn_pipeline_free(p);
    free(store);
    free(artifacts);
    cairn_close(ctx);
    return code;
}

static const cli_command verbs[] = {
    {"run", pipeline_run, "run the stages, skipping those whose inputs are unchanged"},
    {"status", pipeline_status, "the last run: each stage's state, duration and cache hit"},
    {"stop", pipeline_stop, "stop the server a deploy stage started"},
    {"watch", pipeline_watch, "retrain on drift or a schedule, gate, deploy a canary"},
};

int cmd_pipeline(int argc, char **argv)
{
    return cli_group_main("pipeline", &synopsis, verbs, CN_ARRAY_LEN(verbs), argc, argv);
}
