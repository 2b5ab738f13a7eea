-- cases_oldest_open: the $n cases of the scope open at $now that were received first (the oldest of
-- the backlog), with their category and department names and whether they are past their closure
-- deadline. "Open at t" as everywhere (open_at, open_stages.sql): received before t and not closed or
-- cancelled before it. Ties in receipt time: the smaller case id first.
-- Parameters: $now (the as-of time), $n (how many); /*scope:e*/ the scope (area and filters).
SELECT
    o.case_id, o.category_id, c.name AS category_name, c.name_en AS category_name_en,
    o.department_id, d.name AS department_name, d.name_en AS department_name_en,
    o.received_at, o.close_due < epoch_us($now) AS overdue
FROM (
    SELECT e.case_id, e.category_id, e.department_id, e.received_at, e.close_due
    FROM open_at($now) AS e
    WHERE /*scope:e*/
    ORDER BY e.received_at, e.case_id
    LIMIT $n
) AS o
LEFT JOIN categories AS c ON c.category_id = o.category_id
LEFT JOIN departments AS d ON d.department_id = o.department_id
ORDER BY o.received_at, o.case_id
