"""The briefing's own words in zh-CN and English (labels of vital signs, levels and units come from ``dashboard.i18n``)."""

from __future__ import annotations

__all__ = ["TEXT", "tr"]

TEXT: dict[str, tuple[str, str]] = {
    "title": ("每周简报", "Weekly briefing"),
    "week": ("{year} 年第 {week} 周", "Week {week} of {year}"),
    "dates": ("{first} 至 {last}", "{first} to {last}"),
    "generated": ("生成时间", "Generated"),
    "data_as_of": ("数据截至", "Data as of"),
    "as_of": ("统计口径截至", "Figures as of"),
    "partial": ("本周尚未结束：本简报为阶段性数据，截至 {time}。", "The week is not over: partial figures as of {time}."),
    "partial_badge": ("阶段性", "Partial"),
    "no_data": ("本周没有案件数据：所有指标为空，其余各页照常列出。", "No cases in this week: every measure is empty; "
                "the other pages are listed as usual."),
    "contents": ("目录", "Contents"),
    "footer": ("GridPulse · {place} · {week}", "GridPulse · {place} · {week}"),
    "page_of": ("第 \" counter(page) \" 页 / 共 \" counter(pages) \" 页", "Page \" counter(page) \" of \" counter(pages) \""),
    "sources": ("数据来源：GridPulse 数据仓库快照 {snapshot}；口径见 docs/metrics.md。",
                "Source: GridPulse warehouse snapshot {snapshot}; definitions in docs/metrics.md."),
    # sections
    "s.week": ("一周概览", "The week on one page"),
    "s.maps": ("地图", "Maps"),
    "s.backlog": ("积压", "Backlog"),
    "s.categories": ("问题类别", "Categories"),
    "s.promise": ("服务承诺", "The service promise"),
    "s.departments": ("部门与{level}", "Departments and {level}"),
    "findings": ("要点", "Findings"),
    "vitals": ("生命体征", "Vital signs"),
    "col.sign": ("指标", "Measure"),
    "col.week": ("本周", "This week"),
    "col.prev": ("上周", "Previous week"),
    "col.vs_prev": ("较上周", "vs previous"),
    "col.norm": ("近4周均值", "4-week norm"),
    "col.vs_norm": ("较均值", "vs norm"),
    "col.target": ("目标", "Target"),
    "col.status": ("状态", "Status"),
    "index": ("综合指数", "Composite index"),
    "index_note": ("各项得分（实际值与目标之比，1.0 为达标）的均值。", "The mean of the scores (value against target; "
                   "1.0 is on target)."),
    "status.green": ("正常", "On track"),  # within the tolerance of the target, not necessarily on it
    "status.amber": ("预警", "Watch"),
    "status.red": ("未达标", "Off target"),
    "status.none": ("不评分", "Not scored"),
    "map.per_10k": ("每万人案件数（按{level}）", "Cases per 10,000 residents by {level}"),
    "map.cases": ("案件数（按{level}；无常住人口数据，不能按每万人计）", "Cases by {level} (no resident counts: not per "
                  "10,000 residents)"),
    "map.overdue": ("超期未办结案件（按{level}，截至周末）", "Overdue open cases by {level} (at the week's end)"),
    "map.none": ("本范围没有可绘制的区域边界。", "No area boundaries to draw in this scope."),
    "backlog.daily": ("本周每日：受理、办结与在办", "Each day of the week: received, closed and open"),
    "backlog.weekly": ("近 {n} 周：受理、办结与在办", "The last {n} weeks: received, closed and open"),
    "col.day": ("日期", "Day"),
    "col.week_start": ("周（起）", "Week of"),
    "col.inflow": ("流入", "Inflow"),  # the words of the chart above (dashboard.i18n backlog.*)
    "col.outflow": ("流出", "Outflow"),
    "col.open": ("在办（日终）", "Open (at end)"),
    "col.overdue": ("超期（日终）", "Overdue (at end)"),
    "col.open_w": ("在办（周末）", "Open (at end)"),
    "col.overdue_w": ("超期（周末）", "Overdue (at end)"),
    "cat.top": ("案件最多的 {n} 个类别", "The {n} categories with most cases"),
    "col.category": ("类别", "Category"),
    "col.cases": ("本周", "This week"),
    "col.previous": ("上周", "Previous"),
    "col.change": ("变化", "Change"),
    "col.share": ("占比", "Share"),
    "col.still_open": ("仍在办", "Still open"),
    "surges": ("本周检测到的突增（每日末按近 24 小时检测）", "Surges detected during the week (the last 24 h at each "
               "day's end)"),
    "surges.none": ("本周未检测到突增。", "No surge was detected this week."),
    "col.area": ("区域", "Area"),
    "col.count": ("件数", "Cases"),
    "col.expected": ("预期", "Expected"),
    "col.level": ("级别", "Level"),
    "col.detected": ("检测于", "Detected"),
    "promise.by_area": ("各{level}按时率（%）", "On time by {level} (%)"),
    "promise.by_dep": ("各部门按时率（%）", "On time by department (%)"),
    "promise.note": ("按时率按截止时间落在本周的环节计算；“—”表示本周没有到期的环节。", "Rates count the stages whose "
                     "deadline fell in the week; \u201c—\u201d: none fell due."),
    "breaches": ("紧急案件超时清单（{shown} / 共 {total} 件，按超时时长排序）", "Urgent cases past their closure "
                 "deadline ({shown} of {total}, most overdue first)"),
    "breaches.none": ("本周没有紧急案件超时。", "No urgent case missed its closure deadline this week."),
    "col.case": ("案件编号", "Case"),
    "col.department": ("部门", "Department"),
    "col.due": ("截止时间", "Due"),
    "col.closed": ("办结时间", "Closed"),
    "col.overdue_by": ("超时", "Overdue by"),
    "still_open": ("未办结", "open"),
    "dep.ranked": ("部门排名（按办结按时率）", "Departments ranked (by closure on time)"),
    "col.rank": ("名次", "#"),
    "col.received": ("受理", "Cases"),
    "col.accept": ("受理及时", "Accept"),
    "col.dispatch": ("派遣及时", "Dispatch"),
    "col.close_urgent": ("紧急办结", "Urgent"),
    "col.close_other": ("一般办结", "Others"),
    "col.close_all": ("办结按时", "Closed on time"),
    "col.median_close": ("办结中位(小时)", "Median (h)"),
    "col.satisfaction": ("满意度", "Satisf."),
    "col.open_now": ("在办", "Open"),
    "col.overdue_now": ("超期", "Late"),
    "dep.joint": ("多部门联办案件", "Joint-handling cases"),
    "dep.none": ("本周没有部门数据。", "No department data for this week."),
    "areas.side": ("各{level}对比", "{level} side by side"),
    # findings
    "f.volume": ("本周受理 {n} 件，较上周{dir} {pct}（上周 {prev} 件），近 4 周均值 {norm} 件。",
                 "{n} cases were received this week, {pct} {dir} than the previous week ({prev}); the 4-week norm "
                 "is {norm}."),
    "f.volume_flat": ("本周受理 {n} 件，与上周持平（上周 {prev} 件），近 4 周均值 {norm} 件。",
                      "{n} cases were received this week, level with the previous week ({prev}); the 4-week norm "
                      "is {norm}."),
    "f.volume_first": ("本周受理 {n} 件；数据始于本周或上周之内，没有可比的上周。",
                       "{n} cases were received this week; the data begin within this week or the previous one, "
                       "so there is no previous week to compare with."),
    "f.more": ("增加", "more"),
    "f.fewer": ("减少", "fewer"),
    "f.change": ("变化最大的指标是{label}：{value}，上周 {prev}。", "The largest change was in {label}: {value}, "
                 "against {prev} the previous week."),
    "f.worst_area": ("综合指数最低的{level}是{name}（{index}），其最弱的指标{label}为 {value}。",
                     "Lowest composite index by {level}: {name} ({index}); its weakest measure, {label}, stood at "
                     "{value}."),
    "f.surge": ("最大的突增：{place}“{category}”{count} 件，预期约 {expected} 件。",
                "The biggest surge: {category} in {place}, {count} cases against about {expected} expected."),
    "f.no_surge": ("本周未检测到突增。", "No surge was detected this week."),
    "f.departments": ("办结按时率最高的部门是{best}（{best_pct}），最低的是{worst}（{worst_pct}）。",
                      "The department closing most cases on time was {best} ({best_pct}); the fewest, {worst} "
                      "({worst_pct})."),
    "f.no_data": ("本周没有案件。", "There were no cases this week."),
}


def tr(key: str, lang: str, **values: object) -> str:
    """The briefing text ``key`` in ``lang`` with ``values`` filled in."""
    zh, en = TEXT[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text
