-- grid_cases: cases received per area (/*col:area*/: the events column of the level; NULL for
-- the district as one group) in window k = 0..$n ([$ws0, $we0) and the same window k weeks
-- earlier, as in vitals_windows), with each area's most frequent category in window 0 (ties: the
-- smaller category id).
WITH cur AS (
    SELECT /*col:area:e*/ AS area_id, e.category_id, win_k(e.received_at, $ws0, $we0, $step_us, $n) AS k
    FROM events AS e
    WHERE /*or_ranges:e.received_at:ws:we*/
      AND /*scope:e*/
),
per_cat AS (
    SELECT area_id, category_id, count(*) AS n FROM cur WHERE k = 0 GROUP BY ALL
)
SELECT c.area_id, c.k, count(*) AS cases,
       any_value(t.top_category) AS top_category
FROM cur AS c
LEFT JOIN (
    SELECT area_id, first(category_id ORDER BY n DESC, category_id) AS top_category FROM per_cat GROUP BY area_id
) AS t ON c.k = 0 AND t.area_id IS NOT DISTINCT FROM c.area_id
GROUP BY c.area_id, c.k
