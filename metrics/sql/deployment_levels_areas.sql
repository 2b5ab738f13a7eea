-- deployment_levels_areas: the levels present in areas, without names, for a snapshot older than the
-- area_levels table (see deployment_levels.sql). No parameters.
SELECT DISTINCT level, NULL AS name, NULL AS name_en FROM areas
