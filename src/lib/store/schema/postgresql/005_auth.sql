-- SPDX-License-Identifier: MIT
-- 005_auth: optional authentication on PostgreSQL; same tables and columns as
-- sqlite/005_auth.sql.
CREATE TABLE users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0,
    creation_time BIGINT NOT NULL,
    last_updated_time BIGINT NOT NULL
);
-- Only the SHA-256 (hex) of a token is kept; expires 0 means never, last_used 0 means never.
CREATE TABLE tokens (
    token_sha256 TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    name TEXT NOT NULL,
    created BIGINT NOT NULL,
    expires BIGINT NOT NULL DEFAULT 0,
    last_used BIGINT NOT NULL DEFAULT 0,
    UNIQUE (username, name)
);
CREATE TABLE experiment_permissions (
    experiment_id TEXT NOT NULL,
    username TEXT NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (experiment_id, username)
);
CREATE INDEX experiment_permissions_user ON experiment_permissions (username);
CREATE TABLE registered_model_permissions (
    name TEXT NOT NULL,
    username TEXT NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (name, username)
);
CREATE INDEX registered_model_permissions_user ON registered_model_permissions (username);
