-- grid_on_time: per area (/*col:area*/: the events column of the level, NULL for the district),
-- the closure stages whose deadline falls in [$ws, $we): how many, and how many were met (closed
-- by the deadline; cancelled cases have no closure stage). Receipts whose deadline can fall in
-- the window: urgent [$ulo, $uhi), other [$nlo, $nhi) (from the calendar); a case with its own
-- deadline (due_at) can be due at any time after any receipt, so those are found by due_at itself
-- (a filter DuckDB pushes into the scan) and left out of the two receipt ranges.
WITH judged AS (
    SELECT /*col:area:e*/ AS area_id, epoch_us(e.closed_at) <= e.close_due AS met FROM case_due AS e
    WHERE e.received_at >= $ulo AND e.received_at < $uhi AND e.urgency = 'urgent' /*if:due_at*/AND e.due_at IS NULL/*fi:due_at*/
      AND e.status <> 'cancelled' AND e.close_due >= epoch_us($ws) AND e.close_due < epoch_us($we) AND /*scope:e*/
    UNION ALL
    SELECT /*col:area:e*/ AS area_id, epoch_us(e.closed_at) <= e.close_due FROM case_due AS e
    WHERE e.received_at >= $nlo AND e.received_at < $nhi AND e.urgency <> 'urgent' /*if:due_at*/AND e.due_at IS NULL/*fi:due_at*/
      AND e.status <> 'cancelled' AND e.close_due >= epoch_us($ws) AND e.close_due < epoch_us($we) AND /*scope:e*/
    /*if:due_at*/UNION ALL
    SELECT /*col:area:e*/ AS area_id, epoch_us(e.closed_at) <= e.close_due FROM case_due AS e
    WHERE e.due_at >= $ws AND e.due_at < $we AND e.status <> 'cancelled' AND /*scope:e*//*fi:due_at*/
)
SELECT area_id, count(*) AS judged, count(*) FILTER (WHERE met) AS met
FROM judged
GROUP BY area_id
