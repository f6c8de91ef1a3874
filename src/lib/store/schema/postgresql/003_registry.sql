-- SPDX-License-Identifier: MIT
-- 003_registry: the model registry on PostgreSQL; same tables and columns as
-- sqlite/003_registry.sql.
CREATE TABLE registered_models (
    name TEXT PRIMARY KEY,
    creation_time BIGINT NOT NULL,
    last_updated_time BIGINT NOT NULL,
    description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE registered_model_tags (
    name TEXT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, key)
);
-- current_stage 'Deleted_Internal' marks a deleted version, as MLflow does: its number stays
-- taken, since the next version is max(version) + 1 over every row.
CREATE TABLE model_versions (
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    creation_time BIGINT NOT NULL,
    last_updated_time BIGINT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    user_id TEXT NOT NULL DEFAULT '',
    current_stage TEXT NOT NULL DEFAULT 'None',
    source TEXT NOT NULL,
    run_id TEXT,
    run_link TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'READY',
    status_message TEXT NOT NULL DEFAULT '',
    semver TEXT,
    PRIMARY KEY (name, version)
);
-- NULLs are distinct, so only versions that carry a label compete for it.
CREATE UNIQUE INDEX model_versions_semver ON model_versions (name, semver);
CREATE INDEX model_versions_run ON model_versions (run_id);
CREATE TABLE model_version_tags (
    name TEXT NOT NULL,
    version BIGINT NOT NULL,
    key TEXT NOT NULL,
    value TEXT NOT NULL,
    PRIMARY KEY (name, version, key)
);
CREATE TABLE registered_model_aliases (
    name TEXT NOT NULL,
    alias TEXT NOT NULL,
    version BIGINT NOT NULL,
    PRIMARY KEY (name, alias)
);
-- kind: alias_set, alias_delete, rollback (alias, from_version -> to_version; 0: none) or
-- stage (from_stage -> to_stage of version from_version = to_version).
CREATE TABLE registry_events (
    name TEXT NOT NULL,
    seq BIGINT NOT NULL,
    kind TEXT NOT NULL,
    alias TEXT,
    from_version BIGINT NOT NULL DEFAULT 0,
    to_version BIGINT NOT NULL DEFAULT 0,
    from_stage TEXT,
    to_stage TEXT,
    user_id TEXT NOT NULL DEFAULT '',
    reason TEXT NOT NULL DEFAULT '',
    time BIGINT NOT NULL,
    PRIMARY KEY (name, seq)
);
CREATE INDEX registry_events_alias ON registry_events (name, alias, seq);
