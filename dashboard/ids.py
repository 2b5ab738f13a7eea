"""Component ids of every page, defined once (kebab-case).

Pages, callbacks, clientside functions (``assets/wall.js``) and browser tests all import these
names instead of spelling ids; a renamed id then breaks loudly in one place. The wall's panels
use pattern-matching ids (``{"type": ..., "panel": ...}``) so that one callback can fill
whichever panels the chosen ``?layout=`` shows: panels that are absent are neither matched nor
computed.
"""

from __future__ import annotations

from dash import ALL

__all__ = [
    "WALL", "WALL_OPTIONS", "WALL_VIEWPORT", "WALL_META", "WALL_DRAWN", "WALL_TICK", "WALL_CLOCK",
    "WALL_ROTATE", "WALL_CLOCK_TIME", "WALL_CLOCK_DATE", "WALL_CONNECTION", "WALL_MAP_BOX", "WALL_TEXT_TYPE",
    "WALL_GRAPH_TYPE", "PANEL_STATUS", "PANEL_SCOPE", "PANEL_VITALS", "PANEL_SLA", "PANEL_WARNINGS", "PANEL_RESOURCES", "PANEL_WORST",
    "PANEL_MAP_TITLE", "PANEL_MAP", "PANEL_BACKLOG_DAYS", "PANEL_BACKLOG_HOURS", "TEXT_PANELS", "GRAPH_PANELS",
    "text_panel", "graph_panel", "ALL_TEXT", "ALL_GRAPHS", "NOTICE",
    "AN_URL", "AN_HERE", "AN_STATE", "AN_FILTERS", "AN_F_WINDOW", "AN_F_DATES", "AN_F_SCOPE", "AN_F_CATEGORY", "AN_F_CHANNEL",
    "AN_F_URGENCY", "AN_F_DEPARTMENT", "AN_F_RESET", "AN_LANG", "AN_BREADCRUMB", "AN_WINDOW_TEXT", "AN_AS_OF",
    "OV_VITALS", "OV_CATEGORIES", "OV_AREAS", "OV_WARNINGS", "OV_SNAPSHOT", "AN_USER", "AN_SIGN_OUT",
]

# --- wall: structure and stores -------------------------------------------------------------
WALL = "wall"  # the root element of /wall
WALL_OPTIONS = "wall-options"  # dcc.Store: the parsed URL options (refresh, scope, lang, ...)
WALL_VIEWPORT = "wall-viewport"  # dcc.Store: viewport and map size, font scale (set in the browser)
WALL_META = "wall-meta"  # dcc.Store: the server's clock and snapshot at the last good tick
WALL_DRAWN = "wall-drawn"  # dcc.Store: what each graph holds (figure key, value digest), to patch it
WALL_TICK = "wall-tick"  # dcc.Interval: one data refresh
WALL_CLOCK = "wall-clock"  # dcc.Interval: one second, clock and countdowns (browser only)
WALL_ROTATE = "wall-rotate"  # dcc.Interval: next map measure or focus street
WALL_CLOCK_TIME = "wall-clock-time"
WALL_CLOCK_DATE = "wall-clock-date"
WALL_CONNECTION = "wall-connection"  # "reconnecting" badge, toggled in the browser
WALL_MAP_BOX = "wall-map-box"  # the map's container, measured in the browser to frame the map

# --- wall: panels (pattern-matching ids) ----------------------------------------------------------
WALL_TEXT_TYPE = "wall-text"  # html panels: children
WALL_GRAPH_TYPE = "wall-graph"  # dcc.Graph panels: figure

PANEL_STATUS = "status"  # header: data time, stale warning, calendar notice
PANEL_SCOPE = "scope"  # header: the name of the area the wall is about
PANEL_VITALS = "vitals"
PANEL_SLA = "sla"
PANEL_WARNINGS = "warnings"
PANEL_RESOURCES = "resources"
PANEL_WORST = "worst"  # ranked list of the worst areas (map layout)
PANEL_MAP_TITLE = "map-title"
PANEL_MAP = "map"
PANEL_BACKLOG_DAYS = "backlog-days"
PANEL_BACKLOG_HOURS = "backlog-hours"
TEXT_PANELS = (PANEL_STATUS, PANEL_SCOPE, PANEL_VITALS, PANEL_SLA, PANEL_WARNINGS, PANEL_RESOURCES, PANEL_WORST, PANEL_MAP_TITLE)
GRAPH_PANELS = (PANEL_MAP, PANEL_BACKLOG_DAYS, PANEL_BACKLOG_HOURS)


def text_panel(panel: str) -> dict[str, str]:
    """The id of an html panel of the wall."""
    return {"type": WALL_TEXT_TYPE, "panel": panel}


def graph_panel(panel: str) -> dict[str, str]:
    """The id of a graph panel of the wall."""
    return {"type": WALL_GRAPH_TYPE, "panel": panel}


ALL_TEXT = {"type": WALL_TEXT_TYPE, "panel": ALL}
ALL_GRAPHS = {"type": WALL_GRAPH_TYPE, "panel": ALL}

# --- analyst pages: the frame every page shares (dashboard/analyst/shell.py) ----------------------
AN_URL = "an-url"  # dcc.Location (app level, refresh="callback-nav"): the filter bar writes the URL here
AN_HERE = "an-here"  # dcc.Location on every analyst page (refresh=False): the page's in-place keys (a sort, the
# open case, the map's measure and layers) go into the URL here without laying the page out again
AN_STATE = "an-state"  # dcc.Store: the page's ViewState ({"search": "?win=..."}); every panel's input
AN_FILTERS = "an-filters"  # the filter bar
AN_F_WINDOW = "an-f-window"
AN_F_DATES = "an-f-dates"
AN_F_SCOPE = "an-f-scope"
AN_F_CATEGORY = "an-f-category"
AN_F_CHANNEL = "an-f-channel"
AN_F_URGENCY = "an-f-urgency"
AN_F_DEPARTMENT = "an-f-department"
AN_F_RESET = "an-f-reset"
AN_LANG = "an-lang"  # the language switch link
AN_BREADCRUMB = "an-breadcrumb"
AN_WINDOW_TEXT = "an-window-text"
AN_AS_OF = "an-as-of"

# --- analyst: overview (/) ------------------------------------------------------------------------
OV_VITALS = "ov-vitals"
OV_CATEGORIES = "ov-categories"
OV_AREAS = "ov-areas"
OV_WARNINGS = "ov-warnings"
OV_SNAPSHOT = "ov-snapshot"
NOTICE = "gp-notice"  # a full-screen notice instead of a page (no data yet, unknown area)

# --- analyst: map (/map, dashboard/pages/map.py) --------------------------------------------------
MAP_PANEL = "map-panel"  # the map panel's body: the graph and its notes
MAP_GRAPH = "map-graph"  # dcc.Graph; its clickData drills down (writes ?scope= to the URL)
MAP_MEASURE = "map-measure"  # the measure switch (?measure=)
MAP_LAYERS = "map-layers"  # the overlay checkboxes (?layers=)
MAP_NUMBERS = "map-numbers"  # side panel: the selected area's numbers
MAP_CATEGORIES = "map-categories"  # side panel: its top categories
MAP_OPEN = "map-open"  # side panel: its oldest open cases
MAP_VIEW = "map-view"  # dcc.Store: the reader's zoom and pan of the map, to draw another measure in it
MAP_HOW = "map-how"  # the line under the map: what it shows, how to drill, the layers' notes
# --- analyst: backlog (/backlog) and departments (/departments) -----------------------------------
BL_FLOWS = "bl-flows"
BL_SPLIT = "bl-split"
BL_BY_TABLE = "bl-by-table"
BL_AGE = "bl-age"
BL_GRAN_PREFIX = "bl-gran-"  # + hour / day / week: the granularity links
BL_BY_PREFIX = "bl-by-"  # + street / category / department: the split links
DEP_TABLE = "dep-table"
DEP_JOINT = "dep-joint"
# --- analyst: cases (/cases, dashboard/pages/cases.py) ---------------------------------------------
CS_GRID = "cs-grid"  # the dash-ag-grid table (infinite row model: pages come from the server)
CS_COUNT = "cs-count"  # "12,345 cases" above the table
CS_MESSAGE = "cs-message"  # the empty state or an error in place of the rows
CS_EXPORT_CSV = "cs-export-csv"  # links to the export routes (dashboard/analyst/exports.py)
CS_EXPORT_XLSX = "cs-export-xlsx"
CS_SIDE = "cs-side"  # the lifecycle side panel of the clicked case
CS_SIDE_BODY = "cs-side-body"
CS_SIDE_CLOSE = "cs-side-close"
# --- analyst: warnings (/warnings) and resources (/resources) ----------------------------------------
WR_COUNTS = "wr-counts"  # the chips: warnings per kind and per level
WR_LIST = "wr-list"  # the one list of warnings
WR_KIND = "wr-kind"  # dropdowns writing the page keys kind, level, sort
WR_LEVEL = "wr-level"
WR_SORT = "wr-sort"
RS_TOTALS = "rs-totals"  # the scope's totals as tiles
RS_AREAS = "rs-areas"  # one row per area one level below the scope
RS_ASSETS = "rs-assets"  # assets by kind and status now
# --- analyst: briefings (/briefings, dashboard/pages/briefings.py) ----------------------------------
BR_LIST = "br-list"  # the archive's table (or its empty state)
BR_PREVIEW = "br-preview"  # the selected briefing: first-page image, download link
BR_RUNS = "br-runs"  # the recent runs, failures of the schedule included
BR_FORM = "br-form"  # the generate form's panel
BR_WEEK = "br-week"  # the form's week (a dropdown of ISO weeks)
BR_LANG = "br-lang"  # the form's language (radio items zh/en)
BR_PARTIAL = "br-partial"  # the form's "partial" checkbox (this week only)
BR_GO = "br-go"  # the generate button
BR_FORM_MSG = "br-form-msg"  # what the button did: refused (and why) or started
BR_POLL = "br-poll"  # dcc.Interval: enabled only while a run is running
BR_VERSION = "br-version"  # dcc.Store: a digest of the archive and the run log; panels redraw when it changes
BR_SELECTED = "br-selected"  # dcc.Store: the key (<scope folder>/<file>) of the briefing a row click chose
BR_ROW = "br-row"  # pattern-matching id type of the archive's rows: {"type": BR_ROW, "key": <key>}
BR_DOWNLOAD = "br-download"  # the download link of the selected briefing
BR_IMAGE = "br-image"  # the preview <img>
BR_PENDING = "br-pending"  # dcc.Store: the run the button started, until the run log shows it
AN_USER = "an-user"  # the navigation's signed-in account name (data-role: its role)
AN_SIGN_OUT = "an-sign-out"  # the navigation's sign-out button (a form POST to /logout)
