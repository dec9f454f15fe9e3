"""The touchscreen: panel geometry, display driver, type size, voice and keypad settings."""

from __future__ import annotations

from pydantic import Field

from kiosk.config.base import ConfigSection

__all__ = ["UiConfig"]


class UiConfig(ConfigSection):
    """How the Kivy app draws on this terminal's panel and speaks to the citizen."""

    screen_dpi: float = Field(
        102.5,
        gt=40,
        lt=600,
        title="Panel pixels per inch",
        description="From the panel's datasheet (pixel pitch); sizes in mm are computed from it.",
    )
    width: int = Field(1920, ge=640, le=7680, title="Panel width in pixels")
    height: int = Field(1080, ge=480, le=4320, title="Panel height in pixels")
    fullscreen: bool = Field(True, title="Fullscreen, borderless, no cursor")
    video_driver: str = Field(
        "",
        pattern=r"^(|kmsdrm|x11|wayland|offscreen)$",
        title="SDL video driver",
        description="Set explicitly on a device (kmsdrm or x11): SDL otherwise falls back to "
        "offscreen silently and the panel stays black. Empty leaves SDL's choice.",
    )
    require_video_driver: bool = Field(
        False,
        title="Refuse another driver",
        description="Stop at start-up when the active SDL driver is not `video_driver`.",
    )
    elderly_fontscale: float = Field(1.25, ge=1.0, le=2.0, title="Type scale in elderly mode")
    voice: bool = Field(True, title="Spoken guidance (espeak-ng)")
    voice_volume: int = Field(70, ge=0, le=100, title="Initial voice volume (percent)")
    espeak: str = Field("espeak-ng", title="espeak-ng executable")
    watchdog_core_stale_s: float = Field(
        10.0,
        gt=0,
        le=300,
        title="Core heartbeat age",
        description="The UI stops feeding the systemd watchdog when the core's loop has not "
        "beaten for this long, so a hung core is restarted too.",
    )
