-- area_ancestors: an area and the areas above it (district, street, community, grid as the
-- deployment has them), top-down; the breadcrumb of the analyst pages.
SELECT p.area_id, p.level, p.name, p.name_en
FROM areas AS a
JOIN areas AS p
  ON p.area_id = a.area_id
  OR p.area_id IN (a.street_id, a.community_id, a.grid_id)
  OR (p.level = 'district' AND a.level <> 'district')
WHERE a.area_id = $area_id
ORDER BY CASE p.level WHEN 'district' THEN 0 WHEN 'street' THEN 1 WHEN 'community' THEN 2
                      WHEN 'grid' THEN 3 ELSE 4 END
