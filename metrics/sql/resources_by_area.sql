-- resources_by_area: people, housing, enterprises and assets (their current state) per area at
-- $level inside the scope's area, zero for an area that has none. /*col:area:m*/ is the areas
-- column that holds a micro-grid's ancestor at $level (area_id at the micro-grid level, NULL at
-- the district level, which is then $self, the scope's own area).
-- Asset rules as vitals_resources.sql, so the totals equal the vital signs: a camera is online
-- unless 'offline'; staff are on duty when 'online' (available) or 'busy' (on a case); a vehicle
-- is free only when 'online'. $departments (empty: all) narrows the staff, as the vital sign does.
-- People are the pseudonymous register (its rows), residents the areas table's published count.
WITH mg AS (
    SELECT m.area_id AS microgrid_id, coalesce(CAST(/*col:area:m*/ AS VARCHAR), $self) AS area_id
    FROM areas AS m
    WHERE m.level = 'microgrid' AND /*area:m*/
),
ppl AS (
    SELECT mg.area_id, count(*) AS people,
           count(*) FILTER (WHERE p.kind = 'registered') AS registered,
           count(*) FILTER (WHERE p.kind = 'floating') AS floating,
           count(*) FILTER (WHERE p.age_band IN ('60-79', '80+')) AS aged_60_plus,
           count(*) FILTER (WHERE p.flag_elderly_alone) AS elderly_alone,
           count(*) FILTER (WHERE p.flag_disability) AS disability,
           count(*) FILTER (WHERE p.flag_low_income) AS low_income,
           count(*) FILTER (WHERE p.flag_key_care) AS key_care
    FROM people AS p
    JOIN mg ON mg.microgrid_id = p.microgrid_id
    GROUP BY mg.area_id
),
hou AS (
    SELECT mg.area_id, count(*) AS housing_units, count(DISTINCT h.building_id) AS buildings,
           count(*) FILTER (WHERE h.is_rental) AS rental_units
    FROM housing AS h
    JOIN mg ON mg.microgrid_id = h.microgrid_id
    GROUP BY mg.area_id
),
ent AS (
    SELECT mg.area_id, count(*) AS enterprises,
           count(*) FILTER (WHERE x.risk_level = 'high') AS high_risk_enterprises,
           coalesce(sum(x.employees), 0) AS employees
    FROM enterprises AS x
    JOIN mg ON mg.microgrid_id = x.microgrid_id
    GROUP BY mg.area_id
),
ast AS (
    SELECT mg.area_id,
           count(*) FILTER (WHERE a.kind = 'camera') AS cameras,
           count(*) FILTER (WHERE a.kind = 'camera' AND a.status <> 'offline') AS cameras_online,
           count(*) FILTER (WHERE a.kind = 'staff'
                            AND (len($departments) = 0 OR list_contains($departments, a.department_id))) AS staff,
           count(*) FILTER (WHERE a.kind = 'staff' AND a.status IN ('online', 'busy')
                            AND (len($departments) = 0 OR list_contains($departments, a.department_id)))
               AS staff_on_duty,
           count(*) FILTER (WHERE a.kind = 'vehicle') AS vehicles,
           count(*) FILTER (WHERE a.kind = 'vehicle' AND a.status = 'online') AS vehicles_free,
           count(*) FILTER (WHERE a.kind = 'supply_depot') AS supply_depots,
           count(*) FILTER (WHERE a.kind = 'hydrant') AS hydrants,
           count(*) FILTER (WHERE a.kind = 'aed') AS aeds
    FROM assets AS a
    JOIN mg ON mg.microgrid_id = a.microgrid_id
    GROUP BY mg.area_id
)
SELECT a.area_id, a.name, a.name_en, a.residents,
       coalesce(ppl.people, 0) AS people, coalesce(ppl.registered, 0) AS registered,
       coalesce(ppl.floating, 0) AS floating, coalesce(ppl.aged_60_plus, 0) AS aged_60_plus,
       coalesce(ppl.elderly_alone, 0) AS elderly_alone, coalesce(ppl.disability, 0) AS disability,
       coalesce(ppl.low_income, 0) AS low_income, coalesce(ppl.key_care, 0) AS key_care,
       coalesce(hou.housing_units, 0) AS housing_units, coalesce(hou.buildings, 0) AS buildings,
       coalesce(hou.rental_units, 0) AS rental_units,
       coalesce(ent.enterprises, 0) AS enterprises, coalesce(ent.high_risk_enterprises, 0) AS high_risk_enterprises,
       coalesce(ent.employees, 0) AS employees,
       coalesce(ast.cameras, 0) AS cameras, coalesce(ast.cameras_online, 0) AS cameras_online,
       coalesce(ast.staff, 0) AS staff, coalesce(ast.staff_on_duty, 0) AS staff_on_duty,
       coalesce(ast.vehicles, 0) AS vehicles, coalesce(ast.vehicles_free, 0) AS vehicles_free,
       coalesce(ast.supply_depots, 0) AS supply_depots, coalesce(ast.hydrants, 0) AS hydrants,
       coalesce(ast.aeds, 0) AS aeds
FROM areas AS a
LEFT JOIN ppl ON ppl.area_id = a.area_id
LEFT JOIN hou ON hou.area_id = a.area_id
LEFT JOIN ent ON ent.area_id = a.area_id
LEFT JOIN ast ON ast.area_id = a.area_id
WHERE a.level = $level AND /*area:a*/
ORDER BY a.area_id
