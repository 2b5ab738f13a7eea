-- backlog_today: today's flows for the daily backlog, up to $now: received and closed (or
-- cancelled) since local midnight ($midnight), and received in the same hours 364 days earlier.
-- (Open and overdue at $now come from open_now.sql, shared with the other metrics.)
SELECT
    (SELECT count(*) FROM events AS e
     WHERE e.received_at >= $midnight AND e.received_at < $now AND /*scope:e*/) AS inflow,
    (SELECT count(*) FROM events AS e
     WHERE e.closed_at >= $midnight AND e.closed_at < $now AND /*scope:e*/) AS outflow,
    (SELECT count(*) FROM events AS e
     WHERE e.received_at >= $midnight - INTERVAL 364 DAY AND e.received_at < $now - INTERVAL 364 DAY
       AND /*scope:e*/) AS inflow_last_year
