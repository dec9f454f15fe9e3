"""The receipt printer driver: ESC/POS over a serial line with pyserial, and our own real-time
status reader.

python-escpos's own status calls block for the whole serial timeout and read a silent printer as
"paper adequate" (docs/receipt-printer.md), so status is ours: DLE EOT n, exactly one byte back
within a short deadline, no answer is a fault. A document is refused before the first byte when
the printer is not ready, and sent in slices with a status query between them, so paper running
out or the cover opening mid-document is known at once and reported with how far it got.
"""

from __future__ import annotations

import contextlib
import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass

import serial

from drivers.printer.status import PrinterStatus, StatusByteError, decode_status, query
from drivers.vocabulary import DeviceEvent, DeviceHealth, DeviceHealthChanged, DeviceKind, ErrorCode

__all__ = [
    "PrintResult",
    "PrinterDriver",
    "PrinterError",
    "PrinterFailedMidDocumentError",
    "PrinterNotReadyError",
    "PrinterSettings",
    "PrinterTimeoutError",
]

_log = logging.getLogger("drivers.printer")


def _slices(parts: Sequence[bytes], size: int) -> Iterator[bytes]:
    """Whole parts grouped into pieces of at least `size` bytes (the last may be shorter)."""
    buf = bytearray()
    for part in parts:
        buf += part
        if len(buf) >= size:
            yield bytes(buf)
            buf.clear()
    if buf:
        yield bytes(buf)


class PrinterError(Exception):
    """Root of the printer's errors; `code` is stable (ui translates it)."""

    code: ErrorCode = ErrorCode.PRINTER_FAULT


class PrinterTimeoutError(PrinterError):
    """No status answer: the printer is off, unplugged, or on another baud rate."""

    code = ErrorCode.PRINTER_OFFLINE


def _code(status: PrinterStatus) -> ErrorCode:
    # the citizen reads a different sentence for each (kiosk/session/printing.py)
    if status.cover_open:
        return ErrorCode.PRINTER_COVER_OPEN
    if status.paper_out:
        return ErrorCode.PRINTER_PAPER_OUT
    return ErrorCode.PRINTER_FAULT


class PrinterNotReadyError(PrinterError):
    """The printer answered but cannot print (paper out, cover open, error). Nothing was sent."""

    def __init__(self, status: PrinterStatus) -> None:
        super().__init__("printer not ready: " + ", ".join(status.problems()))
        self.status = status
        self.code = _code(status)


class PrinterFailedMidDocumentError(PrinterError):
    """The printer stopped in the middle of a document; `sent` of `total` bytes had gone."""

    def __init__(self, status: PrinterStatus, sent: int, total: int) -> None:
        problems = ", ".join(status.problems()) or "stopped answering"
        super().__init__(f"printer failed mid-document ({problems}) after {sent} of {total} bytes")
        self.status = status
        self.sent = sent
        self.total = total
        self.code = _code(status)


@dataclass(frozen=True, slots=True)
class PrinterSettings:
    port: str = "/dev/receipt-printer"
    baudrate: int = 115200
    status_timeout: float = 0.3  # one DLE EOT answer
    slice_bytes: int = 512  # bytes sent between two status checks
    write_timeout: float = 5.0
    paper_dots: int = 576


@dataclass(frozen=True, slots=True)
class PrintResult:
    bytes_sent: int
    seconds: float
    status: PrinterStatus  # after the document: paper near end shows here


class PrinterDriver:
    """One printer on a serial port. One caller at a time."""

    def __init__(
        self,
        settings: PrinterSettings,
        *,
        post: Callable[[DeviceEvent], None] | None = None,
        name: str = "printer",
    ) -> None:
        self.settings = settings
        self.name = name
        self._post = post
        self._port: serial.Serial | None = None
        self._health = DeviceHealth.OFFLINE
        self._detail = ""
        self.last_status: PrinterStatus | None = None

    @property
    def health(self) -> DeviceHealth:
        return self._health

    @property
    def detail(self) -> str:
        """Why the health is what it is (`PrinterStatus.condition`: paper_near_end, paper_out,
        cover_open...; "" when there is nothing to say)."""
        return self._detail

    def open(self) -> PrinterStatus:
        """Open the port and read the status (PrinterTimeoutError when nothing answers)."""
        s = self.settings
        try:
            self._port = serial.Serial(
                s.port, s.baudrate, timeout=s.status_timeout, write_timeout=s.write_timeout
            )
        except (OSError, serial.SerialException) as e:
            self._set_health(DeviceHealth.NO_DEVICE)
            raise PrinterTimeoutError(f"cannot open {s.port}: {e}") from None
        return self.status()

    def close(self) -> None:
        if self._port is not None:
            with contextlib.suppress(OSError, serial.SerialException):
                self._port.close()
        self._port = None
        self._set_health(DeviceHealth.OFFLINE)

    def __enter__(self) -> PrinterDriver:
        self.open()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def status(self, queries: tuple[int, ...] = (1, 2, 3, 4)) -> PrinterStatus:
        """Ask DLE EOT for each of `queries`; health follows the answer."""
        answers: dict[int, int] = {}
        for n in queries:
            answers[n] = self._ask(n)
        try:
            status = decode_status(answers)
        except StatusByteError as e:
            self._set_health(DeviceHealth.HARDWARE_ERROR, "status_unreadable")
            raise PrinterError(f"printer status unreadable: {e}") from None
        self.last_status = status
        self._set_health(
            DeviceHealth.ONLINE if status.ready else DeviceHealth.USER_ERROR, status.condition
        )
        return status

    def print_bytes(self, data: bytes) -> PrintResult:
        """Send one encoded document whole, with status checks only before and after."""
        return self.print_parts([data])

    def print_parts(self, parts: Sequence[bytes]) -> PrintResult:
        """Send one encoded document (`encode_parts`): PrinterNotReadyError before anything was
        sent; PrinterFailedMidDocumentError when the printer stopped part way. Parts go in
        slices of about `slice_bytes`, the status asked between slices and never inside a
        part (a status query inside a command's data would be read as data)."""
        start = time.monotonic()
        before = self.status()
        if not before.ready:
            raise PrinterNotReadyError(before)
        port = self._require_port()
        total = sum(len(p) for p in parts)
        sent = 0
        for piece in _slices(parts, max(64, self.settings.slice_bytes)):
            try:
                port.write(piece)
                port.flush()
            except (OSError, serial.SerialException) as e:
                self._set_health(DeviceHealth.NO_DEVICE)
                raise PrinterFailedMidDocumentError(PrinterStatus(offline=True), sent, total) from e
            sent += len(piece)
            try:
                now = self.status((1, 4) if sent < total else (1, 2, 3, 4))
            except PrinterError:
                raise PrinterFailedMidDocumentError(
                    PrinterStatus(offline=True), sent, total
                ) from None
            if not now.ready:
                raise PrinterFailedMidDocumentError(now, sent, total)
        return PrintResult(sent, time.monotonic() - start, self.last_status or before)

    def _require_port(self) -> serial.Serial:
        if self._port is None:
            raise PrinterTimeoutError("the printer port is not open")
        return self._port

    def _ask(self, n: int) -> int:
        port = self._require_port()
        try:
            if port.in_waiting:
                port.reset_input_buffer()  # a late answer to an earlier query
            port.write(query(n))
            deadline = time.monotonic() + self.settings.status_timeout
            while True:
                got = port.read(1)
                if got:
                    return got[0]
                if time.monotonic() >= deadline:
                    break
        except (OSError, serial.SerialException) as e:
            self._set_health(DeviceHealth.NO_DEVICE)
            raise PrinterTimeoutError(f"printer port failed: {e}") from None
        self._set_health(DeviceHealth.OFFLINE, "no_answer")
        raise PrinterTimeoutError(
            f"the printer did not answer status query {n} within {self.settings.status_timeout} s"
        )

    def _set_health(self, health: DeviceHealth, detail: str = "") -> None:
        # a change of reason alone is a change too: paper near its end while still online
        if health is self._health and detail == self._detail:
            return
        self._health, self._detail = health, detail
        if self._post is not None:
            self._post(
                DeviceHealthChanged(
                    self.name, kind=DeviceKind.PRINTER, health=health, detail=detail
                )
            )
