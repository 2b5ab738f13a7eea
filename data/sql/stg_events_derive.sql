-- Valid staged cases (stg_chk rows without a reason) with their derived columns filled in from the
-- reference tables: the micro-grid's grid, community and street, and the category's level-1 parent.
-- Whatever a file said for these columns is ignored: areas and categories are the truth. repeat_7d
-- depends on other cases: FALSE here, set after the merge (events_repeats.sql). due_at (the source's own
-- deadline, NULL when the file has none) passes through.
-- Inner joins are safe: validation already quarantined unknown micro-grids and categories.
-- The summary is free text: /*masked:c.summary*/ becomes data.pii's masking of anything shaped like an
-- ID number or a mainland mobile number (a citizen's report often quotes one), as the quarantine does.
SELECT c.case_id, c.channel, c.category_id, k.parent_id AS category_l1, c.urgency, c.route, c.department_id,
       c.needs_dispatch, /*masked:c.summary*/ AS summary, c.microgrid_id, a.grid_id, a.community_id, a.street_id, c.lon, c.lat,
       c.received_at, c.accepted_at, c.dispatched_at, c.closed_at, c.status, c.satisfaction, c.updated_at,
       FALSE AS repeat_7d, c.due_at
FROM stg_chk c
JOIN areas a ON a.area_id = c.microgrid_id AND a.level = 'microgrid'
JOIN categories k ON k.category_id = c.category_id
WHERE c.__reason IS NULL
