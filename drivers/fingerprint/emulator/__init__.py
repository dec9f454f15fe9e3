"""Emulated EF01 fingerprint module on a pseudo-terminal: profiles, fingers, behaviours, faults."""

from __future__ import annotations

from drivers.fingerprint.emulator.behaviours import Quality, Sensor, Touch
from drivers.fingerprint.emulator.faults import Fault, FaultKind, FaultPlan
from drivers.fingerprint.emulator.fingers import DEMO_FINGERS, finger_template
from drivers.fingerprint.emulator.module import FakeModule, Reply
from drivers.fingerprint.emulator.profiles import PROFILES, ModelProfile, get_profile
from drivers.fingerprint.emulator.transport import PtyEmulator

__all__ = [
    "DEMO_FINGERS",
    "PROFILES",
    "FakeModule",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "ModelProfile",
    "PtyEmulator",
    "Quality",
    "Reply",
    "Sensor",
    "Touch",
    "finger_template",
    "get_profile",
    "make_emulator",
]


def make_emulator(
    link: str,
    *,
    profile: str = "r307",
    finger: str | None = None,
    latency_scale: float = 0.0,
    baudrate: int = 57600,
    password: int = 0,
    address: int = 0xFFFFFFFF,
) -> PtyEmulator:
    """A (not yet started) pty emulator of `profile` at `link` with a cooperative `finger`."""
    module = FakeModule(
        get_profile(profile),
        sensor=Sensor(finger),
        address=address,
        password=password,
        baudrate=baudrate,
        latency_scale=latency_scale,
    )
    return PtyEmulator(module, link)
