-- case_deadlines: one row per case and applicable SLA stage, with its deadline and outcome.
-- The DuckDB twin of metrics.sla.deadlines (same rules, same columns; tests check they agree):
-- change both or neither. Run it through metrics.sla.deadlines_sql, which provides
--   sla_rules      SlaRules.frame: category_id, accept_seconds, dispatch_seconds,
--                  urgent_close_hours, close_working_days (one row per category in events)
--   work_calendar  WorkCalendar.frame stacked for each close_working_days in sla_rules, plus
--                  close_due_at = 24:00 local of close_due_day (the next local midnight)
--   $now           TIMESTAMPTZ the pending stages are judged against
-- and sets the session TimeZone to the deployment zone, so CAST(received_at AS DATE) is the
-- local day of receipt. The scope marker in WHERE becomes the caller's filter on events (alias e).
-- Rules: met when done_at <= due_at; pending when not done, overdue when $now > due_at;
-- cancelled cases have no close stage, and their unfinished accept/dispatch stage is breached
-- if cancelled (closed_at) after the deadline, otherwise dropped.
WITH cases AS (
    SELECT
        e.case_id,
        coalesce(e.needs_dispatch, FALSE) AS needs_dispatch,
        coalesce(e.status = 'cancelled', FALSE) AS cancelled,
        e.accepted_at,
        e.dispatched_at,
        e.closed_at,
        e.received_at + to_microseconds(r.accept_seconds * 1000000) AS accept_due,
        e.received_at + to_microseconds(r.dispatch_seconds * 1000000) AS dispatch_due,
        CASE
            WHEN e.urgency = 'urgent'  -- elapsed hours, holidays included
                THEN e.received_at + to_microseconds(CAST(floor(r.urgent_close_hours * 3600000000 + 0.5) AS BIGINT))
            ELSE w.close_due_at        -- end of the n-th working day after the local day of receipt
        END AS close_due
    FROM events AS e
    JOIN sla_rules AS r ON r.category_id = e.category_id
    LEFT JOIN work_calendar AS w
        ON w.day = CAST(e.received_at AS DATE) AND w.close_working_days = r.close_working_days
    WHERE /*scope*/ TRUE
),
stages AS (
    SELECT case_id, 'accept' AS stage, accept_due AS due_at, accepted_at AS done_at, cancelled, closed_at
    FROM cases
    UNION ALL
    SELECT case_id, 'dispatch', dispatch_due, dispatched_at, cancelled, closed_at
    FROM cases
    WHERE needs_dispatch
    UNION ALL
    SELECT case_id, 'close', close_due, closed_at, FALSE, closed_at
    FROM cases
    WHERE NOT cancelled
),
judged AS (
    SELECT
        case_id, stage, due_at, done_at,
        -- when the stage stopped counting: done, or cut short by a cancellation after its deadline
        CASE WHEN done_at IS NOT NULL THEN done_at WHEN cancelled THEN closed_at END AS end_at
    FROM stages
    WHERE done_at IS NOT NULL OR NOT cancelled OR closed_at > due_at
)
SELECT
    case_id,
    stage,
    due_at,
    done_at,
    CASE WHEN end_at IS NULL THEN 'pending' WHEN end_at <= due_at THEN 'met' ELSE 'breached' END AS outcome,
    end_at IS NULL AND CAST($now AS TIMESTAMPTZ) > due_at AS overdue,
    CASE WHEN end_at IS NULL THEN (epoch_us(due_at) - epoch_us(CAST($now AS TIMESTAMPTZ))) / 1e6 END AS seconds_left,
    greatest(epoch_us(coalesce(end_at, CAST($now AS TIMESTAMPTZ))) - epoch_us(due_at), 0) / 1e6 AS overdue_seconds
FROM judged
