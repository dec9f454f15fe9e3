"""The emulated ID card reader: a SAM_A module on a real pseudo-terminal (a product part: the demo
and the tests use it, and technicians can start one with `kiosk idcard emulate`)."""

from __future__ import annotations

from pathlib import Path

from drivers.idcard.emulator.module import FakeSamModule, Faults
from drivers.idcard.emulator.profiles import PROFILES, CardProfile
from drivers.ptylink import PtyLink

__all__ = ["PROFILES", "CardProfile", "FakeSamModule", "Faults", "make_emulator"]


def make_emulator(
    link: str | Path,
    *,
    profile: str | None = "resident",
    baudrate: int = 115200,
    latency_scale: float = 1.0,
    pace: bool = True,
) -> PtyLink:
    """A (not yet started) pty emulator at `link` with a card of `profile` on it (None: none)."""
    module = FakeSamModule.with_profile(profile)
    return PtyLink(
        module, link, baudrate=baudrate, latency_scale=latency_scale, pace=pace, name="idcard-emu"
    )
