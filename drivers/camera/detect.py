"""Face detection with an OpenCV cascade (Haar alt2 by default; Debian LBP cascades also load)."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np

from drivers.camera.errors import FaceModelError
from drivers.camera.frames import to_grey
from drivers.camera.results import FaceBox, Image
from drivers.camera.settings import FaceSettings

__all__ = ["FaceDetector", "resolve_cascade"]

logger = logging.getLogger("drivers.camera.detect")

# Debian's opencv-data ships the LBP cascades (BSD-3); the pip wheel ships only Haar files.
DEBIAN_LBP_DIR = Path("/usr/share/opencv4/lbpcascades")


def resolve_cascade(name: str) -> Path:
    """Find a cascade: an absolute path, a file in `cv2.data.haarcascades`, or a Debian LBP file.

    Raises `FaceModelError` when none exists (e.g. an OpenCV 5 wheel, which ships no cascades).
    """
    candidates = [Path(name)]
    data_dir = getattr(getattr(cv2, "data", None), "haarcascades", "")
    if data_dir:
        candidates.append(Path(data_dir) / name)
    candidates.append(DEBIAN_LBP_DIR / name)
    for path in candidates:
        if path.is_file():
            return path
    raise FaceModelError("face detector model not found", detail=name)


class FaceDetector:
    """Finds faces in BGR frames. Not thread-safe: one instance per thread (the cascade keeps
    state). `detect_grey` is the bare `detectMultiScale` with our parameters (the bench's
    baseline); `detect` adds the grey conversion and histogram equalisation."""

    def __init__(self, settings: FaceSettings) -> None:
        if not hasattr(cv2, "CascadeClassifier"):
            raise FaceModelError("this OpenCV has no CascadeClassifier", detail=cv2.__version__)
        path = resolve_cascade(settings.cascade)
        self._cascade = cv2.CascadeClassifier(str(path))
        if self._cascade.empty():
            raise FaceModelError("face detector model cannot be loaded", detail=str(path))
        self._settings = settings
        self._min = (settings.min_size_px, settings.min_size_px)
        logger.debug("cascade %s", path)

    def equalise(self, grey: Image) -> Image:
        """The image the cascade runs on: `grey` histogram-equalised if configured (helps the
        cascade in poor light; the quality gates measure light on the raw grey image)."""
        if self._settings.equalize:
            return np.asarray(cv2.equalizeHist(grey), dtype=np.uint8)
        return grey

    def detect_grey(self, grey: Image) -> list[FaceBox]:
        """Faces in a prepared grey image, largest first."""
        rects = self._cascade.detectMultiScale(
            grey,
            scaleFactor=self._settings.scale_factor,
            minNeighbors=self._settings.min_neighbors,
            minSize=self._min,
        )
        boxes = [FaceBox(int(x), int(y), int(w), int(h)) for (x, y, w, h) in rects]
        boxes.sort(key=lambda b: b.area, reverse=True)
        return boxes

    def detect(self, image: Image) -> tuple[Image, list[FaceBox]]:
        """Faces in a BGR frame, largest first, with the raw grey image they were found in."""
        grey = to_grey(image)
        return grey, self.detect_grey(self.equalise(grey))
