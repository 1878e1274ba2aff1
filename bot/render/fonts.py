"""Text for the pictures: Debian's font packages, tried in order for each character, so a name in Latin,
Cyrillic, Greek, Chinese, Japanese or Korean, or with emoji, draws with real glyphs.

- fonts-dejavu-core: DejaVu Sans (Latin, Greek, Cyrillic and many symbols), the first choice;
- fonts-wqy-microhei: WenQuanYi Micro Hei (CJK: Han, kana and Hangul) in 5 MB, where Noto CJK takes 90
  (and Droid Sans Fallback has no Hangul);
- fonts-symbola: Symbola's outline emoji, which scale to any size (Pillow draws colour emoji fonts only at
  their one bitmap size).

They are installed by the Dockerfile and .ci/run, never downloaded at run time. Pillow picks no fallback
font by itself, so each text is cut into runs of characters one font has (its cmap, read with fontTools).
A character no font has is drawn as U+FFFD from the first font, and invisible ones (variation selectors,
joiners) no font has are dropped rather than drawn as boxes. With none of the files present (a system
without the packages) Pillow's own font is used, so a picture is still drawn, in Latin at least.
"""

from __future__ import annotations

import functools
import logging
import unicodedata
from dataclasses import dataclass
from pathlib import Path

from fontTools.ttLib import TTFont
from PIL import ImageFont

log = logging.getLogger(__name__)

FONT_DIR = Path("/usr/share/fonts/truetype")
REGULAR = (
    FONT_DIR / "dejavu/DejaVuSans.ttf",
    FONT_DIR / "wqy/wqy-microhei.ttc",  # a collection: its first font, Micro Hei
    FONT_DIR / "ancient-scripts/Symbola_hint.ttf",
)
BOLD = (FONT_DIR / "dejavu/DejaVuSans-Bold.ttf", *REGULAR[1:])
REPLACEMENT = "\ufffd"
PACKAGES = ("fonts-dejavu-core", "fonts-wqy-microhei", "fonts-symbola")  # Debian's: the Dockerfile and .ci/run


@functools.cache
def _cmap(path: Path) -> frozenset[int]:
    with TTFont(path, lazy=True, fontNumber=0) as font:
        return frozenset(font.getBestCmap())


@functools.cache
def _available(paths: tuple[Path, ...]) -> tuple[Path, ...]:
    found = tuple(p for p in paths if p.is_file())
    for missing in set(paths) - set(found):
        log.warning("Font %s is missing; characters only it has are drawn as %s", missing, REPLACEMENT)
    return found


@dataclass(frozen=True)
class FontChain:
    """One size of a font and its fallbacks."""

    fonts: tuple[ImageFont.FreeTypeFont, ...]
    cmaps: tuple[frozenset[int], ...]

    @property
    def first(self) -> ImageFont.FreeTypeFont:
        return self.fonts[0]

    def runs(self, text: str) -> list[tuple[str, ImageFont.FreeTypeFont]]:
        """`text` cut into (characters, font) runs, each drawn with the first font that has them."""
        if not self.cmaps:  # Pillow's own font: no cmap to ask
            return [(text, self.first)] if text else []
        found: list[tuple[str, ImageFont.FreeTypeFont]] = []
        for char in text:
            code = ord(char)
            index = next((n for n, cmap in enumerate(self.cmaps) if code in cmap), None)
            if index is None:
                if unicodedata.category(char) in ("Mn", "Me", "Cf"):
                    continue
                char, index = REPLACEMENT, 0
            font = self.fonts[index]
            if found and found[-1][1] is font:
                found[-1] = (found[-1][0] + char, font)
            else:
                found.append((char, font))
        return found

    def width(self, text: str) -> float:
        return sum(font.getlength(run) for run, font in self.runs(text))


@functools.cache
def chain(size: int, *, bold: bool = False) -> FontChain:
    paths = _available(BOLD if bold else REGULAR)
    if not paths:
        return FontChain((ImageFont.load_default(size),), ())
    fonts = tuple(ImageFont.truetype(str(p), size, layout_engine=ImageFont.Layout.BASIC) for p in paths)
    return FontChain(fonts, tuple(_cmap(p) for p in paths))
