-- open_counts: cases open, and open past their closure deadline, at the instants t_k = $t0 - k
-- steps of $step_us microseconds, k = 0..4 (the ends of the vital signs' windows of one pass: the
-- as-of time and the same moment of the previous weeks, or the ends of a trend's equal windows):
-- columns open<k>, overdue<k>; $tn is the earliest instant used.
-- Open at t: received before t and not closed (or cancelled) before t, i.e. closed_at IS NULL OR
-- closed_at >= t (so a closure at exactly 24:00 stays in that day's backlog, and
-- open(end of day) = open(start of day) + received - closed holds exactly). Overdue: close_due < t.
-- One pass: a case is open at t_k for k in [k_lo, k_hi] and overdue for k in [k_lo, min(k_hi, k_due)]:
--   received_at < t0 - k w  <=>  k <= ceil((t0 - received_at) / w) - 1 = k_hi      (w: the step)
--   closed_at  >= t0 - k w  <=>  k >= ceil((t0 - closed_at) / w)        = k_lo
--   close_due  <  t0 - k w  <=>  k <= ceil((t0 - close_due) / w) - 1    = k_due
-- Only a case open longer than $min_due_us (the shortest receipt-to-deadline span of the rules) or
-- with its own deadline (due_at: any span) can ever be overdue (the deadline is only needed for those). Integer microseconds throughout; // truncates,
-- so every numerator is kept non-negative. The two halves (never closed; closed
-- since t_4) each have a filter DuckDB pushes into the scan, which an OR would not allow.
WITH c AS (
    SELECT
        least(4, (epoch_us($t0) - epoch_us(e.received_at) - 1) // $step_us) AS k_hi,
        CASE WHEN e.closed_at IS NULL OR e.closed_at >= $t0 THEN 0
             ELSE (epoch_us($t0) - epoch_us(e.closed_at) + $step_us - 1) // $step_us END AS k_lo,
        CASE WHEN (e.closed_at IS NULL /*if:due_at*/OR e.due_at IS NOT NULL/*fi:due_at*/ OR epoch_us(e.closed_at) - epoch_us(e.received_at) > $min_due_us)
             AND e.close_due < epoch_us($t0)
             THEN (epoch_us($t0) - e.close_due - 1) // $step_us
             ELSE -1 END AS k_due
    FROM (
        SELECT received_at, closed_at, /*if:due_at*/due_at, /*fi:due_at*/close_due FROM open_due AS e
        WHERE e.received_at < $t0 AND /*scope:e*/
        UNION ALL
        SELECT received_at, closed_at, /*if:due_at*/due_at, /*fi:due_at*/close_due FROM case_due AS e
        WHERE e.closed_at >= $tn AND e.received_at < $t0 AND /*scope:e*/
    ) AS e
)
SELECT
    count(*) FILTER (WHERE k_lo <= 0 AND 0 <= k_hi) AS open0,
    count(*) FILTER (WHERE k_lo <= 1 AND 1 <= k_hi) AS open1,
    count(*) FILTER (WHERE k_lo <= 2 AND 2 <= k_hi) AS open2,
    count(*) FILTER (WHERE k_lo <= 3 AND 3 <= k_hi) AS open3,
    count(*) FILTER (WHERE k_lo <= 4 AND 4 <= k_hi) AS open4,
    count(*) FILTER (WHERE k_lo <= 0 AND 0 <= least(k_hi, k_due)) AS overdue0,
    count(*) FILTER (WHERE k_lo <= 1 AND 1 <= least(k_hi, k_due)) AS overdue1,
    count(*) FILTER (WHERE k_lo <= 2 AND 2 <= least(k_hi, k_due)) AS overdue2,
    count(*) FILTER (WHERE k_lo <= 3 AND 3 <= least(k_hi, k_due)) AS overdue3,
    count(*) FILTER (WHERE k_lo <= 4 AND 4 <= least(k_hi, k_due)) AS overdue4
FROM c
