"""HTML and plotly figures to a PDF, in the system Chromium: kaleido draws the charts, Chromium prints the pages.

Two short browser sessions per briefing. Kaleido (plotly's own exporter, on Debian's Chromium)
turns each figure into SVG, maps and charts alike as vector paths with real text. The SVGs are placed inline in the briefing's HTML, which a second
Chromium tab prints with ``Page.printToPDF``: A4 and margins from the CSS ``@page`` rule, page
numbers and footer from its margin boxes.

Nothing is fetched from anywhere: kaleido is given plotly.js from the installed plotly package,
MathJax is switched off (its default is a CDN), the maps' geo gets its empty world outline from
``assets/geo-offline.js`` (plotly would fetch one from its CDN), the page carries its fonts and figures as
data, and the printing tab blocks every http(s) request and counts any that was tried
(:attr:`Printed.blocked`; the tests require none).
"""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, NamedTuple

__all__ = ["Chart", "Printed", "render_pdf"]

_TABS = 1  # kaleido tabs drawing at once; 2 was no faster on 2 cores
# plotly's geo looks for its world outline on the page before fetching it (dashboard/figures/analyst_map.py)
GEO_OFFLINE = Path(__file__).resolve().parents[2] / "assets" / "geo-offline.js"
_TIMEOUT_S = 240  # for the whole job; a 10-million-case briefing prints in well under a minute


class Chart(NamedTuple):
    """A plotly figure (dict) and the size it is drawn at, in CSS pixels."""

    figure: Mapping
    width: int
    height: int


class Printed(NamedTuple):
    """The PDF, what the printing tab saw, and how long drawing and printing took."""

    pdf: bytes
    blocked: tuple[str, ...]  # URLs the page tried to fetch (all refused)
    draw_seconds: float = 0.0
    print_seconds: float = 0.0


def render_pdf(chromium: str, charts: Mapping[str, Chart], page: Callable[[dict[str, str], Any], str],
               meanwhile: Callable[[], Any] = lambda: None) -> Printed:
    """Draw ``charts``, build the page with them and print it.

    Args:
        chromium: the browser executable (:func:`dashboard.briefing.preflight.find_chromium`).
        charts: name -> chart.
        page: gets ``{name: svg}`` and the result of ``meanwhile``, returns the whole HTML document.
        meanwhile: work for a thread while the browser draws (the font subset: a second of CPU
            that would otherwise wait for kaleido's start-up).
    """
    return asyncio.run(asyncio.wait_for(_render(chromium, charts, page, meanwhile), _TIMEOUT_S))


async def _render(chromium: str, charts: Mapping[str, Chart], page: Callable[[dict[str, str], Any], str],
                  meanwhile: Callable[[], Any]) -> Printed:
    started = time.monotonic()
    side = asyncio.create_task(asyncio.to_thread(meanwhile))
    try:
        svgs = await _draw(chromium, charts) if charts else {}
    finally:
        extra = await side
    drawn = time.monotonic()
    printed = await _print(chromium, page(svgs, extra))
    return printed._replace(draw_seconds=round(drawn - started, 2), print_seconds=round(time.monotonic() - drawn, 2))


async def _draw(chromium: str, charts: Mapping[str, Chart]) -> dict[str, str]:
    import kaleido  # imported here: the web tier never needs it

    page = kaleido.PageGenerator(mathjax=False, others=[GEO_OFFLINE])  # plotly.js: the installed package's
    async with kaleido.Kaleido(path=chromium, page_generator=page, n=_TABS) as k:
        drawn = await asyncio.gather(*(k.calc_fig(dict(c.figure), opts={"format": "svg", "width": c.width,
                                                                        "height": c.height})
                                       for c in charts.values()))
    return {name: svg.decode("utf-8") for name, svg in zip(charts, drawn, strict=True)}


async def _print(chromium: str, html: str) -> Printed:
    import choreographer

    blocked: list[str] = []
    async with choreographer.Browser(path=chromium, headless=True) as browser:
        tab = await browser.create_tab("about:blank")

        async def tried(event: dict) -> None:
            url = event.get("params", {}).get("request", {}).get("url", "")
            if url.startswith(("http:", "https:", "ws:", "wss:", "ftp:")):
                blocked.append(url)

        tab.subscribe("Network.requestWillBeSent", tried)
        await _ok(tab.send_command("Network.enable"))
        await _ok(tab.send_command("Network.setBlockedURLs", params={"urls": ["http://*", "https://*", "ws://*",
                                                                             "wss://*", "ftp://*"]}))
        tree = await _ok(tab.send_command("Page.getFrameTree"))
        frame = tree["result"]["frameTree"]["frame"]["id"]
        await _ok(tab.send_command("Page.setDocumentContent", params={"frameId": frame, "html": html}))
        await _ok(tab.send_command("Runtime.evaluate", params={
            "expression": "document.fonts.ready.then(() => document.fonts.size)", "awaitPromise": True}))
        printed = await _ok(tab.send_command("Page.printToPDF", params={
            "printBackground": True, "preferCSSPageSize": True, "displayHeaderFooter": False,
            "generateDocumentOutline": True, "generateTaggedPDF": True}))
    return Printed(base64.b64decode(printed["result"]["data"]), tuple(blocked))


async def _ok(pending) -> dict:
    """A DevTools response, or ``RuntimeError`` with the browser's own message."""
    response = await pending
    if "error" in response:
        raise RuntimeError(f"Chromium refused: {response['error'].get('message', response['error'])}")
    return response
