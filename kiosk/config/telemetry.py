"""Telemetry section (owned by kiosk.telemetry)."""

from __future__ import annotations

from pydantic import Field

from kiosk.config.base import ConfigSection

__all__ = ["TelemetryConfig"]


class TelemetryConfig(ConfigSection):
    """How often the terminal reports its health."""

    enabled: bool = Field(default=True, title="Send telemetry")
    interval_s: float = Field(default=60.0, gt=0, le=86_400, title="Telemetry every (s)")
    thermal_glob: str = Field(
        default="/sys/class/thermal/thermal_zone*/temp",
        title="Temperature sources (millidegrees C)",
    )
