-- sla_most_overdue: the $limit open cases furthest past the deadline of the stage they wait on, with
-- their details - the head of the SLA-risk list whenever at least $limit cases are breached (the
-- common case in a big district): one top-N query instead of ranking every open case.
-- The stage rules are those of sla_open_stages.sql (keep the two in step).
WITH open_cases AS (
    SELECT e.case_id, e.received_at, e.accepted_at, e.dispatched_at, e.needs_dispatch, e.category_id, e.department_id,
           e.grid_id, e.microgrid_id, e.street_id, e.status, e.accept_due, e.dispatch_due, e.close_due
    FROM open_due AS e
    WHERE e.received_at < $now AND /*scope:e*/
    UNION ALL
    SELECT e.case_id, e.received_at, e.accepted_at, e.dispatched_at, e.needs_dispatch, e.category_id, e.department_id,
           e.grid_id, e.microgrid_id, e.street_id, e.status, e.accept_due, e.dispatch_due, e.close_due
    FROM case_due AS e
    WHERE e.closed_at >= $now AND e.received_at < $now AND /*scope:e*/
),
staged AS (
    SELECT
        *,
        CASE WHEN accepted_at IS NULL OR accepted_at >= $now THEN 0
             WHEN needs_dispatch AND (dispatched_at IS NULL OR dispatched_at >= $now) THEN 1
             ELSE 2 END AS stage
    FROM open_cases
),
top AS (
    SELECT
        *,
        CASE stage WHEN 0 THEN accept_due WHEN 1 THEN dispatch_due ELSE close_due END AS due_us,
        CAST(hash(case_id) % 9223372036854775807 AS BIGINT) AS key
    FROM staged
    ORDER BY due_us, received_at, key
    LIMIT $limit
)
SELECT
    t.key, t.case_id, t.stage,
    (t.due_us - epoch_us(t.received_at)) / 1e6 AS due_s,
    (t.due_us - epoch_us($now)) / 1e6 AS seconds_left,
    epoch_us(t.received_at) AS received_us,
    t.category_id, c.name AS category_name, c.name_en AS category_name_en, t.grid_id, t.microgrid_id,
    t.street_id, t.department_id, d.name AS department_name, d.name_en AS department_name_en, t.received_at,
    t.status
FROM top AS t
LEFT JOIN categories AS c ON c.category_id = t.category_id
LEFT JOIN departments AS d ON d.department_id = t.department_id
ORDER BY t.due_us, t.received_at, t.key
