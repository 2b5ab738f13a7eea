-- asset_points: the assets of some kinds ($kinds, a list: camera, supply_depot, staff ...) placed in
-- the scope's area, with their state now (the assets table holds each asset's current state:
-- online = working / free, busy = on a case, offline = down / off duty). Assets without
-- coordinates are left out. /*area:a*/ is the scope's area predicate (filters do not apply to assets).
SELECT x.asset_id, x.kind, x.status, x.lon, x.lat, x.department_id
FROM assets AS x
JOIN areas AS a ON a.area_id = x.microgrid_id
WHERE list_contains($kinds, x.kind) AND x.lon IS NOT NULL AND x.lat IS NOT NULL AND /*area:a*/
ORDER BY x.asset_id
