"""Camera and face section (owned by the identity-check layer)."""

from __future__ import annotations

from pydantic import Field

from kiosk.config.base import ConfigSection

__all__ = ["CameraConfig"]


class CameraConfig(ConfigSection):
    """Frame source."""

    source: str = Field(
        "0", title="Source", description="Device index, video file, or generated stream name."
    )
