"""Finding cameras: V4L2 device nodes, and a probe that a node really gives frames."""

from __future__ import annotations

import dataclasses
from pathlib import Path

from drivers.camera.settings import SourceSettings
from drivers.camera.source import FrameSource

__all__ = ["candidate_cameras", "probe_camera"]


def candidate_cameras(dev: Path = Path("/dev")) -> list[str]:
    """V4L2 capture nodes, in order (`/dev/video0`, `/dev/video2`, ...)."""
    return sorted(str(p) for p in dev.glob("video[0-9]*"))


def probe_camera(
    source: str, settings: SourceSettings, wait_s: float = 3.0
) -> tuple[int, int] | None:
    """(width, height) of a frame from `source`, or None when it gives none within `wait_s`.

    A UVC camera shows two nodes (capture and metadata): only the capture one gives frames.
    """
    cam = FrameSource(dataclasses.replace(settings, source=source), name="probe")
    cam.start()
    try:
        frame = cam.wait_frame(0, wait_s)
        if frame is None:
            return None
        height, width = frame.image.shape[:2]
        return int(width), int(height)
    finally:
        cam.stop()
