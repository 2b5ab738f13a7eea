-- backlog_series: inflow (received), outflow (closed or cancelled), open and overdue over the
-- buckets of a window, optionally per member of a split (/*col:key:e*/: street_id, category_id,
-- department_id ... or NULL for no split).
-- $edges: the bucket bounds as epoch microseconds, ascending: bucket i is [edges[i], edges[i+1]);
-- edges[1] .. edges[n-1] are local hour, day or week starts (so whole UTC quarter hours), edges[0]
-- is the window's start and edges[n] its end (either may be any instant). $start_us = edges[1st],
-- $end_us = edges[last]; $start, $end the same as timestamps (for the pushable scan filters).
-- One definition of open at t (metrics/backlog.py, open_counts.sql):
--   received_at < t AND (closed_at IS NULL OR closed_at >= t);  overdue at t: also close_due < t,
-- measured at every bucket end (and at the window's start, open_start / overdue_start), so
-- open_end(i) = open_end(i - 1) + inflow(i) - outflow(i) holds exactly.
-- Construction: the cases alive in the window (received before its end, not closed before its
-- start) are reduced to the buckets of their receipt, closure and deadline (through their quarter
-- hours, clipped to the window's start, read in the list of the window's quarter hours, qmap),
-- counted per member and buckets, and turned into +n / -n changes at bucket ends whose running sum
-- (per member) is the series.
WITH bounds AS (
    SELECT unnest($edges) AS lo, generate_subscripts($edges, 1) - 1 AS i
),
qmap AS MATERIALIZED (
    -- the bucket of every quarter-hour key a case can get, as one list read by position: element 1
    -- is the window's start, element 1 + m the m-th UTC quarter hour after the one holding it; a
    -- bucket is the number of bounds at or before the key, minus one
    SELECT list(CAST(len(list_filter($edges, lambda x: x <= q)) AS BIGINT) - 1 ORDER BY q) AS qi
    FROM (SELECT unnest(list_concat([$start_us], range(($start_us // 900000000 + 1) * 900000000, $end_us, 900000000))) AS q)
),
buckets AS (SELECT i, lo FROM bounds WHERE lo < $end_us),
alive AS (
    SELECT coalesce(CAST(/*col:key:e*/ AS VARCHAR), '') AS key, e.received_at, e.closed_at, e.close_due FROM open_due AS e
    WHERE e.received_at < $end AND /*scope:e*/
    UNION ALL
    SELECT coalesce(CAST(/*col:key:e*/ AS VARCHAR), '') AS key, e.received_at, e.closed_at, e.close_due FROM case_due AS e
    WHERE e.closed_at >= $start AND e.received_at < $end AND /*scope:e*/
),
located AS MATERIALIZED (
    -- a quarter hour (900 s) is finer than any bucket bound but the window's own start and end: each
    -- time is put in its bucket through its quarter hour (clipped to the window's start) by position
    -- in qmap, then the cases are counted per member and buckets (a few thousand groups; grouping by
    -- the quarter hours themselves left almost one group per case: 5 times the CPU at 10 M cases)
    SELECT key, before_start, late_at_start, ri, ci, li, count(*) AS n
    FROM (
        SELECT
            key,
            r_us < $start_us AS before_start,
            CASE WHEN r_us >= $start_us THEN qi[greatest(r_us // 900000000 - $start_us // 900000000, 0) + 1] END AS ri,
            CASE WHEN c_us < $end_us THEN qi[greatest(c_us // 900000000 - $start_us // 900000000, 0) + 1] END AS ci,
            CASE WHEN close_due < $end_us
                 THEN qi[greatest(close_due // 900000000 - $start_us // 900000000, 0) + 1] END AS li,
            r_us < $start_us AND coalesce(close_due < $start_us, FALSE) AS late_at_start
        FROM (SELECT key, epoch_us(received_at) AS r_us, epoch_us(closed_at) AS c_us, close_due FROM alive)
        CROSS JOIN qmap
    )
    GROUP BY ALL
),
spans AS (
    -- open at the ends of buckets [open_from, open_to), overdue at the ends of [late_from, open_to)
    SELECT
        key, n, ri, ci, before_start, late_at_start,
        coalesce(ri, 0) AS open_from,
        coalesce(ci, $n) AS open_to,
        greatest(coalesce(li, $n), coalesce(ri, 0)) AS late_from
    FROM located
),
changes AS MATERIALIZED (
    SELECT key, d AS i, sum(od) AS open_delta, sum(ld) AS late_delta, sum(inf) AS inflow, sum(outf) AS outflow
    FROM (
        SELECT
            key,
            unnest([open_from, open_to, late_from, open_to, coalesce(ri, -1), coalesce(ci, -1)]) AS d,
            unnest([CASE WHEN open_from < open_to THEN n ELSE 0 END,
                    CASE WHEN open_from < open_to THEN -n ELSE 0 END, 0, 0, 0, 0]) AS od,
            unnest([0, 0, CASE WHEN late_from < open_to THEN n ELSE 0 END,
                    CASE WHEN late_from < open_to THEN -n ELSE 0 END, 0, 0]) AS ld,
            unnest([0, 0, 0, 0, CASE WHEN ri IS NOT NULL THEN n ELSE 0 END, 0]) AS inf,
            unnest([0, 0, 0, 0, 0, CASE WHEN ci IS NOT NULL THEN n ELSE 0 END]) AS outf
        FROM spans
    )
    GROUP BY ALL
),
at_start AS (
    SELECT key, sum(n) FILTER (WHERE before_start) AS open_start,
           coalesce(sum(n) FILTER (WHERE late_at_start), 0) AS overdue_start
    FROM located
    GROUP BY key
),
members AS (SELECT DISTINCT key FROM located),
grid AS (
    SELECT m.key, b.i, b.lo FROM members AS m CROSS JOIN buckets AS b
),
series AS (
    SELECT
        grid.key, grid.i, grid.lo,
        coalesce(changes.inflow, 0) AS inflow,
        coalesce(changes.outflow, 0) AS outflow,
        sum(coalesce(changes.open_delta, 0)) OVER w AS open_end,
        sum(coalesce(changes.late_delta, 0)) OVER w AS overdue_end
    FROM grid
    LEFT JOIN changes ON changes.key = grid.key AND changes.i = grid.i
    WINDOW w AS (PARTITION BY grid.key ORDER BY grid.i)
)
SELECT
    series.key, series.i, series.inflow, series.outflow,
    coalesce(lag(series.open_end) OVER w, at_start.open_start, 0) AS open_start,
    coalesce(lag(series.overdue_end) OVER w, at_start.overdue_start, 0) AS overdue_start,
    series.open_end, series.overdue_end
FROM series
LEFT JOIN at_start ON at_start.key = series.key
WINDOW w AS (PARTITION BY series.key ORDER BY series.i)
ORDER BY series.key, series.i
