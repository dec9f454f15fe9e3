"""The printer driver through pyserial on a real pty, against the emulated printer: every
document printed and compared on its decoded text and on its picture; every fault."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from drivers.printer.driver import (
    PrinterDriver,
    PrinterFailedMidDocumentError,
    PrinterNotReadyError,
    PrinterTimeoutError,
)
from drivers.printer.emulator import FakePrinter, make_emulator
from drivers.printer.encode import encode_parts
from drivers.ptylink import PtyLink
from drivers.vocabulary import DeviceHealth
from kiosk.config import load_config
from kiosk.documents import render_document
from kiosk.documents.samples import sample_data

GOLDEN = Path(__file__).resolve().parents[2] / "data" / "printer"


class Rig:
    def __init__(self, tmp: Path) -> None:
        self.tmp = tmp
        self.link = tmp / "ttyPRN0"
        self.emu: PtyLink | None = None
        self.driver: PrinterDriver | None = None

    def start(self, *, pace: bool = False) -> FakePrinter:
        self.emu = make_emulator(self.link, out_dir=self.tmp / "paper", pace=pace).start()
        assert isinstance(self.emu.handler, FakePrinter)
        return self.emu.handler

    def open(self, **overrides: object) -> PrinterDriver:
        section = load_config(None, profile="test").config.printer
        if overrides:
            section = section.model_copy(update=overrides)
        self.driver = PrinterDriver(section.to_settings(port=str(self.link)))
        self.driver.open()
        return self.driver

    def close(self) -> None:
        if self.driver is not None:
            self.driver.close()
        if self.emu is not None:
            self.emu.stop()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.close()


def _compare_png(actual: Path, golden: Path) -> float:
    """Share of pixels that differ (after binarising); writes the golden when asked to."""
    if os.environ.get("KIOSK_UPDATE_GOLDEN") == "1":
        golden.parent.mkdir(parents=True, exist_ok=True)
        golden.write_bytes(actual.read_bytes())
    a = np.asarray(Image.open(actual).convert("L")) < 128
    g = np.asarray(Image.open(golden).convert("L")) < 128
    if a.shape != g.shape:
        return 1.0
    return float(np.mean(a != g))


@pytest.mark.parametrize(
    "name", ["payment_receipt", "insured_certificate", "contribution_statement", "test_page"]
)
@pytest.mark.parametrize("lang", ["zh_CN", "en"])
def test_every_document_prints_as_composed(rig: Rig, name: str, lang: str) -> None:
    printer = rig.start()
    driver = rig.open()
    doc = render_document(name, sample_data(name), lang=lang)  # type: ignore[arg-type]
    result = driver.print_parts(encode_parts(doc))
    assert result.status.ready
    (receipt,) = printer.receipts
    assert _normal(receipt.text) == _normal(doc.plain_text())
    assert "王建国" not in receipt.text and "330304198808080037" not in receipt.text
    (png,) = printer.pngs
    assert _compare_png(png, GOLDEN / f"{name}-{lang}.png") < 0.01


def _normal(text: str) -> list[str]:
    """Non-blank lines, with a separator of any length as one token (the paper is wider)."""
    lines = [line.rstrip() for line in text.splitlines() if line.strip()]
    return ["<rule>" if len(set(line)) == 1 and len(line) >= 8 else line for line in lines]


def test_chinese_glyphs_render_not_boxes(rig: Rig, tmp_path: Path) -> None:
    printer = rig.start()
    driver = rig.open()
    driver.print_parts(encode_parts(render_document("test_page", sample_data("test_page"))))
    (png,) = printer.pngs
    img = np.asarray(Image.open(png).convert("L")) < 128
    # The Chinese title line is not a row of identical missing-glyph boxes: its columns vary.
    title = img[16:64]
    cols = title.any(axis=0)
    assert 100 < cols.sum() < 576
    blocks = [title[:, x : x + 48].sum() for x in range(150, 400, 48)]
    assert len(set(blocks)) > 2


def test_paper_near_end_prints_and_warns(rig: Rig) -> None:
    printer = rig.start()
    printer.faults.paper_near_end = True
    result = rig.open().print_parts(
        encode_parts(render_document("test_page", sample_data("test_page")))
    )
    assert result.status.paper_near_end and len(printer.receipts) == 1


def test_paper_out_mid_document_is_reported_with_progress(rig: Rig) -> None:
    printer = rig.start()
    driver = rig.open(slice_bytes=128)
    printer.faults.paper_lines_left = 5
    doc = render_document("contribution_statement", sample_data("contribution_statement"))
    data = encode_parts(doc)
    with pytest.raises(PrinterFailedMidDocumentError) as caught:
        driver.print_parts(data)
    assert caught.value.status.paper_out and 0 < caught.value.sent < sum(map(len, data))
    assert printer.receipts == []  # nothing was cut: the citizen holds no half receipt
    assert driver.health is DeviceHealth.USER_ERROR
    printer.load_paper()
    with pytest.raises(PrinterNotReadyError):
        # The half-printed job is still in the printer's buffer on real printers; our driver
        # starts clean after paper is loaded: ESC @ resets.
        printer.faults.cover_open = True
        driver.print_parts(data)
    printer.faults.cover_open = False
    driver.print_parts(data)
    assert len(printer.receipts) == 1


def test_cover_open_refuses_before_sending(rig: Rig) -> None:
    printer = rig.start()
    driver = rig.open()
    printer.faults.cover_open = True
    before = printer.interpreter.lines_printed
    with pytest.raises(PrinterNotReadyError, match="cover open"):
        driver.print_parts(encode_parts(render_document("test_page", sample_data("test_page"))))
    assert printer.interpreter.lines_printed == before


def test_silent_printer_is_a_fault_not_paper_adequate(rig: Rig) -> None:
    printer = rig.start()
    printer.faults.silent = True
    section = load_config(None, profile="test").config.printer
    driver = PrinterDriver(section.to_settings(port=str(rig.link)))
    with pytest.raises(PrinterTimeoutError):
        driver.open()
    assert driver.health is DeviceHealth.OFFLINE
    driver.close()


def test_missing_port(tmp_path: Path) -> None:
    section = load_config(None, profile="test").config.printer
    driver = PrinterDriver(section.to_settings(port=str(tmp_path / "none")))
    with pytest.raises(PrinterTimeoutError, match="cannot open"):
        driver.open()
    assert driver.health is DeviceHealth.NO_DEVICE
