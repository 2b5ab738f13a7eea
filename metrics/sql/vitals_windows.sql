-- vitals_windows: the event-based vital signs of window k = 0 ([$ws0, $we0)) and of the same
-- window k = 1..$n steps ($step_us microseconds: a week for short baselines, the length for a trend) earlier, one row per k (the baseline is their
-- mean). Rows are read through range filters DuckDB pushes into the scan (events are stored in
-- receipt order, so whole row groups are skipped), and win_k() puts each in its window by
-- arithmetic. Windows longer than a step would overlap: metrics.vitals then runs this once per
-- window, with $n = 0 and $step_us larger than the window.
--   rcv   cases received in a window, or up to the longest accept/dispatch limit before it
--         ($rlo_k), since their deadlines may fall in it: receipts and repeat reports (repeat_7d,
--         set by the ETL: an earlier report of the category in the micro-grid within 7 days, from
--         any channel or department); accepted and dispatched in time; median times to accept and
--         dispatch (cases received in the window, done before its end);
--   due   cases whose closure deadline falls in a window (urgent receipts [$ulo_k, $uhi_k),
--         other [$nlo_k, $nhi_k), from the calendar, so only those days are read; a case with its
--         own deadline, due_at, is found by due_at in the windows instead): closed in time?
--   done  cases closed (not cancelled) in a window: median time to close, satisfaction.
-- A stage counts in the window where its deadline falls: met if done by the deadline, otherwise
-- breached (done late or still open). Cancelled cases have no close stage; their unfinished
-- accept or dispatch stage is dropped if cancelled before its deadline (the rules of metrics.sla).
-- An or_ranges marker (col:lo:hi) becomes (col >= $lo0 AND col < $hi0) OR ... over the windows used,
-- a filter DuckDB pushes into the scan.
-- Grouped form (metrics.departments: every department, the whole scope and the joint cases in one
-- pass): each /*by:TEXT*/ comment is replaced by its TEXT, which groups every case once by its
-- department and handling route (dep, jnt); each median aggregate becomes a list of its values (for
-- the medians of any roll-up of those groups, computed exactly there). As it is, the file ignores them.
WITH rcv AS MATERIALIZED (
    SELECT
        e.received_at, e.accepted_at, e.dispatched_at, e.needs_dispatch, e.accept_due, e.dispatch_due,
        /*by:e.department_id AS dep, coalesce(e.route = 'joint', FALSE) AS jnt, */e.status = 'cancelled' AS cancelled, epoch_us(e.closed_at) AS closed_us, e.repeat_7d
    FROM case_due AS e
    WHERE /*or_ranges:e.received_at:rlo:we*/
      AND /*scope:e*/
),
received AS (
    SELECT
        /*by:dep, jnt, */win_k(received_at, $ws0, $we0, $step_us, $n) AS k,
        count(*) AS received,
        count(*) FILTER (WHERE repeat_7d) AS repeats,
        median((epoch_us(accepted_at) - epoch_us(received_at)) / 1e6)
            FILTER (WHERE epoch_us(accepted_at) < epoch_us($we0) - win_k(received_at, $ws0, $we0, $step_us, $n) * $step_us)
            AS median_accept_s,
        median((epoch_us(dispatched_at) - epoch_us(received_at)) / 1e6)
            FILTER (WHERE epoch_us(dispatched_at) < epoch_us($we0) - win_k(received_at, $ws0, $we0, $step_us, $n) * $step_us)
            AS median_dispatch_s
    FROM rcv
    GROUP BY ALL
),
accept AS (
    SELECT /*by:dep, jnt, */win_k_us(accept_due, $ws0, $we0, $step_us, $n) AS k, count(*) AS accept_n,
           count(*) FILTER (WHERE epoch_us(accepted_at) <= accept_due) AS accept_met
    FROM rcv
    WHERE NOT (cancelled AND accepted_at IS NULL AND closed_us <= accept_due)
    GROUP BY ALL
),
dispatch AS (
    SELECT /*by:dep, jnt, */win_k_us(dispatch_due, $ws0, $we0, $step_us, $n) AS k, count(*) AS dispatch_n,
           count(*) FILTER (WHERE epoch_us(dispatched_at) <= dispatch_due) AS dispatch_met
    FROM rcv
    WHERE needs_dispatch AND NOT (cancelled AND dispatched_at IS NULL AND closed_us <= dispatch_due)
    GROUP BY ALL
),
due AS (
    SELECT
        /*by:dep, jnt, */win_k_us(close_due, $ws0, $we0, $step_us, $n) AS k,
        count(*) FILTER (WHERE urgent) AS urgent_n,
        count(*) FILTER (WHERE urgent AND closed_us <= close_due) AS urgent_met,
        count(*) FILTER (WHERE NOT urgent) AS other_n,
        count(*) FILTER (WHERE NOT urgent AND closed_us <= close_due) AS other_met
    FROM (
        SELECT /*by:e.department_id AS dep, coalesce(e.route = 'joint', FALSE) AS jnt, */TRUE AS urgent, epoch_us(e.closed_at) AS closed_us, e.close_due
        FROM case_due AS e
        WHERE /*or_ranges:e.received_at:ulo:uhi*/
          AND e.urgency = 'urgent' /*if:due_at*/AND e.due_at IS NULL/*fi:due_at*/ AND e.status <> 'cancelled' AND /*scope:e*/
        UNION ALL
        SELECT /*by:e.department_id AS dep, coalesce(e.route = 'joint', FALSE) AS jnt, */FALSE, epoch_us(e.closed_at), e.close_due
        FROM case_due AS e
        WHERE /*or_ranges:e.received_at:nlo:nhi*/
          AND e.urgency <> 'urgent' /*if:due_at*/AND e.due_at IS NULL/*fi:due_at*/ AND e.status <> 'cancelled' AND /*scope:e*/
        /*if:due_at*/UNION ALL
        SELECT /*by:e.department_id AS dep, coalesce(e.route = 'joint', FALSE) AS jnt, */e.urgency = 'urgent', epoch_us(e.closed_at), e.close_due
        FROM case_due AS e
        WHERE /*or_ranges:e.due_at:ws:we*/
          AND e.status <> 'cancelled' AND /*scope:e*//*fi:due_at*/
    )
    GROUP BY ALL
),
done AS (
    SELECT
        /*by:e.department_id AS dep, coalesce(e.route = 'joint', FALSE) AS jnt, */win_k(e.closed_at, $ws0, $we0, $step_us, $n) AS k,
        median((epoch_us(e.closed_at) - epoch_us(e.received_at)) / 3600e6) AS median_close_h,
        count(e.satisfaction) AS rated,
        count(*) FILTER (WHERE e.satisfaction >= 4) AS satisfied
    FROM events AS e
    WHERE /*or_ranges:e.closed_at:ws:we*/
      AND e.status = 'closed' AND /*scope:e*/
    GROUP BY ALL
)
SELECT
    /*by:dep, jnt, */w.k,
    coalesce(received.received, 0) AS received, coalesce(received.repeats, 0) AS repeats,
    coalesce(accept.accept_n, 0) AS accept_n, coalesce(accept.accept_met, 0) AS accept_met,
    coalesce(dispatch.dispatch_n, 0) AS dispatch_n, coalesce(dispatch.dispatch_met, 0) AS dispatch_met,
    coalesce(due.urgent_n, 0) AS urgent_n, coalesce(due.urgent_met, 0) AS urgent_met,
    coalesce(due.other_n, 0) AS other_n, coalesce(due.other_met, 0) AS other_met,
    received.median_accept_s, received.median_dispatch_s, done.median_close_h,
    coalesce(done.rated, 0) AS rated, coalesce(done.satisfied, 0) AS satisfied
FROM range(0, $n + 1) AS w(k)
/*by:CROSS JOIN (SELECT dep, jnt FROM received UNION SELECT dep, jnt FROM accept UNION SELECT dep, jnt FROM dispatch
    UNION SELECT dep, jnt FROM due UNION SELECT dep, jnt FROM done) AS g
*/LEFT JOIN received USING (/*by:dep, jnt, */k)
LEFT JOIN accept USING (/*by:dep, jnt, */k)
LEFT JOIN dispatch USING (/*by:dep, jnt, */k)
LEFT JOIN due USING (/*by:dep, jnt, */k)
LEFT JOIN done USING (/*by:dep, jnt, */k)
ORDER BY w.k
