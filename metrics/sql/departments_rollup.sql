-- departments_rollup: the window's vital signs of every department of the scope, of the whole scope
-- and of its joint-handling cases (route = 'joint'), from one pass over the cases.
-- The query marked "grouped" below is vitals_windows.sql in its grouped form (metrics.departments): one row per
-- department (dep) and route (jnt: joint or not) with the stage counts, and the values behind each
-- median as lists. Rolled up here: counts add up; a median is DuckDB's median of the groups' values
-- put together (list_aggregate(..., 'median'), the function vitals_windows.sql itself uses), so every
-- number equals that of vitals_windows.sql run on a one-department (or joint-only) scope.
--   grp: the department id, '__all__' or '__joint__';  joint: the joint cases received (per department).
-- Cases without a department count in '__all__' (and '__joint__') only.
WITH g AS (
/*grouped*/
),
rolled AS (
    SELECT
        CASE WHEN grouping(dep) = 0 THEN dep WHEN grouping(jnt) = 0 AND jnt THEN '__joint__'
             WHEN grouping(jnt) = 1 THEN '__all__' END AS grp,
        sum(received) AS received, coalesce(sum(received) FILTER (WHERE jnt), 0) AS joint,
        sum(accept_n) AS accept_n, sum(accept_met) AS accept_met,
        sum(dispatch_n) AS dispatch_n, sum(dispatch_met) AS dispatch_met,
        sum(urgent_n) AS urgent_n, sum(urgent_met) AS urgent_met,
        sum(other_n) AS other_n, sum(other_met) AS other_met,
        list_aggregate(flatten(list(median_accept_s)), 'median') AS median_accept_s,
        list_aggregate(flatten(list(median_dispatch_s)), 'median') AS median_dispatch_s,
        list_aggregate(flatten(list(median_close_h)), 'median') AS median_close_h,
        sum(rated) AS rated, sum(satisfied) AS satisfied
    FROM g
    GROUP BY GROUPING SETS ((dep), (), (jnt))
)
-- no case at all: no row (the roll-up of nothing has NULL sums)
SELECT * FROM rolled WHERE grp IS NOT NULL AND received IS NOT NULL ORDER BY grp
