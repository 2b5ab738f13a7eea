-- cases_count: how many cases were received in the window [$ws, $we) under the scope and the cases
-- table's column filters. The cases table's markers (filled by metrics.cases from a whitelist, never
-- from input text): [cases:source] is `events`, or `case_due` when a filter reads the overdue flag
-- (its close_due column); [cases:joins] the name look-ups a filter needs; [cases:where] the column
-- filters with their values bound as parameters f0, f1 ... (TRUE without filters).
SELECT count(*) AS n
FROM /*cases:source*/ AS e
/*cases:joins*/
WHERE e.received_at >= $ws AND e.received_at < $we
  AND /*scope:e*/
  AND /*cases:where*/
