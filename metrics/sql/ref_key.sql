-- ref_key: a fingerprint of the reference tables (areas, categories, departments, channels: the
-- columns the reference queries read), so what is read from them can be remembered across
-- snapshots until they change (metrics.queries.QueryContext.reference).
SELECT hash(
    (SELECT bit_xor(hash(area_id, level, name, name_en, parent_id, street_id, community_id, grid_id, residents))
     FROM areas),
    (SELECT bit_xor(hash(category_id, parent_id, level, name, name_en)) FROM categories),
    (SELECT bit_xor(hash(department_id, name, name_en, kind)) FROM departments),
    (SELECT bit_xor(hash(channel, name, name_en)) FROM channels)
) AS ref_key
