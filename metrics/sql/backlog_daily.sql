-- backlog_daily: per local day d = $d0 .. $d1 (day numbers, days since 1970-01-01; the last is
-- today): cases received (inflow), closed or cancelled (outflow), open at the end of the day and
-- open past their closure deadline at the end of the day (today: at $now); plus the inflow of
-- the 6 days before $d0 (for the 7-day mean) and of the same days 364 days earlier (52 weeks, so
-- weekdays line up; today's comparison stops at the same time of day).
-- Open at t: received_at < t and (closed_at IS NULL or closed_at >= t); overdue: also close_due < t.
-- One pass over the cases alive since the first day, grouped by (day received, day closed, day
-- overdue from): a case is open at the end of days [received, closed) and overdue at the end of
-- days [overdue from, closed); +1/-1 at those bounds and a running sum give the series. Closures
-- after $now count as not yet happened. $first is the start of day $d0; $off_us the zone offset
-- for local_dayno (NULL: the time-zone-aware cast).
WITH alive AS (
    SELECT e.received_at, e.closed_at, e.close_due FROM open_due AS e
    WHERE e.received_at < $now AND /*scope:e*/
    UNION ALL
    SELECT e.received_at, e.closed_at, e.close_due FROM case_due AS e
    WHERE e.closed_at >= $first AND e.received_at < $now AND /*scope:e*/
),
days_of AS (
    SELECT
        local_dayno(received_at, $off_us) AS rday,
        CASE WHEN closed_at IS NULL OR closed_at >= $now THEN NULL ELSE local_dayno(closed_at, $off_us) END AS cday,
        CASE WHEN close_due < epoch_us($now) THEN local_dayno_us(close_due, $off_us) END AS lday,
        count(*) AS n
    FROM alive
    GROUP BY ALL
),
spans AS (
    SELECT
        rday, cday, n,
        greatest(rday, $d0) AS open_from,
        coalesce(cday, $d1 + 1) AS open_to,
        greatest(coalesce(lday, $d1 + 1), $d0) AS late_from
    FROM days_of
),
changes AS (
    -- six (day, change) pairs per span, unnested side by side (no WHERE: filters here would be
    -- pushed into days_of and evaluated on every case instead of on the spans)
    SELECT d, sum(od) AS open_delta, sum(ld) AS late_delta, sum(inf) AS inflow, sum(outf) AS outflow
    FROM (
        SELECT
            unnest([open_from, open_to, late_from, open_to, rday, coalesce(cday, -1)]) AS d,
            unnest([CASE WHEN open_from < open_to THEN n ELSE 0 END,
                    CASE WHEN open_from < open_to AND open_to <= $d1 THEN -n ELSE 0 END, 0, 0, 0, 0]) AS od,
            unnest([0, 0, CASE WHEN late_from < open_to THEN n ELSE 0 END,
                    CASE WHEN late_from < open_to AND open_to <= $d1 THEN -n ELSE 0 END, 0, 0]) AS ld,
            unnest([0, 0, 0, 0, CASE WHEN rday >= $d0 THEN n ELSE 0 END, 0]) AS inf,
            unnest([0, 0, 0, 0, 0, CASE WHEN cday IS NOT NULL THEN n ELSE 0 END]) AS outf
        FROM spans
    )
    GROUP BY d
),
before AS (
    SELECT local_dayno(e.received_at, $off_us) AS d, count(*) AS n
    FROM events AS e
    WHERE e.received_at >= $first - INTERVAL 6 DAY AND e.received_at < $first AND /*scope:e*/
    GROUP BY 1
),
last_year AS (
    SELECT local_dayno(e.received_at, $off_us) + 364 AS d, count(*) AS n
    FROM events AS e
    WHERE e.received_at >= $first - INTERVAL 364 DAY AND e.received_at < $now - INTERVAL 364 DAY AND /*scope:e*/
    GROUP BY 1
),
series AS (
    SELECT
        days.d,
        coalesce(changes.inflow, 0) + coalesce(before.n, 0) AS inflow,
        coalesce(changes.outflow, 0) AS outflow,
        coalesce(changes.open_delta, 0) AS open_delta,
        coalesce(changes.late_delta, 0) AS late_delta
    FROM range($d0 - 6, $d1 + 1) AS days(d)
    LEFT JOIN changes USING (d)
    LEFT JOIN before USING (d)
)
SELECT
    series.d AS day_no,
    series.inflow,
    series.outflow,
    sum(series.open_delta) OVER w AS open_end,
    sum(series.late_delta) OVER w AS overdue_end,
    avg(series.inflow) OVER (ORDER BY series.d ROWS BETWEEN 6 PRECEDING AND CURRENT ROW) AS inflow_ma7,
    CASE WHEN series.d - 364 >= $data_d0 THEN coalesce(last_year.n, 0) END AS inflow_last_year
FROM series
LEFT JOIN last_year USING (d)
WINDOW w AS (ORDER BY series.d)
ORDER BY series.d
