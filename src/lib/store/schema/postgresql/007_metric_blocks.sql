-- SPDX-License-Identifier: MIT
-- 007_metric_blocks: summaries of every 64 steps of a long metric (block = floor(step / 64)),
-- so that a chart of a long series reads one row per block instead of every point
-- (cairn/metrics/downsample, docs/rest.md "Downsampling"). They are not written when points
-- are logged: the first chart of a long series computes them from its points and keeps them,
-- and logging only marks what changed (latest_metrics below), so the write path pays one
-- column update, not a summary. Per block: the number of points n; the first and the last
-- point in the metrics table's key order (step, timestamp, value, is_nan); the lowest and the
-- highest value that is not NaN (lo_*, hi_*: NULL when every point is NaN), ties going to the
-- point first in key order; the earliest and the latest point by timestamp (tf_*: ties to the
-- first in key order, tl_*: to the last), for charts against wall time. Same tables as sqlite/007_metric_blocks.sql.
-- latest_metrics.blocks: 1 when metric_blocks hold the series' summaries; then dirty_lo and
-- dirty_hi bound the steps logged since (NULL: none), whose blocks are computed again from
-- the points by the next chart. seq counts the writes of the series' points: summaries
-- computed from points read while seq moved are not kept (store_summary.c).
ALTER TABLE latest_metrics ADD COLUMN blocks INTEGER NOT NULL DEFAULT 0;
ALTER TABLE latest_metrics ADD COLUMN dirty_lo BIGINT;
ALTER TABLE latest_metrics ADD COLUMN dirty_hi BIGINT;
ALTER TABLE latest_metrics ADD COLUMN seq BIGINT NOT NULL DEFAULT 0;
CREATE TABLE metric_blocks (
    run_uuid TEXT NOT NULL,
    key TEXT NOT NULL,
    block BIGINT NOT NULL,
    n BIGINT NOT NULL,
    f_step BIGINT NOT NULL,
    f_ts BIGINT NOT NULL,
    f_value DOUBLE PRECISION NOT NULL,
    f_nan INTEGER NOT NULL,
    l_step BIGINT NOT NULL,
    l_ts BIGINT NOT NULL,
    l_value DOUBLE PRECISION NOT NULL,
    l_nan INTEGER NOT NULL,
    lo_step BIGINT,
    lo_ts BIGINT,
    lo_value DOUBLE PRECISION,
    hi_step BIGINT,
    hi_ts BIGINT,
    hi_value DOUBLE PRECISION,
    tf_step BIGINT NOT NULL,
    tf_ts BIGINT NOT NULL,
    tf_value DOUBLE PRECISION NOT NULL,
    tf_nan INTEGER NOT NULL,
    tl_step BIGINT NOT NULL,
    tl_ts BIGINT NOT NULL,
    tl_value DOUBLE PRECISION NOT NULL,
    tl_nan INTEGER NOT NULL,
    PRIMARY KEY (run_uuid, key, block)
);
