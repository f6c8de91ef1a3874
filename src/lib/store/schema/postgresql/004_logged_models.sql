-- SPDX-License-Identifier: MIT
-- 004_logged_models: MLflow 3.x logged models on PostgreSQL; same tables and columns as
-- sqlite/004_logged_models.sql.
CREATE TABLE logged_models (
    model_id TEXT PRIMARY KEY,
    experiment_id BIGINT NOT NULL,
    name TEXT NOT NULL,
    model_type TEXT NOT NULL DEFAULT '',
    source_run_id TEXT,
    status TEXT NOT NULL,
    status_message TEXT NOT NULL DEFAULT '',
    creator_id TEXT NOT NULL DEFAULT '',
    creation_time BIGINT NOT NULL,
    last_updated_time BIGINT NOT NULL,
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
);
CREATE TABLE logged_model_params (
    model_id TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (model_id, key)
);
-- Every point, as metrics holds a run's; run_id and the dataset say where it was measured
-- ('' when not given).
CREATE TABLE logged_model_metrics (
    model_id TEXT NOT NULL,
    key TEXT NOT NULL,
    step BIGINT NOT NULL,
    timestamp BIGINT NOT NULL,
    value DOUBLE PRECISION NOT NULL,
    is_nan BIGINT NOT NULL DEFAULT 0,
    run_id TEXT NOT NULL DEFAULT '',
    dataset_name TEXT NOT NULL DEFAULT '',
    dataset_digest TEXT NOT NULL DEFAULT '',
    PRIMARY KEY (model_id, key, step, timestamp, value, is_nan, run_id, dataset_name, dataset_digest)
);
CREATE TABLE run_outputs (
    run_uuid TEXT NOT NULL,
    model_id TEXT NOT NULL,
    step BIGINT NOT NULL DEFAULT 0,
    PRIMARY KEY (run_uuid, model_id)
);
CREATE INDEX run_outputs_model ON run_outputs (model_id);
ALTER TABLE model_versions ADD COLUMN model_id TEXT;
CREATE INDEX model_versions_model ON model_versions (model_id);
