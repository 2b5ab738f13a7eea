"""One analyst request's view: the snapshot cursor, the resolved scope, the window and "as of" time.

Every panel callback of the analyst pages runs through :func:`render`, which opens the view from
the page's state (``dcc.Store``), calls the panel's builder and turns whatever goes wrong into a
panel that says so: no callback error ever reaches the browser as a stack trace, and the other
panels of the page keep working (they are separate callbacks). What failed is logged with its
traceback on the server.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import duckdb
from dash import html

from dashboard import runtime
from dashboard.analyst import warmup
from dashboard.analyst.state import ViewState
from dashboard.auth.access import AreaNotAllowedError
from dashboard.i18n import language, pick, t
from dashboard.runtime import Deployment, NoDistrictError
from data.snapshot import NoSnapshotError, SnapshotInfo
from metrics.scope import Scope, UnknownAreaError, Window
from settings import Settings

__all__ = ["View", "open_view", "render", "message", "empty", "failed", "PanelMessage"]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class View:
    """What a panel builder needs: where to read, what to read, and how to say it.

    Attributes:
        state: the page's :class:`ViewState`.
        con: a cursor on the current snapshot (closed when the view ends).
        info: that snapshot.
        settings: the deployment's settings.
        deployment: the deployment's identity and levels.
        scope: the state's area (the district when none), resolved, with the state's filters.
        area_scope: the same area without the filters (areas, resources, residents).
        window: the state's window as of :attr:`now`.
        now: the "as of" time (the runtime's clock; historical data: its newest case).
        lang: ``"zh"`` or ``"en"``.
    """

    state: ViewState
    con: duckdb.DuckDBPyConnection
    info: SnapshotInfo
    settings: Settings
    deployment: Deployment
    scope: Scope
    area_scope: Scope
    window: Window
    now: datetime
    lang: str

    @property
    def tz(self) -> str:
        """The deployment's zone."""
        return self.settings.timezone

    def name(self, zh: str | None, en: str | None) -> str:
        """A warehouse name pair in this view's language."""
        return pick(zh, en, self.lang)


@contextmanager
def open_view(state: ViewState | Mapping[str, Any] | None, newest: bool = False) -> Iterator[View]:
    """The :class:`View` of ``state`` on the snapshot the analyst pages serve (``newest``: the newest one).

    The pages serve the previous snapshot for a few seconds after a new one is published, while its
    views are computed (:meth:`dashboard.runtime.Runtime.served`); the warm-up itself reads the newest.

    Raises:
        data.snapshot.NoSnapshotError: nothing is published yet.
        NoDistrictError: the snapshot has no district.
        metrics.scope.UnknownAreaError: the state's area is not in the warehouse.
    """
    rt = runtime.current()
    if not isinstance(state, ViewState):
        state = ViewState.from_dict(state)
    lang = language(state.lang, rt.settings.language)
    with (rt.snapshot() if newest else rt.view_snapshot()) as (con, info):
        deployment = rt.deployment(con, info)
        area = rt.scope(con, info, state.scope or rt.home(deployment))
        now = rt.view_now(info)
        yield View(state=state, con=con, info=info, settings=rt.settings, deployment=deployment,
                   scope=state.scope_of(area.area_id, area.level), area_scope=area,
                   window=state.window_at(now, rt.settings.timezone), now=now, lang=lang)


class PanelMessage(Exception):  # noqa: N818 - a message for the reader, not an error of the program
    """Raised by a builder to show a message instead of the panel (e.g. a level the area does not have)."""

    def __init__(self, kind: str, text: str):
        super().__init__(text)
        self.kind = kind
        self.text = text


def message(kind: str, text: str) -> html.Div:
    """A panel's message in place of its content: ``kind`` is ``empty``, ``error`` or ``info``."""
    return html.Div(text, className=f"an-msg an-msg-{kind}", **{"data-msg": kind})


def empty(lang: str, what: str | None = None) -> html.Div:
    """The empty state: nothing matches the filters (``what`` names what was looked for)."""
    text = t("an.empty", lang) if what is None else t("an.empty_what", lang, what=what)
    return message("empty", text)


def failed(lang: str) -> html.Div:
    """The panel could not be computed; the rest of the page still works."""
    return message("error", t("an.failed", lang))


def render(state: Mapping[str, Any] | None, build: Callable[[View], Any], panel: str = "panel",
           remember: bool = True, warming: bool = False) -> Any:
    """Run a panel builder on the view of ``state``; a message panel for anything that goes wrong.

    A panel once built is remembered for its snapshot, "as of" time and view
    (:meth:`dashboard.runtime.Runtime.remember`): asked again in the same minute on the same snapshot
    (back and forth, a shared link), it is answered without running a query.

    Args:
        state: the page's store (:meth:`ViewState.to_dict`).
        build: the builder; returns the panel's children.
        panel: the panel's name: the server log's and the remembered panels' key.
        remember: whether the panel depends on the view alone and may be remembered; ``False`` for
            a builder that also reads other inputs (the cases grid's block request, the open case).
            A remembered panel is also noted for :mod:`dashboard.analyst.warmup`, which computes it
            again on each new snapshot before the pages switch to it.
        warming: the warm-up's own call: on the newest snapshot, and not noted again.
    """
    vs = ViewState.from_dict(state)
    lang = language(vs.lang, _default_language())
    try:
        with open_view(vs, newest=warming) as view:
            if not remember:
                return build(view)
            # The resolved area is part of the key, not the URL's: a view without ``scope`` shows each
            # account its own area, and is the same view as the one naming that area.
            area = view.scope.area_id
            key = ("panel", panel, view.info.name, view.now, area, vs.with_scope(None).search())
            found = runtime.current().remember(key, lambda: build(view))
            if not warming:
                warmup.note(panel, vs.with_scope(area).to_dict(), build)
            return found
    except PanelMessage as exc:
        return message(exc.kind, exc.text)
    except NoSnapshotError:
        return message("info", t("notice.no_data.title", lang))
    except NoDistrictError:
        return message("info", t("notice.no_district.title", lang))
    except AreaNotAllowedError as exc:
        return message("error", t("notice.not_allowed.title", lang, area=exc.area_id))
    except UnknownAreaError as exc:
        return message("error", t("notice.unknown_area.title", lang, area=exc.area_id))
    except Exception:  # the reader sees a message; the log keeps the traceback
        log.exception("analyst panel %s failed for %s", panel, vs.search())
        return failed(lang)


def _default_language() -> str:
    try:
        return runtime.current().settings.language
    except RuntimeError:
        return "zh"
