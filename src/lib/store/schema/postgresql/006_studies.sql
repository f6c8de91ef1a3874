-- SPDX-License-Identifier: MIT
-- 006_studies: hyperparameter studies and their trials on PostgreSQL; same tables and columns
-- as sqlite/006_studies.sql.
CREATE TABLE studies (
    study_id BIGSERIAL PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    experiment_id BIGINT NOT NULL,
    space TEXT NOT NULL,
    space_format INTEGER NOT NULL DEFAULT 0,
    objective TEXT NOT NULL,
    direction TEXT NOT NULL,
    strategy TEXT NOT NULL DEFAULT 'last',
    sampler TEXT NOT NULL,
    pruner TEXT NOT NULL,
    seed BIGINT NOT NULL,
    heartbeat_interval_ms BIGINT NOT NULL,
    creation_time BIGINT NOT NULL
);
CREATE TABLE trials (
    study_id BIGINT NOT NULL,
    number BIGINT NOT NULL,
    state TEXT NOT NULL,
    value DOUBLE PRECISION,
    params TEXT NOT NULL,
    grid_index BIGINT,
    run_uuid TEXT NOT NULL DEFAULT '',
    retry_of BIGINT,
    retries INTEGER NOT NULL DEFAULT 0,
    start_time BIGINT,
    end_time BIGINT,
    heartbeat_ms BIGINT,
    PRIMARY KEY (study_id, number)
);
CREATE UNIQUE INDEX trials_grid ON trials (study_id, grid_index);
CREATE INDEX trials_state ON trials (study_id, state, heartbeat_ms);
CREATE TABLE trial_values (
    study_id BIGINT NOT NULL,
    number BIGINT NOT NULL,
    step BIGINT NOT NULL,
    value DOUBLE PRECISION,
    PRIMARY KEY (study_id, number, step)
);
