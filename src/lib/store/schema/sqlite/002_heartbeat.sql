-- SPDX-License-Identifier: MIT
-- 002_heartbeat: a run's process writes heartbeat_ms (epoch ms) every heartbeat_interval_ms
-- while it holds the run. A RUNNING run whose last beat is older than three intervals is lost
-- (its process died): readers report it KILLED and the next writer stores it so. NULL (runs
-- from MLflow clients, rows older than this migration) means "no heartbeat": never reaped.
ALTER TABLE runs ADD COLUMN heartbeat_ms INTEGER;
ALTER TABLE runs ADD COLUMN heartbeat_interval_ms INTEGER;
CREATE INDEX runs_status_heartbeat ON runs (status, heartbeat_ms);
