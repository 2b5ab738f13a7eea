-- case_points: where the cases of the scope received in [$ws, $we) were reported (the analyst map's
-- "case points" layer, gathered into cells by layers/sql/cluster.sql). Cases without coordinates are
-- left out. Columns: the point's group (one: cases), its hover label (case id and category name, in
-- Chinese and in English: the id where a category has no name), lon, lat.
-- Parameters: $ws, $we (the window, its end clipped to the as-of time); /*scope:e*/ area and filters.
SELECT 'cases' AS grp,
       e.case_id || ' · ' || coalesce(c.name, e.category_id) AS label,
       e.case_id || ' · ' || coalesce(nullif(c.name_en, ''), c.name, e.category_id) AS label_en,
       e.lon, e.lat
FROM events AS e
LEFT JOIN categories AS c ON c.category_id = e.category_id
WHERE e.received_at >= $ws AND e.received_at < $we
  AND e.lon IS NOT NULL AND e.lat IS NOT NULL
  AND /*scope:e*/
