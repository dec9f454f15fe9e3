"""The product's fonts: Noto Sans CJK SC (extracted from Debian's collection) and Material Icons.

Kivy's SDL2 text provider opens the first face of a font file only; in Debian's
`NotoSansCJK-*.ttc` that face is the Japanese one (other glyph shapes for many hanzi), so setup
extracts the Simplified Chinese face into `ui/assets/fonts/` with fontTools. Kivy-free, so setup
and tests can call it without a window.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path

__all__ = ["FONT_DIR", "FontError", "FontSet", "ensure_fonts"]

log = logging.getLogger("ui.fonts")

FONT_DIR = Path(__file__).resolve().parent / "assets" / "fonts"
NOTO_CJK_DIR = Path("/usr/share/fonts/opentype/noto")
ICON_FONT = FONT_DIR / "MaterialIcons-Regular.ttf"
_FACE = "Noto Sans CJK SC"


class FontError(RuntimeError):
    """The CJK font is not installed (Debian fonts-noto-cjk) and was not extracted."""


@dataclass(frozen=True, slots=True)
class FontSet:
    """Paths Kivy registers: body text regular and bold, and the icon font."""

    regular: Path
    bold: Path
    icons: Path


def _extract(collection: Path, out: Path) -> None:
    from fontTools.ttLib import TTCollection  # setup-time only: not needed once extracted

    fonts = TTCollection(str(collection), lazy=True).fonts
    for font in fonts:
        if font["name"].getDebugName(1) == _FACE:
            tmp = out.with_suffix(".tmp")
            font.save(str(tmp))
            tmp.replace(out)
            log.info("extracted %s from %s", out.name, collection)
            return
    raise FontError(f"{collection} holds no '{_FACE}' face")


def ensure_fonts(
    font_dir: Path = FONT_DIR, noto_dir: Path = NOTO_CJK_DIR
) -> FontSet:
    """The font set, extracting the SC faces first when they are missing (about 0.5 s each)."""
    font_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for weight in ("Regular", "Bold"):
        out = font_dir / f"NotoSansCJKsc-{weight}.otf"
        if not out.exists():
            src = noto_dir / f"NotoSansCJK-{weight}.ttc"
            if not src.exists():
                raise FontError(f"{src} is missing: install the Debian package fonts-noto-cjk")
            _extract(src, out)
        paths[weight] = out
    if not ICON_FONT.exists():
        raise FontError(f"{ICON_FONT} is missing from the product")
    return FontSet(regular=paths["Regular"], bold=paths["Bold"], icons=ICON_FONT)


if __name__ == "__main__":  # `python -m ui.fonts` (scripts/setup.sh)
    logging.basicConfig(level=logging.INFO, format="%(message)s")
    print(ensure_fonts())
