-- vitals_resources: cameras online and staff on duty in the scope's area right now (assets hold
-- the current state only). A camera is online unless 'offline'; staff are on duty when 'online'
-- (available) or 'busy' (on a case). $departments (empty: all) narrows the staff.
SELECT
    count(*) FILTER (WHERE a.kind = 'camera') AS cameras,
    count(*) FILTER (WHERE a.kind = 'camera' AND a.status <> 'offline') AS cameras_online,
    count(*) FILTER (WHERE a.kind = 'staff'
                     AND (len($departments) = 0 OR list_contains($departments, a.department_id))) AS staff,
    count(*) FILTER (WHERE a.kind = 'staff' AND a.status IN ('online', 'busy')
                     AND (len($departments) = 0 OR list_contains($departments, a.department_id))) AS staff_on_duty
FROM assets AS a
JOIN areas AS m ON m.area_id = a.microgrid_id
WHERE /*area:m*/
