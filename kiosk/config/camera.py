"""Camera section [camera]: the frame source (owned by the identity-check layer)."""

from __future__ import annotations

from pydantic import Field

from drivers.camera.settings import SourceSettings
from kiosk.config.base import ConfigSection

__all__ = ["CameraConfig"]


class CameraConfig(ConfigSection):
    """Frame source, its reconnect backoff and file playback. Durations are in seconds."""

    source: str = Field(
        "0",
        title="Source",
        description="Device index (0), video file path, or generated stream "
        "synthetic:<script>[:<photo>] (scripts: still, turn-left, turn-right, turn-left-right, "
        "look-up, look-down, move-closer, their '+' joins, and attacks...). A production "
        "terminal accepts a camera device only (kiosk/camera_access.py).",
    )
    width: int = Field(640, ge=160, le=3840, title="Requested frame width (px)")
    height: int = Field(480, ge=120, le=2160, title="Requested frame height (px)")
    max_failed_reads: int = Field(
        5, ge=1, le=1000, title="Consecutive failed reads before the camera counts as gone"
    )
    reconnect_initial_s: float = Field(0.5, gt=0, le=60, title="First reconnect pause (grows)")
    reconnect_max_s: float = Field(10.0, gt=0, le=600, title="Longest reconnect pause")
    reconnect_factor: float = Field(2.0, ge=1, le=10, title="Reconnect pause growth factor")
    pace_files: bool = Field(True, title="Play video files at their own frame rate")
    loop_files: bool = Field(True, title="Reopen a video file at its end (demo streams)")
    synthetic_fps: float = Field(15.0, gt=0, le=120, title="Frame rate of generated streams")

    def to_settings(self, *, source: str | None = None) -> SourceSettings:
        """The frozen settings the frame source takes; `source` overrides the configured one."""
        return SourceSettings(
            source=source if source is not None else self.source,
            width=self.width,
            height=self.height,
            max_failed_reads=self.max_failed_reads,
            reconnect_initial=self.reconnect_initial_s,
            reconnect_max=self.reconnect_max_s,
            reconnect_factor=self.reconnect_factor,
            pace_files=self.pace_files,
            loop_files=self.loop_files,
            synthetic_fps=self.synthetic_fps,
        )
