-- events_repeats: set repeat_7d for the cases received at or after $since: TRUE when an earlier
-- case of the same category in the same micro-grid was received within the 7 days before it (from
-- any channel or department; ties in time are broken by case_id). A case's flag depends only on
-- the cases before it, so after a load only the cases received from the earliest changed day on
-- can change, and reading 7 days before that is enough to see every earlier report that counts.
-- Only rows whose flag changes are written.
UPDATE events SET repeat_7d = x.is_repeat
FROM (
    SELECT
        case_id, received_at,
        coalesce(lag(received_at) OVER (PARTITION BY microgrid_id, category_id ORDER BY received_at, case_id)
                 >= received_at - INTERVAL 7 DAY, FALSE) AS is_repeat
    FROM events
    WHERE received_at >= CAST($since AS TIMESTAMPTZ) - INTERVAL 7 DAY
) AS x
WHERE events.case_id = x.case_id AND x.received_at >= CAST($since AS TIMESTAMPTZ)
  AND events.repeat_7d <> x.is_repeat
