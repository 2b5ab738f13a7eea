-- Cameras, staff and vehicles of the scope's area by street and status, right now (the assets
-- table holds each asset's current state). online = working / free, busy = on a case,
-- offline = down / off duty.
SELECT a.street_id, s.name, s.name_en, x.kind,
       count(*) FILTER (WHERE x.status = 'online')  AS online,
       count(*) FILTER (WHERE x.status = 'busy')    AS busy,
       count(*) FILTER (WHERE x.status = 'offline') AS offline,
       count(*)                                     AS total
FROM assets x
JOIN areas a ON a.area_id = x.microgrid_id
JOIN areas s ON s.area_id = a.street_id
WHERE x.kind IN ('camera', 'staff', 'vehicle') AND /*area:a*/
GROUP BY a.street_id, s.name, s.name_en, x.kind
ORDER BY a.street_id, x.kind
