-- backlog_hourly: per hour of today, h = 0 .. $h1 counted from local midnight ($midnight): cases
-- received, closed or cancelled, and open at the end of the hour (the current hour: at $now).
-- Same running-sum construction as backlog_daily, on hours since midnight (elapsed hours, so a
-- daylight-saving day simply has 23 or 25 of them).
WITH alive AS (
    SELECT e.received_at, e.closed_at FROM mart_open_cases AS e
    WHERE e.received_at < $now AND /*scope:e*/
    UNION ALL
    SELECT e.received_at, e.closed_at FROM events AS e
    WHERE e.closed_at >= $midnight AND e.received_at < $now AND /*scope:e*/
),
spans AS (
    SELECT
        greatest((epoch_us(received_at) - epoch_us($midnight)) // 3600000000, 0) AS open_from,
        CASE WHEN closed_at IS NULL OR closed_at >= $now THEN $h1 + 1
             ELSE (epoch_us(closed_at) - epoch_us($midnight)) // 3600000000 END AS open_to
    FROM alive
),
deltas AS (
    SELECT open_from AS h, 1 AS delta FROM spans WHERE open_from < open_to
    UNION ALL
    SELECT open_to, -1 FROM spans WHERE open_from < open_to AND open_to <= $h1
),
inflow AS (
    SELECT (epoch_us(e.received_at) - epoch_us($midnight)) // 3600000000 AS h, count(*) AS n
    FROM events AS e
    WHERE e.received_at >= $midnight AND e.received_at < $now AND /*scope:e*/
    GROUP BY 1
),
outflow AS (
    SELECT (epoch_us(e.closed_at) - epoch_us($midnight)) // 3600000000 AS h, count(*) AS n
    FROM events AS e
    WHERE e.closed_at >= $midnight AND e.closed_at < $now AND /*scope:e*/
    GROUP BY 1
),
changes AS (SELECT h, sum(delta) AS delta FROM deltas GROUP BY h)
SELECT
    hours.h,
    coalesce(inflow.n, 0) AS inflow,
    coalesce(outflow.n, 0) AS outflow,
    sum(coalesce(changes.delta, 0)) OVER (ORDER BY hours.h) AS open
FROM (SELECT range AS h FROM range(0, $h1 + 1)) AS hours
LEFT JOIN changes USING (h)
LEFT JOIN inflow USING (h)
LEFT JOIN outflow USING (h)
ORDER BY hours.h
