-- case_points: where the cases of the scope received in [$ws, $we) were reported (the analyst map's
-- "case points" layer, gathered into cells by layers/sql/cluster.sql). Cases without coordinates are
-- left out. Columns: the point's group (one: cases), its hover label (case id and category), lon, lat.
-- Parameters: $ws, $we (the window, its end clipped to the as-of time); /*scope:e*/ area and filters.
SELECT 'cases' AS grp, e.case_id || ' · ' || e.category_id AS label, e.lon, e.lat
FROM events AS e
WHERE e.received_at >= $ws AND e.received_at < $we
  AND e.lon IS NOT NULL AND e.lat IS NOT NULL
  AND /*scope:e*/
