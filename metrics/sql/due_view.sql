-- due_view: every row of a table shaped like events, with its three deadlines. metrics.sla_due
-- defines it twice, replacing the two names:
--   case_due   over events            (every case)
--   open_due   over mart_open_cases   (the cases never closed: the first half of "open at t")
-- The SLA rules come from two temporary tables metrics.sla_due fills once per cursor:
--   sla_default(acc_us, dis_us, urg_us, off_us, d0, dues)  one row: the default rule
--   sla_override(category_id, acc_us, dis_us, urg_us, d0, dues)  one row per category that differs
-- acc_us, dis_us, urg_us: the acceptance, dispatch and urgent closure limits in microseconds;
-- off_us: the zone's fixed UTC offset in microseconds (NULL with daylight saving, see local_dayno);
-- dues[i]: the closure deadline (24:00 local of the n-th working day after, UTC microseconds) of a
-- case received on local day d0 + i - 1 (days since 1970-01-01). A list read by position plans in
-- half the time of a join with a table of days, and most queries read this view once or twice.
-- close_due: the case's own deadline (events.due_at, from its source) when it has one; otherwise the
-- rule's. Accept and dispatch deadlines always follow the rule.
-- Each /*rule:x*/ marker becomes d.x, or coalesce(r.x, d.x) when there are overrides, which
-- /*override_join*/ then joins in (nothing otherwise).
CREATE OR REPLACE TEMP VIEW __view__ AS
SELECT
    e.*,
    epoch_us(e.received_at) + /*rule:acc_us*/ AS accept_due,
    epoch_us(e.received_at) + /*rule:dis_us*/ AS dispatch_due,
    CASE /*if:due_at*/WHEN e.due_at IS NOT NULL THEN epoch_us(e.due_at)/*fi:due_at*/
         WHEN e.urgency = 'urgent' THEN epoch_us(e.received_at) + /*rule:urg_us*/
         -- greatest(.., 0): a day before d0 (none is) must read NULL, not count from the list's end
         ELSE (/*rule:dues*/)[greatest(local_dayno(e.received_at, d.off_us) - /*rule:d0*/ + 1, 0)]
    END AS close_due
FROM __source__ AS e
CROSS JOIN sla_default AS d
/*override_join*/
