"""A full-screen notice instead of a page that cannot be drawn: no data yet, an unknown area.

Such a page says what is wrong and what to do, and has no refresh timer: a wall PC showing it
does not hammer the server, and nobody mistakes it for numbers.
"""

from __future__ import annotations

from collections.abc import Sequence

from dash import dcc, html

from dashboard import ids

__all__ = ["notice_page"]


def notice_page(kind: str, title: str, body: str, lang: str,
                links: Sequence[tuple[str, str]] = (), hint: str = "") -> html.Div:
    """A notice filling the screen.

    Args:
        kind: what it is about (``"no-data"``, ``"unknown-area"`` ...); the ``data-notice``
            attribute, for tests and CSS.
        title: one line saying what is wrong.
        body: what to do about it.
        lang: ``"zh"`` or ``"en"`` (the page's ``lang`` attribute).
        links: (label, href) pairs offered as the way out (valid scopes ...).
        hint: a line above the links.
    """
    children: list = [html.H1(title, className="gp-notice-title"), html.P(body, className="gp-notice-body")]
    if links:
        children.append(html.P(hint, className="gp-notice-hint"))
        children.append(html.Ul([html.Li(dcc.Link(label, href=href)) for label, href in links],
                                className="gp-notice-links"))
    return html.Div(id=ids.NOTICE, className=f"gp-notice gp-notice-{kind}", lang="en" if lang == "en" else "zh-CN",
                    children=children, **{"data-notice": kind})
