"""An emulated thermal receipt printer: interprets what it hears, answers DLE EOT at once from
its sensors, and keeps (and optionally writes as PNG) every receipt it cut.

Faults: paper near its end, paper running out after N more lines (the rest of the job is lost,
as on a real printer whose head has nothing to print on), cover open, a silent printer.
"""

from __future__ import annotations

import queue
import threading
from dataclasses import dataclass, field, replace
from pathlib import Path

from drivers.printer.emulator.interpreter import Interpreter, Receipt
from drivers.printer.emulator.render import render_png
from drivers.printer.status import PrinterStatus, encode_status
from drivers.ptylink import Outgoing

__all__ = ["FakePrinter", "PrinterFaults"]


@dataclass
class PrinterFaults:
    paper_near_end: bool = False
    paper_lines_left: int | None = None  # None: an endless roll
    cover_open: bool = False
    silent: bool = False  # answers no status query (unpowered logic board, wrong baud rate)


@dataclass
class FakePrinter:
    """The printer's behaviour; thread-safe (tests change sensors from their thread)."""

    out_dir: Path | None = None
    faults: PrinterFaults = field(default_factory=PrinterFaults)
    interpreter: Interpreter = field(default_factory=Interpreter)
    _pngs: list[Path] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cuts_seen: int = 0
    _to_render: queue.Queue[tuple[Receipt, Path]] = field(default_factory=queue.Queue)
    _renderer: threading.Thread | None = None

    @property
    def pngs(self) -> list[Path]:
        """The PNG of every receipt cut so far (waits for the drawing to catch up)."""
        self._to_render.join()
        return list(self._pngs)

    def _render_loop(self) -> None:
        # Drawing takes longer than a status answer may: it runs beside the line, not on it.
        while True:
            receipt, path = self._to_render.get()
            try:
                self._pngs.append(render_png(receipt, path))
            finally:
                self._to_render.task_done()

    def power_on(self) -> None:
        with self._lock:
            self.interpreter = Interpreter()
            self._cuts_seen = 0

    @property
    def status(self) -> PrinterStatus:
        f = self.faults
        out = f.paper_lines_left is not None and f.paper_lines_left <= 0
        return PrinterStatus(
            offline=f.cover_open or out,
            cover_open=f.cover_open,
            paper_near_end=f.paper_near_end or (f.paper_lines_left is not None and not out),
            paper_out=out,
        )

    def load_paper(self) -> None:
        """A technician puts a new roll in: the printer is ready again."""
        with self._lock:
            self.faults = replace(self.faults, paper_lines_left=None, paper_near_end=False)

    @property
    def receipts(self) -> list[Receipt]:
        with self._lock:
            return list(self.interpreter.finished)

    @property
    def papers(self) -> list[Receipt]:
        """Every paper given out or started: a job cut short by paper out has no cut."""
        with self._lock:
            return [r for r in self.interpreter.receipts if r.cut or r.items]

    def receive(self, data: bytes) -> list[Outgoing]:
        with self._lock:
            replies: list[Outgoing] = []
            printing = self.status.ready
            before = self.interpreter.lines_printed
            queries = self.interpreter.feed(data) if printing else self._status_only(data)
            printed = self.interpreter.lines_printed - before
            f = self.faults
            if f.paper_lines_left is not None and printed:
                f.paper_lines_left -= printed
            if not f.silent:
                status = self.status
                replies = [
                    Outgoing(bytes([encode_status(status, n)])) for n in queries if 1 <= n <= 4
                ]
            self._save_new_receipts()
            return replies

    def _status_only(self, data: bytes) -> list[int]:
        # Offline: the job is lost, but real-time status queries are still answered.
        return [data[i + 2] for i in range(len(data) - 2) if data[i : i + 2] == b"\x10\x04"]

    def _save_new_receipts(self) -> None:
        done = self.interpreter.finished
        while self._cuts_seen < len(done):
            receipt = done[self._cuts_seen]
            self._cuts_seen += 1
            if self.out_dir is None:
                continue
            if self._renderer is None:
                self._renderer = threading.Thread(
                    target=self._render_loop, name="printer-paper", daemon=True
                )
                self._renderer.start()
            self._to_render.put((receipt, self.out_dir / f"receipt-{self._cuts_seen:03d}.png"))
