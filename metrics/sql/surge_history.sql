-- surge_history: for every micro-grid x category and grid x category with a report in the 28 days
-- before the window ([$lo, $ws0)): that count (n_long) and the counts in the same hours of the
-- week k = 1..4 weeks earlier ([$ws_k, $we_k): b1..b4). One grouping pass at micro-grid level;
-- grids are sums of their micro-grids. metrics.warnings computes it once per quarter hour.
WITH mg AS (
    SELECT
        e.microgrid_id, e.grid_id, e.category_id,
        count(*) AS n_long,
        count(*) FILTER (WHERE e.received_at >= $ws1 AND e.received_at < $we1) AS b1,
        count(*) FILTER (WHERE e.received_at >= $ws2 AND e.received_at < $we2) AS b2,
        count(*) FILTER (WHERE e.received_at >= $ws3 AND e.received_at < $we3) AS b3,
        count(*) FILTER (WHERE e.received_at >= $ws4 AND e.received_at < $we4) AS b4
    FROM events AS e
    WHERE e.received_at >= $lo AND e.received_at < $ws0 AND /*scope:e*/
    GROUP BY ALL
)
SELECT 'microgrid' AS level, microgrid_id AS area_id, category_id, n_long, b1, b2, b3, b4 FROM mg
UNION ALL
SELECT 'grid', grid_id, category_id, sum(n_long), sum(b1), sum(b2), sum(b3), sum(b4) FROM mg GROUP BY ALL
