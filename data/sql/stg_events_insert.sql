-- Insert the staged cases (stg_ok) that are not in events yet (run after stg_events_upsert.sql).
INSERT INTO events BY NAME
SELECT s.* FROM stg_ok s ANTI JOIN events e ON e.case_id = s.case_id
