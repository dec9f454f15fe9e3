"""Running the emulator in the foreground (demo): `kiosk card emulate` and `python -m ...`."""

from __future__ import annotations

import fcntl
import signal
import tempfile
import threading
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from drivers.card.emulator.card import VirtualCard
from drivers.card.emulator.harness import EmulatedReaders, foreign_pcscd
from drivers.card.emulator.profiles import load_profile
from drivers.card.emulator.server import CardEmulator

__all__ = ["LOCK_PATH", "EmulatorRun", "run_foreground"]

LOCK_PATH = "/tmp/ssk-pcscd.lock"
"""The machine-wide lock of whoever owns the one pcscd (the test fixture takes it too)."""


@dataclass(frozen=True)
class EmulatorRun:
    """What to run. Times in seconds; `with_pcscd` starts the private pcscd (root)."""

    profile: str | None = "ssc2"
    slot: int = 0
    port: int = 35963
    psam: bool = False
    with_pcscd: bool = True
    isolate: bool = True
    netns: str = "ssk-vpcd"
    t0_strict: bool = True
    latency_s: float = 0.0
    silence_s: float = 3.0
    absent_s: float = 0.6
    retry_s: float = 0.05
    start_timeout_s: float = 15.0


def _wait_for_stop(stop: threading.Event) -> None:
    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    main = threading.current_thread() is threading.main_thread()
    # Signal handlers can only be set from the main thread (tests run this in another one).
    old = signal.signal(signal.SIGTERM, _on_signal) if main else None
    try:
        while not stop.wait(0.5):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        if main:
            signal.signal(signal.SIGTERM, old)


def run_foreground(
    run: EmulatorRun, say: Callable[[str], None], stop: threading.Event | None = None
) -> None:
    """Run until Ctrl-C / SIGTERM (or `stop` is set). Raises HarnessError/ProfileError/OSError."""
    stop = stop or threading.Event()
    card = load_profile(run.profile, t0_strict=run.t0_strict) if run.profile else None
    if run.with_pcscd:
        with open(LOCK_PATH, "a+") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                lock.seek(0)
                raise OSError(f"{LOCK_PATH} is held by {lock.read().strip()}") from None
            _run_with_pcscd(run, card, say, stop)
        return
    _run_slots(run, card, say, stop)


def _run_with_pcscd(
    run: EmulatorRun, card: VirtualCard | None, say: Callable[[str], None], stop: threading.Event
) -> None:
    others = foreign_pcscd()
    if others:
        pid, cmd = others[0]
        raise OSError(f"another pcscd runs (pid {pid}: {cmd}); stop it first")
    with tempfile.TemporaryDirectory(prefix="ssk-emulate-") as tmp:
        readers = EmulatedReaders(
            Path(tmp),
            port=run.port,
            netns_name=run.netns,
            latency_s=run.latency_s,
            silence_s=run.silence_s,
            absent_s=run.absent_s,
            start_timeout_s=run.start_timeout_s,
            isolate=run.isolate,
        )
        try:
            readers.start()
            if card is not None:
                readers.slot(run.slot).insert(card)
            if run.psam:
                readers.psam.insert("psam")
            where = f"network namespace {run.netns}" if run.isolate else "all interfaces (!)"
            say(f"pcscd runs with vpcd on ports {run.port}/{run.port + 1} in {where}")
            for i, name in enumerate(readers.reader_names):
                inside = readers.slot(i).card
                say(f"  {name}: {inside.profile_name if inside else 'empty'}")
            say("read it with: kiosk card read   (Ctrl-C stops)")
            _wait_for_stop(stop)
        finally:
            readers.close()


def _run_slots(
    run: EmulatorRun, card: VirtualCard | None, say: Callable[[str], None], stop: threading.Event
) -> None:
    slots: list[CardEmulator] = []
    try:
        wanted: list[tuple[int, str]] = []
        if run.profile:
            wanted.append((run.slot, run.profile))
        if run.psam:
            wanted.append((1, "psam"))
        for index, _name in wanted:
            emu = CardEmulator(
                "127.0.0.1",
                run.port + index,
                latency_s=run.latency_s,
                silence_s=run.silence_s,
                absent_s=run.absent_s,
                retry_s=run.retry_s,
                name=f"slot{index}",
            )
            emu.start()
            emu.insert(card if (index == run.slot and card is not None) else "psam")
            slots.append(emu)
            say(f"slot {index}: {_name} -> connects to vpcd at 127.0.0.1:{run.port + index}")
        say(
            "point pcscd at it: a reader.conf.d file with DEVICENAME /dev/null:"
            f"{run.port} and CHANNELID {run.port} (vpcd listens; keep that port firewalled)"
        )
        say("Ctrl-C stops")
        _wait_for_stop(stop)
    finally:
        for emu in slots:
            emu.stop()
