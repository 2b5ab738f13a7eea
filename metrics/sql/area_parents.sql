-- area_parents: names of the given areas ($ids) with their grid and street (names included),
-- for warning messages such as "东湖街道 网格 023".
SELECT a.area_id, a.level, a.name, a.name_en, a.grid_id, a.street_id,
       s.name AS street_name, s.name_en AS street_name_en
FROM areas AS a
LEFT JOIN areas AS s ON s.area_id = a.street_id
WHERE list_contains($ids, a.area_id)
