/* SPDX-License-Identifier: MIT */
/* test_pipeline.c - the pipeline module: pipeline.yaml's schema and its errors (file, line,
 * key), the DAG from after: and from outputs read as inputs, the topological order, cycles
 * named stage by stage, the trigger section; and a run of command stages on a SQLite store:
 * cached the second time, re-run when an input or a stage's settings change, downstream
 * stages following, a removed output noticed, a failure stopping the pipeline; Holm's
 * adjustment of the continual-training gate. */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "unit.h"
#include "cairn/cairn.h"
#include "cairn/pipeline.h"
#include "pipeline/pipeline_int.h"
#include "base/banned.h"

static cairn_ctx *ctx;

static cairn_pipeline *parse(const char *text)
{
    cairn_pipeline *p = NULL;
    cairn_status rc = cairn_pipeline_parse(ctx, "p.yaml", NULL, text, strlen(text), &p);
    if (rc != CAIRN_OK)
        fprintf(stderr, "# %s\n", cairn_errmsg(ctx));
    return p;
}

static const char *parse_error(const char *text)
{
    cairn_pipeline *p = NULL;
    cairn_status rc = cairn_pipeline_parse(ctx, "p.yaml", NULL, text, strlen(text), &p);
    CHECK(rc == CAIRN_EINVAL);
    CHECK(p == NULL);
    cairn_pipeline_free(p);
    return cairn_errmsg(ctx);
}

TEST(setup)
{
    ctx = cairn_ctx_new();
}

TEST(order_from_after_and_files)
{
    cairn_pipeline *p =
        parse("name: demo\n"
              "stages:\n"
              "  report: {kind: command, run: [cat, b.txt], inputs: [./b.txt]}\n"
              "  make:   {kind: command, run: [sh, -c, x], outputs: [b.txt],\n"
              "           after: [train]}\n"
              "  train:  {kind: train, config: c.yaml}\n"
              "  split:  {kind: split, data: d.csv, label: y}\n"
              "  eval:   {kind: command, run: [x], inputs: [.cairn-pipeline/split/test.idx]}\n");
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK_STR(cairn_pipeline_name(p), "demo");
    CHECK(cairn_pipeline_n_stages(p) == 5);
    /* ties keep file order; report reads what make writes, eval what split writes */
    CHECK_STR(cairn_pipeline_stage_name(p, 0), "train");
    CHECK_STR(cairn_pipeline_stage_name(p, 1), "make");
    CHECK_STR(cairn_pipeline_stage_name(p, 2), "report");
    CHECK_STR(cairn_pipeline_stage_name(p, 3), "split");
    CHECK_STR(cairn_pipeline_stage_name(p, 4), "eval");
    CHECK_STR(cairn_pipeline_stage_kind(p, 0), "train");
    const char *deps[4];
    CHECK(cairn_pipeline_stage_deps(p, 2, deps, 4) == 1);
    CHECK_STR(deps[0], "make");
    CHECK(cairn_pipeline_stage_deps(p, 4, deps, 4) == 1);
    CHECK_STR(deps[0], "split");
    CHECK(cairn_pipeline_stage_name(p, 5) == NULL);
    cairn_pipeline_free(p);
}

TEST(errors_name_the_place)
{
    CHECK_STR(parse_error("name: x\nstages:\n  a: {kind: command, run: [x], after: [c]}\n"
                          "  b: {kind: command, run: [x], after: [a]}\n"
                          "  c: {kind: command, run: [x], after: [b]}\n"),
              "pipeline 'p.yaml' line 3: stages 'a' -> 'b' -> 'c' -> 'a' form a cycle (by "
              "'after:' or by one reading what the other writes); remove one of those "
              "dependencies");
    CHECK_STR(parse_error("name: x\nstages:\n  a: {kind: command, run: [x], outputs: [o],"
                          " inputs: [i]}\n  b: {kind: command, run: [x], outputs: [i], inputs: "
                          "[o]}\n"),
              "pipeline 'p.yaml' line 3: stages 'a' -> 'b' -> 'a' form a cycle (by 'after:' or "
              "by one reading what the other writes); remove one of those dependencies");
    CHECK_STR(parse_error("name: x\nstages:\n  a: {kind: evaluat}\n"),
              "pipeline 'p.yaml' line 3 column 13: stage 'a': unknown kind 'evaluat' (did you "
              "mean 'evaluate'?); known kinds: validate, split, train, tune, evaluate, register, "
              "promote, deploy, monitor, command, card");
    CHECK_STR(parse_error("name: x\nstages:\n  a: {run: [x]}\n"),
              "pipeline 'p.yaml' line 3 column 6: stage 'a' has no 'kind'; known kinds: "
              "validate, split, train, tune, evaluate, register, promote, deploy, monitor, "
              "command, card");
    CHECK_STR(parse_error("name: x\nstages:\n  a: {kind: train}\n"),
              "pipeline 'p.yaml' line 3 column 6: stage 'a' (kind train) needs 'config'");
    CHECK_STR(parse_error("name: x\nstages:\n  a: {kind: command, run: [x], after: {b: 1}}\n"),
              "pipeline 'p.yaml' line 3 column 39: stage 'a': 'after' must be a list, got a "
              "mapping");
    CHECK_STR(parse_error("name: x\nstages:\n  a: {kind: command, run: [x], after: [a]}\n"),
              "pipeline 'p.yaml' line 3: stage 'a' comes after itself");
    CHECK_STR(parse_error("name: x\nstages:\n  a: {kind: command, run: [x], port: http}\n"),
              "pipeline 'p.yaml' line 3 column 38: 'port' must be an integer in 0..65535, got "
              "'http'");
    CHECK_STR(parse_error("name: x\nstages:\n  a: [kind, command]\n"),
              "pipeline 'p.yaml' line 3 column 6: stage 'a' must be a mapping of its fields "
              "(kind: ...), got a list");
    CHECK_STR(parse_error("stages:\n  a: {kind: command, run: [x]}\n"),
              "pipeline 'p.yaml' line 1 column 1: the pipeline has no 'name' (its experiment's "
              "name)");
    CHECK_STR(parse_error("name: x\nstages: {}\n"),
              "pipeline 'p.yaml' line 2 column 9: 'stages' is empty; add at least one stage");
    CHECK_STR(parse_error("name: 'a b'\nstages:\n  a: {kind: command, run: [x]}\n"),
              "pipeline 'p.yaml' line 1 column 7: 'name' must be 1 to 100 letters, digits, '_', "
              "'-' or '.'");
    CHECK_STR(parse_error("name: x\nstages:\n  a: {kind: command, run: [x]}\n"
                          "trigger: {schedule: {every: soon}}\n"),
              "pipeline 'p.yaml' line 4 column 29: 'trigger.schedule.every' must be a duration "
              "such as 90s, 30m, 1h or 1d (at least 1s, at most 365d), got 'soon'");
    CHECK_STR(parse_error("- a\n"),
              "pipeline 'p.yaml' line 1 column 1: a pipeline is a mapping with 'name' and "
              "'stages', got a list");
    CHECK(strstr(parse_error("name: x\nstages:\n  a: {kind: command, run: [x], colour: 1}\n"),
                 "unknown key 'stages.a.colour'") != NULL);
}

TEST(trigger_and_digests)
{
    cairn_pipeline *p = parse("name: x\nstages:\n  a: {kind: command, run: [x]}\n"
                              "  b: {kind: command, run: [\"x\"]}\n"
                              "  c: {kind: command, run: [y]}\n"
                              "trigger: {on_drift: {data: new.csv}, schedule: {every: 90m}}\n");
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK(p->trigger_every_s == 5400);
    CHECK_STR(p->trigger_data, "new.csv");
    /* the settings' digest: quoting does not matter, a value does */
    CHECK(strcmp(p->stages[0].config_sha256, p->stages[1].config_sha256) == 0);
    CHECK(strcmp(p->stages[0].config_sha256, p->stages[2].config_sha256) != 0);
    cairn_pipeline_free(p);
}

TEST(trigger_feed_and_slices)
{
    cairn_pipeline *p =
        parse("name: x\nstages:\n  a: {kind: command, run: [x]}\n"
              "trigger: {schedule: {every: 1d}, data: feed.csv, slice_by: color}\n");
    CHECK(p != NULL);
    if (!p)
        return;
    CHECK(p->trigger_every_s == 86400);
    CHECK(!p->trigger_on_drift);
    CHECK_STR(p->trigger_data, "feed.csv");
    CHECK_STR(p->trigger_slice_by, "color");
    CHECK(cairn_pipeline_watch_interval_s(p) == 86400);
    cairn_pipeline_free(p);
    p = parse("name: x\nstages:\n  a: {kind: command, run: [x]}\n"
              "trigger: {on_drift: {monitor_run: abc}}\n");
    CHECK(p != NULL && p->trigger_on_drift && !p->trigger_data);
    CHECK(p && cairn_pipeline_watch_interval_s(p) == 60);
    cairn_pipeline_free(p);
    const char *e = parse_error("name: x\nstages:\n  a: {kind: command, run: [x]}\n"
                                "trigger: {on_drift: {data: a.csv}, data: b.csv}\n");
    CHECK(e && strstr(e, "line 4") && strstr(e, "two feeds"));
}

/* Holm's step-down adjustment against its closed form. */
TEST(holm_closed_form)
{
    /* sorted 0.005, 0.01, 0.03, 0.04: 4 x 0.005, 3 x 0.01, 2 x 0.03, then max(1 x 0.04, 0.06) */
    const double p[] = {0.01, 0.04, 0.03, 0.005};
    double adj[4];
    cn_holm(p, 4, adj);
    CHECK_NEAR(adj[0], 0.03, 1e-15);
    CHECK_NEAR(adj[1], 0.06, 1e-15);
    CHECK_NEAR(adj[2], 0.06, 1e-15);
    CHECK_NEAR(adj[3], 0.02, 1e-15);
    /* NaN is left out of the count; adjusted values stop at 1 */
    const double q[] = {0.2, NAN, 0.5};
    double qa[3];
    cn_holm(q, 3, qa);
    CHECK_NEAR(qa[0], 0.4, 1e-15);
    CHECK(isnan(qa[1]));
    CHECK_NEAR(qa[2], 0.5, 1e-15);
    const double r[] = {0.6, 0.7};
    double ra[2];
    cn_holm(r, 2, ra);
    CHECK(ra[0] == 1.0 && ra[1] == 1.0);
    /* ties keep their order and share a value; one p-value is its own adjustment */
    const double t[] = {0.02, 0.02};
    double ta[2];
    cn_holm(t, 2, ta);
    CHECK_NEAR(ta[0], 0.04, 1e-15);
    CHECK_NEAR(ta[1], 0.04, 1e-15);
    double one = 0.3, onea;
    cn_holm(&one, 1, &onea);
    CHECK(onea == 0.3);
    cn_holm(NULL, 0, NULL);
}

/* ---- a run of command stages ---- */

static char dir[64];

static void write_text(const char *name, const char *text)
{
    char path[256];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (f) {
        fputs(text, f);
        fclose(f);
    }
}

static cairn_pipeline_report *run_pipeline(const char *text, const char *from)
{
    write_text("p.yaml", text);
    char path[256];
    snprintf(path, sizeof path, "%s/p.yaml", dir);
    cairn_pipeline *p = NULL;
    cairn_pipeline_report *rep = NULL;
    CHECK(cairn_pipeline_load(ctx, path, &p) == CAIRN_OK);
    cairn_pipeline_opts o = CAIRN_PIPELINE_OPTS_INIT;
    o.cairn_exe = "/bin/false";
    o.from_stage = from;
    if (p && cairn_pipeline_run(ctx, p, &o, &rep) != CAIRN_OK)
        fprintf(stderr, "# %s\n", cairn_errmsg(ctx));
    cairn_pipeline_free(p);
    return rep;
}

static const char *states(const cairn_pipeline_report *r)
{
    static char out[256];
    out[0] = '\0';
    for (size_t i = 0; r && i < r->n_stages; i++) {
        size_t len = strlen(out);
        snprintf(out + len, sizeof out - len, "%s%s=%s", i ? " " : "", r->stages[i].name,
                 cairn_stage_state_str(r->stages[i].state));
    }
    return out;
}

static const char *const PIPE = "name: unit\nstages:\n"
                                "  a: {kind: command, run: [sh, -c, 'cp in.txt mid.txt'],"
                                " inputs: [in.txt], outputs: [mid.txt]}\n"
                                "  b: {kind: command, run: [sh, -c, 'cat mid.txt mid.txt > "
                                "out.txt'], inputs: [mid.txt], outputs: [out.txt]}\n"
                                "  c: {kind: command, run: [sh, -c, 'echo ${b.file:out.txt}']}\n"
                                "  d: {kind: command, run: ['true'], after: [a]}\n";

TEST(run_cache_and_resume)
{
    snprintf(dir, sizeof dir, "/tmp/cairn-test-pipeline-XXXXXX");
    CHECK(mkdtemp(dir) != NULL);
    char uri[128];
    snprintf(uri, sizeof uri, "sqlite://%s/s.db", dir);
    cairn_close(ctx);
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_OK);
    write_text("in.txt", "one\n");

    cairn_pipeline_report *r = run_pipeline(PIPE, NULL);
    CHECK(r && r->status == CAIRN_RUN_FINISHED && r->run_id);
    CHECK_STR(states(r), "a=ran b=ran c=ran d=ran");
    CHECK(r && r->stages[2].n_outputs == 0);
    cairn_pipeline_report_free(r);

    r = run_pipeline(PIPE, NULL);
    CHECK_STR(states(r), "a=cached b=cached c=cached d=cached");
    CHECK(r && r->stages[0].reason && strstr(r->stages[0].reason, "unchanged since run"));
    cairn_pipeline_report_free(r);

    write_text("in.txt", "two\n"); /* a's input: everything downstream of a runs */
    r = run_pipeline(PIPE, NULL);
    CHECK_STR(states(r), "a=ran b=ran c=ran d=ran");
    CHECK_STR(r ? r->stages[0].reason : NULL, "input 'in.txt' changed");
    CHECK_STR(r ? r->stages[1].reason : NULL, "input 'mid.txt' changed");
    CHECK_STR(r ? r->stages[3].reason : NULL, "upstream 'a' has new outputs");
    cairn_pipeline_report_free(r);

    char path[256];
    snprintf(path, sizeof path, "%s/out.txt", dir);
    unlink(path); /* a removed output: b runs again, nothing else (its output is the same) */
    r = run_pipeline(PIPE, NULL);
    CHECK_STR(states(r), "a=cached b=ran c=cached d=cached");
    CHECK_STR(r ? r->stages[1].reason : NULL, "its output 'out.txt' is missing or changed");
    cairn_pipeline_report_free(r);

    /* a failing stage stops the pipeline; the status shows it; fixed, it resumes there */
    static const char bad[] = "name: unit\nstages:\n"
                              "  a: {kind: command, run: [sh, -c, 'cp in.txt mid.txt'],"
                              " inputs: [in.txt], outputs: [mid.txt]}\n"
                              "  b: {kind: command, run: [sh, -c, 'echo no >&2; exit 1'],"
                              " inputs: [mid.txt], outputs: [out.txt]}\n"
                              "  c: {kind: command, run: [sh, -c, 'echo ${b.file:out.txt}']}\n"
                              "  d: {kind: command, run: ['true'], after: [a]}\n";
    r = run_pipeline(bad, NULL);
    CHECK(r && r->status == CAIRN_RUN_FAILED);
    CHECK_STR(states(r), "a=cached b=failed c=pending d=pending");
    CHECK(r && r->stages[1].message &&
          strstr(r->stages[1].message, "stage 'b' failed (exit 1): no"));
    cairn_pipeline_report_free(r);
    cairn_pipeline *p = NULL;
    snprintf(path, sizeof path, "%s/p.yaml", dir);
    CHECK(cairn_pipeline_load(ctx, path, &p) == CAIRN_OK);
    r = NULL;
    CHECK(p && cairn_pipeline_status(ctx, p, &r) == CAIRN_OK);
    CHECK_STR(states(r), "a=cached b=failed c=pending d=pending");
    cairn_pipeline_report_free(r);
    cairn_pipeline_free(p);
    r = run_pipeline(PIPE, NULL); /* b's settings are back as they were: cached */
    CHECK_STR(states(r), "a=cached b=cached c=cached d=cached");
    cairn_pipeline_report_free(r);
    r = run_pipeline(PIPE, "b");
    CHECK_STR(states(r), "a=cached b=ran c=ran d=ran");
    cairn_pipeline_report_free(r);

    /* a missing input no stage writes: nothing runs */
    write_text("q.yaml", "name: unit\nstages:\n  z: {kind: command, run: [x], inputs: [no.txt]}\n");
    snprintf(path, sizeof path, "%s/q.yaml", dir);
    CHECK(cairn_pipeline_load(ctx, path, &p) == CAIRN_OK);
    cairn_pipeline_opts o = CAIRN_PIPELINE_OPTS_INIT;
    o.cairn_exe = "/bin/false";
    r = NULL;
    CHECK(p && cairn_pipeline_run(ctx, p, &o, &r) == CAIRN_ENOTFOUND);
    CHECK(r == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "line 3: stage 'z': input 'no.txt' does not exist") != NULL);
    cairn_pipeline_free(p);
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
}

TEST(teardown)
{
    cairn_close(ctx);
    ctx = NULL;
    cairn_pipeline_free(NULL);
    cairn_pipeline_report_free(NULL);
}

UNIT_MAIN(UNIT_CASE(setup), UNIT_CASE(order_from_after_and_files), UNIT_CASE(errors_name_the_place),
          UNIT_CASE(trigger_and_digests), UNIT_CASE(trigger_feed_and_slices),
          UNIT_CASE(holm_closed_form), UNIT_CASE(run_cache_and_resume), UNIT_CASE(teardown))
