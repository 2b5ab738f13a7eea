"""Reading a briefing PDF back as a reader's software does: text per page, fonts, page images."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from pypdf import PdfReader

from tests.browser.conftest import screenshot_dir

# Kangxi radicals and CJK radicals supplement: what a wrong ToUnicode map turns 页 and 二 into.
RADICALS = re.compile("[\u2e80-\u2fdf]")
CJK = re.compile("[\u3400-\u9fff]")


def pages_text(path: Path) -> list[str]:
    """The extracted text of every page."""
    return [page.extract_text() or "" for page in PdfReader(str(path)).pages]


def fonts(path: Path) -> list[tuple[str, str, bool]]:
    """(base font, descendant subtype, has embedded TrueType program) of every font on every page."""
    out = set()
    for page in PdfReader(str(path)).pages:
        for font in (page.get("/Resources", {}).get("/Font") or {}).values():
            font = font.get_object()
            if font.get("/Subtype") == "/Type0":
                cid = font["/DescendantFonts"][0].get_object()
                descriptor = cid["/FontDescriptor"].get_object()
                out.add((str(font["/BaseFont"]), str(cid["/Subtype"]), "/FontFile2" in descriptor))
            else:
                out.add((str(font.get("/BaseFont", "")), str(font.get("/Subtype")), False))
    return sorted(out)


def to_png(path: Path, name: str, dpi: int = 70) -> list[Path]:
    """Every page as ``<screenshots>/<name>-<n>.png`` (poppler's pdftoppm), for a person to look at."""
    out = screenshot_dir()
    for old in out.glob(f"{name}-*.png"):
        old.unlink()
    subprocess.run([shutil.which("pdftoppm") or "pdftoppm", "-r", str(dpi), "-png", str(path), str(out / name)],
                   check=True, timeout=120)
    return sorted(out.glob(f"{name}-*.png"))


def text_outside(path: Path, margin_pt: float = 20.0) -> list[tuple[int, str, float, float]]:
    """Text drawn closer than ``margin_pt`` to a page's edge or off it: (page, text, x, y) of each piece.

    The briefing's margins are 15-17 mm (about 43-48 pt); a table that ran off the page, or text
    pushed past the right edge, shows up here.
    """
    out = []
    for number, page in enumerate(PdfReader(str(path)).pages, start=1):
        width, height = float(page.mediabox.width), float(page.mediabox.height)

        def visit(text, cm, tm, font, size, number=number, width=width, height=height):
            if not text.strip():
                return
            x = tm[4] * cm[0] + tm[5] * cm[2] + cm[4]
            y = tm[4] * cm[1] + tm[5] * cm[3] + cm[5]
            if not (margin_pt <= x <= width - margin_pt and margin_pt <= y <= height - margin_pt):
                out.append((number, text.strip()[:30], round(x), round(y)))

        page.extract_text(visitor_text=visit)
    return out
