-- SPDX-License-Identifier: MIT
-- 004_logged_models: MLflow 3.x logged models. Tables and columns follow MLflow's SQL store
-- (logged_models, logged_model_tags, logged_model_params, logged_model_metrics); run_outputs
-- links a run to the models it produced (LogOutputs). model_id is "m-" and 32 hex characters;
-- status is LOGGED_MODEL_PENDING, LOGGED_MODEL_READY or LOGGED_MODEL_UPLOAD_FAILED; a deleted
-- model keeps its row with lifecycle_stage 'deleted', as MLflow's does. Model versions of 3.x
-- clients may name the logged model they register (model_versions.model_id).
CREATE TABLE logged_models (
    model_id TEXT PRIMARY KEY,
    experiment_id INTEGER NOT NULL,
    name TEXT NOT NULL,
    model_type TEXT NOT NULL DEFAULT '',
    source_run_id TEXT,
    status TEXT NOT NULL,
    status_message TEXT NOT NULL DEFAULT '',
    creator_id TEXT NOT NULL DEFAULT '',
    creation_time INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL,
    artifact_location TEXT NOT NULL,
    lifecycle_stage TEXT NOT NULL DEFAULT 'active'
);
CREATE INDEX logged_models_experiment ON logged_models (experiment_id, creation_time DESC, model_id);
CREATE INDEX logged_models_name ON logged_models (name);
CREATE INDEX logged_models_run ON logged_models (source_run_id);
CREATE TABLE logged_model_tags (
    model_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
CREATE TABLE logged_model_params (
    model_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
) WITHOUT ROWID;
-- Every point, as metrics holds a run's; run_id and the dataset say where it was measured
-- ('' when not given).
CREATE TABLE logged_model_metrics (
    model_id TEXT NOT NULL,
    key TEXT NOT NULL,
    step INTEGER NOT NULL,
    timestamp INTEGER NOT NULL,
    value REAL NOT NULL,
    is_nan INTEGER NOT NULL DEFAULT 0,
    run_id TEXT NOT NULL DEFAULT '',
    dataset_name TEXT NOT NULL DEFAULT '',
    dataset_digest TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (model_id, key, step, timestamp, value, is_nan, run_id, dataset_name, dataset_digest)
) WITHOUT ROWID;
CREATE TABLE run_outputs (
    run_uuid TEXT NOT NULL,
    model_id TEXT NOT NULL,
    step INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (run_uuid, model_id)
) WITHOUT ROWID;
CREATE INDEX run_outputs_model ON run_outputs (model_id);
ALTER TABLE model_versions ADD COLUMN model_id TEXT;
CREATE INDEX model_versions_model ON model_versions (model_id);
