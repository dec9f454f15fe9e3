"""A `Document` as ESC/POS bytes, built with python-escpos.

python-escpos builds the layout commands (initialise, alignment, bold, character size, the
printer's own QR code, cut) on its `Dummy` printer. Text is ours: python-escpos sends a string
with any CJK character as GB18030 without switching the printer to Chinese mode, and anything
else through `ESC t` code pages, so a printer in Chinese mode reads the high bytes of a code
page as halves of Chinese characters (docs/receipt-printer.md). We switch Chinese mode on once
(`FS &`) and send every line as GB18030, in which ASCII is ASCII. Pure: bytes out, no I/O.
"""

from __future__ import annotations

from escpos.printer import Dummy

from drivers.printer.document import Document, Feed, Line, Qr, Rule

__all__ = ["CHINESE_MODE_OFF", "CHINESE_MODE_ON", "encode", "encode_parts", "line_width"]

CHINESE_MODE_ON = b"\x1c\x26"
CHINESE_MODE_OFF = b"\x1c\x2e"
# The yen/yuan sign U+00A5 has only a 4-byte GB18030 code, which most hall printers print as
# '?': send the fullwidth ￥ (GB2312 A3A4) that every GB font has.
_SUBSTITUTES = str.maketrans({"¥": "￥"})


def line_width(paper_dots: int = 576, *, size: int = 1) -> int:
    """Characters of font A (12 dots wide) on one line; a CJK character takes two."""
    return paper_dots // (12 * size)


def _cells(text: str) -> int:
    return sum(1 if ord(c) < 0x2E80 else 2 for c in text)


def encode(document: Document, *, paper_dots: int = 576) -> bytes:
    """The ESC/POS bytes of `document` for a printer `paper_dots` wide (576 = 80 mm)."""
    return b"".join(encode_parts(document, paper_dots=paper_dots))


def encode_parts(document: Document, *, paper_dots: int = 576) -> list[bytes]:
    """The ESC/POS bytes of `document`, one part per block (plus the set-up and the cut).

    The driver sends parts whole and asks for the status only between them: a DLE EOT that
    landed inside a command's data (a QR payload, a GB18030 pair) would be read as data."""
    parts: list[bytes] = []
    p = Dummy()
    p.hw("INIT")
    p._raw(CHINESE_MODE_ON)
    for block in document.blocks:
        parts.append(bytes(p.output))
        p.clear()
        if isinstance(block, Line):
            size = max(1, min(block.size, 4))
            p.set(
                align=block.align,
                bold=block.bold,
                custom_size=size > 1,
                width=size,
                height=size,
                normal_textsize=size == 1,
            )
            p._raw(block.text.translate(_SUBSTITUTES).encode("gb18030") + b"\n")
        elif isinstance(block, Qr):
            p.set(align=block.align, normal_textsize=True, bold=False)
            p.qr(block.data, native=True, size=max(1, min(block.module, 16)), ec=1)
            p._raw(b"\n")
        elif isinstance(block, Rule):
            p.set(align="left", normal_textsize=True, bold=False)
            width = line_width(paper_dots) // max(_cells(block.char), 1)
            p._raw((block.char * width).encode("gb18030") + b"\n")
        elif isinstance(block, Feed):
            p.ln(max(0, min(block.lines, 20)))
    p._raw(CHINESE_MODE_OFF)
    p.cut()
    parts.append(bytes(p.output))
    return [part for part in parts if part]
