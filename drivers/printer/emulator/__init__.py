"""The emulated receipt printer on a real pseudo-terminal (a product part: the demo, the tests
and `kiosk print emulate` use it)."""

from __future__ import annotations

from pathlib import Path

from drivers.printer.emulator.interpreter import Interpreter, Receipt
from drivers.printer.emulator.module import FakePrinter, PrinterFaults
from drivers.printer.emulator.render import render_png, render_receipt
from drivers.ptylink import PtyLink

__all__ = [
    "FakePrinter",
    "Interpreter",
    "PrinterFaults",
    "Receipt",
    "make_emulator",
    "render_png",
    "render_receipt",
]


def make_emulator(
    link: str | Path,
    *,
    out_dir: Path | None = None,
    baudrate: int = 115200,
    pace: bool = True,
) -> PtyLink:
    """A (not yet started) emulated printer at `link`; receipts go to `out_dir` as PNGs.

    `pace` makes the printer take bytes at the line's speed (10 bits a byte at `baudrate`), as a
    UART with hardware flow control does, so print times are real."""
    return PtyLink(
        FakePrinter(out_dir=out_dir),
        link,
        baudrate=baudrate,
        pace=pace,
        pace_input=pace,
        name="printer-emu",
    )
