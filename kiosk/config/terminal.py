"""Terminal identity and operating mode."""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field

from kiosk.config.base import ConfigSection

__all__ = ["Mode", "TerminalConfig"]


class Mode(StrEnum):
    """`demo` runs on emulated hardware; `production` refuses emulators and demo data."""

    DEMO = "demo"
    PRODUCTION = "production"


class TerminalConfig(ConfigSection):
    """Who this terminal is and where it keeps its state."""

    id: str = Field(
        "SSK-DEMO-0001",
        pattern=r"^[A-Za-z0-9][A-Za-z0-9_-]{2,47}$",
        title="Terminal id",
        description="Unique id of the terminal; also its MQTT client id and topic segment.",
    )
    mode: Mode = Field(
        Mode.DEMO, title="Mode", description="demo (emulated hardware) or production."
    )
    site: str = Field(
        "", max_length=120, title="Site", description="Service hall name shown to operators."
    )
    state_dir: str = Field(
        "var/kiosk",
        title="State folder",
        description="Journal, runtime overrides and keys; relative to the project folder.",
    )
    locale: str = Field("zh_CN", pattern=r"^(zh_CN|en)$", title="Default language")
