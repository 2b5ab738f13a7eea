-- departments_trend: cases received per bucket of the window, per group: each department, '__all__'
-- (every case of the scope) and '__joint__' (joint-handling cases, route = 'joint').
-- $edges: the bucket bounds as epoch microseconds, as in backlog_series.sql (bucket i is
-- [edges[i], edges[i+1]), inner bounds on UTC quarter hours); $start/$end the window, $start_us its
-- start. Each receipt is put in its bucket through its quarter hour (clipped to the window's start),
-- read by position in the list of the bucket of every quarter hour of the window (as in
-- backlog_series.sql's qmap), then counted per bucket, department and route: a few hundred groups
-- (counting per quarter hour first left tens of thousands).
WITH qmap AS MATERIALIZED (
    SELECT list(CAST(len(list_filter($edges, lambda x: x <= q)) AS BIGINT) - 1 ORDER BY q) AS qi
    FROM (SELECT unnest(list_concat([$start_us], range(($start_us // 900000000 + 1) * 900000000,
                                                       $edges[-1], 900000000))) AS q)
),
buckets AS (
    SELECT
        qi[greatest(epoch_us(e.received_at) // 900000000 - $start_us // 900000000, 0) + 1] AS i,
        e.department_id, e.route = 'joint' AS joint, count(*) AS n
    FROM events AS e
    CROSS JOIN qmap
    WHERE e.received_at >= $start AND e.received_at < $end AND /*scope:e*/
    GROUP BY ALL
)
SELECT grp, i, sum(n) AS inflow
FROM (
    SELECT unnest(list_filter([department_id, '__all__', CASE WHEN joint THEN '__joint__' END],
                              lambda x: x IS NOT NULL)) AS grp, i, n
    FROM buckets
)
GROUP BY ALL
