-- asset_points: the assets of some kinds ($kinds, a list: camera, supply_depot, staff ...) placed in
-- the scope's area, with their state now (the assets table holds each asset's current state:
-- online = working / free, busy = on a case, offline = down / off duty), for the analyst map's asset
-- layers (gathered into cells by layers/sql/cluster.sql). Assets without coordinates are left out.
-- Columns: the point's group (kind.status, e.g. camera.offline), its hover label (the asset id), lon, lat.
-- /*area:a*/ is the scope's area predicate (filters do not apply to assets).
SELECT x.kind || '.' || x.status AS grp, x.asset_id AS label, x.asset_id AS label_en, x.lon, x.lat
FROM assets AS x
JOIN areas AS a ON a.area_id = x.microgrid_id
WHERE list_contains($kinds, x.kind) AND x.lon IS NOT NULL AND x.lat IS NOT NULL AND /*area:a*/
