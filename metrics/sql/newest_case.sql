-- newest_case: the receipt time of the newest case in the snapshot (NULL without cases). A dataset
-- whose newest case is more than a day older than the wall clock is historical: the web tier then
-- shows it as of this moment (dashboard.runtime.Runtime.now). received_at, not updated_at: every
-- case has it and the ETL validates it, while an export's update or closure column may hold the
-- export time or a typo years ahead. No parameters.
SELECT max(received_at) AS newest FROM events
