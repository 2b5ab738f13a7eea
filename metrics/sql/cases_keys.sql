-- cases_keys: one page of the cases table, as keys: the case id and receipt time of the rows
-- $offset .. $offset + $limit - 1 of the cases received in [$ws, $we) under the scope and the column
-- filters, in the table's order ([cases:order]: the sort model's columns, then case_id, so pages
-- never overlap). Only the columns the filters and the sort read are joined; cases_rows.sql then
-- reads the page's display columns for these keys alone (late materialisation: at 10 million cases
-- sorting the narrow keys is 5x faster than sorting whole rows). Markers as in cases_count.sql.
SELECT e.case_id, e.received_at
FROM /*cases:source*/ AS e
/*cases:joins*/
WHERE e.received_at >= $ws AND e.received_at < $we
  AND /*scope:e*/
  AND /*cases:where*/
ORDER BY /*cases:order*/
LIMIT $limit OFFSET $offset
