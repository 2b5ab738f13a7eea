-- sla_case_details: details of the ranked open cases, given as aligned lists of (hash of case_id,
-- receipt time in epoch microseconds) - see sla_open_stages - with category and department names, and
-- the case's place (its micro-grid, else grid, else street) with its names.
-- Only the cases open at $now are looked at (open_at, open_stages.sql).
WITH wanted AS (
    SELECT unnest($keys) AS key, unnest($received) AS received_us
),
open_cases AS (
    SELECT * FROM open_at($now)
)
SELECT
    w.key, e.case_id, e.category_id, c.name AS category_name, c.name_en AS category_name_en, e.grid_id,
    e.microgrid_id, e.street_id, coalesce(e.microgrid_id, e.grid_id, e.street_id) AS area_id, a.name AS area_name,
    a.name_en AS area_name_en, e.department_id, d.name AS department_name, d.name_en AS department_name_en,
    e.received_at, e.status
FROM open_cases AS e
JOIN wanted AS w
    ON w.key = CAST(hash(e.case_id) % 9223372036854775807 AS BIGINT) AND w.received_us = epoch_us(e.received_at)
LEFT JOIN categories AS c ON c.category_id = e.category_id
LEFT JOIN departments AS d ON d.department_id = e.department_id
LEFT JOIN areas AS a ON a.area_id = coalesce(e.microgrid_id, e.grid_id, e.street_id)
