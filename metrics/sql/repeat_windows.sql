-- repeat_windows: per window k (as in vitals_windows), the cases received and how many repeat an
-- earlier report: a case of the same category in the same micro-grid received in the 7 days
-- before it. The earlier report may come from any channel or department (only the area part of
-- the scope limits the candidates); the full scope picks the counted cases.
-- Rather than a window function over weeks of cases, the earlier report is found in two cheap
-- steps: the previous case inside the window (lag over the window's few cases), else the latest
-- case of that micro-grid and category in the 7 days before the window starts ($bws_k = $ws_k
-- minus 7 days). An or_ranges marker (col:lo:hi) becomes (col >= $lo0 AND col < $hi0) OR ...
-- over the windows used, a filter DuckDB pushes into the scan.
WITH cur AS (
    SELECT e.*, win_k(e.received_at, $ws0, $we0, $step_us, $n) AS k
    FROM events AS e
    WHERE /*or_ranges:e.received_at:ws:we*/
      AND /*area_events:e*/
),
cur_lag AS (
    SELECT
        *,
        lag(received_at) OVER (PARTITION BY k, microgrid_id, category_id ORDER BY received_at) AS prev_in,
        epoch_us($ws0) - k * $step_us AS ws_us
    FROM cur
),
pairs AS (
    SELECT DISTINCT k, ws_us, microgrid_id, category_id FROM cur_lag WHERE prev_in IS NULL
),
before AS (
    SELECT p.k, p.microgrid_id, p.category_id, max(b.received_at) AS last_before
    FROM events AS b
    JOIN pairs AS p
        ON b.microgrid_id = p.microgrid_id AND b.category_id = p.category_id
        AND epoch_us(b.received_at) >= p.ws_us - 604800000000 AND epoch_us(b.received_at) < p.ws_us
    WHERE /*or_ranges:b.received_at:bws:ws*/
    GROUP BY ALL
),
counted AS (
    SELECT c.k, coalesce(c.prev_in, b.last_before) >= c.received_at - INTERVAL 7 DAY AS is_repeat
    FROM cur_lag AS c
    LEFT JOIN before AS b USING (k, microgrid_id, category_id)
    WHERE /*scope:c*/
)
SELECT w.k, count(counted.k) AS n, count(*) FILTER (WHERE counted.is_repeat) AS repeats
FROM range(0, $n + 1) AS w(k)
LEFT JOIN counted USING (k)
GROUP BY w.k
ORDER BY w.k
