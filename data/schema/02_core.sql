-- Core tables: the five kinds of things the command center watches (人、房、企、事、物).
-- No names, phone numbers or national ID numbers: people are keyed by a keyed hash.
CREATE TABLE IF NOT EXISTS events (
    case_id        VARCHAR PRIMARY KEY,
    channel        VARCHAR NOT NULL,
    category_id    VARCHAR NOT NULL,          -- level-2 category
    category_l1    VARCHAR NOT NULL,          -- its level-1 parent (derived)
    urgency        VARCHAR NOT NULL,          -- urgent | normal
    route          VARCHAR NOT NULL,          -- auto | one_thing | joint
    department_id  VARCHAR NOT NULL,
    needs_dispatch BOOLEAN NOT NULL,          -- the dispatch SLA applies only when true
    summary        VARCHAR,                   -- short description, no personal data
    microgrid_id   VARCHAR NOT NULL,
    grid_id        VARCHAR,                   -- ancestors of the micro-grid (derived); NULL at a level
    community_id   VARCHAR,                   -- the deployment does not have (see area_levels)
    street_id      VARCHAR,
    lon            DOUBLE,
    lat            DOUBLE,
    received_at    TIMESTAMPTZ NOT NULL,
    accepted_at    TIMESTAMPTZ,
    dispatched_at  TIMESTAMPTZ,
    closed_at      TIMESTAMPTZ,               -- closure (or cancellation) time
    status         VARCHAR NOT NULL,          -- received | accepted | dispatched | in_progress | closed | cancelled
    satisfaction   TINYINT,                   -- 1..5, NULL when not rated
    updated_at     TIMESTAMPTZ NOT NULL,
    repeat_7d      BOOLEAN NOT NULL DEFAULT FALSE, -- an earlier report, same micro-grid and category, within 7 days (derived)
    -- Columns added after the first release go last, so a warehouse upgraded in place (ALTER TABLE ADD)
    -- has the same column order as a new one.
    due_at         TIMESTAMPTZ                -- the source's own closure deadline (overrides the SLA rule); NULL: the rule decides
);

CREATE TABLE IF NOT EXISTS people (
    person_key     VARCHAR PRIMARY KEY,       -- keyed hash; never an ID number
    kind           VARCHAR NOT NULL,          -- registered | floating
    sex            VARCHAR,                   -- F | M
    age_band       VARCHAR NOT NULL,          -- 0-17 | 18-34 | 35-59 | 60-79 | 80+
    microgrid_id   VARCHAR NOT NULL,
    unit_id        VARCHAR,                   -- housing unit, when known
    flag_elderly_alone BOOLEAN NOT NULL,      -- 独居老人
    flag_disability    BOOLEAN NOT NULL,      -- 残疾人
    flag_low_income    BOOLEAN NOT NULL,      -- 低保/低边
    flag_key_care      BOOLEAN NOT NULL,      -- 重点关爱对象
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS housing (
    unit_id        VARCHAR PRIMARY KEY,
    building_id    VARCHAR NOT NULL,
    microgrid_id   VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL,          -- residential | commercial | mixed | dormitory
    is_rental      BOOLEAN NOT NULL,
    occupants      SMALLINT NOT NULL,
    built_year     SMALLINT,
    lon            DOUBLE,
    lat            DOUBLE,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS enterprises (
    enterprise_id  VARCHAR PRIMARY KEY,
    industry       VARCHAR NOT NULL,
    size           VARCHAR NOT NULL,          -- micro | small | medium | large
    risk_level     VARCHAR NOT NULL,          -- low | medium | high
    employees      INTEGER NOT NULL,
    microgrid_id   VARCHAR NOT NULL,
    lon            DOUBLE,
    lat            DOUBLE,
    updated_at     TIMESTAMPTZ NOT NULL
);

CREATE TABLE IF NOT EXISTS assets (
    asset_id       VARCHAR PRIMARY KEY,
    kind           VARCHAR NOT NULL,          -- camera | vehicle | supply_depot | hydrant | aed | staff
    status         VARCHAR NOT NULL,          -- online | busy | offline
    department_id  VARCHAR,                   -- owner, for vehicles and staff
    microgrid_id   VARCHAR NOT NULL,
    lon            DOUBLE,
    lat            DOUBLE,
    last_seen_at   TIMESTAMPTZ,
    updated_at     TIMESTAMPTZ NOT NULL
);
