-- last_etl_run: the latest ETL cycle recorded in the snapshot.
SELECT run_id, kind, started_at, finished_at, status, error
FROM etl_runs
ORDER BY run_id DESC
LIMIT 1
