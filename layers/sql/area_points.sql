-- Areas of one level inside the scope's area without geometry: ids (their order is the order of
-- the map's polygons), names and label points. Cheap enough to run on every refresh.
SELECT a.area_id, a.name, a.name_en, a.parent_id, a.street_id, a.residents, a.centroid_lon, a.centroid_lat
FROM areas a
WHERE a.level = $level AND /*area:a*/
ORDER BY a.area_id
