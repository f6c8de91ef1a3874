-- SPDX-License-Identifier: MIT
-- 006_studies: hyperparameter studies and their trials (PRODUCT.md §2, docs/hpo.md). A study
-- keeps its search space as written, its objective, sampler and pruner specs and seed; every
-- trial is also a run of the study's experiment (run_uuid). Trial numbers are 0, 1, 2, ...
-- per study, claimed under the study's lock. state is WAITING, RUNNING, COMPLETE, PRUNED,
-- FAIL or STALE (its worker stopped heartbeating; a WAITING copy retries it). params holds the
-- internal values (docs/hpo.md), comma-separated, "nan" for an inactive parameter. A grid
-- point is held by one trial at a time: grid_index is unique per study (NULLs apart).
-- trial_values are the intermediate values a trial reported (NULL: NaN).
CREATE TABLE studies (
    study_id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    experiment_id INTEGER NOT NULL,
    space TEXT NOT NULL,
    space_format INTEGER NOT NULL DEFAULT 0,
    objective TEXT NOT NULL,
    direction TEXT NOT NULL,
    strategy TEXT NOT NULL DEFAULT 'last',
    sampler TEXT NOT NULL,
    pruner TEXT NOT NULL,
    seed INTEGER NOT NULL,
    heartbeat_interval_ms INTEGER NOT NULL,
    creation_time INTEGER NOT NULL
);
CREATE TABLE trials (
    study_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    state TEXT NOT NULL,
    value REAL,
    params TEXT NOT NULL,
    grid_index INTEGER,
    run_uuid TEXT NOT NULL DEFAULT '',
    retry_of INTEGER,
    retries INTEGER NOT NULL DEFAULT 0,
    start_time INTEGER,
    end_time INTEGER,
    heartbeat_ms INTEGER,
    PRIMARY KEY (study_id, number)
);
CREATE UNIQUE INDEX trials_grid ON trials (study_id, grid_index);
CREATE INDEX trials_state ON trials (study_id, state, heartbeat_ms);
CREATE TABLE trial_values (
    study_id INTEGER NOT NULL,
    number INTEGER NOT NULL,
    step INTEGER NOT NULL,
    value REAL,
    PRIMARY KEY (study_id, number, step)
) WITHOUT ROWID;
