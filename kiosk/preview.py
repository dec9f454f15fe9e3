"""The touchscreen's read-only look at the camera: the newest frame of the running frame source.

The composition root (kiosk/app.py) owns the camera; the face check and the QR scan consume its
frames, and the identity screen only looks (`FrameSource.peek`): a preview never takes a frame
from a check, and a generated stream, which waits for each frame to be taken, is not paced by
the screen. `latest()` only reads a reference under the source's lock, so the UI's main thread
can call it every frame without ever waiting on the camera.
"""

from __future__ import annotations

import time
from typing import Protocol

from drivers.camera.results import Frame

__all__ = ["CameraPreview", "PreviewPort", "StillPreview"]


class PreviewPort(Protocol):
    """What a screen showing the live picture needs: the newest frame, or None."""

    def latest(self) -> Frame | None: ...


class _Peekable(Protocol):
    def peek(self) -> Frame | None: ...


class CameraPreview:
    """`PreviewPort` on a running `FrameSource` (None: no camera, no picture)."""

    def __init__(self, source: _Peekable | None) -> None:
        self._source = source

    def latest(self) -> Frame | None:
        """The newest frame (not taken from the check), or None without one."""
        return None if self._source is None else self._source.peek()


class StillPreview:
    """`PreviewPort` of one packaged face photo: `kiosk screenshots` and the benchmark, where
    no camera runs."""

    def __init__(self) -> None:
        from drivers.camera.synthetic import default_photo, load_photo  # dlib-free, but heavy

        self._frame = Frame(load_photo(default_photo()), 1, time.monotonic())

    def latest(self) -> Frame | None:
        return self._frame
