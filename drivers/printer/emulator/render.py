"""A picture of the paper: an interpreted receipt drawn as a thermal printer would, as a PNG.

576 dots wide (80 mm at 203 dpi), font A 12 x 24 dots, CJK from a real FreeType font
(WenQuanYi Micro Hei from Debian's fonts-wqy-microhei), QR codes re-encoded with segno at the
module size the stream asked for, a dashed cut mark under every cut.
"""

from __future__ import annotations

import io
from functools import lru_cache
from pathlib import Path

import segno
from PIL import Image, ImageDraw, ImageFont

from drivers.printer.emulator.interpreter import PaperQr, PaperRaster, PrintedLine, Receipt

__all__ = ["FONT_PATHS", "render_png", "render_receipt"]

FONT_PATHS = (
    Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc"),
    Path("/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc"),
)
_BASE = 24  # font A height in dots


@lru_cache(maxsize=16)
def _font(height: int) -> ImageFont.FreeTypeFont:
    for path in FONT_PATHS:
        if path.exists():
            # Face 1 of the .ttc is the monospaced cut, closest to a printer's fixed cells.
            return ImageFont.truetype(str(path), height, index=1)
    raise FileNotFoundError(
        "no CJK font for the printer emulator: install fonts-wqy-microhei (scripts/setup.sh)"
    )


def _cell(char: str) -> int:
    """Dots a character takes on the head: font A is 12 x 24, a CJK character 24 x 24."""
    return 12 if ord(char) < 0x2E80 else 24


def _draw_line(line: PrintedLine, width: int) -> Image.Image:
    """The line drawn character by character into the printer's fixed cells."""
    height = max((r.height for r in line.runs), default=1) * _BASE
    total = sum(_cell(c) * r.width for r in line.runs for c in r.text)
    x = {"center": (width - total) // 2, "right": width - total}.get(line.align, 0)
    x = max(0, x)
    strip = Image.new("L", (width, height + 6), 255)
    for run in line.runs:
        top = height - run.height * _BASE
        for char in run.text:
            cell = _cell(char) * run.width
            if x + cell > width:
                return strip  # a real head drops what does not fit
            strip.paste(_glyph(char, run.width, run.height, run.bold), (x, top))
            x += cell
    return strip


@lru_cache(maxsize=4096)
def _glyph(char: str, width: int, height: int, bold: bool) -> Image.Image:
    font = _font(height * _BASE)
    glyph = Image.new("L", (_cell(char) * height, height * _BASE + 6), 255)
    d = ImageDraw.Draw(glyph)
    d.fontmode = "1"  # a thermal head prints dots, not grey
    d.text((0, 0), char, font=font, fill=0)
    if bold:
        d.text((1, 0), char, font=font, fill=0)
    if width != height:
        glyph = glyph.resize((_cell(char) * width, glyph.height))
    return glyph


def _draw_qr(qr: PaperQr, width: int) -> Image.Image:
    code = segno.make(qr.data, error=qr.ec.lower(), micro=False)
    buf = io.BytesIO()
    code.save(buf, kind="png", scale=max(1, qr.module), border=2)
    img = Image.open(io.BytesIO(buf.getvalue())).convert("L")
    strip = Image.new("L", (width, img.height), 255)
    x = {"center": (width - img.width) // 2, "right": width - img.width}.get(qr.align, 0)
    strip.paste(img, (max(0, x), 0))
    return strip


def _draw_raster(raster: PaperRaster, width: int) -> Image.Image:
    img = Image.frombytes("1", (raster.width_bytes * 8, raster.height), raster.bits)
    img = Image.eval(img.convert("L"), lambda v: 255 - v)  # a set bit is a black dot
    strip = Image.new("L", (width, raster.height), 255)
    strip.paste(img, (0, 0))
    return strip


def render_receipt(receipt: Receipt, *, width: int = 576) -> Image.Image:
    """The receipt as a greyscale image of the paper."""
    strips: list[Image.Image] = []
    for item in receipt.items:
        if isinstance(item, PrintedLine):
            strips.append(_draw_line(item, width))
        elif isinstance(item, PaperQr):
            strips.append(_draw_qr(item, width))
        else:
            strips.append(_draw_raster(item, width))
    margin = 16
    height = sum(s.height for s in strips) + 2 * margin + (12 if receipt.cut else 0)
    paper = Image.new("L", (width, max(height, 1)), 255)
    y = margin
    for s in strips:
        paper.paste(s, (0, y))
        y += s.height
    if receipt.cut:
        d = ImageDraw.Draw(paper)
        for x in range(0, width, 16):
            d.line([(x, height - 6), (x + 8, height - 6)], fill=0, width=2)
    return paper


def render_png(receipt: Receipt, path: Path, *, width: int = 576) -> Path:
    """Write the receipt's picture to `path` (PNG) and return the path."""
    path.parent.mkdir(parents=True, exist_ok=True)
    render_receipt(receipt, width=width).save(path, format="PNG")
    return path
