-- departments_trend: cases received per bucket of the window, per group: each department, '__all__'
-- (every case of the scope) and '__joint__' (joint-handling cases, route = 'joint').
-- $edges: the bucket bounds as epoch microseconds, as in backlog_series.sql (bucket i is
-- [edges[i], edges[i+1]), inner bounds on UTC quarter hours); $start/$end the window, $start_us its
-- start. Receipts are first counted per quarter hour (clipped to the window's start), then each
-- quarter hour is put in its bucket: the number of bounds at or before it, minus one.
WITH quarters AS (
    SELECT
        greatest(epoch_us(e.received_at) // 900000000 * 900000000, $start_us) AS q,
        e.department_id, e.route = 'joint' AS joint, count(*) AS n
    FROM events AS e
    WHERE e.received_at >= $start AND e.received_at < $end AND /*scope:e*/
    GROUP BY ALL
)
SELECT grp, CAST(len(list_filter($edges, lambda x: x <= q)) AS BIGINT) - 1 AS i, sum(n) AS inflow
FROM (
    SELECT unnest(list_filter([department_id, '__all__', CASE WHEN joint THEN '__joint__' END],
                              lambda x: x IS NOT NULL)) AS grp, q, n
    FROM quarters
)
GROUP BY ALL
