"""The core's printer (kiosk/printing.py): a device that never raises at start, prints the
session's documents through the real driver and pty, and says why when it could not."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from drivers.personal import Masked, PersonalKind
from drivers.printer.emulator import FakePrinter, make_emulator
from drivers.vocabulary import DeviceEvent, DeviceHealth, DeviceHealthChanged
from kiosk.config import load_config
from kiosk.documents.samples import sample_data
from kiosk.printing import PrintFailedError, ReceiptPrinter


def _printer(port: Path, events: list[DeviceEvent]) -> ReceiptPrinter:
    section = load_config(None, profile="test").config.printer.model_copy(
        update={"port": str(port)}
    )
    return ReceiptPrinter(section, post=events.append, poll_s=0.05)


def _becomes(printer: ReceiptPrinter, health: DeviceHealth, timeout: float = 3.0) -> bool:
    deadline = time.monotonic() + timeout  # the poll runs every 50 ms
    while time.monotonic() < deadline:
        if printer.health is health:
            return True
        time.sleep(0.02)
    return False


def test_prints_a_receipt_and_reports_health(tmp_path: Path) -> None:
    events: list[DeviceEvent] = []
    with make_emulator(tmp_path / "ttyPRN0", pace=False) as emu:
        assert isinstance(emu.handler, FakePrinter)
        printer = _printer(tmp_path / "ttyPRN0", events)
        printer.start()
        try:
            assert printer.health is DeviceHealth.ONLINE
            printer.print_document(
                {
                    "template": "payment_receipt",
                    "lang": "en",
                    "data": sample_data("payment_receipt"),
                }
            )
            (receipt,) = emu.handler.receipts
            assert "Payment receipt" in receipt.text and "王**" in receipt.text
            # Paper runs low then out: the poll notices without anybody printing.
            emu.handler.faults.paper_lines_left = 0
            assert _becomes(printer, DeviceHealth.USER_ERROR)
            with pytest.raises(PrintFailedError) as failed:
                printer.print_document({"template": "test_page", "data": sample_data("test_page")})
            assert failed.value.code == "printer.paper_out" and not failed.value.partial
        finally:
            printer.stop()
    assert any(isinstance(e, DeviceHealthChanged) for e in events)


def test_paper_out_mid_document_is_partial(tmp_path: Path) -> None:
    with make_emulator(tmp_path / "ttyPRN0", pace=False) as emu:
        assert isinstance(emu.handler, FakePrinter)
        printer = _printer(tmp_path / "ttyPRN0", [])
        printer.start()
        try:
            emu.handler.faults.paper_lines_left = 4
            data = sample_data("contribution_statement")
            with pytest.raises(PrintFailedError) as failed:
                printer.print_document({"template": "contribution_statement", "data": data})
            assert failed.value.partial and failed.value.code == "printer.paper_out"
        finally:
            printer.stop()


def test_a_raw_personal_value_is_refused_before_printing(tmp_path: Path) -> None:
    with make_emulator(tmp_path / "ttyPRN0", pace=False) as emu:
        assert isinstance(emu.handler, FakePrinter)
        printer = _printer(tmp_path / "ttyPRN0", [])
        printer.start()
        try:
            data = {**sample_data("payment_receipt"), "holder_name": "王建国"}
            with pytest.raises(PrintFailedError, match="personal"):
                printer.print_document({"template": "payment_receipt", "data": data})
            assert emu.handler.receipts == []
            data["holder_name"] = Masked("王建国", PersonalKind.NAME)
            printer.print_document({"template": "payment_receipt", "data": data})
            assert "王建国" not in emu.handler.receipts[0].text
        finally:
            printer.stop()


def test_no_printer_is_no_device_not_a_crash(tmp_path: Path) -> None:
    printer = _printer(tmp_path / "none", [])
    printer.start()
    try:
        assert printer.health is DeviceHealth.NO_DEVICE
        with pytest.raises(PrintFailedError):
            printer.print_document({"template": "test_page", "data": sample_data("test_page")})
    finally:
        printer.stop()
