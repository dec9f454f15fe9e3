"""The technician's self-test: every device, the journal, the broker and the production rules,
each with a pass / warn / fail verdict and, where it fails, what to do about it.

`kiosk doctor` prints the report; `kiosk provision` ends with it. A check never raises: a
missing device is a failed line, not a traceback.
"""

from __future__ import annotations

import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from drivers.camera.source import FrameSource
from drivers.card import reader as pcsc
from drivers.card.settings import PinEntry
from drivers.fingerprint.driver import FingerprintDriver
from drivers.idcard.driver import IdCardReader
from drivers.idcard.errors import IdCardError
from drivers.printer.driver import PrinterDriver, PrinterError
from drivers.vocabulary import DeviceHealth
from kiosk.agent import state_dir
from kiosk.card_access import production_findings
from kiosk.clock import SystemClock, system_clock_synced
from kiosk.config import KioskConfig
from kiosk.config.terminal import Mode
from kiosk.journal import Journal, Sealer, load_key
from kiosk.journal.store import OutboxStats
from kiosk.sync.transport import PahoTransport

__all__ = ["Check", "Verdict", "run_checks"]


class Verdict(StrEnum):
    """Outcome of one check; only FAIL makes the doctor exit non-zero."""

    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


@dataclass(frozen=True, slots=True)
class Check:
    """One line of the report. `hint` says what a technician should do when it is not a pass."""

    name: str
    verdict: Verdict
    detail: str
    hint: str = ""


CheckFn = Callable[[KioskConfig], Iterator[Check]]
MIN_FREE_BYTES = 512 * 1024 * 1024  # the journal must be able to hold days of offline backlog


def _config(config: KioskConfig) -> Iterator[Check]:
    mode = config.terminal.mode
    yield Check("config", Verdict.PASS, f"terminal {config.terminal.id}, mode {mode.value}")
    if PinEntry(config.card.pin_entry) is PinEntry.KEYPAD:
        # docs/architecture.md §4: PCI PIN rules want the PIN inside a secure device.
        yield Check(
            "pin entry",
            Verdict.WARN,
            "PINs are typed on the touchscreen keypad",
            "use a reader with a PIN pad and set card.pin_entry = auto (or reader)",
        )


def _clock(_config: KioskConfig) -> Iterator[Check]:
    # Records say whether their wall time was synchronised; a terminal that never syncs sends
    # every record as "clock not synchronised" and the central falls back on receive times.
    synced = system_clock_synced()
    source = system_clock_synced.source
    if synced:
        yield Check("clock", Verdict.PASS, f"wall clock synchronised (from {source})")
    else:
        yield Check(
            "clock",
            Verdict.WARN,
            f"wall clock not synchronised (from {source})",
            "enable NTP: `timedatectl set-ntp true` (systemd-timesyncd) or chrony",
        )


def _storage(config: KioskConfig) -> Iterator[Check]:
    folder = state_dir(config)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        free = shutil.disk_usage(folder).free
    except OSError as e:
        yield Check("state folder", Verdict.FAIL, f"{folder}: {e.strerror}", "check permissions")
        return
    verdict = Verdict.PASS if free >= MIN_FREE_BYTES else Verdict.WARN
    yield Check(
        "disk", verdict, f"{free / 2**30:.1f} GiB free in {folder}", "free space for the journal"
    )
    try:
        key = load_key(config.journal.key_credential, demo=config.terminal.mode is Mode.DEMO)
        path = Path(config.journal.path)
        journal = Journal(
            path if path.is_absolute() else folder / path,
            config=config.journal,
            sealer=Sealer(key),
            clock=SystemClock(),
            terminal_id=config.terminal.id,
            boot_id=uuid.uuid4().hex,
        )
    except Exception as e:  # any journal problem is a failed line with its reason
        yield Check("journal", Verdict.FAIL, str(e), "see the journal section of the README")
        return
    try:
        stats = journal.stats()
        yield Check("journal", Verdict.PASS, f"integrity ok; {_backlog(stats)}")
    finally:
        journal.close()


def _backlog(stats: OutboxStats) -> str:
    text = f"{stats.depth} business message(s) waiting"
    if stats.depth:
        text += f", oldest {stats.oldest_age_s:.0f} s"
    if stats.dead:
        text += f", {stats.dead} dead (see `kiosk sync dead`)"
    return text


def _card(config: KioskConfig) -> Iterator[Check]:
    try:
        readers = pcsc.list_readers()
    except Exception as e:
        yield Check(
            "card reader", Verdict.FAIL, str(e), "is pcscd running? (systemctl status pcscd)"
        )
        return
    if not readers:
        yield Check("card reader", Verdict.FAIL, "no PC/SC reader", "plug the reader in")
        return
    wanted = config.card.reader
    try:
        name = pcsc.pick_reader(readers, wanted) if wanted else readers[0]
    except Exception:
        yield Check(
            "card reader",
            Verdict.FAIL,
            f"no reader matches card.reader = {wanted!r}; found {', '.join(readers)}",
            "fix card.reader in /etc/kiosk/kiosk.toml",
        )
        return
    card = "card inside" if pcsc.card_present(name) else "no card"
    yield Check("card reader", Verdict.PASS, f"{name} ({card})")
    if config.psam.enabled:
        slot = config.psam.slot
        present = config.psam.reader or (readers[slot] if slot < len(readers) else "")
        if not present:
            yield Check("psam", Verdict.FAIL, f"no reader at PSAM slot {slot}", "insert the PSAM")
        else:
            yield Check("psam", Verdict.PASS, f"PSAM reader {present}")


def _production(config: KioskConfig) -> Iterator[Check]:
    if config.terminal.mode is not Mode.PRODUCTION:
        yield Check("production", Verdict.WARN, "demo mode: emulated hardware is accepted")
        return
    hints = {
        "vpcd": "apt-get purge vsmartcard-vpcd",
        "psam": "set psam.enabled = true",
        "tak_kcv": "set psam.tak_kcv to the key check value of the terminal's TAK",
        "tak": "put the terminal's TAK in /etc/kiosk/credentials/psam-tak",
    }
    for finding in production_findings(config):
        verdict = Verdict.PASS if finding.ok else Verdict.FAIL
        yield Check(finding.check, verdict, finding.detail, hints.get(finding.check, ""))


def _fingerprint(config: KioskConfig) -> Iterator[Check]:
    driver = FingerprintDriver(config.fingerprint.to_settings())
    driver.start()  # never raises: the health says what happened
    try:
        if driver.health is not DeviceHealth.ONLINE:
            yield Check(
                "fingerprint",
                Verdict.FAIL,
                f"{config.fingerprint.port}: {driver.health.value}",
                "check the USB cable and the udev rule (systemd/99-kiosk-fingerprint.rules)",
            )
            return
        info = driver.info()
        yield Check(
            "fingerprint",
            Verdict.PASS,
            f"{config.fingerprint.port}: library {info.templates_stored}/{info.capacity}, "
            f"security level {info.security_level}, packet {info.packet_size} B",
        )
    except Exception as e:
        yield Check("fingerprint", Verdict.FAIL, str(e), "run `kiosk fingerprint selftest`")
    finally:
        driver.stop()


def _idcard(config: KioskConfig) -> Iterator[Check]:
    section = config.idcard
    if not section.enabled:
        yield Check("idcard", Verdict.WARN, "no ID card reader fitted ([idcard] enabled = false)")
        return
    reader = IdCardReader(section.to_settings())
    try:
        reader.open()
        sam = reader.sam_id()
        card = "a card on it" if reader.card_present() else "no card"
    except IdCardError as e:
        yield Check(
            "idcard",
            Verdict.FAIL,
            f"{section.port}: {e}",
            "check the reader's USB-serial cable, its udev name and the baud rate ([idcard])",
        )
        return
    finally:
        reader.close()
    yield Check("idcard", Verdict.PASS, f"{section.port}: SAM {sam}, {card}")
    # No licensed WLT decoder ships (docs/idcard-reader.md): said, so nobody expects a photo check.
    yield Check(
        "idcard-photo",
        Verdict.WARN,
        "no licensed WLT photo decoder: the ID card photo is kept opaque and not compared",
    )


def _printer(config: KioskConfig) -> Iterator[Check]:
    section = config.printer
    if not section.enabled:
        yield Check("printer", Verdict.WARN, "no receipt printer fitted: receipts as QR codes only")
        return
    driver = PrinterDriver(section.to_settings())
    try:
        status = driver.open()
    except PrinterError as e:
        yield Check(
            "printer",
            Verdict.FAIL,
            f"{section.port}: {e}",
            "check the printer's power, cable and baud rate; `kiosk print status`",
        )
        return
    finally:
        driver.close()
    if not status.ready:
        yield Check(
            "printer",
            Verdict.FAIL,
            f"{section.port}: " + ", ".join(status.problems()),
            "load paper or close the cover, then `kiosk print test`",
        )
    elif status.paper_near_end:
        yield Check("printer", Verdict.WARN, f"{section.port}: paper near its end", "load paper")
    else:
        yield Check("printer", Verdict.PASS, f"{section.port}: ready, {section.paper_width_mm} mm")


def _camera(config: KioskConfig, wait_s: float = 5.0) -> Iterator[Check]:
    source = FrameSource(config.camera.to_settings(), name="doctor")
    source.start()
    try:
        frame = source.wait_frame(0, wait_s)
        if frame is None:
            yield Check(
                "camera",
                Verdict.FAIL,
                f"{config.camera.source}: {source.health.value}, no frame in {wait_s:.0f} s",
                "check the camera cable; `kiosk camera check` shows what it sees",
            )
            return
        h, w = frame.image.shape[:2]
        yield Check("camera", Verdict.PASS, f"{config.camera.source}: {w}x{h}")
    finally:
        source.stop()


def _broker(config: KioskConfig, wait_s: float = 5.0) -> Iterator[Check]:
    # Its own client id: the doctor must not take the running agent's session over.
    client_id = f"{config.terminal.id}-doctor"
    transport = PahoTransport(config.mqtt, client_id=client_id, clock=SystemClock())
    started = time.monotonic()
    transport.start()
    try:
        where = f"{config.mqtt.host}:{config.mqtt.port}"
        if transport.wait_connected(wait_s):
            ms = (time.monotonic() - started) * 1000
            yield Check("broker", Verdict.PASS, f"{where} connected in {ms:.0f} ms")
        else:
            yield Check(
                "broker",
                Verdict.FAIL,
                f"{where}: not connected ({transport.last_error or 'no answer'})",
                "check the network, the broker address and the terminal's certificate",
            )
    finally:
        transport.stop()


CHECKS: tuple[CheckFn, ...] = (
    _config,
    _clock,
    _storage,
    _production,
    _card,
    _fingerprint,
    _idcard,
    _printer,
    _camera,
    _broker,
)


def run_checks(config: KioskConfig, checks: tuple[CheckFn, ...] = CHECKS) -> Iterator[Check]:
    """Run every check in order, yielding each line as soon as it is known (progress)."""
    for fn in checks:
        try:
            yield from fn(config)
        except Exception as e:  # a broken check is a failed line, never a crash
            yield Check(fn.__name__.strip("_"), Verdict.FAIL, f"{type(e).__name__}: {e}")
