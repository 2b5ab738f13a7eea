-- areas_under: the areas at level $level inside the scope's area (the area itself at its own
-- level), with names, parent and residents, in id order.
SELECT a.area_id, a.name, a.name_en, a.parent_id, a.residents, a.street_id, a.community_id, a.grid_id
FROM areas AS a
WHERE a.level = $level AND /*area:a*/
ORDER BY a.area_id
