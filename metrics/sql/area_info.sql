-- area_info: one area's level, names, parent and residents.
SELECT area_id, level, name, name_en, parent_id, street_id, community_id, grid_id, residents
FROM areas
WHERE area_id = $area_id
