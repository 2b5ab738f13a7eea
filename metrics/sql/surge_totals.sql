-- surge_totals: all reports of the scope in the same-hours windows k = 1..4 ([$ws_k, $we_k),
-- d_same) and in the 28 days before the window ([$lo, $ws0), d_long): the scope's weekly rhythm,
-- which turns a cell's 28-day count into an expected count for the window.
SELECT
    (SELECT count(*) FROM events AS e
     WHERE ((e.received_at >= $ws1 AND e.received_at < $we1) OR (e.received_at >= $ws2 AND e.received_at < $we2)
         OR (e.received_at >= $ws3 AND e.received_at < $we3) OR (e.received_at >= $ws4 AND e.received_at < $we4))
       AND /*scope:e*/) AS d_same,
    (SELECT count(*) FROM events AS e WHERE e.received_at >= $lo AND e.received_at < $ws0 AND /*scope:e*/) AS d_long
