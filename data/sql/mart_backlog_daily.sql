-- Inflow, outflow and open backlog at the end of each local day, per street and top-level category.
WITH flows AS (
    SELECT received_at::DATE AS day, street_id, category_l1, count(*) AS inflow, 0 AS outflow
    FROM events GROUP BY ALL
    UNION ALL
    SELECT closed_at::DATE, street_id, category_l1, 0, count(*)
    FROM events WHERE closed_at IS NOT NULL GROUP BY ALL
), daily AS (
    SELECT day, street_id, category_l1, sum(inflow) AS inflow, sum(outflow) AS outflow
    FROM flows GROUP BY ALL
)
SELECT day, street_id, category_l1, inflow::INT, outflow::INT,
       (sum(inflow - outflow) OVER (PARTITION BY street_id, category_l1 ORDER BY day))::INT AS open_end
FROM daily
ORDER BY day
