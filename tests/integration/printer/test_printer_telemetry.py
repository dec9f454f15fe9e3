"""The printer's condition reaches telemetry: paper near its end, paper out and cover open are
told apart (the health alone says online / user_error), through the real driver on a pty, the
composition root's device list and the telemetry report the agent publishes."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest

from drivers.printer.emulator import FakePrinter, PrinterFaults, make_emulator
from drivers.vocabulary import DeviceEvent, DeviceHealth, DeviceHealthChanged
from kiosk.app import KioskApp
from kiosk.clock import FakeClock
from kiosk.config import load_config
from kiosk.config.journal import JournalConfig
from kiosk.config.telemetry import TelemetryConfig
from kiosk.contract import Telemetry
from kiosk.documents.samples import sample_data
from kiosk.journal import Journal, Sealer
from kiosk.printing import PrintFailedError, ReceiptPrinter
from kiosk.telemetry import TelemetryService


def _report(tmp_path: Path, app: KioskApp) -> Telemetry:
    journal = Journal(
        tmp_path / "journal.sqlite3",
        config=JournalConfig(),
        sealer=Sealer(bytes(range(32))),
        clock=FakeClock(),
        terminal_id="SSK-PRN-0001",
        boot_id="b1",
        clock_synced=lambda: True,
    )
    service = TelemetryService(
        TelemetryConfig(),
        journal,
        FakeClock(),
        software_version="t",
        state_dir=tmp_path,
        health=app.device_health,
        details=app.device_details,
    )
    return service.report(journal.stamp())


@pytest.mark.parametrize(
    ("faults", "health", "detail"),
    [
        (PrinterFaults(), DeviceHealth.ONLINE, None),
        (PrinterFaults(paper_near_end=True), DeviceHealth.ONLINE, "paper_near_end"),
        (PrinterFaults(paper_lines_left=0), DeviceHealth.USER_ERROR, "paper_out"),
        (PrinterFaults(cover_open=True), DeviceHealth.USER_ERROR, "cover_open"),
        (PrinterFaults(silent=True), DeviceHealth.OFFLINE, "no_answer"),
    ],
)
def test_each_printer_condition_is_named_in_telemetry(
    tmp_path: Path, faults: PrinterFaults, health: DeviceHealth, detail: str | None
) -> None:
    loaded = load_config(None, profile="test").config
    config = loaded.model_copy(
        update={
            "printer": loaded.printer.model_copy(
                update={"enabled": True, "port": str(tmp_path / "ttyPRN0")}
            )
        }
    )
    with make_emulator(tmp_path / "ttyPRN0", pace=False) as emu:
        assert isinstance(emu.handler, FakePrinter)
        emu.handler.faults = faults
        app = KioskApp(config)
        assert app.init_printer() is not None
        try:
            report = _report(tmp_path, app)
            assert report.devices == {"printer": health.value}
            assert report.device_details == ({"printer": detail} if detail else {})
            # the published form carries it too (what the central reads)
            wire = Telemetry.model_validate_json(report.model_dump_json())
            assert wire.device_details == report.device_details
            # the composition root's event says why, not only that the health changed
            posted: list[object] = []
            while (event := app.queue.get(timeout=0)) is not None:
                posted.append(event)
            changes = [e for e in posted if isinstance(e, DeviceHealthChanged)]
            assert changes and changes[-1].health is health
            assert changes[-1].detail == (detail or "")
        finally:
            app.stop()


def _until(check: Callable[[], bool], timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return True
        time.sleep(0.02)
    return False


def test_the_poll_follows_the_roll_and_the_cover(tmp_path: Path) -> None:
    """Online → near end (still online, now with a reason) → cover open → closed again; a
    print refused on the open cover keeps its reason apart from paper out."""
    events: list[DeviceEvent] = []
    section = load_config(None, profile="test").config.printer.model_copy(
        update={"port": str(tmp_path / "ttyPRN0")}
    )
    with make_emulator(tmp_path / "ttyPRN0", pace=False) as emu:
        assert isinstance(emu.handler, FakePrinter)
        printer = ReceiptPrinter(section, post=events.append, poll_s=0.05)
        printer.start()
        try:
            assert (printer.health, printer.detail) == (DeviceHealth.ONLINE, "")
            emu.handler.faults.paper_near_end = True
            assert _until(lambda: printer.detail == "paper_near_end")
            assert printer.health is DeviceHealth.ONLINE  # it still prints
            emu.handler.faults.cover_open = True
            assert _until(
                lambda: (printer.health, printer.detail) == (DeviceHealth.USER_ERROR, "cover_open")
            )
            with pytest.raises(PrintFailedError) as refused:
                printer.print_document({"template": "test_page", "data": sample_data("test_page")})
            assert refused.value.reason == "cover_open" and not refused.value.partial
            assert refused.value.code == "printer.cover_open"  # the citizen reads its own words
            assert emu.handler.receipts == []
            emu.handler.faults.cover_open = False
            emu.handler.faults.paper_near_end = False
            assert _until(lambda: (printer.health, printer.detail) == (DeviceHealth.ONLINE, ""))
        finally:
            printer.stop()
    details = [e.detail for e in events if isinstance(e, DeviceHealthChanged)]
    assert details[:3] == ["", "paper_near_end", "cover_open"] and details[-1] == ""
