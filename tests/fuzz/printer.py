"""The printer's DLE EOT status parser: each answer byte to queries 1-4 is decoded, and a byte
that breaks the fixed bits is `StatusByteError`; a decoded status must say plain words for
every problem it holds."""

from __future__ import annotations

from drivers.printer.status import (
    QUERIES,
    PrinterStatus,
    StatusByteError,
    decode_status,
    encode_status,
)
from tests.fuzz.target import EscapeError, Target

__all__ = ["printer_targets"]

TOKENS = [b"\x12", b"\x1a", b"\x16", b"\x32", b"\x72", b"\x7e", b"\x01", b"\x04"]


def _run(data: bytes) -> None:
    """Bytes read pairwise as (query n, answer byte), the way a poll meets its answers."""
    answers = {QUERIES[data[i] % 4]: data[i + 1] for i in range(0, len(data) - 1, 2)}
    status = decode_status(answers)
    problems = status.problems()
    if not status.ready and not problems:
        raise EscapeError("a printer not ready with no words for why")


def printer_targets() -> list[Target]:
    states = [
        PrinterStatus(),
        PrinterStatus(paper_out=True),
        PrinterStatus(cover_open=True, paper_near_end=True),
        PrinterStatus(cutter_error=True, auto_recoverable_error=True),
    ]
    seeds = [b"".join(bytes([n - 1, encode_status(s, n)]) for n in QUERIES) for s in states]
    return [Target("printer.status", _run, (StatusByteError,), seeds, TOKENS)]
