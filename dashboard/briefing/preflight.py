"""What writing a briefing needs from the machine, checked before any work starts.

Two things: a Chromium (Debian's ``chromium`` package; kaleido draws the charts in it and it prints
the pages) and the Noto Sans CJK font (``fonts-noto-cjk``; its glyphs are embedded in the PDF). When
either is missing the briefing fails at once with a message that says what to install, before a
single query runs and long before anything is written to the archive.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path
from typing import NamedTuple

__all__ = ["BriefingUnavailable", "FontFile", "CJK_FAMILY", "check", "find_chromium", "find_cjk_fonts"]

CJK_FAMILY = "Noto Sans CJK SC"
_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_INSTALL_CHROMIUM = ("no Chromium found to draw and print the briefing: install Debian's chromium package "
                     "(apt-get install chromium, which `make run` does as root) or name the browser in BROWSER_PATH")
_INSTALL_FONT = (f"the CJK font {CJK_FAMILY!r} is not installed: install Debian's fonts-noto-cjk package "
                 "(apt-get install fonts-noto-cjk, which `make run` does as root)")


class BriefingUnavailable(RuntimeError):
    """The machine lacks what a briefing needs; the message says what to install."""


class FontFile(NamedTuple):
    """One face of a font collection: its file and its index in the collection."""

    path: Path
    index: int


def find_chromium() -> str:
    """The Chromium to use: ``BROWSER_PATH`` when set (kaleido's own variable), else the first on ``PATH``.

    Raises:
        BriefingUnavailable: none found, or ``BROWSER_PATH`` names nothing executable.
    """
    named = os.environ.get("BROWSER_PATH")
    if named:
        if Path(named).is_file() and os.access(named, os.X_OK):
            return named
        raise BriefingUnavailable(f"BROWSER_PATH={named!r} is not an executable browser; {_INSTALL_CHROMIUM}")
    for name in _BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise BriefingUnavailable(_INSTALL_CHROMIUM)


def find_cjk_fonts(family: str = CJK_FAMILY) -> dict[int, FontFile]:
    """The regular (400) and bold (700) faces of ``family`` as fontconfig lists them.

    Raises:
        BriefingUnavailable: fontconfig does not know the family (or is not installed).
    """
    try:
        out = subprocess.run(["fc-list", "--format", "%{file}|%{index}|%{style}|%{family}\n", family],
                             capture_output=True, text=True, timeout=30, check=False).stdout
    except (OSError, subprocess.TimeoutExpired):
        out = ""
    faces: dict[int, FontFile] = {}
    for line in out.splitlines():
        path, _, rest = line.partition("|")
        index, _, rest = rest.partition("|")
        style, _, families = rest.partition("|")
        if family not in families.split(","):
            continue
        styles = style.split(",")
        weight = 700 if "Bold" in styles else 400 if "Regular" in styles else None
        if weight is not None and weight not in faces:
            faces[weight] = FontFile(Path(path), int(index or 0))
    if 400 not in faces:
        raise BriefingUnavailable(_INSTALL_FONT)
    faces.setdefault(700, faces[400])
    return faces


def check() -> tuple[str, dict[int, FontFile]]:
    """Both requirements at once: ``(chromium, fonts)``; raises :class:`BriefingUnavailable` naming what is missing."""
    return find_chromium(), find_cjk_fonts(CJK_FAMILY)
