"""Finding the fingerprint module: candidate serial ports, and a handshake probe of each."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from serial.tools import list_ports

from drivers.fingerprint.driver import FingerprintDriver
from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.results import ModuleInfo
from drivers.fingerprint.settings import FingerprintSettings

__all__ = ["candidate_ports", "probe_port"]

STABLE_NAME = "/dev/fingerprint"  # given by systemd/99-kiosk-fingerprint.rules


def candidate_ports(extra: list[str] | None = None) -> list[str]:
    """Serial ports worth probing: `extra` first, the udev name, then USB adapters, then the
    rest (built-in UARTs last: they are rarely the scanner)."""
    found: list[str] = list(extra or [])
    if Path(STABLE_NAME).exists():
        found.append(STABLE_NAME)
    ports = sorted(list_ports.comports(), key=lambda p: (p.vid is None, p.device))
    found.extend(p.device for p in ports)
    return list(dict.fromkeys(found))  # keep order, drop repeats


def probe_port(port: str, settings: FingerprintSettings) -> ModuleInfo | None:
    """The module's parameters if a fingerprint module answers on `port`, else None.

    Uses short timeouts and no retries, so probing a port with nothing on it costs about one
    query timeout. Never raises for a silent or absent port.
    """
    quick = dataclasses.replace(settings, port=port, retries=0, reopen_attempts=0)
    driver = FingerprintDriver(quick, name="probe")
    try:
        driver.open()
        return driver.info()
    except (FingerprintError, OSError):
        return None
    finally:
        driver.stop()
