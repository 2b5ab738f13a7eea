-- Areas of one level inside the scope's area, with their simplified polygons (what the map draws).
-- $level: street | community | grid | microgrid. /*area:a*/ is the scope's area predicate.
SELECT a.area_id, a.name, a.name_en, a.parent_id, a.street_id, a.residents,
       a.centroid_lon, a.centroid_lat, a.geojson_simple
FROM areas a
WHERE a.level = $level AND /*area:a*/
ORDER BY a.area_id
