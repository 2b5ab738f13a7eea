"""Every fixed string of the web tier, in zh-CN and English, in one table.

Metric labels and definitions come with the metrics themselves (``Metric.label_zh`` ...); area,
category and department names come from the warehouse (``name`` / ``name_en``). Everything
else a page shows is a key here, so a translation is one edit and a missing one fails a test
(``tests/dashboard/test_i18n.py`` checks both languages are filled for every key).
"""

from __future__ import annotations

__all__ = ["LANGUAGES", "TEXT", "t", "language", "pick", "level_name"]

LANGUAGES = ("zh", "en")

# key -> (zh-CN, English). Placeholders use str.format names.
TEXT: dict[str, tuple[str, str]] = {
    # header
    "wall.title": ("城市运行指挥中心", "Command Center"),
    "wall.data_as_of": ("数据时间", "Data as of"),
    "wall.live": ("数据实时", "Live"),
    "wall.stale": ("数据已滞后 {minutes} 分钟", "Data {minutes} min old"),
    "wall.etl_failed": ("最近一次数据更新失败", "Last data update failed"),
    "wall.reconnecting": ("正在重新连接…", "Reconnecting…"),
    "wall.no_snapshot": ("尚无数据快照", "No data snapshot yet"),
    "wall.unknown_scope": ("未知区域 {area}", "Unknown area {area}"),
    "wall.unavailable": ("暂不可用", "Unavailable"),
    # panels
    "panel.map": ("网格热力图", "Grid heatmap"),
    "panel.backlog_days": ("积压趋势 · 近30天", "Backlog · last 30 days"),
    "panel.backlog_hours": ("今日逐时", "Today by hour"),
    "panel.sla": ("超时预警", "SLA early warning"),
    "panel.warnings": ("激增与效能预警", "Surge & efficiency warnings"),
    "panel.resources": ("资源 · 按街道", "Resources by street"),
    "panel.worst": ("重点区域", "Areas to watch"),
    # map measures and levels
    "measure.cases": ("今日报件", "Cases today"),
    "measure.open": ("在办", "Open cases"),
    "measure.overdue": ("超期在办", "Overdue"),
    "measure.per_10k": ("今日万人报件", "Today per 10k residents"),
    "level.street": ("街道", "Streets"),
    "level.community": ("社区", "Communities"),
    "level.grid": ("网格", "Grids"),
    "level.microgrid": ("微网格", "Micro-grids"),
    "map.hover_cases": ("今日报件", "Cases today"),
    "map.hover_open": ("在办", "Open"),
    "map.hover_overdue": ("超期", "Overdue"),
    "map.hover_per_10k": ("万人报件", "Per 10k"),
    "map.hover_residents": ("常住人口", "Residents"),
    # vital signs
    "vital.index": ("运行指数", "Index"),
    "vital.target": ("目标 {value}", "Goal {value}"),
    # short tile labels (the wall has 9 tiles in a row; the full label is the tile's tooltip)
    "vital.short.received": ("今日受理", "Cases today"),
    "vital.short.open_backlog": ("在办积压", "Open backlog"),
    "vital.short.overdue_open": ("超期在办", "Overdue open"),
    "vital.short.close_on_time_urgent_pct": ("紧急件按时办结率", "Urgent on time"),
    "vital.short.close_on_time_other_pct": ("一般件按时办结率", "Other on time"),
    "vital.short.satisfaction_pct": ("满意率", "Satisfaction"),
    "vital.baseline": ("较基线", "vs baseline"),
    "vital.no_target": ("不设目标", "Not scored"),
    # a rate with nothing to measure in the window (the wall's window is today): say why, not just "—"
    "vital.none_due": ("今日无到期件", "None due today"),
    "vital.none_rated": ("今日无评价", "No ratings today"),
    "vital.none_done": ("今日无办结", "None done today"),
    # the same for a window other than today (the analyst pages)
    "vital.none_due.window": ("时段内无到期件", "None due in the window"),
    "vital.none_rated.window": ("时段内无评价", "No ratings in the window"),
    "vital.none_done.window": ("时段内无办结", "None done in the window"),
    "status.green": ("达标", "OK"),
    "status.amber": ("预警", "Watch"),
    "status.red": ("告警", "Alert"),
    "status.none": ("", ""),
    # SLA ticker
    "sla.stage.accept": ("受理", "Accept"),
    "sla.stage.dispatch": ("派遣", "Dispatch"),
    "sla.stage.close": ("办结", "Close"),
    "sla.level.breached": ("已超时", "Breached"),
    "sla.level.red": ("即将超时", "Due soon"),
    "sla.level.amber": ("关注", "Watch"),
    "sla.level.ok": ("正常", "On track"),
    "sla.late": ("超", "+"),
    "sla.empty": ("暂无临近超时事件", "No case near its deadline"),
    "sla.count": ("已超时 {breached} · 临近 {soon}", "{breached} breached · {soon} due soon"),
    # warnings
    "warn.kind.surge": ("激增", "Surge"),
    "warn.kind.efficiency": ("效能", "Efficiency"),
    "warn.kind.other": ("预警", "Warning"),
    "warn.empty": ("暂无预警", "No warnings"),
    # resources
    "res.street": ("街道", "Street"),
    "res.cameras": ("摄像头在线", "Cameras online"),
    "res.staff": ("在岗人员", "Staff on duty"),
    "res.vehicles": ("可用车辆", "Vehicles free"),
    "res.total": ("合计", "Total"),
    # backlog
    "backlog.inflow": ("流入", "Inflow"),
    "backlog.outflow": ("流出", "Outflow"),
    "backlog.open": ("在办积压", "Open backlog"),
    # units
    "unit.%": ("%", "%"),
    "unit.cases": ("件", ""),
    "unit.s": ("秒", "s"),
    "unit.h": ("小时", "h"),
    "unit.per 10k": ("/万人", "/10k"),
    # home
    "home.title": ("GridPulse · 指挥中心", "GridPulse · Command center"),
    "home.wall": ("大屏", "Wall screen"),
    "home.wall_map": ("大屏 · 地图", "Wall · map"),
    "home.wall_warnings": ("大屏 · 预警", "Wall · warnings"),
    # --- analyst: navigation and frame (dashboard/analyst/shell.py) ---
    "nav.overview": ("总览", "Overview"),
    "nav.map": ("地图", "Map"),
    "nav.backlog": ("积压", "Backlog"),
    "nav.warnings": ("预警", "Warnings"),
    "nav.cases": ("事件", "Cases"),
    "nav.departments": ("部门", "Departments"),
    "nav.resources": ("资源", "Resources"),
    "nav.walls": ("大屏", "Walls"),
    "nav.switch_lang": ("English", "中文"),
    "an.as_of": ("数据截至 {time}", "Data as of {time}"),
    "an.empty": ("没有符合当前筛选条件的数据。", "Nothing matches the current filters."),
    "an.empty_what": ("没有符合当前筛选条件的{what}。", "No {what} match the current filters."),
    "an.failed": ("此面板暂时无法计算，页面其余部分不受影响。详情已记录在服务器日志中。",
                  "This panel could not be computed; the rest of the page still works. The details are in the server log."),
    # --- analyst: the filter bar (dashboard/analyst/shell.py) ---
    "filter.window": ("时间", "Window"),
    "filter.dates": ("日期", "Dates"),
    "filter.scope": ("区域", "Area"),
    "filter.scope_search": ("输入名称搜索区域…", "Type a name to find an area…"),
    "filter.category": ("类别", "Category"),
    "filter.channel": ("渠道", "Channel"),
    "filter.urgency": ("紧急程度", "Urgency"),
    "filter.department": ("部门", "Department"),
    "filter.all": ("全部", "All"),
    "filter.reset": ("清除筛选", "Clear filters"),
    "window.today": ("今天", "Today"),
    "window.7d": ("近7天", "Last 7 days"),
    "window.30d": ("近30天", "Last 30 days"),
    "window.90d": ("近90天", "Last 90 days"),
    "window.this_week": ("本周", "This week"),
    "window.last_week": ("上周", "Last week"),
    "window.custom": ("自定义日期", "Custom dates"),
    "urgency.urgent": ("紧急", "Urgent"),
    "urgency.normal": ("一般", "Normal"),
    # --- analyst: map (dashboard/pages/map.py) ---
    "map.title": ("热力图", "Heatmap"),
    "map.layers": ("图层", "Layers"),
    "map.numbers": ("所选区域", "Selected area"),
    "map.categories": ("主要类别", "Top categories"),
    "map.open_cases": ("最久未办结", "Oldest open cases"),
    "map.measure.cases": ("报件", "Cases"),
    "map.measure.open": ("在办", "Open"),
    "map.measure.overdue": ("超期在办", "Overdue"),
    "map.measure.on_time_pct": ("按时办结率", "On-time %"),
    "map.measure.per_10k": ("万人报件", "Per 10,000 residents"),
    "map.layer.cases": ("事件点位", "Case points"),
    "map.layer.cameras": ("摄像头", "Cameras"),
    "map.layer.depots": ("物资点", "Supply depots"),
    "map.layer.staff": ("在岗人员", "Staff on duty"),
    "map.layer.camera.online": ("摄像头在线", "Cameras online"),
    "map.layer.camera.offline": ("摄像头离线", "Cameras offline"),
    "map.layer.depot.online": ("物资点", "Supply depots"),
    "map.layer.depot.offline": ("物资点（停用）", "Supply depots (out of service)"),
    "map.layer.staff.online": ("在岗空闲", "Staff on duty, free"),
    "map.layer.staff.busy": ("在岗处置中", "Staff on duty, on a case"),
    "map.capped": ("事件点位过多：只显示最新的 {n} 个。", "Too many case points: the newest {n} are shown."),
    "map.layer_none": ("{layer}：此区域内没有。", "{layer}: none in this area."),
    "map.no_areas": ("此区域没有可绘制的下级区域。", "This area has no areas to draw."),
    "map.how": ("按{level}着色：{area}。点击区域可下钻。", "{level} of {area}. Click an area to drill down."),
    "map.how_finest": ("{area} 与 {parent} 的其他{level}：已是最细一级，点击不再下钻。",
                       "{area} and the other {level} of {parent}: the finest level, a click goes no further."),
    "map.residents": ("常住人口 {n}", "{n} residents"),
    "map.numbers_note": ("报件为所选时段内的件数；在办、超期为截至数据时刻；按时办结率为时段内到期的办结时限。",
                         "Cases: received in the window; open and overdue: as of the data time; on-time %: closure "
                         "deadlines that fell in the window."),
    "map.to_cases": ("查看事件 →", "See the cases →"),
    "map.col.category": ("类别", "Category"),
    "map.col.cases": ("报件", "Cases"),
    "map.col.share": ("占比", "Share"),
    "map.col.case": ("编号", "Case"),
    "map.col.received": ("受理时间", "Received"),
    "map.col.age": ("已办", "Age"),
    "map.col.department": ("部门", "Department"),
    "map.age_days": ("{n}天", "{n} d"),
    "map.age_hours": ("{n}小时", "{n} h"),
    "map.open_what": ("在办事件", "open cases"),
    "map.open_note": ("最早受理的 {n} 件在办事件；红色为已超期。", "The {n} open cases received first; red: overdue."),
    # --- analyst: backlog and departments (dashboard/pages/backlog.py, dashboard/pages/departments.py) ---
    "bl.flows": ("流入、流出与积压", "Inflow, outflow and backlog"),
    "bl.split": ("按{by}的流入", "Inflow by {by}"),
    "bl.by_table": ("按{by}的在办与超期（此刻）", "Open and overdue by {by} (now)"),
    "bl.age": ("在办事件的时长分布（此刻）", "Age of the open cases (now)"),
    "bl.gran": ("粒度", "Granularity"),
    "bl.gran.hour": ("小时", "Hour"),
    "bl.gran.day": ("天", "Day"),
    "bl.gran.week": ("周", "Week"),
    "bl.gran.off": ("此窗口不提供：小时粒度限 7 天以内，周粒度需 30 天以上。",
                    "Not offered for this window: hours up to 7 days, weeks from 30 days."),
    "bl.by": ("拆分", "Split by"),
    "bl.by.street": ("街道", "street"),
    "bl.by.category": ("类别", "category"),
    "bl.by.department": ("部门", "department"),
    "bl.overdue": ("超期在办", "Overdue"),
    "bl.k.inflow": ("流入", "Inflow"),
    "bl.k.outflow": ("流出", "Outflow"),
    "bl.k.open_start": ("窗口开始时在办", "Open at the start"),
    "bl.k.open_end": ("窗口结束时在办", "Open at the end"),
    "bl.k.overdue_end": ("窗口结束时超期", "Overdue at the end"),
    "bl.k.net": ("净变化", "Net change"),
    "bl.col.open": ("在办", "Open"),
    "bl.col.overdue": ("超期", "Overdue"),
    "bl.col.share": ("超期占比", "Overdue share"),
    "bl.col.age": ("时长", "Age"),
    "bl.col.cases": ("件数", "Cases"),
    "bl.other": ("其他", "other"),
    "bl.note": ("在办：已接收且未办结或撤销；超期：在办且已过办结时限。每个时段末计数，首尾时段按窗口截断。",
                "Open: received, not yet closed or cancelled; overdue: open past its closure deadline. Counted at the "
                "end of each bucket; the first and last buckets are cut by the window."),
    "bl.data_begins": ("数据始于 {day}：此前的时段为零，窗口开始时的在办数不含更早的事件。",
                       "The data begins on {day}: buckets before it are zero, and the backlog at the window's start "
                       "holds no earlier case."),
    "bl.split_note": ("流入最多的 8 个{by}，其余合为“其他”。", "The 8 with most inflow (by {by}); the rest as \"other\"."),
    "dep.table": ("各部门办理情况", "Departments"),
    "dep.joint": ("多部门联办件", "Joint-handling cases"),
    "dep.joint_note": ("联办件由牵头部门计入上表，此处单列一次，衡量口径相同。",
                       "Joint cases count in their lead department's row above; shown here once more, measured the "
                       "same way."),
    "dep.joint_none": ("此视图中没有多部门联办件。", "No joint-handling cases in this view."),
    "dep.col.rank": ("#", "#"),
    "dep.col.name": ("部门", "Department"),
    "dep.col.received": ("受理量", "Cases"),
    "dep.col.accept_1min_pct": ("按时受理", "Accepted on time"),
    "dep.col.dispatch_5min_pct": ("按时派遣", "Dispatched on time"),
    "dep.col.close_on_time_urgent_pct": ("紧急件按时办结", "Urgent closed on time"),
    "dep.col.close_on_time_other_pct": ("一般件按时办结", "Other closed on time"),
    "dep.col.median_accept_s": ("受理用时中位数", "Median to accept"),
    "dep.col.median_dispatch_s": ("派遣用时中位数", "Median to dispatch"),
    "dep.col.median_close_h": ("办结用时中位数", "Median to close"),
    "dep.col.satisfaction_pct": ("满意率", "Satisfaction"),
    "dep.col.open": ("在办（此刻）", "Open now"),
    "dep.col.overdue": ("超期（此刻）", "Overdue now"),
    "dep.col.joint": ("其中联办", "Of which joint"),
    "dep.col.trend": ("走势", "Trend"),
    "dep.trend_note": ("走势：窗口内每{gran}受理量。按时率：时限在窗口内到期的环节中按时完成的比例（与总览口径相同）。点击表头排序。",
                       "Trend: cases received per {gran} of the window. On-time rates: of the stages whose deadline "
                       "fell in the window, the share done by it (as on the overview). Click a heading to sort."),
    "dep.not_recorded": ("数据源未记录{stages}时间，相关列不适用。", "The source records no {stages} times; those columns "
                         "do not apply."),
    "dep.stage.accept": ("受理", "acceptance"),
    "dep.stage.dispatch": ("派遣", "dispatch"),
    "dep.and": ("与", " and "),
    # --- analyst: cases (dashboard/pages/cases.py, dashboard/analyst/exports.py) ---
    "cs.table": ("事件列表", "Cases"),
    "cs.count": ("{n} 件", "{n} cases"),
    "cs.count_note": ("本时段受理、符合筛选与列筛选的事件", "received in the window, under the filters and column filters"),
    "cs.what": ("事件", "cases"),
    "cs.export_csv": ("导出 CSV", "Export CSV"),
    "cs.export_xlsx": ("导出 Excel", "Export Excel"),
    "cs.export_limit": ("导出当前排序与筛选下的事件，最多 {n} 行", "Exports the rows as sorted and filtered, up to {n} rows"),
    "cs.export_cut": ("超过 {n} 行：导出只含前 {n} 行", "More than {n} rows: the export holds the first {n}"),
    "cs.hint": ("点击一行查看事件的办理过程与各环节时限。", "Click a row for the case's lifecycle and deadlines."),
    "cs.bad_model": ("无法应用此列筛选：{why}", "This column filter cannot be applied: {why}"),
    "cs.col.case_id": ("事件编号", "Case"),
    "cs.col.received_at": ("上报时间", "Received"),
    "cs.col.category": ("类别", "Category"),
    "cs.col.channel": ("渠道", "Channel"),
    "cs.col.urgency": ("紧急程度", "Urgency"),
    "cs.col.status": ("状态", "Status"),
    "cs.col.department": ("责任部门", "Department"),
    "cs.col.accepted_at": ("受理时间", "Accepted"),
    "cs.col.dispatched_at": ("派遣时间", "Dispatched"),
    "cs.col.closed_at": ("办结时间", "Closed"),
    "cs.col.satisfaction": ("满意度", "Rating"),
    "cs.col.overdue": ("超期", "Overdue"),
    "cs.overdue.yes": ("超期", "Overdue"),
    "cs.overdue.no": ("—", "—"),
    "cs.status.received": ("待受理", "Received"),
    "cs.status.accepted": ("已受理", "Accepted"),
    "cs.status.dispatched": ("已派遣", "Dispatched"),
    "cs.status.in_progress": ("处置中", "In progress"),
    "cs.status.closed": ("已办结", "Closed"),
    "cs.status.cancelled": ("已撤销", "Cancelled"),
    "cs.life.title": ("事件 {case}", "Case {case}"),
    "cs.life.close": ("关闭", "Close"),
    "cs.life.not_found": ("当前区域内没有编号为 {case} 的事件。", "No case {case} in this area."),
    "cs.life.steps": ("办理过程", "Lifecycle"),
    "cs.life.stages": ("服务承诺", "Service promise"),
    "cs.life.received": ("收到", "Received"),
    "cs.life.accepted": ("受理", "Accepted"),
    "cs.life.dispatched": ("派遣", "Dispatched"),
    "cs.life.closed": ("办结", "Closed"),
    "cs.life.cancelled": ("撤销", "Cancelled"),
    "cs.life.not_yet": ("尚未", "not yet"),
    "cs.life.stage": ("环节", "Stage"),
    "cs.life.due": ("时限", "Deadline"),
    "cs.life.outcome": ("结果", "Outcome"),
    "cs.life.left": ("剩余", "Time left"),
    "cs.life.as_of": ("按 {time} 判定", "Judged at {time}"),
    "cs.stage.accept": ("受理", "Accept"),
    "cs.stage.dispatch": ("派遣", "Dispatch"),
    "cs.stage.close": ("办结", "Close"),
    "cs.outcome.met": ("按时", "Met"),
    "cs.outcome.breached": ("超时", "Breached"),
    "cs.outcome.pending": ("进行中", "Pending"),
    "cs.outcome.not_applicable": ("不适用", "Not applicable"),
    "cs.left.late": ("已超 {t}", "{t} late"),
    "cs.field.category": ("类别", "Category"),
    "cs.field.department": ("部门", "Department"),
    "cs.field.channel": ("渠道", "Channel"),
    "cs.field.place": ("位置", "Place"),
    "cs.field.summary": ("描述", "Summary"),
    # --- analyst: warnings (dashboard/pages/warnings_page.py) ---
    "wr.panel.counts": ("预警统计", "Warnings now"),
    "wr.panel.list": ("全部预警", "All warnings"),
    "wr.kind": ("类型", "Kind"),
    "wr.level": ("级别", "Level"),
    "wr.sort": ("排序", "Sort"),
    "wr.all": ("全部", "All"),
    "wr.kind.sla": ("超时风险", "SLA risk"),
    "wr.kind.surge": ("激增", "Surge"),
    "wr.kind.efficiency": ("效能", "Efficiency"),
    "wr.level.breached": ("已超时", "Breached"),
    "wr.level.red": ("红色", "Red"),
    "wr.level.amber": ("黄色", "Amber"),
    "wr.sort.urgent": ("最紧急优先", "Most urgent first"),
    "wr.sort.newest": ("最新优先", "Newest first"),
    "wr.sort.area": ("按区域", "By area"),
    "wr.col.level": ("级别", "Level"),
    "wr.col.kind": ("类型", "Kind"),
    "wr.col.warning": ("预警内容", "Warning"),
    "wr.col.area": ("区域", "Area"),
    "wr.col.since": ("起始", "Since"),
    "wr.col.link": ("明细", "Details"),
    "wr.link.cases": ("查看事件 →", "Cases →"),
    "wr.link.case": ("查看事件 →", "Case →"),
    "wr.link.department": ("查看部门 →", "Department →"),
    "wr.link.map": ("查看地图 →", "Map →"),
    # an SLA row: {case} id, {category} name, {stage} one of sla.stage.*, {left} wr.sla.left / wr.sla.overdue
    "wr.sla.text": ("{case} {category} · {stage}环节 · {left}", "{case} {category} · {stage} · {left}"),
    "wr.sla.left": ("剩余 {d}", "{d} left"),
    "wr.sla.overdue": ("已超时 {d}", "overdue by {d}"),
    "wr.shown": ("显示前 {shown} 条，共 {total} 条（按当前排序）", "Showing the first {shown} of {total} (in this order)"),
    "wr.total": ("共 {total} 条", "{total} warnings"),
    "wr.note": ("预警截至数据时间，不受时间窗口影响：超时风险为当前在办事件，激增为最近 {hours} 小时，效能为本周。"
                "点击数字可筛选。",
                "Warnings are as of the data time; the window does not apply: SLA risk = cases open now, "
                "surges = the last {hours} h, efficiency = this week. Click a count to filter."),
    "wr.what": ("预警", "warnings"),
    # --- analyst: resources (dashboard/pages/resources.py) ---
    "rs.panel.totals": ("资源总量", "Totals"),
    "rs.panel.areas": ("各{level}资源", "Resources by {level}"),
    "rs.panel.assets": ("设备与人员状态（当前）", "Assets and staff now"),
    "rs.none": ("未导入资源数据（人口、房屋、企业、设施表均为空）。", "No resource data loaded (people, housing, enterprises and assets are empty)."),
    "rs.table_none": ("未导入", "not loaded"),
    "rs.note": ("资源为当前状态，不受时间窗口影响；万人指标按常住人口计算。人员在岗含处置中。",
                "Resources are their current state; the window does not apply. Per 10k: per 10,000 residents. "
                "Staff on duty includes busy (on a case)."),
    "rs.no_child": ("当前区域没有下级区域。", "This area has no level below it."),
    "rs.residents": ("常住人口", "Residents"),
    "rs.people": ("登记人口", "People registered"),
    "rs.floating": ("流动人口", "Floating"),
    "rs.elderly_alone": ("独居老人", "Elderly alone"),
    "rs.key_care": ("重点关爱", "Key care"),
    "rs.housing_units": ("房屋（套）", "Housing units"),
    "rs.rental_units": ("出租房", "Rentals"),
    "rs.enterprises": ("企业", "Enterprises"),
    "rs.high_risk": ("高风险企业", "High-risk enterprises"),
    "rs.cameras": ("摄像头", "Cameras"),
    "rs.cameras_offline": ("离线摄像头", "Cameras offline"),
    "rs.cameras_online_pct": ("摄像头在线率", "Cameras online"),
    "rs.staff": ("工作人员", "Staff"),
    "rs.staff_on_duty": ("在岗人员", "Staff on duty"),
    "rs.staff_on_duty_pct": ("人员在岗率", "Staff on-duty rate"),
    "rs.vehicles_free": ("空闲车辆", "Vehicles free"),
    "rs.supply_depots": ("物资点", "Supply depots"),
    "rs.hydrants": ("消防栓", "Hydrants"),
    "rs.aeds": ("AED", "AEDs"),
    "rs.per_10k": ("每万人 {a}", "{a} per 10k"),
    "rs.foot.floating": ("流动 {a}", "floating {a}"),
    "rs.foot.rental": ("出租 {a}", "rentals {a}"),
    "rs.foot.of": ("{a} / 共 {b}", "{a} of {b}"),
    "rs.foot.total": ("共 {b}", "of {b}"),
    "rs.col.floating_pct": ("流动人口 %", "Floating %"),
    "rs.col.rental_pct": ("出租房 %", "Rentals %"),
    "rs.col.area": ("区域", "Area"),
    "rs.col.per_10k": ("每万人", "per 10k"),
    "rs.col.kind": ("类型", "Kind"),
    "rs.col.online": ("在线/空闲", "Online"),
    "rs.col.busy": ("处置中", "Busy"),
    "rs.col.offline": ("离线", "Offline"),
    "rs.col.total": ("合计", "Total"),
    "rs.kind.camera": ("摄像头", "Cameras"),
    "rs.kind.staff": ("工作人员", "Staff"),
    "rs.kind.vehicle": ("车辆", "Vehicles"),
    "rs.kind.supply_depot": ("物资点", "Supply depots"),
    "rs.kind.hydrant": ("消防栓", "Hydrants"),
    "rs.kind.aed": ("AED", "AEDs"),
    # --- analyst: overview (dashboard/pages/overview.py) ---
    "ov.vitals": ("运行体征", "Vital signs"),
    "ov.categories": ("主要类别", "Top categories"),
    "ov.areas": ("报件最多的区域", "Areas with most cases"),
    "ov.warnings": ("预警概况", "Warnings"),
    "ov.spark_note": ("小折线：此前 {n} 个同长度时段至本时段的走势。点击指标查看详情。",
                      "Sparklines: the {n} equal windows before this one, then this one. Click a sign for its details."),
    "ov.col.category": ("类别", "Category"),
    "ov.col.cases": ("报件", "Cases"),
    "ov.col.share": ("占比", "Share"),
    "ov.col.change": ("较上期", "vs previous"),
    "ov.col.still_open": ("仍在办", "Still open"),
    "ov.col.per_10k": ("万人报件", "Per 10k"),
    "ov.col.open": ("在办", "Open"),
    "ov.col.overdue": ("超期", "Overdue"),
    "ov.col.top_category": ("最多类别", "Top category"),
    "ov.w.breached": ("已超时在办", "Breached, still open"),
    "ov.w.at_risk": ("即将超时", "About to breach"),
    "ov.w.surges": ("激增预警", "Surges"),
    "ov.w.efficiency": ("效能预警", "Efficiency warnings"),
    "ov.finest": ("这是最细一级（{level}），其下没有更小的区域。", "This is the finest level ({level}): there are no areas below it."),
    "ov.no_warnings": ("当前没有激增或效能预警。", "No surge or efficiency warnings now."),
    # ---- warning sentences (metrics.warnings returns names and numbers; these word them) ----
    # surge: {where} street and area names, {category} the category name (English: lower-case first
    # letter), {hours} the window, {count} reports in it, {usual} one of the warn.usual.* texts
    "warn.msg.surge": ("{where} {category}：{hours} 小时内 {count} 件，{usual}",
                       "{where} {category}: {count} reports in {hours} h, {usual}"),
    "warn.usual.few": ("通常不到 1 件", "usually fewer than 1"),
    "warn.usual.n": ("通常 {n} 件", "usually {n}"),
    # efficiency: {unit} the department or street, {week} and {norm} on-time rates (fractions)
    "warn.msg.efficiency": ("{unit} 本周按时办结率 {week:.0%}，常态 {norm:.0%}",
                            "{unit} on-time closure this week {week:.0%}, usually {norm:.0%}"),
    # ---- end of warning sentences ----
    # --- pages that cannot be drawn, and labels that name the promise in force (issue 9, web tier) ---
    "notice.no_data.title": ("尚无数据", "No data yet"),
    "notice.no_data.body": ("尚未发布数据快照：运行 python app.py demo 构建演示数据，或导入本地数据（见 docs/etl.md）。",
                            "No data yet: build the demo with python app.py demo, or import your data: see docs/etl.md."),
    "notice.no_district.title": ("数据中没有区级区域", "The data has no district"),
    "notice.no_district.body": ("areas 表中没有 level 为 district 的区域：请导入区划数据（见 docs/geography.md）。",
                                "The areas table has no area of level 'district': import the geography (see "
                                "docs/geography.md)."),
    "notice.unknown_area.title": ("未知区域 '{area}'", "Unknown area '{area}'"),
    "notice.unknown_area.body": ("网址中的 scope 不是本区的区域编号。", "The URL's scope is not an area id of this district."),
    "notice.unknown_area.hint": ("可用的范围：", "Valid scopes:"),
    # a promise's limit as a label shows it (filled from Metric.limit, see components/vitals.py)
    "limit.minutes": ("{n}分钟", "{n} min"),
    "limit.seconds": ("{n}秒", "{n} s"),
    "limit.hours": ("{n}小时", "{n} h"),
    "limit.working_days": ("{n}个工作日", "{n} working days"),
    "vital.short.accept_pct": ("{limit}受理率", "Accept ≤{limit}"),
    "vital.short.dispatch_pct": ("{limit}派遣率", "Dispatch ≤{limit}"),
    # --- end of the web tier's issue-9 block ---
    # --- issue 10, calendar and clock: historical data shown as of its newest case ---
    "wall.loaded_at": ("载入于", "Loaded"),
    "res.none": ("暂无资源数据（摄像头、人员、车辆）", "No resources data (cameras, staff, vehicles)"),
    "wall.historical": ("数据截至 {time}（历史数据）", "Data as of {time} (historical)"),
    "wall.historical_hint": ("数据集最新案件早于当前时间一天以上：所有指标按该时刻计算。",
                             "The dataset's newest case is more than a day old: every number is as of that moment."),
    # --- end of the issue-10 calendar and clock block ---
    # --- issue 10, the deployment's levels: default names of the slots (used when area_levels has none; the
    # street ... micro-grid defaults are the level.* keys above) and titles that name a level ---
    "level.district": ("全区", "District"),
    "panel.heatmap": ("热力图", "Heatmap"),
    "panel.resources_by": ("资源 · 按{level}", "Resources by {level}"),
    "wall.scope_line": ("{level} · {name}", "{level} · {name}"),
    "map.no_residents": ("无人口数据", "no residents data"),
    # --- end of the issue-10 levels block ---
    # --- issue 10, stages a source does not record (Metric.reason, see components/vitals.py) ---
    # short: a tile's foot has room for about 14 characters at 1920 px ("Not recorded by the source" was cut)
    "vital.why.accept_not_recorded": ("来源未记录", "Not recorded"),
    "vital.why.dispatch_not_recorded": ("来源未记录", "Not recorded"),
    # --- end of the issue-10 stages block ---
}


def language(value: str | None, default: str = "zh") -> str:
    """A supported language code from a URL value (``zh``, ``zh-CN``, ``en``, ``en-GB`` ...).

    Anything unknown falls back to ``default`` rather than failing: a wall with a typo in its
    URL should still show something useful.
    """
    if value:
        code = value.strip().lower().split("-")[0].split("_")[0]
        if code in LANGUAGES:
            return code
    return default if default in LANGUAGES else "zh"


def t(key: str, lang: str, **values: object) -> str:
    """The string ``key`` in ``lang`` with ``values`` filled in.

    Raises:
        KeyError: the key is not in :data:`TEXT` (a typo should fail in tests, not show a key).
    """
    zh, en = TEXT[key]
    text = en if lang == "en" else zh
    return text.format(**values) if values else text


def pick(zh: str | None, en: str | None, lang: str) -> str:
    """The name in ``lang`` from a zh/en pair of warehouse columns, falling back to the other one."""
    first, second = (en, zh) if lang == "en" else (zh, en)
    return str(first if first not in (None, "") else (second or ""))


def level_name(level: object, lang: str) -> str:
    """The display name of a deployment level (a :class:`metrics.scope.Level`, or a slot name) in ``lang``.

    The names the deployment gave it (``area_levels``: "Region", "Neighborhood Council" ...) when it has
    them, else the slot's default name (``level.<slot>``).

    >>> level_name("grid", "en")
    'Grids'
    """
    slot = getattr(level, "level", level)
    zh, en = getattr(level, "name", None), getattr(level, "name_en", None)
    if zh or en:
        return pick(zh, en, lang)
    return t(f"level.{slot}", lang)
