-- Merge the staged cases (stg_ok) that are already in events, by case_id. A record replaces the stored
-- one only when its updated_at is newer, so an old update arriving late never overwrites a newer state,
-- and loading the same file again changes nothing. New cases go in with stg_events_insert.sql, after this
-- (a plain insert is twice as fast as an upsert, which matters for a bulk load).
INSERT INTO events BY NAME
SELECT s.* FROM stg_ok s SEMI JOIN events e ON e.case_id = s.case_id
ON CONFLICT (case_id) DO UPDATE SET
    channel = excluded.channel, category_id = excluded.category_id, category_l1 = excluded.category_l1,
    urgency = excluded.urgency, route = excluded.route, department_id = excluded.department_id,
    needs_dispatch = excluded.needs_dispatch, summary = excluded.summary, microgrid_id = excluded.microgrid_id,
    grid_id = excluded.grid_id, community_id = excluded.community_id, street_id = excluded.street_id,
    lon = excluded.lon, lat = excluded.lat, received_at = excluded.received_at, accepted_at = excluded.accepted_at,
    dispatched_at = excluded.dispatched_at, closed_at = excluded.closed_at, status = excluded.status,
    satisfaction = excluded.satisfaction, updated_at = excluded.updated_at,
    due_at = excluded.due_at
WHERE excluded.updated_at > events.updated_at
