-- Table macros over the deadline views (due_view.sql), defined after them.
--
-- open_at(t): every case open at t (received before t, not closed or cancelled before it), with its
-- three deadlines. Read as the two pushable halves of "open": never closed (mart_open_cases); closed
-- at or after t (few row groups of events). A filter on the result (the scope) reaches both scans;
-- columns not used are not read.
CREATE OR REPLACE TEMP MACRO open_at(t) AS TABLE
SELECT * FROM open_due WHERE received_at < t
UNION ALL
SELECT * FROM case_due WHERE closed_at >= t AND received_at < t;

-- open_stages(t, acc, dis): open_at(t) with the stage each case waits on (0 acceptance until
-- accepted, 1 dispatch, if it needs a crew, until dispatched, 2 closure) and that stage's deadline
-- (due_us): the stage rules of the SLA-risk queries (sla_open_stages.sql, sla_most_overdue.sql),
-- written once. acc (dis): whether the warehouse records acceptance (dispatch) at all (the snapshot
-- facts, bound as $accept_recorded / $dispatch_recorded); a stage it does not record is skipped, so a
-- case from an export with only receipt and closure waits on closure, never on a stage nobody measured.
CREATE OR REPLACE TEMP MACRO open_stages(t, acc, dis) AS TABLE
SELECT
    *,
    CASE stage WHEN 0 THEN accept_due WHEN 1 THEN dispatch_due ELSE close_due END AS due_us
FROM (
    SELECT
        *,
        CASE WHEN acc AND (accepted_at IS NULL OR accepted_at >= t) THEN 0
             WHEN dis AND needs_dispatch AND (dispatched_at IS NULL OR dispatched_at >= t) THEN 1
             ELSE 2 END AS stage
    FROM open_at(t)
);
