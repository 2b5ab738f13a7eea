-- deployment_levels: the levels this deployment has, with their display names (area_levels), in any order
-- (the caller sorts them by slot). No parameters. An empty area_levels (a warehouse loaded from landing files
-- only, or built before issue 10) gives the levels present in areas with NULL names: the caller uses the
-- slots' default names then.
SELECT level, name, name_en FROM area_levels
UNION ALL
SELECT DISTINCT level, NULL, NULL FROM areas WHERE NOT EXISTS (SELECT 1 FROM area_levels)
