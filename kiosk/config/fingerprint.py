"""Fingerprint scanner section (owned by the fingerprint layer)."""

from __future__ import annotations

from pydantic import Field

from kiosk.config.base import ConfigSection

__all__ = ["FingerprintConfig"]


class FingerprintConfig(ConfigSection):
    """Serial port of the scanner."""

    port: str = Field("/dev/fingerprint", title="Serial port")
    baudrate: int = Field(57600, title="Baud rate")
