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
