-- sla_most_overdue: the $limit open cases furthest past the deadline of the stage they wait on, with
-- their details (names of category, department and place, as sla_case_details) - the head of the SLA-risk list whenever at least $limit cases are breached (the
-- common case in a big district): one top-N query instead of ranking every open case.
-- The stage each case waits on and its deadline come from open_stages (open_stages.sql).
WITH top AS (
    SELECT
        *,
        CAST(hash(case_id) % 9223372036854775807 AS BIGINT) AS key
    FROM open_stages($now, $accept_recorded, $dispatch_recorded) AS e
    WHERE /*scope:e*/
    ORDER BY due_us, received_at, key
    LIMIT $limit
)
SELECT
    t.key, t.case_id, t.stage,
    (t.due_us - epoch_us(t.received_at)) / 1e6 AS due_s,
    (t.due_us - epoch_us($now)) / 1e6 AS seconds_left,
    epoch_us(t.received_at) AS received_us,
    t.category_id, c.name AS category_name, c.name_en AS category_name_en, t.grid_id, t.microgrid_id,
    t.street_id, coalesce(t.microgrid_id, t.grid_id, t.street_id) AS area_id, a.name AS area_name,
    a.name_en AS area_name_en, t.department_id, d.name AS department_name, d.name_en AS department_name_en,
    t.received_at, t.status
FROM top AS t
LEFT JOIN categories AS c ON c.category_id = t.category_id
LEFT JOIN departments AS d ON d.department_id = t.department_id
LEFT JOIN areas AS a ON a.area_id = coalesce(t.microgrid_id, t.grid_id, t.street_id)
ORDER BY t.due_us, t.received_at, t.key
