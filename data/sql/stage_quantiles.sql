-- stage_quantiles: the distribution of each SLA stage's duration (seconds from receipt to done)
-- over the stages completed in [$hs, $he), as 101 quantiles (0, 1, ..., 100 %), for every
-- (stage_key, category, department), every (stage_key, category) and every stage_key alone
-- (GROUPING SETS; the missing keys are NULL), with the number of cases behind each.
-- Closure counts only real closures (not cancellations) and is split by urgency.
WITH done AS (
    SELECT 'accept' AS stage_key, category_id, department_id,
           (epoch_us(accepted_at) - epoch_us(received_at)) / 1e6 AS secs
    FROM events
    WHERE accepted_at >= $hs AND accepted_at < $he AND received_at >= $hs - INTERVAL 30 DAY
    UNION ALL
    SELECT 'dispatch', category_id, department_id, (epoch_us(dispatched_at) - epoch_us(received_at)) / 1e6
    FROM events
    WHERE dispatched_at >= $hs AND dispatched_at < $he AND received_at >= $hs - INTERVAL 30 DAY
    UNION ALL
    SELECT CASE WHEN urgency = 'urgent' THEN 'close_urgent' ELSE 'close_other' END,
           category_id, department_id, (epoch_us(closed_at) - epoch_us(received_at)) / 1e6
    FROM events
    WHERE closed_at >= $hs AND closed_at < $he AND status = 'closed'
)
SELECT
    stage_key, category_id, department_id, count(*) AS n,
    quantile_cont(secs, [0.00, 0.01, 0.02, 0.03, 0.04, 0.05, 0.06, 0.07, 0.08, 0.09, 0.10, 0.11, 0.12, 0.13, 0.14,
                         0.15, 0.16, 0.17, 0.18, 0.19, 0.20, 0.21, 0.22, 0.23, 0.24, 0.25, 0.26, 0.27, 0.28, 0.29,
                         0.30, 0.31, 0.32, 0.33, 0.34, 0.35, 0.36, 0.37, 0.38, 0.39, 0.40, 0.41, 0.42, 0.43, 0.44,
                         0.45, 0.46, 0.47, 0.48, 0.49, 0.50, 0.51, 0.52, 0.53, 0.54, 0.55, 0.56, 0.57, 0.58, 0.59,
                         0.60, 0.61, 0.62, 0.63, 0.64, 0.65, 0.66, 0.67, 0.68, 0.69, 0.70, 0.71, 0.72, 0.73, 0.74,
                         0.75, 0.76, 0.77, 0.78, 0.79, 0.80, 0.81, 0.82, 0.83, 0.84, 0.85, 0.86, 0.87, 0.88, 0.89,
                         0.90, 0.91, 0.92, 0.93, 0.94, 0.95, 0.96, 0.97, 0.98, 0.99, 1.00]) AS q
FROM done
GROUP BY GROUPING SETS ((stage_key, category_id, department_id), (stage_key, category_id), (stage_key))
