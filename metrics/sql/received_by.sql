-- received_by: cases received per value of one column (/*col:key*/: category_id, category_l1,
-- department_id, channel or an area level's column) in the window [$ws, $we) and in the window
-- before it [$pws, $pwe) (the "previous" column), with how many of the window's cases are still open
-- at $we and how many of them are past their closure deadline then.
SELECT /*col:key:e*/ AS key,
       count(*) FILTER (WHERE e.received_at >= $ws) AS cases,
       count(*) FILTER (WHERE e.received_at < $pwe) AS previous,
       count(*) FILTER (WHERE e.received_at >= $ws AND (e.closed_at IS NULL OR e.closed_at >= $we)
                              AND e.status <> 'cancelled') AS still_open
FROM events AS e
WHERE ((e.received_at >= $ws AND e.received_at < $we) OR (e.received_at >= $pws AND e.received_at < $pwe))
  AND /*scope:e*/
GROUP BY ALL
