"""The ID card driver through pyserial on a real pseudo-terminal, against the emulated module."""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.idcard.driver import IdCardReader
from drivers.idcard.emulator import FakeSamModule, make_emulator
from drivers.idcard.errors import (
    IdCardDataError,
    IdCardDisconnectedError,
    IdCardNoCardError,
    IdCardRemovedError,
    IdCardTimeoutError,
)
from drivers.ptylink import PtyLink
from drivers.vocabulary import DeviceEvent, DeviceHealth
from kiosk.config import load_config

TODAY = dt.date(2026, 12, 3)


class Rig:
    def __init__(self, tmp: Path) -> None:
        self.link = tmp / "ttyID0"
        self.events: list[DeviceEvent] = []
        self.emu: PtyLink | None = None
        self.reader: IdCardReader | None = None

    def start(self, profile: str | None = "resident", **kw: object) -> FakeSamModule:
        self.emu = make_emulator(self.link, profile=profile, **kw).start()  # type: ignore[arg-type]
        assert isinstance(self.emu.handler, FakeSamModule)
        return self.emu.handler

    def open(self, **overrides: object) -> IdCardReader:
        section = load_config(None, profile="test").config.idcard
        if overrides:
            section = section.model_copy(update=overrides)
        self.reader = IdCardReader(
            section.to_settings(port=str(self.link)), post=self.events.append
        )
        self.reader.open()
        return self.reader

    def close(self) -> None:
        if self.reader is not None:
            self.reader.close()
        if self.emu is not None:
            self.emu.stop()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    r = Rig(tmp_path)
    yield r
    r.close()


@pytest.mark.parametrize("profile", ["resident", "foreigner", "permit", "expired"])
def test_reads_every_card_kind(rig: Rig, profile: str) -> None:
    from drivers.idcard.emulator.profiles import PROFILES
    from drivers.idcard.layouts import decode_text

    rig.start(profile)
    read = rig.open().read(today=TODAY)
    expected = decode_text(PROFILES[profile].text(), today=TODAY)
    assert read.holder == expected
    assert len(read.photo) == 1024 and "not decoded" in repr(read.photo)


def test_bad_check_digit_is_a_typed_error(rig: Rig) -> None:
    rig.start("bad_check_digit")
    with pytest.raises(IdCardDataError, match="check digit"):
        rig.open().read(today=TODAY)


def test_no_card_then_card_placed(rig: Rig) -> None:
    module = rig.start(None)
    reader = rig.open()
    with pytest.raises(IdCardNoCardError):
        reader.read()
    assert not reader.wait_for_card(0.1)
    threading.Timer(0.1, module.place, args=("resident",)).start()
    assert reader.wait_for_card(3.0)
    assert reader.read(today=TODAY).holder.name.reveal() == "王建国"


def test_card_moved_away_mid_read_gives_nothing_partial(rig: Rig) -> None:
    module = rig.start("resident")
    reader = rig.open()
    module.faults.remove_during_read = True
    with pytest.raises(IdCardRemovedError):
        reader.read(today=TODAY)


def test_checksum_errors_and_garbage_are_retried(rig: Rig) -> None:
    module = rig.start("resident")
    reader = rig.open()
    module.faults.bad_checksum_replies = 2
    module.faults.garbage_before = b"\x00\xaa\xaa\x13\x37garbage"
    assert reader.read(today=TODAY).holder.id_number.reveal() == "330304198808080037"
    assert reader.retries_used >= 2


def test_silence_is_a_timeout_after_bounded_retries(rig: Rig) -> None:
    module = rig.start("resident")
    reader = rig.open()
    module.faults.silent = True
    with pytest.raises(IdCardTimeoutError):
        reader.read()
    assert reader.health is DeviceHealth.HARDWARE_ERROR
    module.faults.silent = False
    assert reader.read(today=TODAY).holder.name.reveal() == "王建国"
    assert reader.health in {DeviceHealth.ONLINE}  # (a set: mypy keeps the earlier narrowing)


def test_reopens_after_unplug_and_replug(rig: Rig) -> None:
    rig.start("resident")
    reader = rig.open()
    assert rig.emu is not None
    rig.emu.unplug()
    threading.Timer(0.15, rig.emu.replug).start()
    assert reader.read(today=TODAY).holder.name.reveal() == "王建国"
    assert reader.reopens >= 1


def test_unplugged_for_good_is_disconnected(rig: Rig) -> None:
    rig.start("resident")
    reader = rig.open(reopen_attempts=2, reopen_backoff_s=0.01)
    assert rig.emu is not None
    rig.emu.unplug()
    with pytest.raises(IdCardDisconnectedError):
        reader.read()
    assert reader.health is DeviceHealth.NO_DEVICE


def test_missing_port_is_no_device(tmp_path: Path) -> None:
    section = load_config(None, profile="test").config.idcard
    reader = IdCardReader(section.to_settings(port=str(tmp_path / "nothing")))
    with pytest.raises(IdCardDisconnectedError):
        reader.open()
    assert reader.health is DeviceHealth.NO_DEVICE


def test_sam_id_is_formatted_like_its_label(rig: Rig) -> None:
    rig.start("resident")
    assert rig.open().sam_id() == "05.00-875770417-0943142453-0218893066"
