"""What a receipt is made of, before it becomes ESC/POS bytes: lines, QR codes, rules, cuts.

Pure data. Documents are built by the kiosk from data files (kiosk/documents/) and encoded by
drivers/printer/encode.py; the emulator decodes the bytes back into the same kind of items.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

__all__ = ["Align", "Block", "Document", "Feed", "Line", "Qr", "Rule"]

Align = Literal["left", "center", "right"]


@dataclass(frozen=True, slots=True)
class Line:
    """One printed line. `size` multiplies width and height (1..4)."""

    text: str
    align: Align = "left"
    bold: bool = False
    size: int = 1


@dataclass(frozen=True, slots=True)
class Qr:
    """A QR code printed by the printer itself (GS ( k), `module` dots per module."""

    data: str
    module: int = 6
    align: Align = "center"


@dataclass(frozen=True, slots=True)
class Rule:
    """A full-width separator line."""

    char: str = "-"


@dataclass(frozen=True, slots=True)
class Feed:
    lines: int = 1


Block = Line | Qr | Rule | Feed


@dataclass(frozen=True, slots=True)
class Document:
    """A receipt: its blocks, printed top to bottom, then a cut."""

    name: str
    blocks: tuple[Block, ...] = field(default_factory=tuple)

    def plain_text(self) -> str:
        """The text a person reads on the paper (QR codes as their payload in brackets)."""
        out: list[str] = []
        for b in self.blocks:
            if isinstance(b, Line):
                out.append(b.text)
            elif isinstance(b, Qr):
                out.append(f"[QR {b.data}]")
            elif isinstance(b, Rule):
                out.append(b.char * 8)
            else:
                out.extend([""] * b.lines)
        return "\n".join(out)
