"""Fingerprint scanner section [fingerprint] (owned by the fingerprint layer)."""

from __future__ import annotations

from pydantic import Field, field_validator

from drivers.fingerprint.emulator.profiles import PROFILES
from drivers.fingerprint.settings import FingerprintSettings
from kiosk.config.base import ConfigSection

__all__ = ["FingerprintConfig"]


class FingerprintConfig(ConfigSection):
    """Serial port, module address and password, every deadline, retry and backoff of the
    fingerprint driver, and the emulator used in demo mode. Durations are in seconds."""

    port: str = Field(
        default="/dev/fingerprint",
        title="Serial port",
        description="Stable name from systemd/99-kiosk-fingerprint.rules, or a pty symlink.",
    )
    baudrate: int = Field(default=57600, title="Baud rate", description="9600 x N, N = 1..12.")
    address: int = Field(default=0xFFFFFFFF, ge=0, le=0xFFFFFFFF, title="Module address")
    password: int = Field(default=0, ge=0, le=0xFFFFFFFF, title="Module password (0 = none)")
    byte_timeout_s: float = Field(default=0.5, gt=0, le=10, title="Silence allowed inside a frame")
    query_timeout_s: float = Field(default=1.0, gt=0, le=30, title="Deadline of simple commands")
    gen_img_timeout_s: float = Field(default=1.5, gt=0, le=30, title="Deadline of one GenImg")
    process_timeout_s: float = Field(
        default=2.0, gt=0, le=30, title="Deadline of Img2Tz/RegModel/Match"
    )
    search_timeout_s: float = Field(default=3.0, gt=0, le=60, title="Deadline of a library search")
    flash_timeout_s: float = Field(default=5.0, gt=0, le=60, title="Deadline of Store/Delete/Empty")
    data_timeout_s: float = Field(
        default=2.0, gt=0, le=60, title="Deadline of a template data phase"
    )
    retries: int = Field(
        default=2, ge=0, le=10, title="Extra tries after a timeout or corrupt reply"
    )
    drain_quiet_s: float = Field(
        default=0.05, ge=0, le=5, title="After a timeout/resync: drain input until quiet this long"
    )
    drain_max_s: float = Field(default=1.0, ge=0, le=10, title="Longest input drain")
    capture_timeout_s: float = Field(default=15.0, gt=0, le=300, title="Waiting for a finger")
    lift_timeout_s: float = Field(
        default=10.0, gt=0, le=300, title="Waiting for the finger to lift"
    )
    poll_interval_s: float = Field(default=0.1, ge=0, le=5, title="Pause between 'no finger' polls")
    reopen_attempts: int = Field(
        default=5, ge=1, le=100, title="Opens tried when the port vanished"
    )
    reopen_backoff_s: float = Field(default=0.2, ge=0, le=60, title="First reopen pause (doubles)")
    reopen_backoff_max_s: float = Field(default=5.0, ge=0, le=300, title="Longest reopen pause")
    read_slice_s: float = Field(
        default=0.05,
        gt=0,
        le=1,
        title="pyserial read timeout; deadlines are checked between slices",
    )
    empty_library_at_start: bool = Field(
        default=True, title="Empty the module's library at start-up (no citizen data stays in it)"
    )
    autobaud: bool = Field(
        default=True, title="Probe the other baud rates when the module is silent at `baudrate`"
    )
    emulator_profile: str = Field(
        default="r307", title="Emulated model in demo mode", description="zfm20, r307, as608, r503."
    )
    emulator_latency_scale: float = Field(
        default=1.0, ge=0, le=10, title="Emulated module latency (0 = off, 1 = like a real module)"
    )

    @field_validator("baudrate")
    @classmethod
    def _baud_is_9600_times_n(cls, value: int) -> int:
        if value % 9600 or not 1 <= value // 9600 <= 12:
            raise ValueError("a module's baud rate is 9600 x N with N = 1..12 (default 57600)")
        return value

    @field_validator("emulator_profile")
    @classmethod
    def _known_profile(cls, value: str) -> str:
        if value not in PROFILES:
            raise ValueError(f"unknown module profile; known: {', '.join(PROFILES)}")
        return value

    def to_settings(self, *, port: str | None = None) -> FingerprintSettings:
        """The frozen settings the driver takes; `port` overrides the configured port."""
        return FingerprintSettings(
            port=port or self.port,
            baudrate=self.baudrate,
            address=self.address,
            password=self.password,
            byte_timeout=self.byte_timeout_s,
            query_timeout=self.query_timeout_s,
            gen_img_timeout=self.gen_img_timeout_s,
            process_timeout=self.process_timeout_s,
            search_timeout=self.search_timeout_s,
            flash_timeout=self.flash_timeout_s,
            data_timeout=self.data_timeout_s,
            retries=self.retries,
            drain_quiet=self.drain_quiet_s,
            drain_max=self.drain_max_s,
            capture_timeout=self.capture_timeout_s,
            lift_timeout=self.lift_timeout_s,
            poll_interval=self.poll_interval_s,
            reopen_attempts=self.reopen_attempts,
            reopen_backoff=self.reopen_backoff_s,
            reopen_backoff_max=self.reopen_backoff_max_s,
            read_slice=self.read_slice_s,
            empty_library_at_start=self.empty_library_at_start,
            autobaud=self.autobaud,
        )
