-- session_setup: per-cursor helpers for the metric queries: macros here, then the deadline views
-- of due_view.sql (run by metrics.sla_due.setup after it has filled the SLA rule tables).
--
-- The rules are those of metrics.sla.deadlines (tests check the views agree with it):
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
-- [ws0 - k step, we0 - k step) (step in microseconds, elapsed time); NULL when none does.
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
