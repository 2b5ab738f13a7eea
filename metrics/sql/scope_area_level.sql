-- scope_area_level: the level of one area id ("district" ... "microgrid"); no row when the
-- warehouse does not know the id. A scope's level is looked up here, never guessed from its id.
-- Parameters: $area_id.
SELECT level
FROM areas
WHERE area_id = $area_id
