"""The briefing's CJK font: the Noto Sans CJK faces, cut down to the characters of one document.

Chromium prints a CFF-flavoured OpenType font (Noto CJK is one) as Type 3 glyph procedures, and
maps some ideographs back to the look-alike radical code points that share their glyph (页 is
extracted as ⻚, 二 as ⼆), so the text would look right but not be found by a search. Embedding
a subset instead fixes both: fontTools keeps only the characters the document uses (so every
glyph has one code point) and redraws the cubic outlines as quadratic TrueType ones, which
Chromium embeds as a real ``CIDFontType2`` font: selectable, searchable, a few hundred KB.
The faces are given to the page under the family name the page and the charts already ask for.
"""

from __future__ import annotations

import base64
import io

from fontTools import subset
from fontTools.pens.cu2quPen import Cu2QuPen
from fontTools.pens.ttGlyphPen import TTGlyphPen
from fontTools.ttLib import TTFont, newTable

from dashboard.briefing.preflight import CJK_FAMILY, FontFile

__all__ = ["font_faces", "subset_truetype"]

_MAX_ERR = 1.0  # font units (of 1000 per em): cubic-to-quadratic error far below what print resolves
# Characters always kept: digits, punctuation and the page footer's words, which Chromium lays out
# itself after the document's text is known.
_ALWAYS = "0123456789 .,:;%+-−–—/()[]·•●▲■○↑↓→≥≤×第页共Page of"


def subset_truetype(face: FontFile, text: str) -> bytes:
    """The face reduced to the characters of ``text``, with TrueType outlines, as font file bytes."""
    font = TTFont(str(face.path), fontNumber=face.index, lazy=True)
    options = subset.Options()  # the default layout features (kerning, ligatures ...): all a printed page uses
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.hinting = False
    sub = subset.Subsetter(options)
    sub.populate(text="".join(sorted(set(text + _ALWAYS))))
    sub.subset(font)
    if "CFF " in font:
        _to_truetype(font)
    out = io.BytesIO()
    font.save(out)
    return out.getvalue()


def _to_truetype(font: TTFont) -> None:
    """Replace the CFF table by ``glyf`` (fontTools' otf2ttf recipe)."""
    order = font.getGlyphOrder()
    glyphs = font.getGlyphSet()
    glyf = newTable("glyf")
    glyf.glyphOrder = order
    glyf.glyphs = {}
    for name in order:
        pen = TTGlyphPen(glyphs)
        glyphs[name].draw(Cu2QuPen(pen, _MAX_ERR, reverse_direction=True))
        glyf[name] = pen.glyph()
    font["glyf"] = glyf
    font["loca"] = newTable("loca")
    maxp = newTable("maxp")
    maxp.tableVersion = 0x00010000
    for attr in ("maxZones", "maxTwilightPoints", "maxStorage", "maxFunctionDefs", "maxInstructionDefs",
                 "maxStackElements", "maxSizeOfInstructions", "maxComponentElements", "maxPoints", "maxContours",
                 "maxCompositePoints", "maxCompositeContours", "maxComponentDepth"):
        setattr(maxp, attr, 0)
    maxp.maxZones = 1
    maxp.numGlyphs = len(order)
    font["maxp"] = maxp
    font["head"].indexToLocFormat = 0
    font["head"].glyphDataFormat = 0
    post = font["post"]
    post.formatType = 2.0
    post.extraNames = []
    post.mapping = {}
    post.glyphOrder = order
    for tag in ("CFF ", "VORG"):
        if tag in font:
            del font[tag]
    font.sfntVersion = "\x00\x01\x00\x00"


def font_faces(faces: dict[int, FontFile], text: str) -> str:
    """CSS ``@font-face`` rules (data URIs) for each weight of ``faces``, cut to ``text``."""
    rules = []
    for weight, face in sorted(faces.items()):
        data = base64.b64encode(subset_truetype(face, text)).decode("ascii")
        rules.append(f"@font-face {{ font-family: '{CJK_FAMILY}'; font-weight: {weight}; font-style: normal; "
                     f"src: url(data:font/ttf;base64,{data}) format('truetype'); }}")
    return "\n".join(rules)
