"""Logging section."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from kiosk.config.base import ConfigSection

__all__ = ["LoggingConfig"]


class LoggingConfig(ConfigSection):
    """Log level and where logs go. Every handler gets the redaction filter."""

    level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", title="Log level")
    file: str = Field(
        "", title="Log file", description="Empty: standard error only (journald under systemd)."
    )
    apdu_trace: bool = Field(
        False,
        title="APDU trace",
        description="Log APDU headers and status words (never data fields).",
    )
