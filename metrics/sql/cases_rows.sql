-- cases_rows: the display columns of the cases table. Either for a page of keys (cases_keys.sql:
-- the ids, received between the lo and hi bounds, which lets DuckDB skip the row groups outside it), with the
-- [cases:where] marker TRUE and [cases:order] the same order; or, for an export, every case of the
-- window [$ws, $we) under the scope and the column filters in the table's order, up to the limit.
-- overdue: open at $now (not closed or cancelled before it) and past its closure deadline
-- (case_due.close_due, the deadline of metrics.sla; docs/metrics.md "Open, overdue").
-- Names come in the view's language ([cases:columns] spells them from the whitelist of
-- metrics.cases); labels of status, urgency and the overdue flag are bound values.
SELECT /*cases:columns*/
FROM case_due AS e
/*cases:joins*/
WHERE e.received_at >= $ws AND e.received_at < $we
  AND /*scope:e*/
  AND /*cases:where*/
  /*if:page*/AND e.received_at >= $lo AND e.received_at <= $hi AND e.case_id IN (SELECT unnest($ids))/*fi:page*/
ORDER BY /*cases:order*/
/*if:limit*/LIMIT $limit/*fi:limit*/
