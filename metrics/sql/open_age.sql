-- open_age: cases open at $now by how long ago they were received (bucket bounds in seconds,
-- $edges ascending: bucket i holds ages in [edges[i], edges[i+1]), the last is open-ended).
WITH open_cases AS (
    SELECT e.received_at FROM open_at($now) AS e WHERE /*scope:e*/
)
SELECT
    CAST(len(list_filter($edges, lambda x: x <= (epoch_us($now) - epoch_us(received_at)) / 1e6)) AS BIGINT) - 1 AS bucket_order,
    count(*) AS n
FROM open_cases
GROUP BY 1
