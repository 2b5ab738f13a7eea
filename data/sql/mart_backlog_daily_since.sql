-- The rows of mart_backlog_daily from local day $2 on, continuing each street x category backlog from the
-- mart's last row before $2: the same rows mart_backlog_daily.sql returns for those days, for an
-- incremental refresh (a change on day d moves open_end of every later day).
-- $1: local midnight of $2 (lets DuckDB skip row groups by zone map).
WITH flows AS (
    SELECT received_at::DATE AS day, street_id, category_l1, count(*) AS inflow, 0 AS outflow
    FROM events WHERE received_at >= $1 GROUP BY ALL
    UNION ALL
    SELECT closed_at::DATE, street_id, category_l1, 0, count(*)
    FROM events WHERE closed_at >= $1 GROUP BY ALL
), daily AS (
    SELECT day, street_id, category_l1, sum(inflow) AS inflow, sum(outflow) AS outflow
    FROM flows GROUP BY ALL
), before AS (
    SELECT street_id, category_l1, arg_max(open_end, day) AS open_before
    FROM mart_backlog_daily WHERE day < $2 GROUP BY ALL
)
SELECT d.day, d.street_id, d.category_l1, d.inflow::INT, d.outflow::INT,
       (coalesce(b.open_before, 0)
        + sum(d.inflow - d.outflow) OVER (PARTITION BY d.street_id, d.category_l1 ORDER BY d.day))::INT AS open_end
FROM daily d LEFT JOIN before b USING (street_id, category_l1)
ORDER BY d.day
