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
from drivers.idcard.emulator import PROFILES as ID_PROFILES
from drivers.idcard.emulator import FakeSamModule
from drivers.idcard.emulator import make_emulator as make_idcard_emulator
from drivers.printer.emulator import FakePrinter
from drivers.printer.emulator import make_emulator as make_printer_emulator
from drivers.ptylink import PtyLink
from kiosk.config import KioskConfig

__all__ = [
    "ESSC_KINDS",
    "EmulatedHardware",
    "EsscIssuer",
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
    def broker_down_before_answer(self) -> None: ...
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


class EsscIssuer(Protocol):
    """Issues e-SSC codes as the national platform would (the tests own the central's key and
    database; docs/essc-login.md): `kind` valid, expired, replayed, forged, other_terminal, or
    lost (the holder of the card reported lost)."""

    def issue(self, kind: str, id_number: str, terminal_id: str) -> str: ...


ESSC_KINDS = ("valid", "expired", "replayed", "forged", "other_terminal", "lost")
PRINTER_FAULTS = ("paper_out_mid", "paper_out", "cover_open", "paper_near_end", "ok")


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
        camera: str = "synthetic:turn-left+look-up+turn-right",
        finger: str | None = "f03",
        essc: EsscIssuer | None = None,
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
        self.essc = essc
        self.id_link = workdir / "ttyID0"
        self.printer_link = workdir / "ttyPRN0"
        self.essc_video = workdir / "essc-phone.avi"
        self._id_emu: PtyLink | None = None
        self._printer_emu: PtyLink | None = None

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

    def use_hall_devices(self, *, id_card: str, printer: bool) -> None:
        """Attach (or detach) the emulated ID card reader and receipt printer on ptys for one
        journey: `id_card` "" none, "none" a reader without a card, else the card on it."""
        self._stop_hall_devices()
        if id_card:
            profile = None if id_card == "none" else id_card
            self._id_emu = make_idcard_emulator(self.id_link, profile=profile, pace=False).start()
        if printer:
            self._printer_emu = make_printer_emulator(
                self.printer_link, out_dir=self.workdir / "paper", pace=False
            ).start()

    def _stop_hall_devices(self) -> None:
        for emu in (self._id_emu, self._printer_emu):
            if emu is not None:
                emu.stop()
        self._id_emu = self._printer_emu = None

    def stop(self) -> None:
        """Stop what this rig started; a borrowed pcscd gets its slots emptied instead."""
        self._stop_hall_devices()
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
                "idcard": base.idcard.model_copy(
                    update={"enabled": self._id_emu is not None, "port": str(self.id_link)}
                ),
                "printer": base.printer.model_copy(
                    update={
                        "enabled": self._printer_emu is not None,
                        "port": str(self.printer_link),
                    }
                ),
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

    # -- the hall's other devices ---------------------------------------------------------------

    def _id_module(self) -> FakeSamModule:
        if self._id_emu is None or not isinstance(self._id_emu.handler, FakeSamModule):
            raise HardwareError("this journey has no ID card reader (set id_card in its file)")
        return self._id_emu.handler

    def place_id_card(self, profile: str) -> None:
        """The citizen lays ID card `profile` on the reader."""
        try:
            self._id_module().place(profile)
        except (KeyError, ValueError):
            known = ", ".join(ID_PROFILES)
            raise HardwareError(f"unknown ID card profile {profile!r}; known: {known}") from None

    def remove_id_card(self) -> None:
        self._id_module().take_away()

    def _paper(self) -> FakePrinter:
        if self._printer_emu is None or not isinstance(self._printer_emu.handler, FakePrinter):
            raise HardwareError("this journey has no printer (set printer = true in its file)")
        return self._printer_emu.handler

    def printer_fault(self, fault: str) -> None:
        """`paper_out_mid`: the roll ends a few lines into the next document; `paper_out`,
        `cover_open`, `paper_near_end`; `ok` clears every fault and loads paper."""
        faults = self._paper().faults
        if fault == "paper_out_mid":
            faults.paper_lines_left = 4
        elif fault == "paper_out":
            faults.paper_lines_left = 0
        elif fault == "cover_open":
            faults.cover_open = True
        elif fault == "paper_near_end":
            faults.paper_near_end = True
        elif fault == "ok":
            self._paper().load_paper()
            self._paper().faults.cover_open = False
        else:
            raise HardwareError(f"unknown printer fault {fault!r}; known: {PRINTER_FAULTS}")

    def printed(self) -> list[str]:
        """The decoded text of every paper the printer gave out (or started), oldest first."""
        if self._printer_emu is None:
            return []
        return [r.text for r in self._paper().papers]

    def show_essc(self, kind: str, id_number: str, terminal_id: str) -> None:
        """The citizen's phone shows a fresh e-SSC code of `kind` to the camera (a video the
        camera source plays: `essc_video`)."""
        if kind not in ESSC_KINDS:
            raise HardwareError(f"unknown e-SSC code kind {kind!r}; known: {ESSC_KINDS}")
        if self.essc is None:
            raise HardwareError(
                "show_essc needs the central's e-SSC issuer: the command line runs against a "
                "central it does not own (the tests run these journeys; for the demo, "
                "`kiosk-central essc issue ID --png F` prints a code)"
            )
        from drivers.camera.qr_frames import write_qr_video

        code = self.essc.issue(kind, id_number, terminal_id)
        write_qr_video(code, self.essc_video, frames=30)

    def network_action(self, action: str) -> None:
        """`broker_down`, `broker_up`, `broker_down_before_answer`, `central_down`,
        `central_up` through `network`."""
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
