-- Bookkeeping: one row per ETL cycle, a checksum ledger of landing files, rejected rows.
CREATE SEQUENCE IF NOT EXISTS etl_run_seq START 1;

CREATE TABLE IF NOT EXISTS etl_runs (
    run_id         BIGINT PRIMARY KEY,
    kind           VARCHAR NOT NULL,          -- events | reference | demo | replay | upgrade
    started_at     TIMESTAMPTZ NOT NULL,
    finished_at    TIMESTAMPTZ,
    files          INTEGER NOT NULL DEFAULT 0,
    rows_in        BIGINT NOT NULL DEFAULT 0,
    rows_loaded    BIGINT NOT NULL DEFAULT 0,
    rows_quarantined BIGINT NOT NULL DEFAULT 0,
    duration_s     DOUBLE,
    status         VARCHAR NOT NULL,          -- running | ok | failed
    snapshot       VARCHAR,                   -- file name of the snapshot it published
    error          VARCHAR,
    note           VARCHAR                    -- what an upgrade run changed
);

CREATE TABLE IF NOT EXISTS etl_files (
    path           VARCHAR NOT NULL,          -- relative to var/landing
    sha256         VARCHAR NOT NULL,
    table_name     VARCHAR NOT NULL,
    run_id         BIGINT NOT NULL,
    rows_in        BIGINT NOT NULL,
    rows_loaded    BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    status         VARCHAR NOT NULL,          -- loaded | rejected
    error          VARCHAR,
    loaded_at      TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (path, sha256)
);

CREATE TABLE IF NOT EXISTS quarantine (
    run_id         BIGINT NOT NULL,
    file           VARCHAR NOT NULL,
    line           BIGINT,                    -- 1-based line (CSV/JSONL) or row number (Parquet)
    table_name     VARCHAR NOT NULL,
    reason         VARCHAR NOT NULL,          -- reason code, e.g. bad_timestamp, unknown_category
    detail         VARCHAR,
    raw            VARCHAR,                   -- the rejected row as text (truncated to 64 KB)
    quarantined_at TIMESTAMPTZ NOT NULL
);
