-- Cases received, closed and cancelled per local day x micro-grid x category x channel.
-- A case counts as received on the day of received_at and as closed/cancelled on the day of closed_at.
WITH moves AS (
    SELECT received_at::DATE AS day, microgrid_id, grid_id, community_id, street_id, category_id, category_l1,
           channel, 1 AS received, 0 AS closed, 0 AS cancelled
    FROM events
    UNION ALL
    SELECT closed_at::DATE, microgrid_id, grid_id, community_id, street_id, category_id, category_l1, channel,
           0, (status = 'closed')::INT, (status = 'cancelled')::INT
    FROM events WHERE closed_at IS NOT NULL
)
SELECT day, microgrid_id, any_value(grid_id), any_value(community_id), any_value(street_id), category_id,
       any_value(category_l1), channel, sum(received)::INT, sum(closed)::INT, sum(cancelled)::INT
FROM moves
GROUP BY day, microgrid_id, category_id, channel  -- the others follow from micro-grid and category
ORDER BY day
