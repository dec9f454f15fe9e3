"""The receipt printer as the core sees it: a device with health (polled, so paper running low
shows in telemetry before a citizen meets it) and the session's printer port.

A document to print is data: ``{"template": NAME, "lang": "zh_CN"|"en", "data": {...}}`` with
NAME one of kiosk/documents/templates and personal values `Masked` (the template refuses raw
ones). Printing runs on the effect runner's thread; a failure raises `PrintFailedError` with a
stable code, and the session offers the QR code on the screen instead.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from drivers.printer.driver import (
    PrinterDriver,
    PrinterError,
    PrinterFailedMidDocumentError,
    PrinterNotReadyError,
)
from drivers.printer.encode import encode_parts
from drivers.vocabulary import DeviceEvent, DeviceHealth, DeviceHealthChanged, DeviceKind
from kiosk.config.printer import PrinterConfig
from kiosk.documents import DocumentError, Language, render_document

__all__ = ["PrintFailedError", "ReceiptPrinter"]

_log = logging.getLogger("kiosk.printing")


class PrintFailedError(Exception):
    """Nothing (or not all) was printed; `code` is the printer's ErrorCode value."""

    def __init__(self, message: str, code: str, *, partial: bool = False, reason: str = "") -> None:
        super().__init__(message)
        self.code = code
        self.partial = partial
        # the printer's own condition (paper_out, cover_open...): `code` groups cover open with
        # every other fault, the reason keeps them apart for the log and the screen
        self.reason = reason


class ReceiptPrinter:
    """Device `printer` and the session's `PrinterPort` (print_document)."""

    kind = DeviceKind.PRINTER

    def __init__(
        self,
        config: PrinterConfig,
        *,
        post: Callable[[DeviceEvent], None] | None = None,
        name: str = "printer",
        poll_s: float = 30.0,
    ) -> None:
        self.name = name
        self.config = config
        self._post = post
        self._driver = PrinterDriver(config.to_settings(), name=name)
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._poll_s = poll_s
        self._health = DeviceHealth.OFFLINE
        self._detail = ""
        self.printed = 0
        self.failures = 0

    @property
    def health(self) -> DeviceHealth:
        return self._health

    @property
    def detail(self) -> str:
        """The printer's condition behind the health (paper_near_end, paper_out, cover_open,
        no_answer...; "" when there is none): telemetry's `device_details`."""
        return self._detail

    def start(self) -> None:
        """Open the printer (a missing one is `no_device`, never an exception) and poll it."""
        self._refresh(open_first=True)
        self._stop.clear()
        self._thread = threading.Thread(target=self._poll, name="printer-status", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        with self._lock:
            self._driver.close()

    def print_document(self, document: Mapping[str, Any]) -> None:
        """Print one document (see the module docstring); PrintFailedError when it did not."""
        try:
            template = str(document["template"])
            lang: Language = "en" if document.get("lang") == "en" else "zh_CN"
            doc = render_document(
                template, document.get("data", {}), lang=lang, paper_dots=self.config.paper_dots
            )
        except (KeyError, DocumentError) as e:
            raise PrintFailedError(f"bad document: {e}", "printer.fault") from None
        with self._lock:
            try:
                if self._driver.health is not DeviceHealth.ONLINE:
                    self._reopen()
                result = self._driver.print_parts(
                    encode_parts(doc, paper_dots=self.config.paper_dots)
                )
            except PrinterFailedMidDocumentError as e:
                self.failures += 1
                self._follow_driver()
                raise PrintFailedError(
                    str(e), e.code.value, partial=True, reason=e.status.condition
                ) from None
            except PrinterNotReadyError as e:
                self.failures += 1
                self._follow_driver()
                raise PrintFailedError(str(e), e.code.value, reason=e.status.condition) from None
            except PrinterError as e:
                self.failures += 1
                self._follow_driver()
                raise PrintFailedError(str(e), e.code.value, reason=self._driver.detail) from None
            self.printed += 1
            self._follow_driver()
        if result.status.paper_near_end:
            _log.warning("printer: paper near its end")

    def _reopen(self) -> None:
        self._driver.close()
        self._driver.open()

    def _refresh(self, *, open_first: bool = False) -> None:
        with self._lock:
            try:
                if open_first or self._driver.health in (
                    DeviceHealth.OFFLINE,
                    DeviceHealth.NO_DEVICE,
                ):
                    self._reopen()
                else:
                    self._driver.status()
            except PrinterError as e:
                _log.info("printer: %s", e)
            self._follow_driver()

    def _poll(self) -> None:
        while not self._stop.wait(self._poll_s):
            self._refresh()

    def _follow_driver(self) -> None:
        self._set_health(self._driver.health, self._driver.detail)

    def _set_health(self, health: DeviceHealth, detail: str) -> None:
        # posted on a change of reason too (online -> online with paper near its end)
        if health is self._health and detail == self._detail:
            return
        self._health, self._detail = health, detail
        if self._post is not None:
            self._post(
                DeviceHealthChanged(
                    self.name, kind=DeviceKind.PRINTER, health=health, detail=detail
                )
            )
