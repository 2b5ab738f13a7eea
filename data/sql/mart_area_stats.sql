-- Per-area cases in the last 30 days (to the latest case) and open now, at every level.
WITH latest AS (SELECT max(received_at) AS t FROM events),
per_mg AS (
    SELECT microgrid_id,
           count(*) FILTER (WHERE received_at > (SELECT t FROM latest) - INTERVAL 30 DAY) AS cases_30d,
           count(*) FILTER (WHERE status IN ('received', 'accepted', 'dispatched', 'in_progress')) AS open_now
    FROM events GROUP BY ALL
)
SELECT a.area_id, a.level,
       coalesce(sum(p.cases_30d), 0)::INT, coalesce(sum(p.open_now), 0)::INT, a.residents,
       CASE WHEN a.residents > 0 THEN coalesce(sum(p.cases_30d), 0) * 10000.0 / a.residents END
FROM areas a
JOIN areas m ON m.level = 'microgrid'
    AND a.area_id IN (m.area_id, m.grid_id, m.community_id, m.street_id, m.parent_id)
    OR (a.level = 'district' AND m.level = 'microgrid')
LEFT JOIN per_mg p ON p.microgrid_id = m.area_id
GROUP BY a.area_id, a.level, a.residents
