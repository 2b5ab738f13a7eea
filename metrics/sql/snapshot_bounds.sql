-- snapshot_bounds: the local days of the earliest and latest case (the calendar span to prepare),
-- the warehouse's district (a scope on it needs no predicate), and which optional stages the
-- warehouse records: acceptance (dispatch) is recorded when at least one case has accepted_at
-- (dispatched_at). Many exports (LA MyLA311, NYC 311, Open311) record only receipt and closure.
-- (A warehouse with no case yet records every stage: metrics.cache.facts decides that.)
-- EXISTS, not bool_or: it stops at the first row and skips row groups whose statistics say the
-- column is all NULL (about 1 ms at 1 and 10 million cases, against 45-115 ms at 10 million for
-- bool_or's full scan; see docs/sla.md).
SELECT
    (SELECT CAST(min(received_at) AS DATE) FROM events) AS first_day,
    (SELECT CAST(max(received_at) AS DATE) FROM events) AS last_day,
    (SELECT min(area_id) FROM areas WHERE level = 'district') AS district_id,
    EXISTS (SELECT 1 FROM events WHERE accepted_at IS NOT NULL) AS accept_recorded,
    EXISTS (SELECT 1 FROM events WHERE dispatched_at IS NOT NULL) AS dispatch_recorded,
    -- some case has its own closure deadline (events.due_at): the queries' due_at branches are kept
    -- (/*if:due_at*/ ... /*fi:due_at*/, see metrics.sqlfiles.render); none: they are left out of the SQL
    EXISTS (SELECT 1 FROM events WHERE due_at IS NOT NULL) AS due_at_present
