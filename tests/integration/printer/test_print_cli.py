"""`kiosk print test|receipt|certificate|statement` through the real CLI entry, the real driver
and the emulated printer on a pty: what came out of the printer (the decoded ESC/POS text),
personal data masked on paper, and the exit codes when the printer cannot print."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from drivers.personal import Masked, PersonalKind
from drivers.printer.emulator import FakePrinter, make_emulator
from kiosk.cli.main import root

# The sample holder's raw values (kiosk/documents/samples.py): never on paper.
_RAW = {
    PersonalKind.NAME: "王建国",
    PersonalKind.ID_NUMBER: "330304198808080037",
    PersonalKind.CARD_NUMBER: "A12345678",
}


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[tuple[FakePrinter, Path]]:
    link = tmp_path / "ttyPRN0"
    with make_emulator(link, pace=False) as emu:
        assert isinstance(emu.handler, FakePrinter)
        yield emu.handler, link


def _print(link: Path, *args: str) -> Result:
    return CliRunner().invoke(root, ["--profile", "test", "print", *args, "--port", str(link)])


@pytest.mark.parametrize(
    ("command", "lang", "expected", "personal"),
    [
        ("test", "en", ["SSK-"], []),
        ("receipt", "zh_CN", ["PAY-20261203-7F3A9C", "86.40"], [PersonalKind.NAME]),
        ("certificate", "en", ["CERT-9K2M-X7QP-44TA", "197"], [PersonalKind.NAME]),
        ("statement", "zh_CN", ["养老保险", "2025-12"], [PersonalKind.NAME]),
    ],
)
def test_each_sample_prints_masked(
    printer: tuple[FakePrinter, Path],
    command: str,
    lang: str,
    expected: list[str],
    personal: list[PersonalKind],
) -> None:
    fake, link = printer
    done = _print(link, command, "--lang", lang)
    assert done.exit_code == 0, done.output
    assert "Printed" in done.output and "bytes" in done.output
    (paper,) = fake.receipts  # one document, cut once
    for text in expected:
        assert text in paper.text, (text, paper.text)
    for kind in personal:
        assert Masked(_RAW[kind], kind).masked in paper.text  # printed, masked
    for raw in _RAW.values():
        assert raw not in paper.text and raw not in done.output
    assert fake.interpreter.unknown == 0  # every byte the CLI sent is a command the printer knows


def test_paper_near_end_prints_and_warns(printer: tuple[FakePrinter, Path]) -> None:
    fake, link = printer
    fake.faults.paper_near_end = True
    done = _print(link, "receipt")
    assert done.exit_code == 0, done.output
    assert "near its end" in done.output and len(fake.receipts) == 1


@pytest.mark.parametrize(
    ("fault", "words"),
    [("cover_open", "cover open"), ("paper_out", "out of paper")],
)
def test_a_printer_that_cannot_print_exits_2_and_prints_nothing(
    printer: tuple[FakePrinter, Path], fault: str, words: str
) -> None:
    fake, link = printer
    if fault == "cover_open":
        fake.faults.cover_open = True
    else:
        fake.faults.paper_lines_left = 0
    done = _print(link, "certificate")
    assert done.exit_code == 2, done.output
    assert words in done.output and "Printed" not in done.output
    assert fake.papers == []  # refused before a byte of the document was sent
    status = CliRunner().invoke(root, ["--profile", "test", "print", "status", "-p", str(link)])
    assert status.exit_code == 1 and words in status.output


def test_paper_running_out_mid_document_exits_2_and_says_so(
    printer: tuple[FakePrinter, Path],
) -> None:
    fake, link = printer
    fake.faults.paper_lines_left = 4
    done = _print(link, "statement")
    assert done.exit_code == 2, done.output
    assert "part way" in done.output and "QR" in done.output
    # why and how far it got are said (the CLI sends the statement as one part, so all of it
    # had gone when the status after it said the paper was out)
    assert "out of paper" in done.output
    assert re.search(r"after \d+ of \d+ bytes", done.output)
    assert len(fake.papers) == 1


def test_no_printer_on_the_port_exits_2(tmp_path: Path) -> None:
    done = _print(tmp_path / "absent", "test")
    assert done.exit_code == 2 and "Printer:" in done.output
