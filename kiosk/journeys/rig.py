"""The emulated hardware a headless journey runs on: the card emulator behind the real pcscd,
the fingerprint emulator on a pseudo-terminal and a generated camera stream.

`kiosk journey`, the demo and the benchmark build their own `EmulatedHardware` (taking the
machine's pcscd lock, as `kiosk demo` does); the end-to-end tests hand in the session-wide test
pcscd instead. Broker and central faults (`broker_down`, `central_down`) need the caller's
`NetworkControl`: the command line runs against a central it does not own and refuses them.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import os
import shutil
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from drivers.card.emulator import read_profile
from drivers.card.emulator.faults import Fault
from drivers.card.emulator.harness import EmulatedReaders, foreign_pcscd
from drivers.card.emulator.runner import LOCK_PATH
from drivers.fingerprint.emulator import PtyEmulator, make_emulator
from kiosk.config import KioskConfig

__all__ = [
    "EmulatedHardware",
    "HardwareError",
    "NetworkControl",
    "ProfileSecrets",
    "profile_secrets",
    "reader_lock",
    "stop_system_pcscd",
]

log = logging.getLogger("kiosk.journeys.rig")
Say = Callable[[str], None]


class HardwareError(RuntimeError):
    """The emulated hardware cannot do what a step asks; the message says why."""


class NetworkControl(Protocol):
    """Broker and central switches for the fault journeys (tests own both)."""

    def broker_down(self) -> None: ...
    def broker_up(self) -> None: ...
    def central_down(self) -> None: ...
    def central_up(self) -> None: ...


@dataclass(frozen=True, slots=True)
class ProfileSecrets:
    """What a journey may need to know of its card profile to act as its holder: the PIN (to
    type it) and the personal values the tests search for after the end. Test data only: the
    emulator's profiles are fictitious persons."""

    pin: str
    id_number: str
    name: str
    card_number: str

    def wrong_pin(self) -> str:
        """A PIN of the same length that is certainly not this one."""
        return "".join(str((int(c) + 1) % 10) if c.isdigit() else "0" for c in self.pin)


def profile_secrets(profile: str) -> ProfileSecrets:
    """The PIN and personal values declared by card profile `profile`."""
    declared = read_profile(profile)
    return ProfileSecrets(
        pin=str(getattr(declared, "pin", "") or ""),
        id_number=str(getattr(declared, "id_number", "") or ""),
        name=str(getattr(declared, "name", "") or ""),
        card_number=str(getattr(declared, "card_number", "") or ""),
    )


@contextlib.contextmanager
def reader_lock(say: Say, holder: str, wait_s: float = 600.0) -> Iterator[None]:
    """The machine-wide lock of the one pcscd (tests, `kiosk demo` and `kiosk card emulate`
    take it too); says who holds it while waiting."""
    with open(LOCK_PATH, "a+") as lock:
        deadline = time.monotonic() + wait_s
        waiting = False
        while True:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() > deadline:
                    raise HardwareError(
                        "another test run or demo still owns the emulated card reader"
                    ) from None
                if not waiting:
                    lock.seek(0)
                    who = lock.read().strip() or "another process"
                    say(f"waiting for the emulated card reader: {who} is using it")
                    waiting = True
                time.sleep(0.5)
        lock.seek(0)
        lock.truncate()
        lock.write(f"{holder} pid {os.getpid()}\n")
        lock.flush()
        yield


def stop_system_pcscd(say: Say) -> None:
    """On a systemd machine the packaged pcscd is socket-activated; the emulated reader needs
    the only one. Raises `HardwareError` naming another pcscd that still runs."""
    others = foreign_pcscd()
    if shutil.which("systemctl") and Path("/run/systemd/system").is_dir():
        active = subprocess.run(
            ["systemctl", "is-active", "--quiet", "pcscd.socket"], check=False
        ).returncode
        if active == 0 or others:
            say("  stopping the system pcscd (`systemctl start pcscd.socket` restores it)")
            subprocess.run(["systemctl", "stop", "pcscd.socket", "pcscd.service"], check=False)
            others = foreign_pcscd()
    if others:
        pid, cmd = others[0]
        raise HardwareError(f"another pcscd runs (pid {pid}: {cmd}); stop it and try again")


class EmulatedHardware:
    """Card slot, PSAM slot, scanner and camera of one emulated terminal.

    `readers`: an already running `EmulatedReaders` (the tests' pcscd) or None to start one
    in `workdir` (the caller holds `reader_lock`). `config()` returns the kiosk config pointed
    at these devices.
    """

    def __init__(
        self,
        config: KioskConfig,
        workdir: Path,
        *,
        readers: EmulatedReaders | None = None,
        network: NetworkControl | None = None,
        card_profile: str = "ssc3",
        camera: str = "synthetic:turn-left-right",
        finger: str | None = "f03",
    ) -> None:
        self._base = config
        self.workdir = workdir
        self._own_readers = readers is None
        self.readers = readers
        self.network = network
        self.card_profile = card_profile
        self.camera_source = camera
        self.finger = finger
        self.fp_link = workdir / "ttyFP0"
        self._fp: PtyEmulator | None = None

    # -- lifecycle -----------------------------------------------------------------------------

    def start(self) -> None:
        """Readers with the PSAM in slot 1 (slot 0 empty), the scanner with the journey's
        finger on the window."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        if self.readers is None:
            emu = self._base.card_emulator
            self.readers = EmulatedReaders(
                self.workdir / "pcscd",
                port=emu.port,
                netns_name=emu.netns,
                latency_s=emu.latency_s,
                silence_s=emu.silence_s,
                absent_s=emu.absent_s,
                start_timeout_s=emu.pcscd_start_timeout_s,
                isolate=emu.isolate,
            )
            self.readers.start()
        if self.readers.psam.card is None:
            self.readers.psam.insert("psam")
        # The first read must find the PSAM: wait until pcscd has seen it (one poll, 0.4 s).
        _wait_state(self.readers.reader_names[1], present=True)
        self._fp = make_emulator(
            str(self.fp_link),
            profile=self._base.fingerprint.emulator_profile,
            finger=self.finger,
            latency_scale=self._base.fingerprint.emulator_latency_scale,
        ).start()

    def stop(self) -> None:
        """Stop what this rig started; a borrowed pcscd gets its slots emptied instead."""
        if self._fp is not None:
            self._fp.stop()
            self._fp = None
        readers = self.readers
        if readers is None:
            return
        if self._own_readers:
            readers.close()
            self.readers = None
            return
        for index, slot in enumerate((readers.card, readers.psam)):
            slot.clear_faults()
            if slot.remove() is not None:
                with contextlib.suppress(Exception):
                    _wait_state(readers.reader_names[index], present=False)

    def config(self) -> KioskConfig:
        """The kiosk config with the card reader, PSAM, scanner and camera of this rig."""
        assert self.readers is not None, "start() first"
        base = self._base
        return base.model_copy(
            update={
                "card": base.card.model_copy(update={"reader": self.readers.reader_names[0]}),
                "psam": base.psam.model_copy(
                    update={"reader": self.readers.reader_names[1], "slot": 1}
                ),
                "fingerprint": base.fingerprint.model_copy(update={"port": str(self.fp_link)}),
                "camera": base.camera.model_copy(update={"source": self.camera_source}),
            }
        )

    # -- step actions --------------------------------------------------------------------------

    def _slot(self) -> EmulatedReaders:
        if self.readers is None:
            raise HardwareError("the emulated reader is not running")
        return self.readers

    def empty_slot(self) -> None:
        """No card in slot 0, as pcscd sees it (a journey starts at the attract screen)."""
        readers = self._slot()
        if readers.card.remove() is not None:
            _wait_state(readers.reader_names[0], present=False)

    def insert_card(self, profile: str | None = None) -> None:
        """The citizen inserts a card of `profile` (default: the journey's)."""
        self._slot().card.insert(profile or self.card_profile)

    def remove_card(self) -> None:
        """The citizen pulls the card (pcscd notices within its poll)."""
        self._slot().card.remove()

    def insert_bank_card(self, profile: str = "bank_card") -> None:
        """Activation's swap step: the social security card out, the bank card in."""
        self._slot().card.swap(profile)

    def return_card(self) -> None:
        """The social security card back after the swap (a fresh card of the same profile:
        the emulator keeps no state across insertions but what the profile declares)."""
        self._slot().card.swap(self.card_profile)

    def card_fault(self, fault: str, after: int = 0) -> None:
        """Arm a one-shot card fault (drivers/card/emulator/faults.py), e.g. the card leaving
        mid-command at the next APDU."""
        try:
            armed = Fault(fault)
        except ValueError:
            known = ", ".join(f.value for f in Fault)
            raise HardwareError(f"unknown card fault {fault!r}; known: {known}") from None
        self._slot().card.inject(armed, after=after)

    def place_finger(self, finger: str) -> None:
        """Who touches the scanner from now on ("none": nobody)."""
        if self._fp is None:
            raise HardwareError("the fingerprint emulator is not running")
        self._fp.module.sensor.set_default(None if finger == "none" else finger)

    def network_action(self, action: str) -> None:
        """`broker_down`, `broker_up`, `central_down`, `central_up` through `network`."""
        if self.network is None:
            raise HardwareError(
                f"{action} needs control of the broker and the central system: the command "
                "line runs against a central it does not own (the tests run these journeys)"
            )
        getattr(self.network, action)()


def _wait_state(reader: str, *, present: bool, timeout_s: float = 5.0) -> None:
    """Until pcscd reports a card in `reader` (or none); `HardwareError` after `timeout_s`."""
    from smartcard.scard import (
        SCARD_S_SUCCESS,
        SCARD_SCOPE_USER,
        SCARD_STATE_PRESENT,
        SCARD_STATE_UNAWARE,
        SCardEstablishContext,
        SCardGetStatusChange,
        SCardReleaseContext,
    )

    hresult, ctx = SCardEstablishContext(SCARD_SCOPE_USER)
    if hresult != SCARD_S_SUCCESS:
        raise HardwareError(f"pcscd does not answer (0x{hresult & 0xFFFFFFFF:08X})")
    try:
        deadline = time.monotonic() + timeout_s
        state = SCARD_STATE_UNAWARE
        while time.monotonic() < deadline:
            hresult, states = SCardGetStatusChange(ctx, 300, [(reader, state)])
            if hresult == SCARD_S_SUCCESS:
                state = states[0][1] & ~0x10000  # SCARD_STATE_CHANGED
                if bool(state & SCARD_STATE_PRESENT) == present:
                    return
    finally:
        SCardReleaseContext(ctx)
    raise HardwareError(f"pcscd still sees {reader} {'empty' if present else 'with a card'}")
