"""DLE EOT real-time status (10 04 n): the four status bytes, decoded. Pure.

A printer answers DLE EOT at once with one byte, even in the middle of a job. Bits 1 and 4 are
always 1 and bits 0 and 7 always 0, so "all clear" is 0x12 and a byte that breaks that rule is
not a status answer (a printer in another mode, or noise): `StatusByteError`.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "QUERIES",
    "PrinterStatus",
    "StatusByteError",
    "decode_status",
    "encode_status",
    "query",
]

QUERIES = (1, 2, 3, 4)  # printer, offline cause, error cause, paper sensor


class StatusByteError(ValueError):
    """A byte that cannot be a DLE EOT answer."""


def query(n: int) -> bytes:
    """The real-time status request for `n` (1..4)."""
    if n not in QUERIES:
        raise ValueError("DLE EOT n is 1..4")
    return bytes([0x10, 0x04, n])


def _check(byte: int) -> None:
    if not 0 <= byte <= 0xFF or byte & 0x93 != 0x12:
        raise StatusByteError(f"0x{byte:02X} is not a DLE EOT status byte")


@dataclass(frozen=True, slots=True)
class PrinterStatus:
    """What the four answers say. `ready` is what printing needs."""

    offline: bool = False
    cover_open: bool = False
    paper_near_end: bool = False
    paper_out: bool = False
    cutter_error: bool = False
    unrecoverable_error: bool = False
    auto_recoverable_error: bool = False

    @property
    def ready(self) -> bool:
        return not (
            self.offline
            or self.cover_open
            or self.paper_out
            or self.cutter_error
            or self.unrecoverable_error
        )

    @property
    def condition(self) -> str:
        """The one condition telemetry reports (snake_case, "" when all clear): the one a
        technician must act on first. Cover open and paper out come before offline because a
        printer goes offline *because* of them; paper near its end is reported even while
        the printer is still ready (it is the warning before paper out)."""
        for name in (
            "cover_open",
            "paper_out",
            "cutter_error",
            "unrecoverable_error",
            "offline",
            "paper_near_end",
            "auto_recoverable_error",
        ):
            if getattr(self, name):
                return name
        return ""

    def problems(self) -> list[str]:
        """Plain words for each problem, for the technician and the doctor."""
        words = {
            "offline": "offline",
            "cover_open": "cover open",
            "paper_near_end": "paper near its end",
            "paper_out": "out of paper",
            "cutter_error": "cutter error",
            "unrecoverable_error": "unrecoverable error",
            "auto_recoverable_error": "recovering from an error",
        }
        return [text for name, text in words.items() if getattr(self, name)]


def decode_status(answers: dict[int, int]) -> PrinterStatus:
    """The status from the answers to queries 1-4 (any subset; absent ones read clear)."""
    for byte in answers.values():
        _check(byte)
    printer = answers.get(1, 0x12)
    cause = answers.get(2, 0x12)
    error = answers.get(3, 0x12)
    paper = answers.get(4, 0x12)
    return PrinterStatus(
        offline=bool(printer & 0x08),
        cover_open=bool(cause & 0x04),
        paper_out=bool(cause & 0x20) or bool(paper & 0x60),
        paper_near_end=bool(paper & 0x0C),
        cutter_error=bool(error & 0x08),
        unrecoverable_error=bool(error & 0x20),
        auto_recoverable_error=bool(error & 0x40),
    )


def encode_status(status: PrinterStatus, n: int) -> int:
    """The byte a printer in `status` answers to query `n` (the emulator's side)."""
    byte = 0x12
    if n == 1 and (status.offline or status.cover_open or status.paper_out):
        byte |= 0x08
    elif n == 2:
        byte |= (0x04 if status.cover_open else 0) | (0x20 if status.paper_out else 0)
        if status.cutter_error or status.unrecoverable_error:
            byte |= 0x40
    elif n == 3:
        byte |= 0x08 if status.cutter_error else 0
        byte |= 0x20 if status.unrecoverable_error else 0
        byte |= 0x40 if status.auto_recoverable_error else 0
    elif n == 4:
        byte |= (0x0C if status.paper_near_end else 0) | (0x60 if status.paper_out else 0)
    return byte
