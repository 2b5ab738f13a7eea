-- mart_open_cases: the cases with no closure (or cancellation) time, in receipt order.
SELECT * FROM events WHERE closed_at IS NULL ORDER BY received_at
