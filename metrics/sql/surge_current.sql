-- surge_current: reports per area and category in the window [$ws0, $we0), at grid and micro-grid
-- level, where there are at least $min_count (only those can be surges).
WITH cur AS (
    SELECT e.grid_id, e.microgrid_id, e.category_id
    FROM events AS e
    WHERE e.received_at >= $ws0 AND e.received_at < $we0 AND /*scope:e*/
)
SELECT 'grid' AS level, grid_id AS area_id, category_id, count(*) AS n
FROM cur GROUP BY ALL HAVING count(*) >= $min_count
UNION ALL
SELECT 'microgrid', microgrid_id, category_id, count(*)
FROM cur GROUP BY ALL HAVING count(*) >= $min_count
