-- ref_categories: every category (both levels) with its names and parent.
SELECT category_id, parent_id, level, name, name_en FROM categories ORDER BY category_id
