-- on_time_by_unit: closure stages whose deadline falls in [$ws, $we), per local day of the deadline
-- (day_no, days since 1970-01-01), per department and per street (GROUPING SETS: one pass;
-- unit_kind says which): how many, and how many were met (closed by the deadline). Receipts whose
-- deadline can fall in the window: urgent [$ulo, $uhi), other [$nlo, $nhi) (from the calendar), so
-- only those days are read; cases with their own deadline (due_at) are found by due_at itself and
-- left out of the receipt ranges (their deadline does not follow from the receipt). $off_us: the zone offset for local_dayno_us.
WITH judged AS (
    SELECT e.department_id, e.street_id, e.close_due, epoch_us(e.closed_at) <= e.close_due AS met
    FROM case_due AS e
    WHERE e.received_at >= $ulo AND e.received_at < $uhi AND e.urgency = 'urgent' /*if:due_at*/AND e.due_at IS NULL/*fi:due_at*/
      AND e.status <> 'cancelled' AND e.close_due >= epoch_us($ws) AND e.close_due < epoch_us($we) AND /*scope:e*/
    UNION ALL
    SELECT e.department_id, e.street_id, e.close_due, epoch_us(e.closed_at) <= e.close_due
    FROM case_due AS e
    WHERE e.received_at >= $nlo AND e.received_at < $nhi AND e.urgency <> 'urgent' /*if:due_at*/AND e.due_at IS NULL/*fi:due_at*/
      AND e.status <> 'cancelled' AND e.close_due >= epoch_us($ws) AND e.close_due < epoch_us($we) AND /*scope:e*/
    /*if:due_at*/UNION ALL
    SELECT e.department_id, e.street_id, e.close_due, epoch_us(e.closed_at) <= e.close_due
    FROM case_due AS e
    WHERE e.due_at >= $ws AND e.due_at < $we AND e.status <> 'cancelled' AND /*scope:e*//*fi:due_at*/
),
dated AS (
    SELECT department_id, street_id, met, local_dayno_us(close_due, $off_us) AS day_no FROM judged
)
SELECT
    day_no,
    CASE WHEN grouping(department_id) = 0 THEN 'department' ELSE 'street' END AS unit_kind,
    coalesce(department_id, street_id) AS unit,
    count(*) AS judged,
    count(*) FILTER (WHERE met) AS met
FROM dated
GROUP BY GROUPING SETS ((day_no, department_id), (day_no, street_id))
