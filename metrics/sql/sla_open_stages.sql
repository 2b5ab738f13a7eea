-- sla_open_stages: every case open at $now with the stage it waits on and its deadline (both from
-- open_stages.sql; stage_key splits closure by urgency, whose durations differ tenfold); and gid,
-- the row of the duration quantiles to judge it by (registered as sla_qkeys by metrics.warnings): the case's
-- (stage, category, department) if that has enough history, else (stage, category), else stage.
-- Times in seconds: elapsed_s (now - receipt), due_s (deadline - receipt), seconds_left. Cases are
-- identified by (key, received_us), key a 64-bit hash of case_id: tens of thousands of integers
-- cross to Python far faster than strings; sla_case_details fetches the few ranked first.
WITH keyed AS (
    SELECT
        *,
        CASE stage WHEN 0 THEN 'accept' WHEN 1 THEN 'dispatch'
             ELSE CASE WHEN urgency = 'urgent' THEN 'close_urgent' ELSE 'close_other' END END AS stage_key
    FROM open_stages($now, $accept_recorded, $dispatch_recorded) AS e
    WHERE /*scope:e*/
)
SELECT
    CAST(hash(c.case_id) % 9223372036854775807 AS BIGINT) AS key, c.stage,
    coalesce(k1.gid, k2.gid, k3.gid, $fallback_gid) AS gid,
    (epoch_us($now) - epoch_us(c.received_at)) / 1e6 AS elapsed_s,
    (c.due_us - epoch_us(c.received_at)) / 1e6 AS due_s,
    (c.due_us - epoch_us($now)) / 1e6 AS seconds_left,
    epoch_us(c.received_at) AS received_us
FROM keyed AS c
LEFT JOIN sla_qkeys AS k1
    ON k1.stage_key = c.stage_key AND k1.category_id = c.category_id AND k1.department_id = c.department_id
LEFT JOIN sla_qkeys AS k2
    ON k2.stage_key = c.stage_key AND k2.category_id = c.category_id AND k2.department_id IS NULL
LEFT JOIN sla_qkeys AS k3
    ON k3.stage_key = c.stage_key AND k3.category_id IS NULL AND k3.department_id IS NULL
