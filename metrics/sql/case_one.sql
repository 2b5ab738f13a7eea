-- case_one: one case by id, if it lies in the view's area (/*area_events:e*/: area only, no filters, no
-- window: a link to a case opens it whatever the filters), with what metrics.sla.deadlines needs and
-- its names.
SELECT e.case_id, e.category_id, e.category_l1, e.urgency, e.needs_dispatch, e.received_at, e.accepted_at,
       e.dispatched_at, e.closed_at, e.due_at, e.status, e.channel, e.department_id, e.route, e.summary,
       e.street_id, e.community_id, e.grid_id, e.microgrid_id,
       c.name AS category_name, c.name_en AS category_name_en,
       d.name AS department_name, d.name_en AS department_name_en,
       ch.name AS channel_name, ch.name_en AS channel_name_en,
       m.name AS microgrid_name, m.name_en AS microgrid_name_en
FROM events AS e
LEFT JOIN categories AS c ON c.category_id = e.category_id
LEFT JOIN departments AS d ON d.department_id = e.department_id
LEFT JOIN channels AS ch ON ch.channel = e.channel
LEFT JOIN areas AS m ON m.area_id = e.microgrid_id
WHERE e.case_id = $case_id
  AND /*area_events:e*/
