-- Marts: what the pages read, rebuilt (or refreshed incrementally) after each load.
-- Cases received / closed / cancelled per local day x micro-grid x category x channel.
CREATE TABLE IF NOT EXISTS mart_daily_counts (
    day            DATE NOT NULL,
    microgrid_id   VARCHAR NOT NULL,
    grid_id        VARCHAR,                   -- NULL at a level the deployment does not have
    community_id   VARCHAR,
    street_id      VARCHAR,
    category_id    VARCHAR NOT NULL,
    category_l1    VARCHAR NOT NULL,
    channel        VARCHAR NOT NULL,
    received       INTEGER NOT NULL,
    closed         INTEGER NOT NULL,
    cancelled      INTEGER NOT NULL
);

-- Backlog at the end of each local day, per street and top-level category.
CREATE TABLE IF NOT EXISTS mart_backlog_daily (
    day            DATE NOT NULL,
    street_id      VARCHAR,                   -- NULL when the deployment has no street level
    category_l1    VARCHAR NOT NULL,
    inflow         INTEGER NOT NULL,
    outflow        INTEGER NOT NULL,
    open_end       INTEGER NOT NULL
);

-- Per-area aggregates at every level (last 30 days and now).
CREATE TABLE IF NOT EXISTS mart_area_stats (
    area_id        VARCHAR NOT NULL,
    level          VARCHAR NOT NULL,
    cases_30d      INTEGER NOT NULL,
    open_now       INTEGER NOT NULL,
    residents      BIGINT,                    -- NULL: not published
    per_10k_30d    DOUBLE
);

-- The cases not closed (nor cancelled) at the snapshot: every column of events, a few tens of
-- thousands of rows. "Open at t" is "never closed, received before t" (this table) or "closed at
-- or after t" (events, whose row groups by closure time are few); without it the first half scans
-- every row group of the past weeks that still holds one open case.
CREATE TABLE IF NOT EXISTS mart_open_cases AS SELECT * FROM events LIMIT 0;

-- The distribution of each SLA stage's duration over the stages completed in the 28 days before
-- local midnight of `day` (data/sql/stage_quantiles.sql), kept by the ETL for today and yesterday:
-- what the SLA-risk warning reads, instead of sorting two million stages when a server starts.
CREATE TABLE IF NOT EXISTS mart_stage_quantiles (
    day            DATE NOT NULL,
    stage_key      VARCHAR NOT NULL,
    category_id    VARCHAR,
    department_id  VARCHAR,
    n              BIGINT NOT NULL,
    q              DOUBLE[] NOT NULL
);
