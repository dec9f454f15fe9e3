"""Card emulator section (demo and tests): vpcd port, emulated latency, fault timings, isolation."""

from __future__ import annotations

from pydantic import Field

from kiosk.config.base import ConfigSection

__all__ = ["CardEmulatorConfig"]


class CardEmulatorConfig(ConfigSection):
    """How `kiosk card emulate` and the test pcscd run the emulated reader. Times in seconds."""

    port: int = Field(
        35963, ge=1024, le=65534, title="vpcd port of slot 0", description="Slot 1 uses port + 1."
    )
    netns: str = Field(
        "ssk-vpcd",
        min_length=1,
        max_length=15,
        pattern=r"^[A-Za-z0-9_.-]+$",
        title="Network namespace of the emulated pcscd",
        description="vpcd listens only inside it (loopback), so it stays off the network.",
    )
    isolate: bool = Field(True, title="Run pcscd in its own network namespace (needs root)")
    latency_s: float = Field(0.0, ge=0, le=5, title="Emulated card time per APDU (s)")
    silence_s: float = Field(
        3.0, ge=0, le=120, title="SILENCE fault: quiet time before the connection drops (s)"
    )
    absent_s: float = Field(
        0.6,
        ge=0.45,
        le=10,
        title="Removed card stays away (s)",
        description="Longer than pcscd's 0.4 s presence poll, so pcscd sees every removal.",
    )
    retry_s: float = Field(0.05, gt=0, le=10, title="Reconnect pause while vpcd is absent (s)")
    pcscd_start_timeout_s: float = Field(
        15.0, gt=0, le=120, title="Wait for pcscd to list the readers (s)"
    )
