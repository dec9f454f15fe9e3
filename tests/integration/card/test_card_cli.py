"""`kiosk card ...` as a technician runs it (a real process on the real stack), and the privacy
test: every card profile read, PIN verified (right and wrong) and changed with DEBUG logging and
the APDU tracer on; no PIN, ID number, name or card number may appear in any log or stderr."""

from __future__ import annotations

import dataclasses
import io
import json
import logging
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from drivers.card import reader as pcsc
from drivers.card.cryptogram import PsamCryptogramProvider
from drivers.card.driver import CardDriver
from drivers.card.emulator import list_profiles, read_profile
from drivers.card.emulator.model import SscProfile
from drivers.card.errors import CardError
from drivers.card.holder import CardHolder
from drivers.card.psam import PsamClient
from drivers.card.security import CardAccess, make_security_hook
from drivers.card.settings import CardSettings
from drivers.personal import Masked, PersonalKind, PinBuffer

ROOT = Path(__file__).resolve().parents[3]
CARD_PROFILES = [p for p in list_profiles() if isinstance(read_profile(p), SscProfile)]
WRONG_PIN = "908172"
NEW_PIN = "246813"


def kiosk(*args: str, stdin: bytes = b"") -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "kiosk.cli.main", "--profile", "test", "-v", "card", *args],
        input=stdin,
        capture_output=True,
        cwd=ROOT,
        timeout=60,
        check=False,
    )


def swap(slot: Any, name: str) -> None:
    """Remove the card, wait until pcscd saw it go, insert another (a real swap takes time)."""
    slot.card.remove()
    slot.wait_absent(0)
    slot.card.insert(name)


def profile(name: str) -> SscProfile:
    prof = read_profile(name)
    assert isinstance(prof, SscProfile)
    return prof


def test_read_json_reveal(card_slot: Any, pcscd: Any) -> None:
    card_slot.card.insert("ssc2_ext")
    res = kiosk("read", "--reader", pcscd.reader_names[0], "--json", "--reveal")
    assert res.returncode == 0, res.stderr.decode()
    data = json.loads(res.stdout)
    prof = profile("ssc2_ext")
    assert data["name"] == prof.name
    assert data["id_number"] == prof.id_number
    assert data["card_number"] == prof.card_number


def test_read_masked_by_default(card_slot: Any, pcscd: Any) -> None:
    card_slot.card.insert("ssc2")
    res = kiosk("read", "--reader", pcscd.reader_names[0], "--json")
    assert res.returncode == 0, res.stderr.decode()
    out = res.stdout.decode()
    prof = profile("ssc2")
    for secret in (prof.name, prof.id_number, prof.card_number):
        assert secret not in out
    assert json.loads(out)["id_number"].startswith(prof.id_number[:3] + "*")


def test_readers_lists_both_slots(card_slot: Any, pcscd: Any) -> None:
    res = kiosk("readers")
    assert res.returncode == 0, res.stderr.decode()
    for name in pcscd.reader_names:
        assert name in res.stdout.decode()


def test_exit_codes(card_slot: Any, pcscd: Any) -> None:
    reader = pcscd.reader_names[0]
    card_slot.card.insert("ssc2")
    res = kiosk("verify-pin", "--reader", reader, "--pin-stdin", stdin=b"123456\n")
    assert res.returncode == 0, res.stderr.decode()
    res = kiosk("verify-pin", "--reader", reader, "--pin-stdin", stdin=WRONG_PIN.encode() + b"\n")
    assert res.returncode == 2
    assert "2 tries left" in res.stderr.decode()
    swap(card_slot, "pin_blocked")
    res = kiosk("verify-pin", "--reader", reader, "--pin-stdin", stdin=b"123456\n")
    assert res.returncode == 3, res.stderr.decode()
    swap(card_slot, "pin_not_enabled")
    res = kiosk("verify-pin", "--reader", reader, "--pin-stdin", stdin=b"123456\n")
    assert res.returncode == 4, res.stderr.decode()
    card_slot.card.remove()
    card_slot.wait_absent(0)  # pcscd polls every 0.4 s: a read before that meets a dying card
    res = kiosk("read", "--reader", reader, "--timeout", "0.2")
    assert res.returncode == 5
    assert "no card" in res.stderr.decode()
    res = kiosk("read", "--reader", "no such reader", "--timeout", "0.2")
    assert res.returncode != 0
    assert "no such reader" in res.stderr.decode() or "no card" in res.stderr.decode()


def test_change_pin_cli(card_slot: Any, pcscd: Any) -> None:
    reader = pcscd.reader_names[0]
    card_slot.card.insert("ssc2")
    res = kiosk(
        "change-pin", "--reader", reader, "--pin-stdin", stdin=f"123456\n{NEW_PIN}\n".encode()
    )
    assert res.returncode == 0, res.stderr.decode()
    res = kiosk("verify-pin", "--reader", reader, "--pin-stdin", stdin=f"{NEW_PIN}\n".encode())
    assert res.returncode == 0, res.stderr.decode()


@pytest.fixture
def all_logs(caplog: pytest.LogCaptureFixture) -> Iterator[io.StringIO]:
    """Every log record of the process at DEBUG, raw (no redaction filter), plus caplog."""
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setLevel(logging.DEBUG)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    old_level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    caplog.set_level(logging.DEBUG)
    try:
        yield stream
    finally:
        root.removeHandler(handler)
        root.setLevel(old_level)


@pytest.mark.parametrize("name", CARD_PROFILES)
def test_nothing_personal_in_logs(
    psam_slot: Any,
    card_settings: CardSettings,
    all_logs: io.StringIO,
    caplog: pytest.LogCaptureFixture,
    name: str,
) -> None:
    """With the test PSAM in slot 1, as on a terminal: 3rd-generation cards are read after
    RKSSSE authentication, so their name and ID number are read (and searched for) too."""
    prof = profile(name)
    reader, psam_reader = psam_slot.reader_names[0], psam_slot.reader_names[1]
    assert card_settings.trace_apdus
    errors: list[str] = []
    holders: list[CardHolder] = []
    seen: list[CardAccess] = []

    def attempt(fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except CardError as e:
            errors.append(str(e))
            logging.getLogger("test").debug("operation failed: %s", e)
            return None

    # In process: the driver with the tracer on, authenticated by the PSAM like the kiosk's.
    psam_slot.wait_present(1)
    psam = pcsc.connect(psam_reader, dataclasses.replace(card_settings, reader=psam_reader))
    try:
        hook = make_security_hook(
            PsamCryptogramProvider(PsamClient(psam)), on_access=lambda a, _: seen.append(a)
        )
        driver = CardDriver(card_settings, security_hook=hook)
        psam_slot.card.insert(name)
        with driver.open(driver.wait_for_card()) as s:
            holder = attempt(s.read_holder)
            if holder is not None:
                holders.append(holder)
            attempt(s.verify_pin, PinBuffer.from_bytes(prof.pin.encode()))
            attempt(s.verify_pin, PinBuffer.from_bytes(WRONG_PIN.encode()))
            attempt(
                s.change_pin,
                PinBuffer.from_bytes(prof.pin.encode()),
                PinBuffer.from_bytes(NEW_PIN.encode()),
            )
    finally:
        psam.close()
    if not prof.raw_records:  # a corrupt record is refused, PSAM or not
        assert holders and holders[0].name.reveal() == prof.name, errors
        assert holders[0].id_number.reveal() == prof.id_number
    if prof.rkssse_protected:
        assert seen and seen[0].read_authenticated  # EF06 came through RKSSSE, not around it
    # The CLI, on a fresh card: it opens the PSAM of slot 1 itself.
    swap(psam_slot, name)
    stderr = b""
    for args, stdin in [
        (("read",), b""),
        (("verify-pin", "--pin-stdin"), prof.pin.encode() + b"\n"),
        (("verify-pin", "--pin-stdin"), WRONG_PIN.encode() + b"\n"),
        (("change-pin", "--pin-stdin"), f"{prof.pin}\n{NEW_PIN}\n".encode()),
    ]:
        res = kiosk(*args, "--reader", reader, stdin=stdin)
        if args == ("read",) and not prof.raw_records:
            out = res.stdout.decode()
            assert res.returncode == 0, res.stderr.decode()
            # The holder was read (masked on the screen), not only the issuer data.
            assert str(Masked(prof.id_number, PersonalKind.ID_NUMBER)) in out, out
        stderr += res.stderr
    captured = "\n".join(
        [all_logs.getvalue(), caplog.text, stderr.decode("utf-8", "replace"), *errors]
    )
    assert "SW " in captured  # the tracer did log
    for secret in (prof.pin, WRONG_PIN, NEW_PIN, prof.id_number, prof.name, prof.card_number):
        assert secret not in captured, f"{name}: a personal value leaked into the logs"
    for raw in (prof.name.encode("gbk").hex(), prof.id_number.encode().hex()):
        assert raw not in captured.lower()
