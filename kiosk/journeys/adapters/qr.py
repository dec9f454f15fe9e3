"""The session's QR port on the camera: frames from the terminal's camera through zxing-cpp, a
code counting once two frames agree (drivers/camera/qr.py `QrScanner`).

Each scan opens the camera for the scan only (as the face check does) unless the composition
root hands in its running `FrameSource`; the code itself is never logged (only its hash) and
is kept only until the session hands it to the central.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from drivers.camera.errors import CameraError
from drivers.camera.qr import QrDecoder, QrScanner, payload_hash
from drivers.camera.settings import SourceSettings
from drivers.camera.source import FrameSource
from drivers.vocabulary import DeviceHealth, ErrorCode
from kiosk.session.events import Event, QrScanFailed, QrScanned

__all__ = ["CameraQr"]

log = logging.getLogger("kiosk.journeys.qr")


class CameraQr:
    """`QrPort` (kiosk/session/ports.py). `source`: the camera's settings (read at each scan,
    so a journey can point the camera at a new video); `shared`: a running `FrameSource`."""

    def __init__(
        self,
        source: Callable[[], SourceSettings],
        *,
        shared: FrameSource | None = None,
        decoder: QrDecoder | None = None,
    ) -> None:
        self._source = source
        self._shared = shared
        self._decoder = decoder or QrDecoder()
        self._lock = threading.Lock()

    def scan_qr(self, key: str, timeout_s: float) -> Event:
        """QrScanned once two frames within 2 s decoded the same code; QrScanFailed after
        `timeout_s` (``qr.timeout``) or when the camera fails (``camera.*``)."""
        with self._lock:
            scanner = QrScanner(self._decoder)
            deadline = time.monotonic() + timeout_s
            camera = self._shared or FrameSource(self._source(), name="qr-scan")
            try:
                if camera is not self._shared:
                    camera.start()
                while time.monotonic() < deadline:
                    left = max(0.05, deadline - time.monotonic())
                    for frame in camera.frames(timeout=min(left, 2.0)):
                        code = scanner.feed(frame.image, at=frame.at)
                        if code is not None:
                            log.info("QR code %s read after %d frames", payload_hash(code),
                                     scanner.frames_seen)
                            return QrScanned(key, code)
                        if time.monotonic() >= deadline:
                            break
                    else:
                        if camera.health is not DeviceHealth.ONLINE:
                            return QrScanFailed(key, ErrorCode.CAMERA_UNAVAILABLE.value)
            except CameraError as e:
                return QrScanFailed(key, str(e.code.value))
            finally:
                if camera is not self._shared:
                    camera.stop()
            return QrScanFailed(key, "qr.timeout")
