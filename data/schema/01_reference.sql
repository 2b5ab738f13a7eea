-- Reference tables: the geography and the catalogues. Idempotent: safe to run on every start.
CREATE TABLE IF NOT EXISTS areas (
    area_id        VARCHAR PRIMARY KEY,
    level          VARCHAR NOT NULL,          -- district (the one top area) | street | community | grid | microgrid (finest)
    name           VARCHAR NOT NULL,          -- zh-CN display name
    name_en        VARCHAR NOT NULL,
    parent_id      VARCHAR,                   -- NULL for the district
    street_id      VARCHAR,                   -- ancestors (and the area itself at its own level); NULL at a level
                                              -- the deployment skips
    community_id   VARCHAR,
    grid_id        VARCHAR,
    residents      BIGINT,                    -- NULL: not published (per-10k measures are NULL then)
    land_use       VARCHAR,                   -- residential | mixed | commercial | industrial | park
    area_km2       DOUBLE NOT NULL,
    centroid_lon   DOUBLE NOT NULL,           -- a point inside the polygon, for labels
    centroid_lat   DOUBLE NOT NULL,
    geometry_wkb   BLOB NOT NULL,             -- full-precision polygon, WGS84
    geojson        VARCHAR NOT NULL,          -- same geometry as GeoJSON text
    geojson_simple VARCHAR NOT NULL           -- simplified per level for the web tier
);

-- The levels this deployment has (2 to 5), top-down, with their display names. The slots of areas.level are
-- the product's vocabulary: district is the one top area, microgrid the finest (where cases are placed), and
-- street, community, grid the intermediate levels used top-down. Empty: the levels present in areas, with the
-- slots' default names.
CREATE TABLE IF NOT EXISTS area_levels (
    level          VARCHAR PRIMARY KEY,       -- a slot of areas.level
    depth          INTEGER NOT NULL,          -- 0 for the top area, then 1, 2 ... down to the finest level
    name           VARCHAR NOT NULL,          -- zh-CN display name of the level ("区", "城市" ...)
    name_en        VARCHAR NOT NULL           -- English display name ("District", "Neighborhood Council" ...)
);

CREATE TABLE IF NOT EXISTS categories (
    category_id    VARCHAR PRIMARY KEY,
    parent_id      VARCHAR,                   -- NULL for a top-level category
    level          TINYINT NOT NULL,          -- 1 top level, 2 sub-category (cases use level 2)
    name           VARCHAR NOT NULL,
    name_en        VARCHAR NOT NULL,
    department_id  VARCHAR                    -- default responsible department
);

CREATE TABLE IF NOT EXISTS departments (
    department_id  VARCHAR PRIMARY KEY,
    name           VARCHAR NOT NULL,
    name_en        VARCHAR NOT NULL,
    kind           VARCHAR NOT NULL           -- bureau | street
);

CREATE TABLE IF NOT EXISTS channels (
    channel        VARCHAR PRIMARY KEY,       -- qr | hotline | patrol | camera | other
    name           VARCHAR NOT NULL,
    name_en        VARCHAR NOT NULL
);
