-- scope_district: the deployment's own district (the one area of level 'district'): its id, its
-- names and its simplified polygon, from which the web tier takes the wall's title and the map's
-- framing. No parameters.
SELECT area_id, name, name_en, centroid_lon, centroid_lat, geojson_simple
FROM areas
WHERE level = 'district'
ORDER BY area_id
