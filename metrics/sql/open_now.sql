-- open_now: cases open at $now, and open past their closure deadline, per micro-grid (with its
-- grid, community and street, so any level can be summed from it), from open_at (open_stages.sql).
-- Several metrics of one refresh share it (metrics.cache.memo, per snapshot and now).
WITH open_cases AS (
    SELECT e.microgrid_id, e.grid_id, e.community_id, e.street_id, e.close_due FROM open_at($now) AS e
    WHERE /*scope:e*/
)
SELECT
    microgrid_id, any_value(grid_id) AS grid_id, any_value(community_id) AS community_id,
    any_value(street_id) AS street_id,
    count(*) AS open, count(*) FILTER (WHERE close_due < epoch_us($now)) AS overdue
FROM open_cases
GROUP BY microgrid_id
