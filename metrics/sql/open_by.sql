-- open_by: cases open at $now, and open past their closure deadline, per value of one column
-- (/*col:key*/ is street_id, community_id, grid_id, microgrid_id, category_id, category_l1,
-- department_id or channel).
WITH open_cases AS (
    SELECT /*col:key:e*/ AS key, e.close_due FROM open_at($now) AS e WHERE /*scope:e*/
)
SELECT key, count(*) AS open, count(*) FILTER (WHERE close_due < epoch_us($now)) AS overdue
FROM open_cases
GROUP BY key
