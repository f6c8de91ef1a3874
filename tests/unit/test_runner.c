/* SPDX-License-Identifier: MIT */
/* test_runner.c - cairn_run_command on a real SQLite store with /bin/sh scripts: output
 * passes through byte for byte, \r ends lines, the metrics file, macros and environment,
 * exit codes, signals (the child's own, forwarded ones, the kill grace), exec failures. */
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdint.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "unit.h"
#include "cairn/runner.h"
#include "base/buf.h"
#include "base/fs.h"
#include "base/str.h"
#include "base/time.h"

static cairn_ctx *ctx;
static char dir[] = "/tmp/cairn-test-runner-XXXXXX";
static char out_path[256], err_path[256];

static cairn_runner_opts base_opts(void)
{
    cairn_runner_opts o = CAIRN_RUNNER_OPTS_INIT;
    int out = open(out_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    int err = open(err_path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    o.out_fd = out;
    o.err_fd = err;
    o.skip_git = true;
    o.experiment = "runner-tests";
    return o;
}

static void close_opts(cairn_runner_opts *o)
{
    close(o->out_fd);
    close(o->err_fd);
}

/* Runs `sh -c script` and returns the result (NULL on an error status). */
static cairn_run_result *run_sh(cairn_runner_opts *o, const char *script)
{
    const char *argv[] = {"/bin/sh", "-c", script};
    cairn_run_result *res = NULL;
    cairn_status rc = cairn_run_command(ctx, o, 3, argv, &res);
    if (rc != CAIRN_OK)
        fprintf(stderr, "# cairn_run_command: %s\n", cairn_errmsg(ctx));
    return res;
}

static char *slurp(const char *path)
{
    cn_buf b = CN_BUF_INIT;
    if (cn_fs_read_file(path, &b, 0) != 0)
        return NULL;
    return cn_buf_detach(&b);
}

static const char *tag(const cairn_run_record *rec, const char *key)
{
    for (size_t i = 0; i < rec->n_tags; i++)
        if (strcmp(rec->tags[i].key, key) == 0)
            return rec->tags[i].value;
    return NULL;
}

static cairn_run_record *fetch(const cairn_run_result *res)
{
    cairn_run_record *rec = NULL;
    if (!res || cairn_run_get(ctx, res->run_id, &rec) != CAIRN_OK)
        return NULL;
    return rec;
}

TEST(setup)
{
    CHECK(mkdtemp(dir) != NULL);
    char *uri = cn_asprintf("sqlite://%s/c.db", dir);
    CHECK(cairn_open(uri, NULL, &ctx) == CAIRN_OK);
    free(uri);
    snprintf(out_path, sizeof out_path, "%s/out.txt", dir);
    snprintf(err_path, sizeof err_path, "%s/err.txt", dir);
}

TEST(passes_output_through_and_reads_metrics)
{
    cairn_runner_opts o = base_opts();
    cairn_run_result *res = run_sh(&o, "printf 'plain\\n'; echo 'cairn: step=2 loss=0.5';"
                                       "printf 'cairn: loss=0.4\\r'; printf 'cairn: loss=0.3\\rx';"
                                       "printf 'cairn: acc=0.9\\n' >&2; printf 'no newline'");
    close_opts(&o);
    CHECK(res && res->status == CAIRN_RUN_FINISHED && res->exit_code == 0);
    char *out = slurp(out_path), *err = slurp(err_path);
    CHECK_STR(out, "plain\ncairn: step=2 loss=0.5\ncairn: loss=0.4\rcairn: loss=0.3\rxno newline");
    CHECK_STR(err, "cairn: acc=0.9\n");
    free(out);
    free(err);
    cairn_metric_page *page = NULL;
    CHECK(res && cairn_run_metric_history(ctx, res->run_id, "loss", NULL, 0, &page) == CAIRN_OK);
    CHECK(page && page->n == 3);
    if (page && page->n == 3) {
        CHECK(page->items[0].step == 2 && page->items[0].value == 0.5);
        CHECK(page->items[1].step == 3 && page->items[1].value == 0.4);
        CHECK(page->items[2].step == 4 && page->items[2].value == 0.3);
    }
    cairn_metric_page_free(page);
    /* The whole output is the log artifact. */
    char *log = NULL;
    CHECK(res && cairn_run_artifact_path(ctx, res->run_id, "logs/output.log", &log) == CAIRN_OK);
    char *text = log ? slurp(log) : NULL;
    CHECK(text && strstr(text, "plain\n") && strstr(text, "no newline") &&
          strstr(text, "cairn: acc=0.9"));
    free(text);
    cairn_free(log);
    cairn_run_result_free(res);
}

TEST(final_param_tag_and_artifact_lines)
{
    cairn_runner_opts o = base_opts();
    char *script = cn_asprintf("cd %s && echo data > model.bin; echo 'cairn: step=5 loss=1';"
                               "echo 'cairn.final: best=0.25'; echo 'cairn.param: depth=3';"
                               "echo 'cairn.tag: stage=\"two words\"';"
                               "echo 'cairn.artifact: path=%s/model.bin'",
                               dir, dir);
    cairn_run_result *res = run_sh(&o, script);
    free(script);
    close_opts(&o);
    cairn_run_record *rec = fetch(res);
    CHECK(rec != NULL);
    if (rec) {
        CHECK(rec->n_params == 1 && strcmp(rec->params[0].value, "3") == 0);
        CHECK_STR(tag(rec, "stage"), "two words");
        bool best = false;
        for (size_t i = 0; i < rec->n_metrics; i++)
            if (strcmp(rec->metrics[i].key, "best") == 0)
                best = rec->metrics[i].step == 5 && rec->metrics[i].value == 0.25;
        CHECK(best);
    }
    char *path = NULL;
    CHECK(res && cairn_run_artifact_path(ctx, res->run_id, "model.bin", &path) == CAIRN_OK);
    CHECK(path && cn_fs_exists(path));
    cairn_free(path);
    cairn_run_record_free(rec);
    cairn_run_result_free(res);
}

TEST(metrics_file_is_tailed_and_read_at_exit)
{
    cairn_runner_opts o = base_opts();
    cairn_run_result *res =
        run_sh(&o, "echo '{\"step\": 1, \"m\": 1.5}' >> \"$CAIRN_METRICS_FILE\"; sleep 0.3;"
                   "echo 'cairn.final: f=2' >> \"$CAIRN_METRICS_FILE\";"
                   "printf '{\"step\": 9, \"m\": -1, \"tags\": {\"via\": \"file\"}}' >> "
                   "\"$CAIRN_METRICS_FILE\"");
    close_opts(&o);
    CHECK(res && res->n_metrics == 2);
    if (res && res->n_metrics == 2) {
        CHECK_STR(res->metric_keys[0], "m");
        CHECK(res->metric_values[0] == -1 && res->metric_steps[0] == 9);
        CHECK_STR(res->metric_keys[1], "f");
    }
    cairn_run_record *rec = fetch(res);
    CHECK(rec && tag(rec, "via") && strcmp(tag(rec, "via"), "file") == 0);
    cairn_run_record_free(rec);
    cairn_run_result_free(res);
}

TEST(environment_and_macros)
{
    cairn_runner_opts o = base_opts();
    const char *params[] = {"lr=0.1", "opt.name=adam w"};
    o.params = params;
    o.n_params = 2;
    o.has_seed = true;
    o.seed = 7;
    const char *argv[] = {"/bin/sh",
                          "-c",
                          "printf '%s|' \"$CAIRN_PARAM_LR\" \"$CAIRN_PARAM_OPT_NAME\" "
                          "\"$CAIRN_SEED\" \"$1\" \"$2\" \"$3\" \"$4\" \"$5\" \"$6\";"
                          "cat \"$CAIRN_PARAMS_FILE\"; test \"$CAIRN_RUN_ID\" = \"$7\" && "
                          "test -d \"$CAIRN_RUN_DIR\" && test -n \"$CAIRN_STORE\" && echo ok",
                          "sh",
                          "${args}",
                          "${args_hydra}",
                          "x${seed}",
                          "${lr}",
                          "${run_id}"};
    cairn_run_result *res = NULL;
    CHECK(cairn_run_command(ctx, &o, 9, argv, &res) == CAIRN_OK);
    close_opts(&o);
    char *out = slurp(out_path);
    CHECK_STR(out, "0.1|adam w|7|--lr=0.1|--opt.name=adam w|lr=0.1|opt.name=adam w|x7|0.1|"
                   "{\"lr\": 0.1, \"opt.name\": \"adam w\"}\nok\n");
    free(out);
    cairn_run_record *rec = fetch(res);
    CHECK(rec && rec->n_params == 2);
    CHECK(rec && tag(rec, "cairn.seed") && strcmp(tag(rec, "cairn.seed"), "7") == 0);
    cairn_run_record_free(rec);
    cairn_run_result_free(res);
}

TEST(append_args_only_when_asked_and_no_macro)
{
    cairn_runner_opts o = base_opts();
    const char *params[] = {"a=1"};
    o.params = params;
    o.n_params = 1;
    o.append_args = true;
    const char *argv[] = {"/bin/sh", "-c", "echo \"$@\"", "sh"};
    cairn_run_result *res = NULL;
    CHECK(cairn_run_command(ctx, &o, 4, argv, &res) == CAIRN_OK);
    cairn_run_result_free(res);
    close_opts(&o);
    char *out = slurp(out_path);
    CHECK_STR(out, "--a=1\n");
    free(out);
}

TEST(unknown_macro_fails_before_a_run_exists)
{
    cairn_runner_opts o = base_opts();
    const char *argv[] = {"echo", "${nope}"};
    cairn_run_result *res = NULL;
    CHECK(cairn_run_command(ctx, &o, 2, argv, &res) == CAIRN_EINVAL);
    CHECK(res == NULL);
    CHECK(strstr(cairn_errmsg(ctx), "unknown macro '${nope}'") != NULL);
    const char *bad[] = {"k"};
    o.params = bad;
    o.n_params = 1;
    CHECK(cairn_run_command(ctx, &o, 1, argv, &res) == CAIRN_EINVAL);
    CHECK(strstr(cairn_errmsg(ctx), "expected key=value") != NULL);
    o.n_params = 0;
    const char *inputs[] = {"/nonexistent/data.csv"};
    o.inputs = inputs;
    o.n_inputs = 1;
    const char *ok[] = {"true"};
    CHECK(cairn_run_command(ctx, &o, 1, ok, &res) == CAIRN_ENOTFOUND);
    CHECK_STR(cairn_errmsg(ctx), "input '/nonexistent/data.csv': No such file or directory");
    o.n_inputs = 0;
    o.metrics_format = "xml";
    CHECK(cairn_run_command(ctx, &o, 1, ok, &res) == CAIRN_EINVAL);
    close_opts(&o);
}

TEST(exit_codes_map_to_statuses)
{
    cairn_runner_opts o = base_opts();
    cairn_run_result *res = run_sh(&o, "exit 3");
    CHECK(res && res->status == CAIRN_RUN_FAILED && res->exit_code == 3);
    cairn_run_record *rec = fetch(res);
    CHECK(rec && rec->info.status == CAIRN_RUN_FAILED && rec->info.end_time_ms > 0);
    CHECK(rec && tag(rec, "cairn.exit_code") && strcmp(tag(rec, "cairn.exit_code"), "3") == 0);
    cairn_run_record_free(rec);
    cairn_run_result_free(res);
    res = run_sh(&o, "kill -TERM $$");
    CHECK(res && res->status == CAIRN_RUN_KILLED && res->exit_code == 128 + SIGTERM &&
          res->term_signal == SIGTERM);
    cairn_run_result_free(res);
    close_opts(&o);
}

/* A command that cannot start is refused before a run exists; a command that fails leaves
 * why on its run (tag cairn.failure_reason, with its last stderr line) and in its log. */
TEST(commands_that_cannot_start_make_no_run)
{
    cairn_runner_opts o = base_opts();
    const char *missing[] = {"cairn-no-such-command-xyz"};
    cairn_run_result *res = NULL;
    CHECK(cairn_run_command(ctx, &o, 1, missing, &res) == CAIRN_ENOTFOUND && !res);
    CHECK(strstr(cairn_errmsg(ctx), "command 'cairn-no-such-command-xyz' not found in PATH"));

    char *noexec = cn_asprintf("%s/noexec.sh", dir);
    CHECK(cn_fs_write_atomic(noexec, "#!/bin/sh\necho hi\n", 18) == 0);
    chmod(noexec, 0644);
    const char *argv[] = {noexec};
    CHECK(cairn_run_command(ctx, &o, 1, argv, &res) == CAIRN_ENOTFOUND && !res);
    CHECK(strstr(cairn_errmsg(ctx), "Permission denied"));
    free(noexec);

    res = run_sh(&o, "echo 'ValueError: bad lr' >&2; echo '  ' >&2; exit 3");
    CHECK(res && res->status == CAIRN_RUN_FAILED && res->exit_code == 3);
    cairn_run_record *rec = fetch(res);
    const char *why = rec ? tag(rec, "cairn.failure_reason") : NULL;
    CHECK(why && strstr(why, "exited with code 3") && strstr(why, "ValueError: bad lr"));
    cairn_run_record_free(rec);
    cairn_run_result_free(res);
    close_opts(&o);
}

/* Sends `sig` to this process after delay_ms, from a helper process; with `ready` set, only
 * once that file exists (the command made it: its traps are set), delay_ms after it appears. */
static pid_t signal_when(int sig, int delay_ms, const char *ready)
{
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid == 0) {
        for (int i = 0; ready && access(ready, F_OK) != 0 && i < 60000; i++)
            usleep(1000);
        usleep((useconds_t)delay_ms * 1000);
        kill(parent, sig);
        _exit(0);
    }
    return pid;
}

static pid_t signal_later(int sig, int delay_ms)
{
    return signal_when(sig, delay_ms, NULL);
}

TEST(forwarded_signal_stops_the_group)
{
    cairn_runner_opts o = base_opts();
    o.forward_signals = true;
    pid_t helper = signal_later(SIGTERM, 300);
    int64_t t0 = cn_mono_ns();
    cairn_run_result *res = run_sh(&o, "echo started; sleep 20; echo never");
    int64_t ms = (cn_mono_ns() - t0) / 1000000;
    waitpid(helper, NULL, 0);
    CHECK(res && res->status == CAIRN_RUN_KILLED && res->exit_code == 128 + SIGTERM);
    CHECK(ms < 5000);
    cairn_run_record *rec = fetch(res);
    CHECK(rec && rec->info.status == CAIRN_RUN_KILLED && tag(rec, "cairn.stop_reason"));
    cairn_run_record_free(rec);
    cairn_run_result_free(res);
    close_opts(&o);
}

TEST(kill_grace_then_sigkill)
{
    cairn_runner_opts o = base_opts();
    o.forward_signals = true;
    o.kill_grace_ms = 300;
    char *ready = cn_asprintf("%s/trap-set", dir);
    unlink(ready);
    pid_t helper = signal_when(SIGINT, 100, ready);
    int64_t t0 = cn_mono_ns();
    /* Ignores SIGINT and SIGTERM and checks the stop file: only SIGKILL ends it. The signal
     * comes once the traps are set (a loaded machine may start the shell late). */
    char *script = cn_asprintf("trap '' INT TERM; : > '%s'; while :; do sleep 0.05; "
                               "test -f \"$CAIRN_STOP_FILE\" && echo saw-stop; done",
                               ready);
    cairn_run_result *res = run_sh(&o, script);
    int64_t ms = (cn_mono_ns() - t0) / 1000000;
    waitpid(helper, NULL, 0);
    free(script);
    free(ready);
    CHECK(res && res->status == CAIRN_RUN_KILLED && res->term_signal == SIGKILL);
    CHECK(ms >= 400); /* the grace was waited for */
    char *out = slurp(out_path);
    CHECK(out && strstr(out, "saw-stop"));
    free(out);
    cairn_run_result_free(res);
    close_opts(&o);
}

TEST(malformed_metric_lines_are_counted_not_fatal)
{
    cairn_runner_opts o = base_opts();
    cairn_run_result *res = run_sh(&o, "echo 'cairn: loss=abc'; echo 'cairn: loss=def';"
                                       "echo 'cairn: loss=1'");
    close_opts(&o);
    CHECK(res && res->status == CAIRN_RUN_FINISHED && res->n_metric_errors == 2);
    CHECK(res && res->n_metrics == 1);
    cairn_run_record *rec = fetch(res);
    CHECK(rec && tag(rec, "cairn.metric_errors") &&
          strcmp(tag(rec, "cairn.metric_errors"), "2") == 0);
    CHECK(rec && tag(rec, "cairn.metric_error") && strstr(tag(rec, "cairn.metric_error"), "'abc'"));
    cairn_run_record_free(rec);
    cairn_run_result_free(res);
}

TEST(step_after_the_largest_is_refused_not_wrapped)
{
    cairn_runner_opts o = base_opts();
    cairn_run_result *res = run_sh(&o, "echo 'cairn: step=9223372036854775807 a=1';"
                                       "echo 'cairn: a=2'; echo 'cairn: b=1 c=1e309'");
    close_opts(&o);
    CHECK(res && res->status == CAIRN_RUN_FINISHED);
    /* The step-less lines have no next step: each is one error; nothing wraps negative. */
    CHECK(res && res->n_metric_errors == 2);
    CHECK(res && res->first_metric_error && strstr(res->first_metric_error, "step="));
    cairn_metric_page *page = NULL;
    CHECK(res && cairn_run_metric_history(ctx, res->run_id, "a", NULL, 0, &page) == CAIRN_OK);
    CHECK(page && page->n == 1 && page->items[0].step == INT64_MAX && page->items[0].value == 1);
    cairn_metric_page_free(page);
    cairn_run_result_free(res);
}

TEST(out_of_range_value_keeps_the_line)
{
    cairn_runner_opts o = base_opts();
    cairn_run_result *res = run_sh(&o, "echo 'cairn: a=1 b=1e309'");
    close_opts(&o);
    CHECK(res && res->status == CAIRN_RUN_FINISHED && res->n_metric_errors == 0);
    CHECK(res && res->n_metrics == 2);
    if (res && res->n_metrics == 2) {
        CHECK(res->metric_values[0] == 1 && res->metric_steps[0] == 0);
        CHECK(isinf(res->metric_values[1]) && res->metric_values[1] > 0);
    }
    cairn_metric_page *page = NULL;
    CHECK(res && cairn_run_metric_history(ctx, res->run_id, "b", NULL, 0, &page) == CAIRN_OK);
    CHECK(page && page->n == 1 && isinf(page->items[0].value));
    cairn_metric_page_free(page);
    cairn_run_result_free(res);
}

TEST(points_are_written_on_a_timer_while_the_command_runs)
{
    /* The command prints, then waits until the points are in the store: without a timer it
     * would wait for the next point forever (bounded here by 1200 checks, 60 s or more).
     * sqlite3, the command-line shell, comes from scripts/install-deps.sh. */
    char *script = cn_asprintf(
        "echo 'cairn: step=1 loss=1'; i=0; while [ $i -lt 1200 ]; do "
        "n=$(sqlite3 '%s/c.db' \"select count(*) from metrics where run_uuid='$CAIRN_RUN_ID'\" "
        "2>/dev/null); [ \"$n\" = 1 ] && echo flushed && exit 0; sleep 0.05; i=$((i+1)); done; "
        "exit 1",
        dir);
    cairn_runner_opts o = base_opts();
    o.flush_interval_ms = 200;
    cairn_run_result *res = run_sh(&o, script);
    close_opts(&o);
    char *out = slurp(out_path);
    CHECK(system("command -v sqlite3 >/dev/null 2>&1") == 0);
    CHECK(res && res->exit_code == 0);
    CHECK(out && strstr(out, "flushed"));
    free(out);
    free(script);
    cairn_run_result_free(res);
}

TEST(config_supplies_command_params_and_inputs)
{
    char *cfg = cn_asprintf("%s/exp.yaml", dir), *data = cn_asprintf("%s/data.csv", dir);
    char *text = cn_asprintf("name: from-config\nexperiment: cfg-exp\n"
                             "command: [/bin/sh, -c, 'echo \"lr=$CAIRN_PARAM_LR\"']\n"
                             "params: {lr: 0.5, depth: 2}\ninputs: [%s]\nseed: 11\n"
                             "tags: {team: x}\nmetrics: [never_reported]\n",
                             data);
    CHECK(cn_fs_write_atomic(cfg, text, strlen(text)) == 0);
    CHECK(cn_fs_write_atomic(data, "a,b\n1,2\n", 8) == 0);
    cairn_runner_opts o = base_opts();
    o.experiment = NULL;
    o.config = cfg;
    const char *over[] = {"lr=0.25"};
    o.params = over;
    o.n_params = 1;
    cairn_run_result *res = NULL;
    CHECK(cairn_run_command(ctx, &o, 0, NULL, &res) == CAIRN_OK);
    close_opts(&o);
    CHECK(res && strcmp(res->experiment, "cfg-exp") == 0);
    CHECK(res && res->run_name && strcmp(res->run_name, "from-config") == 0);
    char *out = slurp(out_path);
    CHECK_STR(out, "lr=0.25\n");
    free(out);
    cairn_run_record *rec = fetch(res);
    CHECK(rec && rec->n_inputs == 1);
    if (rec && rec->n_inputs == 1) {
        /* sha256("a,b\n1,2\n") */
        CHECK_STR(rec->inputs[0].digest,
                  "492d5ea496056f1a6a6592241032fab764c321596317930b4fa0e1e8bc3b7470");
        CHECK_STR(rec->inputs[0].context, "input");
    }
    CHECK(rec && tag(rec, "team") && tag(rec, "cairn.metrics.missing"));
    CHECK(rec && tag(rec, "cairn.seed") && strcmp(tag(rec, "cairn.seed"), "11") == 0);
    cairn_run_record_free(rec);
    cairn_run_result_free(res);
    free(cfg);
    free(data);
    free(text);
}

TEST(teardown)
{
    cairn_close(ctx);
    char *cmd = cn_asprintf("rm -rf '%s'", dir);
    CHECK(system(cmd) == 0);
    free(cmd);
}

UNIT_MAIN(UNIT_CASE(setup), UNIT_CASE(passes_output_through_and_reads_metrics),
          UNIT_CASE(final_param_tag_and_artifact_lines),
          UNIT_CASE(metrics_file_is_tailed_and_read_at_exit), UNIT_CASE(environment_and_macros),
          UNIT_CASE(append_args_only_when_asked_and_no_macro),
          UNIT_CASE(unknown_macro_fails_before_a_run_exists), UNIT_CASE(exit_codes_map_to_statuses),
          UNIT_CASE(commands_that_cannot_start_make_no_run),
          UNIT_CASE(forwarded_signal_stops_the_group), UNIT_CASE(kill_grace_then_sigkill),
          UNIT_CASE(malformed_metric_lines_are_counted_not_fatal),
          UNIT_CASE(step_after_the_largest_is_refused_not_wrapped),
          UNIT_CASE(out_of_range_value_keeps_the_line),
          UNIT_CASE(points_are_written_on_a_timer_while_the_command_runs),
          UNIT_CASE(config_supplies_command_params_and_inputs), UNIT_CASE(teardown))
