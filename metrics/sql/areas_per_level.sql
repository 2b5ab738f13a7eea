-- areas_per_level: how many areas of each level lie inside the scope's area (the area itself counted at its
-- own level). {area} is the scope's area predicate over areas (alias a, ids bound as $s_area); the wall's
-- default map level is the deepest level with few enough of them to draw.
SELECT a.level, count(*) AS n
FROM areas AS a
WHERE {area}
GROUP BY a.level
