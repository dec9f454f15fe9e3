"""Clock synchronisation from the system's real state: adjtimex(2)'s answer and its decision,
`timedatectl` parsing, the fallbacks, and the journal stamping records with it."""

from __future__ import annotations

import ctypes
from pathlib import Path

import pytest

from kiosk.clock import (
    MAXERROR_LIMIT_US,
    STA_UNSYNC,
    TIME_ERROR,
    ClockSync,
    FakeClock,
    KernelTimeStatus,
    _Timex,
    kernel_time_status,
    parse_timedatectl,
    system_clock_synced,
)
from kiosk.config.journal import JournalConfig
from kiosk.journal import Journal, Sealer

TIME_OK, TIME_INS = 0, 1
STA_PLL = 0x0001


@pytest.mark.parametrize(
    ("status", "expected"),
    [
        (KernelTimeStatus(TIME_OK, STA_PLL, 500_000), True),  # timesyncd/chrony disciplining
        (KernelTimeStatus(TIME_INS, STA_PLL, 1_000), True),  # a leap second pending is synced
        (KernelTimeStatus(TIME_ERROR, STA_UNSYNC, MAXERROR_LIMIT_US), False),  # fresh boot
        (KernelTimeStatus(TIME_OK, STA_UNSYNC | STA_PLL, 1_000), False),  # daemon gave up
        (KernelTimeStatus(TIME_OK, STA_PLL, MAXERROR_LIMIT_US), False),  # error bound grew
        (KernelTimeStatus(TIME_ERROR, STA_PLL, 1_000), False),
    ],
)
def test_kernel_decision(status: KernelTimeStatus, expected: bool) -> None:
    assert status.synchronised is expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("yes\n", True),
        ("no\n", False),
        ("NTPSynchronized=yes\n", True),
        ("NTPSynchronized=no\n", False),
        ("", None),
        ("System has not been booted with systemd as init system (PID 1). Can't operate.\n", None),
        ("NTPSynchronized=maybe\n", None),
    ],
)
def test_parse_timedatectl(text: str, expected: bool | None) -> None:
    assert parse_timedatectl(text) is expected


def test_the_real_kernel_answers() -> None:
    # The struct is glibc's `struct timex` (208 bytes on LP64, 128 on ILP32): a wrong layout
    # would read `status` from the wrong offset.
    assert ctypes.sizeof(_Timex) == (208 if ctypes.sizeof(ctypes.c_long) == 8 else 128)
    status = kernel_time_status()
    assert status is not None  # Linux: adjtimex(2) read-only needs no privilege
    assert 0 <= status.state <= TIME_ERROR and status.maxerror_us >= 0
    # The kernel itself sets TIME_ERROR whenever STA_UNSYNC is set.
    assert (status.state == TIME_ERROR) or not status.status & STA_UNSYNC
    assert system_clock_synced() is status.synchronised and system_clock_synced.source == "kernel"


def test_fallbacks_when_the_kernel_cannot_be_asked(tmp_path: Path) -> None:
    clock = FakeClock()
    answers: list[bool | None] = [None, True]
    asked: list[int] = []

    def timedatectl() -> bool | None:
        asked.append(1)
        return answers.pop(0)

    flag = tmp_path / "synchronized"
    sync = ClockSync(
        kernel=lambda: None,
        timedatectl=timedatectl,
        flag_file=flag,
        monotonic=clock.monotonic,
        fallback_ttl_s=60,
    )
    assert sync() is False and sync.source == "none"  # nothing says synced: not synced
    assert sync() is False and len(asked) == 1  # cached: no second process within the TTL
    clock.advance(61)
    assert sync() is True and sync.source == "timedatectl"
    clock.advance(61)
    answers.append(None)
    flag.touch()  # systemd-timesyncd's flag file is the last resort
    assert sync() is True and sync.source == "flag"


def test_the_kernel_wins_over_the_fallbacks(tmp_path: Path) -> None:
    flag = tmp_path / "synchronized"
    flag.touch()
    unsynced = KernelTimeStatus(TIME_ERROR, STA_UNSYNC, MAXERROR_LIMIT_US)
    sync = ClockSync(kernel=lambda: unsynced, timedatectl=lambda: True, flag_file=flag)
    assert sync() is False and sync.source == "kernel"


@pytest.mark.parametrize("synced", [True, False])
def test_journal_stamps_records_with_the_decision(tmp_path: Path, synced: bool) -> None:
    state = KernelTimeStatus(TIME_OK if synced else TIME_ERROR, 0 if synced else STA_UNSYNC, 0)
    journal = Journal(
        tmp_path / "j.sqlite3",
        config=JournalConfig(),
        sealer=Sealer(bytes(range(32))),
        clock=FakeClock(),
        terminal_id="SSK-T-0001",
        boot_id="b1",
        clock_synced=ClockSync(kernel=lambda: state),
    )
    try:
        assert journal.stamp()["clock_synced"] is synced
    finally:
        journal.close()


def test_journal_default_is_the_system_state(tmp_path: Path) -> None:
    journal = Journal(
        tmp_path / "j.sqlite3",
        config=JournalConfig(),
        sealer=Sealer(bytes(range(32))),
        clock=FakeClock(),
        terminal_id="SSK-T-0001",
        boot_id="b1",
    )
    try:
        assert journal.stamp()["clock_synced"] is system_clock_synced()
    finally:
        journal.close()


def test_the_doctor_reports_the_system_state() -> None:
    from kiosk.config import load_config
    from kiosk.doctor import CHECKS, Verdict, run_checks

    config = load_config(None, profile="test").config
    clock_check = next(fn for fn in CHECKS if fn.__name__ == "_clock")
    (line,) = run_checks(config, checks=(clock_check,))
    assert line.name == "clock"
    assert line.verdict is (Verdict.PASS if system_clock_synced() else Verdict.WARN)
    assert system_clock_synced.source in line.detail
