/* SPDX-License-Identifier: MIT */
/* cmd_train.c - `cairn train --config FILE`: parses the options, calls cairn_train(), shows
 * an epoch counter on a terminal and prints the validation metrics with their 95% intervals
 * and where the run's pictures are. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "cairn/train.h"
#include "base/jsonw.h"
#include "base/xmalloc.h"
#include "base/banned.h"

static const char usage[] =
    "usage: cairn train --config FILE [-p KEY=VALUE]... [--experiment NAME] [--name NAME] "
    "[--expect FILE] [--override-expect REASON] [--json]\n"
    "   or: cairn train --help-learner NAME\n";

static const char help[] =
    "\nFits the learner of an experiment config (data:, split:, learner:, metrics:, bootstrap:,\n"
    "cv:; see docs/config.md) as a tracked run: on the train split, selecting and stopping\n"
    "early on the validation split; the test split stays sealed until 'cairn eval final'.\n"
    "Logs params, per-epoch metrics, the model (model/model.cairn), the split (split/),\n"
    "dataset inputs with digests, val_<metric> with bootstrap 95% intervals, CV fold scores,\n"
    "predictions/val.csv, SVG plots (plots/) and report.md.\n"
    "The task is the config's task: (classification or regression) when it has one, else\n"
    "inferred from the label: text, or 2 distinct integers, or at most 20 distinct integers\n"
    "that are at most 5% of the rows, are classes; anything else is a regression target.\n"
    "The run's first line says which task and why.\n\n"
    "options:\n"
    "  -c, --config FILE        experiment-config.yaml (required)\n"
    "  -p, --param KEY=VALUE    a learner param, overriding the config's; also seed,\n"
    "                           bootstrap, cv, split.test, split.val, learner (repeatable)\n"
    "  -e, --experiment NAME    the experiment (default: the config's, else Default)\n"
    "  -n, --name NAME          the run's name (default: the config's name:), e.g. to tell\n"
    "                           variants made with -p apart\n"
    "      --expect FILE        data expectations the data must meet (default: the config's\n"
    "                           data.expect); failing data is refused, naming rules and rows\n"
    "      --override-expect REASON  train on data that fails its expectations; the reason\n"
    "                           and the failed rules are recorded on the run\n"
    "      --json               print the result as JSON\n"
    "      --help-learner NAME  list the learner's params: type, range, default, log, help\n"
    "  -h, --help               this help\n\n"
    "examples:\n"
    "  cairn train -c examples/configs/breast_cancer_xgboost.yaml -p max_depth=4 -n depth4\n"
    "  cairn train --help-learner xgboost\n";

/* "[0, 1]", "(0, inf]", "relu|tanh" or "-". */
static void format_range(const cairn_param_spec *s, char *out, size_t size)
{
    if (s->type == CAIRN_PARAM_CATEGORICAL) {
        size_t len = 0;
        out[0] = '\0';
        for (size_t i = 0; s->choices[i] && len < size; i++)
            len += (size_t)snprintf(out + len, size - len, "%s%s", i ? "|" : "", s->choices[i]);
    } else if (s->type == CAIRN_PARAM_BOOL || s->type == CAIRN_PARAM_STRING) {
        snprintf(out, size, "-");
    } else {
        snprintf(out, size, "%c%g, %g%c", s->low_open ? '(' : '[', s->low, s->high,
                 s->high_open ? ')' : ']');
    }
}

static int help_learner(const char *name)
{
    const cairn_param_spec *specs;
    size_t n;
    if (cairn_learner_params(name, &specs, &n) != CAIRN_OK) {
        fprintf(stderr, "cairn: error: learner '%s' is unknown; known:", name);
        for (size_t i = 0; cairn_learner_name(i); i++)
            fprintf(stderr, "%s %s", i ? "," : "", cairn_learner_name(i));
        fputc('\n', stderr);
        return 1;
    }
    printf("%-22s %-12s %-26s %-10s %-4s %s\n", "param", "type", "range", "default", "log", "help");
    for (size_t i = 0; i < n; i++) {
        char range[128];
        format_range(&specs[i], range, sizeof range);
        printf("%-22s %-12s %-26s %-10s %-4s %s\n", specs[i].name,
               cairn_param_type_name(specs[i].type), range,
               specs[i].default_value ? specs[i].default_value : "(fit)",
               specs[i].log_scale ? "yes" : "no", specs[i].help ? specs[i].help : "");
    }
    return 0;
}

static int progress(void *user, const cairn_epoch_info *e)
{
    (void)user;
    fprintf(stderr, "\repoch %d  train loss %.4f  val loss %.4f", e->epoch, e->train_loss,
            e->val_loss);
    fflush(stderr);
    return 0;
}

static void print_json(const cairn_train_result *r)
{
    cn_jsonw w;
    cn_jsonw_init(&w, stdout, 2);
    cn_jsonw_object_begin(&w);
    cn_jsonw_kstring(&w, "run_id", r->run_id);
    cn_jsonw_kstring(&w, "experiment_id", r->experiment_id);
    cn_jsonw_kstring(&w, "artifact_dir", r->artifact_dir);
    cn_jsonw_kstring(&w, "learner", r->learner);
    cn_jsonw_kstring(&w, "task", r->task);
    cn_jsonw_kstring(&w, "task_reason", r->task_reason);
    cn_jsonw_key(&w, "rows");
    cn_jsonw_object_begin(&w);
    cn_jsonw_kint(&w, "train", (int64_t)r->n_train);
    cn_jsonw_kint(&w, "val", (int64_t)r->n_val);
    cn_jsonw_kint(&w, "test", (int64_t)r->n_test);
    cn_jsonw_kint(&w, "moved_duplicates", (int64_t)r->n_moved_duplicates);
    cn_jsonw_object_end(&w);
    cn_jsonw_kint(&w, "epochs", (int64_t)r->n_epochs);
    cn_jsonw_kstring(&w, "diagnosis", r->diagnosis);
    cli_write_scored(&w, "val_metrics", r->metrics, r->n_metrics);
    cn_jsonw_key(&w, "cv");
    if (r->n_cv_folds == 0) {
        cn_jsonw_null(&w);
    } else {
        cn_jsonw_object_begin(&w);
        cn_jsonw_kint(&w, "folds", (int64_t)r->n_cv_folds);
        for (size_t i = 0; i < r->n_cv; i++) {
            cn_jsonw_key(&w, r->cv[i].name);
            cn_jsonw_object_begin(&w);
            cn_jsonw_kdouble(&w, "mean", r->cv[i].mean);
            cn_jsonw_kdouble(&w, "std", r->cv[i].std);
            cn_jsonw_object_end(&w);
        }
        cn_jsonw_object_end(&w);
    }
    cn_jsonw_key(&w, "plots");
    cn_jsonw_array_begin(&w);
    for (size_t i = 0; i < r->n_plots; i++)
        cn_jsonw_string(&w, r->plots[i]);
    cn_jsonw_array_end(&w);
    cn_jsonw_object_end(&w);
    cn_jsonw_finish(&w);
    cn_jsonw_release(&w);
}

static void print_human(const cairn_train_result *r)
{
    printf("run %s: %s, %s (train %zu, val %zu, test %zu sealed rows; %zu epochs)\n", r->run_id,
           r->learner, r->task, r->n_train, r->n_val, r->n_test, r->n_epochs);
    printf("task %s: %s\n", r->task, r->task_reason);
    printf("validation metrics (95%% bootstrap CI):\n");
    cli_print_scored(r->metrics, r->n_metrics);
    if (r->n_cv_folds) {
        printf("cross-validation (%zu folds):\n", r->n_cv_folds);
        for (size_t i = 0; i < r->n_cv; i++)
            printf("  %-18s %.4f +- %.4f\n", r->cv[i].name, r->cv[i].mean, r->cv[i].std);
    }
    if (r->diagnosis)
        printf("diagnosis: %s%s\n",
               strcmp(r->diagnosis, "none") == 0 ? "no problem found" : r->diagnosis,
               strcmp(r->diagnosis, "none") == 0 ? "" : " (cairn runs diagnose RUN_ID explains)");
    printf("artifacts: %s\n", r->artifact_dir);
    printf("plots:     %s/plots/\n", r->artifact_dir);
    printf("report:    %s/report.md\n", r->artifact_dir);
}

int cmd_train(int argc, char **argv)
{
    static const struct option longopts[] = {{"config", required_argument, NULL, 'c'},
                                             {"param", required_argument, NULL, 'p'},
                                             {"experiment", required_argument, NULL, 'e'},
                                             {"name", required_argument, NULL, 'n'},
                                             {"json", no_argument, NULL, 'j'},
                                             {"help", no_argument, NULL, 'h'},
                                             {"help-learner", required_argument, NULL, 'L'},
                                             {"expect", required_argument, NULL, 'X'},
                                             {"override-expect", required_argument, NULL, 'O'},
                                             {NULL, 0, NULL, 0}};
    cairn_train_opts o = CAIRN_TRAIN_OPTS_INIT;
    const char **keys = cn_xcalloc((size_t)argc + 1, sizeof *keys);
    const char **values = cn_xcalloc((size_t)argc + 1, sizeof *values);
    char **owned = cn_xcalloc((size_t)argc + 1, sizeof *owned);
    bool json = false;
    int c, code = 0;
    optind = 1;
    opterr = 0;
    while ((c = getopt_long(argc, argv, ":c:p:e:n:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'c': o.config = optarg; break;
        case 'p': {
            char *eq = strchr(optarg, '=');
            if (!eq || eq == optarg) {
                code = cli_usage(usage, "-p '%s': expected KEY=VALUE", optarg);
                goto done;
            }
            owned[o.n_params] = cn_xstrndup(optarg, (size_t)(eq - optarg));
            keys[o.n_params] = owned[o.n_params];
            values[o.n_params] = eq + 1;
            o.n_params++;
            break;
        }
        case 'e': o.experiment = optarg; break;
        case 'n': o.name = optarg; break;
        case 'j': json = true; break;
        case 'X': o.expect = optarg; break;
        case 'O':
            if (!*optarg) {
                code = cli_usage(usage, "--override-expect needs a reason, recorded on the run");
                goto done;
            }
            o.override_expect = optarg;
            break;
        case 'L': code = help_learner(optarg); goto done;
        default: code = cli_other_option(c, usage, help, argv); goto done;
        }
    }
    if (optind < argc) {
        code = cli_usage(usage, "unexpected argument '%s'", argv[optind]);
        goto done;
    }
    /* Run by `cairn tune` as a trial: log into the trial's run, whose metrics the tuner reads. */
    const char *trial_run = getenv("CAIRN_RUN_ID");
    if (trial_run && *trial_run && getenv("CAIRN_TRIAL"))
        o.run_id = trial_run;
    if (!o.config) {
        code = cli_usage(usage, "--config FILE is required");
        goto done;
    }
    o.param_keys = keys;
    o.param_values = values;
    bool tty = isatty(STDERR_FILENO);
    if (tty)
        o.on_epoch = progress;
    cairn_ctx *ctx = cli_open_store_log(CAIRN_LOG_WARN);
    if (!ctx) {
        code = 1;
        goto done;
    }
    cairn_train_result *r = NULL;
    cairn_status st = cairn_train(ctx, &o, &r);
    if (tty)
        fputs("\r\033[K", stderr);
    if (st != CAIRN_OK) {
        code = cli_fail(ctx);
    } else if (json) {
        print_json(r);
    } else {
        print_human(r);
    }
    cairn_train_result_free(r);
    cairn_close(ctx);
done:
    for (size_t i = 0; i < o.n_params; i++)
        free(owned[i]);
    free(owned);
    free(keys);
    free(values);
    return code;
}
