"""Resident ID card reader section [idcard] (owned by the ID card layer)."""

from __future__ import annotations

from pydantic import Field, field_validator

from drivers.idcard.emulator.profiles import PROFILES
from drivers.idcard.settings import IdCardSettings
from kiosk.config.base import ConfigSection

__all__ = ["IdCardConfig"]

_RATES = (9600, 19200, 38400, 57600, 115200)


class IdCardConfig(ConfigSection):
    """Serial port and every deadline and retry of the ID card reader (a SAM_A module), and the
    emulated card used in demo mode. Durations are in seconds."""

    enabled: bool = Field(
        default=True,
        title="The terminal has an ID card reader (false: services that need one hide)",
    )
    port: str = Field(
        default="/dev/idcard",
        title="Serial port",
        description="Stable name from a udev rule (USB-serial adapter), or a pty symlink.",
    )
    baudrate: int = Field(default=115200, title="Baud rate", description="9600 up to 115200.")
    query_timeout_s: float = Field(default=0.3, gt=0, le=10, title="Deadline of SAM commands")
    find_timeout_s: float = Field(default=0.3, gt=0, le=10, title="Deadline of find and select")
    read_timeout_s: float = Field(default=2.0, gt=0, le=30, title="Deadline of a text+photo read")
    retries: int = Field(default=2, ge=0, le=10, title="Extra tries after silence or bad frames")
    read_attempts: int = Field(
        default=3, ge=1, le=10, title="Find-select-read sequences before a read is given up"
    )
    poll_interval_s: float = Field(default=0.2, ge=0.01, le=5, title="Between card polls")
    reopen_attempts: int = Field(
        default=5, ge=1, le=100, title="Opens tried when the port vanished"
    )
    reopen_backoff_s: float = Field(default=0.2, ge=0, le=60, title="First reopen pause (doubles)")
    reopen_backoff_max_s: float = Field(default=2.0, ge=0, le=60, title="Longest reopen pause")
    read_slice_s: float = Field(default=0.02, gt=0, le=1, title="pyserial read timeout")
    emulator_profile: str = Field(
        default="resident", title="Emulated card in demo mode", description=", ".join(PROFILES)
    )

    @field_validator("baudrate")
    @classmethod
    def _known_rate(cls, value: int) -> int:
        if value not in _RATES:
            raise ValueError(f"a SAM_A module runs at one of {', '.join(map(str, _RATES))}")
        return value

    @field_validator("emulator_profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if value not in PROFILES:
            raise ValueError(f"unknown ID card profile; known: {', '.join(PROFILES)}")
        return value

    def to_settings(self, *, port: str | None = None) -> IdCardSettings:
        """The frozen settings the driver takes; `port` overrides the configured port."""
        return IdCardSettings(
            port=port or self.port,
            baudrate=self.baudrate,
            query_timeout=self.query_timeout_s,
            find_timeout=self.find_timeout_s,
            read_timeout=self.read_timeout_s,
            retries=self.retries,
            read_attempts=self.read_attempts,
            poll_interval=self.poll_interval_s,
            reopen_attempts=self.reopen_attempts,
            reopen_backoff=self.reopen_backoff_s,
            reopen_backoff_max=self.reopen_backoff_max_s,
            read_slice=self.read_slice_s,
        )
