-- Local days whose mart rows can change with this cycle's cases, for an incremental mart refresh.
-- chg_old: each changed case as it was before the cycle (absent for a new case);
-- chg_keys: every case the cycle inserted or replaced; events: their state now.
-- A received day counts when the case is new or its received day or mart dimensions changed; a closed
-- day when closure, status or dimensions changed (a closed case counts on its closed day).
WITH pairs AS (
    SELECT n.received_at, n.closed_at, n.status,
           o.case_id IS NOT NULL AS existed, o.received_at AS o_received, o.closed_at AS o_closed,
           (o.microgrid_id, o.grid_id, o.community_id, o.street_id, o.category_id, o.category_l1, o.channel)
               IS DISTINCT FROM
           (n.microgrid_id, n.grid_id, n.community_id, n.street_id, n.category_id, n.category_l1, n.channel) AS moved,
           o.status IS DISTINCT FROM n.status OR o.closed_at IS DISTINCT FROM n.closed_at AS reclosed
    FROM chg_keys k
    JOIN events n ON n.case_id = k.case_id
    LEFT JOIN chg_old o ON o.case_id = k.case_id
)
SELECT DISTINCT day FROM (
    SELECT received_at::DATE AS day FROM pairs
    WHERE NOT existed OR moved OR o_received::DATE <> received_at::DATE
    UNION ALL
    SELECT o_received::DATE FROM pairs WHERE existed AND (moved OR o_received::DATE <> received_at::DATE)
    UNION ALL
    SELECT closed_at::DATE FROM pairs WHERE closed_at IS NOT NULL AND (NOT existed OR moved OR reclosed)
    UNION ALL
    SELECT o_closed::DATE FROM pairs WHERE o_closed IS NOT NULL AND (moved OR reclosed)
)
WHERE day IS NOT NULL
ORDER BY day
