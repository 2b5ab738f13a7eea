-- cluster: the points of a layer (the CTE `pts`: grp, label, label_en, lon, lat; one of the *_points files)
-- gathered into the cells of a square grid laid over their extent, $cells cells along its longer
-- side, per group: what the analyst map draws instead of every point. An SVG map draws a few thousand
-- marks quickly and 2.5 million (a 90-day district window at 10 M cases) not at all; MapLibre's own
-- clustering needs WebGL, which office PCs without a GPU draw in software (docs/analyst.md).
-- Cells are square on the ground: a degree of longitude is cos(latitude) of a degree of latitude.
-- One row per group and non-empty cell: its points (n), their mean position, and the label of its
-- first point, in both languages (what the map shows for a cell of one point). Parameter: $cells.
, box AS (
    SELECT min(lon) AS x0, min(lat) AS y0, cos(radians((min(lat) + max(lat)) / 2)) AS k,
           greatest(max(lon) - min(lon), (max(lat) - min(lat)) / cos(radians((min(lat) + max(lat)) / 2)), 1e-9)
               / $cells AS size
    FROM pts
)
SELECT p.grp, count(*) AS n, avg(p.lon) AS lon, avg(p.lat) AS lat, min(p.label) AS label, min(p.label_en) AS label_en
FROM pts AS p, box AS b
GROUP BY p.grp, floor((p.lon - b.x0) / b.size), floor((p.lat - b.y0) / (b.size * b.k))
ORDER BY p.grp, n DESC, label
