-- case_points: where the cases of the scope received in [$ws, $we) were reported (the analyst map's
-- "case points" layer), newest first, at most $limit rows (the layer asks for one more than it draws,
-- to know when it had to cut). Cases without coordinates are left out.
-- Parameters: $ws, $we (the window, its end clipped to the as-of time), $limit; /*scope:e*/ area and filters.
SELECT e.case_id, e.lon, e.lat, e.category_id, e.urgency, e.received_at
FROM events AS e
WHERE e.received_at >= $ws AND e.received_at < $we
  AND e.lon IS NOT NULL AND e.lat IS NOT NULL
  AND /*scope:e*/
ORDER BY e.received_at DESC, e.case_id
LIMIT $limit
