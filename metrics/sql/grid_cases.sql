-- grid_cases: cases received per area (/*col:area*/: the events column of the level; NULL for
-- the district as one group) in window k = 0..$n ([$ws0, $we0) and the same window k steps of
-- $step_us earlier, as in vitals_windows), with each area's most frequent category in window 0 (ties: the
-- smaller category id). Counted per (area, window, category) first, so the top category is read
-- off a few thousand groups instead of joining every case to its area's top.
WITH per_cat AS (
    SELECT /*col:area:e*/ AS area_id, win_k(e.received_at, $ws0, $we0, $step_us, $n) AS k, e.category_id,
           count(*) AS n
    FROM events AS e
    WHERE /*or_ranges:e.received_at:ws:we*/
      AND /*scope:e*/
    GROUP BY ALL
)
SELECT area_id, k, sum(n)::BIGINT AS cases,
       CASE WHEN k = 0 THEN first(category_id ORDER BY n DESC, category_id) END AS top_category
FROM per_cat
GROUP BY area_id, k
