-- SPDX-License-Identifier: MIT
-- 002_heartbeat: run heartbeats on PostgreSQL; same columns as sqlite/002_heartbeat.sql.
ALTER TABLE runs ADD COLUMN heartbeat_ms BIGINT;
ALTER TABLE runs ADD COLUMN heartbeat_interval_ms BIGINT;
CREATE INDEX runs_status_heartbeat ON runs (status, heartbeat_ms);
