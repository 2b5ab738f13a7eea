-- snapshot_bounds: the local days of the earliest and latest case (the calendar span to prepare),
-- the earliest receipt of a case never closed (open_min: a bound that lets "closed_at IS NULL"
-- scans skip the row groups of older, all-closed cases) and the warehouse's district (a scope on
-- it needs no predicate).
SELECT
    (SELECT CAST(min(received_at) AS DATE) FROM events) AS first_day,
    (SELECT CAST(max(received_at) AS DATE) FROM events) AS last_day,
    -- min() as a top-1 ordering: DuckDB stops reading row groups once no later one can hold a smaller value
    (SELECT received_at FROM events WHERE closed_at IS NULL ORDER BY received_at LIMIT 1) AS open_min,
    (SELECT min(area_id) FROM areas WHERE level = 'district') AS district_id
