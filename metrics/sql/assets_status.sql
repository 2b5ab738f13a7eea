-- assets_status: the scope's assets by kind and current status (the assets table holds each
-- asset's state now): online = working / available, busy = on a case, offline = down / off duty.
-- $departments (empty: all) narrows the staff, as the staff-on-duty vital sign does.
SELECT a.kind,
       count(*) FILTER (WHERE a.status = 'online') AS online,
       count(*) FILTER (WHERE a.status = 'busy') AS busy,
       count(*) FILTER (WHERE a.status = 'offline') AS offline,
       count(*) AS total
FROM assets AS a
JOIN areas AS m ON m.area_id = a.microgrid_id
WHERE /*area:m*/
  AND (a.kind <> 'staff' OR len($departments) = 0 OR list_contains($departments, a.department_id))
GROUP BY a.kind
ORDER BY a.kind
