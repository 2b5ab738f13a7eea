-- snapshot_bounds: the local days of the earliest and latest case (the calendar span to prepare)
-- and the warehouse's district (a scope on it needs no predicate).
SELECT
    (SELECT CAST(min(received_at) AS DATE) FROM events) AS first_day,
    (SELECT CAST(max(received_at) AS DATE) FROM events) AS last_day,
    (SELECT min(area_id) FROM areas WHERE level = 'district') AS district_id
