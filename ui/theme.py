"""One calm palette, one type scale, one set of sizes and icons for every screen (Kivy-free).

Sizes are in dp: the app sets Kivy's density from the panel's configured DPI (`ui.screen_dpi`)
so 1 dp = 0.265 mm on every panel, and `mm()` below converts back for the accessibility tests.
Colours are chosen for at least 7:1 text contrast (WCAG AAA); `TEXT_PAIRS` lists every
foreground/background pair a screen uses, and the tests compute their ratios from these values.
"""

from __future__ import annotations

from functools import cache
from pathlib import Path
from typing import Final

__all__ = [
    "BASE_DPI",
    "ICONS",
    "PALETTE",
    "SIZES",
    "TEXT_PAIRS",
    "TYPE",
    "contrast",
    "hex_rgba",
    "mm_per_dp",
]

BASE_DPI: Final = 96.0  # Kivy's dp unit: 1 dp = 1/96 inch = 0.2646 mm once density = dpi / 96

PALETTE: Final[dict[str, str]] = {
    "page": "#FFFFFF",
    "surface": "#F2F5F9",
    "text": "#1A1A1A",
    "text_secondary": "#4D4D4D",
    "primary": "#0A4A8C",
    "primary_pressed": "#073766",
    "on_primary": "#FFFFFF",
    "outline_bg": "#FFFFFF",
    "tile_bg": "#E3ECF7",
    "staff": "#FFB300",
    "on_staff": "#1A1A1A",
    "error": "#8E1216",
    "error_bg": "#FDECEC",
    "success": "#145C26",
    "success_bg": "#E8F5EC",
    "warning": "#7A4500",
    "warning_bg": "#FFF4E0",
    "disabled": "#4D4D4D",
    "disabled_bg": "#F5F5F5",  # lighter than any live button: unavailable reads as faint
    "focus_outer": "#FFD400",
    "focus_inner": "#1A1A1A",
    "bar": "#0A4A8C",
    "bar_gap": "#FFFFFF",
    "overlay": "#1A1A1ACC",
}

# (foreground, background) of every text a screen draws: the contrast test checks each >= 7:1.
TEXT_PAIRS: Final[tuple[tuple[str, str], ...]] = (
    ("text", "page"),
    ("text", "surface"),
    ("text_secondary", "page"),
    ("text_secondary", "surface"),
    ("on_primary", "primary"),
    ("on_primary", "primary_pressed"),
    ("primary", "outline_bg"),
    ("primary", "tile_bg"),
    ("on_staff", "staff"),
    ("error", "page"),
    ("error", "error_bg"),
    ("success", "page"),
    ("success", "success_bg"),
    ("warning", "warning_bg"),
    ("disabled", "disabled_bg"),
    ("text", "tile_bg"),
)

# Type scale in sp (Noto Sans CJK SC: Latin cap = 0.735 em): caption 26 sp gives a 4.96 mm cap,
# above ADA 707.7.2's 4.8 mm; elderly mode multiplies all of them (Metrics.fontscale).
TYPE: Final[dict[str, float]] = {
    "caption": 26.0,
    "body": 30.0,
    "button": 34.0,
    "title": 45.0,
    "figure": 53.0,
    "icon": 40.0,
    "tile_icon": 64.0,
}

SIZES: Final[dict[str, float]] = {
    "header": 96.0,
    "footer": 120.0,
    "target": 76.0,  # 20 mm: above the 15 mm minimum with margin (standing-kiosk studies)
    "target_elderly": 95.0,  # 25 mm
    "gap": 16.0,  # >= 3 mm between targets
    "margin": 48.0,
    "radius": 8.0,
    "focus_outer": 4.0,
    "focus_inner": 2.0,
    "key": 96.0,  # PIN and account keypads
    "tile": 150.0,  # menu tiles
}

# Material Icons (Apache-2.0, shipped in ui/assets/fonts with its licence and code points).
_CODEPOINTS = Path(__file__).resolve().parent / "assets" / "fonts" / "MaterialIcons-codepoints.txt"


def _load_icons() -> dict[str, str]:
    icons: dict[str, str] = {}
    for line in _CODEPOINTS.read_text(encoding="ascii").splitlines():
        name, _, code = line.partition(" ")
        if code:
            icons[name] = chr(int(code, 16))
    return icons


ICONS: Final[dict[str, str]] = _load_icons()


@cache  # every kv colour rule calls it: thousands of calls per screen built
def hex_rgba(value: str) -> tuple[float, float, float, float]:
    """`#RRGGBB` or `#RRGGBBAA` (or a palette name) as Kivy's 0..1 RGBA."""
    value = PALETTE.get(value, value).lstrip("#")
    parts = [int(value[i : i + 2], 16) / 255 for i in range(0, len(value), 2)]
    if len(parts) == 3:
        parts.append(1.0)
    r, g, b, a = parts
    return (r, g, b, a)


def _luminance(colour: str) -> float:
    def channel(c: float) -> float:
        return c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4

    r, g, b, _ = hex_rgba(colour)
    return 0.2126 * channel(r) + 0.7152 * channel(g) + 0.0722 * channel(b)


def contrast(fg: str, bg: str) -> float:
    """WCAG 2 contrast ratio of two colours (palette names or hex), 1..21."""
    hi, lo = sorted((_luminance(fg), _luminance(bg)), reverse=True)
    return (hi + 0.05) / (lo + 0.05)


def mm_per_dp() -> float:
    """Millimetres per dp once the app set density = dpi / 96 (the same on every panel)."""
    return 25.4 / BASE_DPI
