-- Simplified polygons of a few named areas ($ids, a list), e.g. the worst areas to outline or the
-- focus street of a rotating wall.
SELECT a.area_id, a.level, a.name, a.name_en, a.centroid_lon, a.centroid_lat, a.geojson_simple
FROM areas a
WHERE list_contains($ids, a.area_id)
ORDER BY a.area_id
