"""Write one briefing: check the machine, gather the numbers, draw, print, archive.

The order matters for "nothing half-written": the preflight comes first (a missing Chromium or
font fails in milliseconds, before any query), the PDF is complete in memory before anything
touches the archive, and the archive write is atomic (``archive.write_atomic``).
"""

from __future__ import annotations

import io
import json
import logging
import shutil
import subprocess
import tempfile
import time
from datetime import datetime
from pathlib import Path

from dashboard.briefing import archive, charts, document, fonts, pdf, preflight
from dashboard.briefing.model import gather
from dashboard.briefing.week import IsoWeek
from settings import Settings

__all__ = ["WeekNotOver", "write_briefing", "render", "PREVIEW_DPI"]

log = logging.getLogger(__name__)
# fontTools reports every table it prunes, choreographer every browser it opens: at INFO, dozens of lines per briefing
for _noisy in ("fontTools", "choreographer", "kaleido", "logistro"):
    logging.getLogger(_noisy).setLevel(logging.WARNING)
PREVIEW_DPI = 40  # the first page as a ~330 px wide PNG for the /briefings page


class WeekNotOver(ValueError):
    """The week asked for has not ended; ``--partial`` writes it anyway, marked as partial."""


def _language(lang: str | None, settings: Settings) -> str:
    lang = lang or settings.language
    if lang not in ("zh", "en"):
        raise ValueError(f"language must be 'zh' or 'en', got {lang!r}")
    return lang


def render(settings: Settings, week: IsoWeek | None, scope_id: str | None = None, lang: str | None = None,
           partial: bool = False, now: datetime | None = None) -> tuple[bytes, dict]:
    """The briefing's PDF bytes and its metadata, written nowhere.

    Args:
        settings: the deployment's settings.
        week: the ISO week; ``None``: the last complete week as of the data's present (for historical
            data, its newest case).
        scope_id: an area id (the district when ``None``).
        lang: ``"zh"`` or ``"en"`` (default: the ``language`` setting).
        partial: write a week that is not over yet (by the wall clock, or ``now``). A briefing is marked
            partial whenever its figures end before the week does: a week not over, or historical
            data whose newest case falls inside the week.
        now: the present moment (default: the wall clock; tests pass a fixed one).

    Raises:
        BriefingUnavailable: no Chromium or no CJK font (checked first).
        WeekNotOver: the week has not ended at ``now`` and ``partial`` is off.
        metrics.scope.UnknownAreaError: no such area.
        data.snapshot.NoSnapshotError: nothing published yet.
    """
    from dashboard.runtime import Runtime

    chromium, faces = preflight.check()
    lang = _language(lang, settings)
    started = time.monotonic()
    wall = now or datetime.now(settings.zone)
    rt = Runtime(settings, clock=(lambda: now) if now is not None else None)
    present = rt.now()  # the data's present: the wall clock, or the newest case of historical data
    week = week or IsoWeek.last_complete(present, settings.timezone)
    if not week.is_over(wall, settings.timezone) and not partial:
        end = week.bounds(settings.timezone)[1]
        raise WeekNotOver(f"{week} is not over until {end:%Y-%m-%d %H:%M} ({settings.timezone}); write it as it "
                          "stands with --partial (marked as partial)")
    try:
        with rt.snapshot() as (con, info):
            deployment = rt.deployment(con, info)
            b = gather(con, deployment, settings, week, scope_id, min(present, wall), wall)
            snapshot = info.name
    finally:
        rt.close()
    gathered = time.monotonic() - started
    ctx = document.context(b, lang, snapshot)
    figures = charts.charts(b, lang)

    # every character the page can show: its own text and every string of the figures (the SVGs' text)
    text = document.html(ctx, dict.fromkeys(figures, ""), "", lang) + json.dumps([c.figure for c in figures.values()], ensure_ascii=False)
    printed = pdf.render_pdf(chromium, figures, lambda svgs, faces_css: document.html(ctx, svgs, faces_css, lang),
                             meanwhile=lambda: fonts.font_faces(faces, text))
    if printed.blocked:
        log.warning("the briefing tried to fetch %d URLs (all blocked): %s", len(printed.blocked), printed.blocked[:3])
    meta = {"scope_id": b.area_id, "scope_name": b.area_names[-1][1] if lang == "en" and b.area_names[-1][1]
            else b.area_names[-1][0], "scope_names": b.area_names, "week": str(week), "lang": lang,
            "partial": b.partial, "as_of": b.as_of.isoformat(), "generated_at": b.generated_at.isoformat(),
            "snapshot": snapshot, "pages": _pages(printed.pdf), "has_data": b.has_data,
            "gather_seconds": round(gathered, 2), "draw_seconds": printed.draw_seconds,
            "print_seconds": printed.print_seconds, "seconds": round(time.monotonic() - started, 2),
            "blocked_requests": list(printed.blocked)}
    return printed.pdf, meta


def write_briefing(settings: Settings, week: IsoWeek | None, scope_id: str | None = None, lang: str | None = None,
                   partial: bool = False, now: datetime | None = None) -> Path:
    """Render the briefing (:func:`render`) and archive it; returns the PDF's path.

    The PDF replaces an earlier one of the same week, scope and language atomically, then its
    metadata and its first-page preview are written beside it.
    """
    data, meta = render(settings, week, scope_id, lang, partial, now)
    path = archive.report_path(settings.reports_dir, meta["scope_id"], IsoWeek.parse(meta["week"]), meta["lang"],
                               settings.language)
    archive.write_atomic(path, data)
    archive.write_atomic(path.with_suffix(".json"), json.dumps(meta, ensure_ascii=False, indent=1).encode("utf-8"))
    preview = _preview(data)
    if preview is not None:
        archive.write_atomic(path.with_suffix(".png"), preview)
    log.info("briefing %s written: %s (%d pages, %.1f s)", meta["week"], path, meta["pages"] or 0, meta["seconds"])
    return path


def _pages(data: bytes) -> int | None:
    try:
        from pypdf import PdfReader
    except ImportError:  # pragma: no cover - pypdf is in requirements.txt
        return None
    return len(PdfReader(io.BytesIO(data)).pages)


def _preview(data: bytes) -> bytes | None:
    """The first page as PNG (poppler's ``pdftoppm``); ``None`` when poppler is not installed."""
    tool = shutil.which("pdftoppm")
    if tool is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        src = Path(tmp) / "b.pdf"
        src.write_bytes(data)
        subprocess.run([tool, "-f", "1", "-l", "1", "-r", str(PREVIEW_DPI), "-png", "-singlefile", str(src),
                        str(Path(tmp) / "p")], check=True, timeout=60, capture_output=True)
        return (Path(tmp) / "p.png").read_bytes()
