-- SPDX-License-Identifier: MIT
-- 005_auth: optional authentication for the tracking server (docs/auth.md). Tables follow
-- MLflow's basic-auth store (users, experiment_permissions, registered_model_permissions),
-- keyed by username rather than a numeric user id; tokens are cairn's. Permissions are
-- 'READ', 'EDIT', 'MANAGE' or 'NO_PERMISSIONS' as MLflow spells them.
-- password_hash is self-describing: "pbkdf2-sha256$<iterations>$<salt>$<hash>" (base64url).
CREATE TABLE users (
    username TEXT PRIMARY KEY,
    password_hash TEXT NOT NULL,
    is_admin INTEGER NOT NULL DEFAULT 0,
    creation_time INTEGER NOT NULL,
    last_updated_time INTEGER NOT NULL
) WITHOUT ROWID;
-- Only the SHA-256 (hex) of a token is kept; expires 0 means never, last_used 0 means never.
CREATE TABLE tokens (
    token_sha256 TEXT PRIMARY KEY,
    username TEXT NOT NULL,
    name TEXT NOT NULL,
    created INTEGER NOT NULL,
    expires INTEGER NOT NULL DEFAULT 0,
    last_used INTEGER NOT NULL DEFAULT 0,
    UNIQUE (username, name)
) WITHOUT ROWID;
CREATE TABLE experiment_permissions (
    experiment_id TEXT NOT NULL,
    username TEXT NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (experiment_id, username)
) WITHOUT ROWID;
CREATE INDEX experiment_permissions_user ON experiment_permissions (username);
CREATE TABLE registered_model_permissions (
    name TEXT NOT NULL,
    username TEXT NOT NULL,
    permission TEXT NOT NULL,
    PRIMARY KEY (name, username)
) WITHOUT ROWID;
CREATE INDEX registered_model_permissions_user ON registered_model_permissions (username);
