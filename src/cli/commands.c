/* SPDX-License-Identifier: MIT */
/* commands.c - the one top-level command table (git's commands[]). */
#include <stddef.h>
#include "cli.h"
#include "base/banned.h"

const cli_command cli_commands[] = {
    {"run", cmd_run, "run a command as a tracked run"},
    {"exp", cmd_exp, "create, list, show, rename, delete and restore experiments"},
    {"runs", cmd_runs, "list, show, search, compare, delete, restore and export runs"},
    {"init", cmd_init, "write a project scaffold: config, space, expectations, card, pipeline"},
    {"data", cmd_data, "validate, split, profile and hash datasets"},
    {"tune", cmd_tune, "create or resume a study and run its trials over any command"},
    {"worker", cmd_worker, "join an existing study from another process or machine"},
    {"study", cmd_study, "list, show, best, trials and delete hyperparameter studies"},
    {"train", cmd_train, "fit a learner from an experiment config as a tracked run"},
    {"automl", cmd_automl, "search learners and params by cross-validation, refit the best"},
    {"ablate", cmd_ablate, "one-factor changes against a baseline over seeds, with paired tests"},
    {"eval", cmd_eval, "score predictions, models and compare runs"},
    {"explain", cmd_explain,
     "why a run's model predicts: importance, SHAP, partial dependence, slices"},
    {"store", cmd_store, "check the store's integrity and schema"},
    {"server", cmd_server, "serve the store over MLflow's REST API and the artifact proxy"},
    {"model", cmd_model, "register models, move aliases, roll back and show their history"},
    {"drift", cmd_drift, "compare data with a reference: drift tests, reports, reference profiles"},
    {"predict", cmd_predict, "score unlabelled rows with a model: predictions and probabilities"},
    {"serve", cmd_serve, "serve a model: MLflow scoring, Open Inference V2, drift monitoring"},
    {"pipeline", cmd_pipeline, "run a pipeline.yaml's stages with caching and resume; status"},
    {"auth", cmd_auth, "users, tokens and permissions of the tracking server's --auth"},
};
const size_t cli_n_commands = sizeof cli_commands / sizeof cli_commands[0];
