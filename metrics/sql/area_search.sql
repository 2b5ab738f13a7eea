-- area_search: areas whose name (either language) or id contains $text, at any level; the
-- filter bar's area search. Exact and prefix matches first, then the coarser levels, then by id.
-- $roots: NULL for every area, or a list of area ids: only those and the areas inside them (an account
-- limited to some areas is offered nothing else, and its matches are not crowded out by others').
SELECT a.area_id, a.level, a.name, a.name_en, s.name AS street_name, s.name_en AS street_name_en
FROM areas AS a
LEFT JOIN areas AS s ON s.area_id = a.street_id AND a.level <> 'street'
WHERE (contains(lower(a.name), lower($text)) OR contains(lower(coalesce(a.name_en, '')), lower($text))
       OR contains(lower(a.area_id), lower($text)))
  AND ($roots IS NULL OR list_has_any($roots::VARCHAR[], [a.area_id, a.street_id, a.community_id, a.grid_id]))
ORDER BY (lower(a.name) = lower($text) OR lower(coalesce(a.name_en, '')) = lower($text)) DESC,
         (starts_with(lower(a.name), lower($text)) OR starts_with(lower(coalesce(a.name_en, '')), lower($text))) DESC,
         CASE a.level WHEN 'district' THEN 0 WHEN 'street' THEN 1 WHEN 'community' THEN 2
                      WHEN 'grid' THEN 3 ELSE 4 END,
         a.area_id
LIMIT $limit
