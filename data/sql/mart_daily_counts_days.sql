-- The rows of mart_daily_counts for the local days listed in the temp table mart_days(day): the same rows
-- mart_daily_counts.sql returns for those days, for an incremental refresh after a small load.
-- $1: local midnight of the earliest of those days (lets DuckDB skip row groups by zone map).
WITH moves AS (
    SELECT received_at::DATE AS day, microgrid_id, grid_id, community_id, street_id, category_id, category_l1,
           channel, 1 AS received, 0 AS closed, 0 AS cancelled
    FROM events
    WHERE received_at >= $1 AND received_at::DATE IN (SELECT day FROM mart_days)
    UNION ALL
    SELECT closed_at::DATE, microgrid_id, grid_id, community_id, street_id, category_id, category_l1, channel,
           0, (status = 'closed')::INT, (status = 'cancelled')::INT
    FROM events
    WHERE closed_at >= $1 AND closed_at::DATE IN (SELECT day FROM mart_days)
)
SELECT day, microgrid_id, any_value(grid_id), any_value(community_id), any_value(street_id), category_id,
       any_value(category_l1), channel, sum(received)::INT, sum(closed)::INT, sum(cancelled)::INT
FROM moves
GROUP BY day, microgrid_id, category_id, channel  -- the others follow from micro-grid and category
ORDER BY day
