-- urgent_breaches: urgent cases whose closure deadline fell in [$ws, $we) and before $now, and was missed:
-- closed after it, or not closed at $now. The most overdue first, at most $limit rows; every row also
-- carries the total (n_total). /*col:area*/ is the area column shown (the grid's, or the deployment's finest).
-- Receipts whose deadline can fall in the window: [$ulo, $uhi) (metrics.sla_due.close_receipt_ranges);
-- cases with a deadline of their own (due_at) are found by it instead.
WITH missed AS (
    SELECT e.case_id, e.category_id, /*col:area:e*/ AS area_id, e.department_id, e.received_at, e.closed_at,
           e.close_due
    FROM case_due AS e
    WHERE e.received_at >= $ulo AND e.received_at < $uhi AND e.urgency = 'urgent'
      /*if:due_at*/AND e.due_at IS NULL/*fi:due_at*/
      AND e.status <> 'cancelled' AND e.close_due >= epoch_us($ws) AND e.close_due < epoch_us($we)
      AND e.close_due < epoch_us($now)
      AND (e.closed_at IS NULL OR e.closed_at > $now OR epoch_us(e.closed_at) > e.close_due) AND /*scope:e*/
    /*if:due_at*/UNION ALL
    SELECT e.case_id, e.category_id, /*col:area:e*/ AS area_id, e.department_id, e.received_at, e.closed_at,
           e.close_due
    FROM case_due AS e
    WHERE e.due_at >= $ws AND e.due_at < $we AND e.urgency = 'urgent' AND e.status <> 'cancelled'
      AND e.close_due < epoch_us($now)
      AND (e.closed_at IS NULL OR e.closed_at > $now OR epoch_us(e.closed_at) > e.close_due) AND /*scope:e*//*fi:due_at*/
)
SELECT
    m.case_id, m.category_id, c.name AS category_name, c.name_en AS category_name_en,
    m.area_id, a.name AS area_name, a.name_en AS area_name_en,
    m.department_id, d.name AS department_name, d.name_en AS department_name_en,
    m.received_at, m.close_due AS due_us,
    CASE WHEN m.closed_at IS NULL OR m.closed_at > $now THEN NULL ELSE m.closed_at END AS closed_at,
    (least(coalesce(epoch_us(m.closed_at), epoch_us($now)), epoch_us($now)) - m.close_due) / 3.6e9 AS overdue_h,
    count(*) OVER () AS n_total
FROM missed AS m
LEFT JOIN categories AS c ON c.category_id = m.category_id
LEFT JOIN areas AS a ON a.area_id = m.area_id
LEFT JOIN departments AS d ON d.department_id = m.department_id
ORDER BY overdue_h DESC, m.case_id
LIMIT $limit
