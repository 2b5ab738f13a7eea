-- session_setup: per-cursor helpers for the metric queries (run by metrics.queries.prepare after
-- it has filled the temporary tables sla_cat and sla_days).
--
--   sla_cat(category_id, acc_s, dis_s, urg_us, n, off_us)  the SLA rule of every catalogue
--       category plus the default under '*': acceptance and dispatch limits in seconds, the
--       urgent closure limit in microseconds, the working days n of the closure rule, and the
--       zone's fixed UTC offset in microseconds (NULL for a zone with daylight saving)
--   sla_days(n, day_no, due_us)  for each n and local receipt day (days since 1970-01-01): the
--       closure deadline, 24:00 local of the n-th working day after it, in UTC microseconds
--
-- The rules are those of case_deadlines.sql and metrics.sla.deadlines (tests check they agree):
--   accept   received_at + accept_seconds
--   dispatch received_at + dispatch_seconds (only when needs_dispatch)
--   close    urgent: received_at + urgent_close_hours (elapsed time, holidays included);
--            other: 24:00 local of the n-th working day after the local day of receipt.
-- Deadlines are BIGINT microseconds since the epoch (UTC), compared with epoch_us(...): exact, and
-- cheaper than timestamps. to_timestamp(0) + to_microseconds(x) turns one back into a time.

-- local_dayno(t, off_us): the local day of t as days since 1970-01-01. With a fixed offset it is
-- integer arithmetic, ten times cheaper than the time-zone-aware CAST it equals.
CREATE OR REPLACE TEMP MACRO local_dayno(t, off_us) AS
    CASE WHEN off_us IS NULL THEN CAST(t AS DATE) - DATE '1970-01-01'
         ELSE CAST(floor((epoch_us(t) + off_us) / 86400000000.0) AS BIGINT) END;

-- local_dayno_us(us, off_us): the same for a time given as epoch microseconds (the deadlines' unit).
CREATE OR REPLACE TEMP MACRO local_dayno_us(us, off_us) AS
    CASE WHEN off_us IS NULL THEN CAST(to_timestamp(0) + to_microseconds(us) AS DATE) - DATE '1970-01-01'
         ELSE CAST(floor((us + off_us) / 86400000000.0) AS BIGINT) END;

-- win_k(t, ws0, we0, step_us, n): the window k in 0..n holding the instant t, where window k is
-- [ws0 - k step, we0 - k step) (step in microseconds: a week for baselines); NULL when none does.
-- Valid when the windows do not overlap (we0 - ws0 <= step). Integer arithmetic on microseconds,
-- so a case on a window's edge lands exactly where the comparison operators would put it.
-- win_k_us takes t as epoch microseconds (the unit of the deadlines).
CREATE OR REPLACE TEMP MACRO win_k_us(t_us, ws0, we0, step_us, n) AS
    CASE WHEN t_us < epoch_us(we0)
          AND (epoch_us(we0) - t_us - 1) // step_us <= n
          AND t_us >= epoch_us(ws0) - ((epoch_us(we0) - t_us - 1) // step_us) * step_us
         THEN (epoch_us(we0) - t_us - 1) // step_us
    END;
CREATE OR REPLACE TEMP MACRO win_k(t, ws0, we0, step_us, n) AS win_k_us(epoch_us(t), ws0, we0, step_us, n);

-- case_sla: every event with its acceptance and dispatch deadlines (no calendar needed).
CREATE OR REPLACE TEMP VIEW case_sla AS
SELECT
    e.*,
    epoch_us(e.received_at) + 1000000 * coalesce(r.acc_s, d.acc_s) AS accept_due,
    epoch_us(e.received_at) + 1000000 * coalesce(r.dis_s, d.dis_s) AS dispatch_due
FROM events AS e
CROSS JOIN (SELECT * FROM sla_cat WHERE category_id = '*') AS d  -- the default rule: always one row
LEFT JOIN sla_cat AS r ON r.category_id = e.category_id;

-- case_due: every event with all three deadlines (the closure one needs the calendar).
CREATE OR REPLACE TEMP VIEW case_due AS
SELECT
    e.*,
    epoch_us(e.received_at) + 1000000 * coalesce(r.acc_s, d.acc_s) AS accept_due,
    epoch_us(e.received_at) + 1000000 * coalesce(r.dis_s, d.dis_s) AS dispatch_due,
    CASE WHEN e.urgency = 'urgent' THEN epoch_us(e.received_at) + coalesce(r.urg_us, d.urg_us)
         ELSE sd.due_us END AS close_due
FROM events AS e
CROSS JOIN (SELECT * FROM sla_cat WHERE category_id = '*') AS d  -- the default rule: always one row
LEFT JOIN sla_cat AS r ON r.category_id = e.category_id
LEFT JOIN sla_days AS sd
    ON sd.n = coalesce(r.n, d.n) AND sd.day_no = local_dayno(e.received_at, d.off_us);
