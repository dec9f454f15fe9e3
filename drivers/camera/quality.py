"""Quality gates of a face frame: one face, size, centred, exposure, sharpness."""

from __future__ import annotations

import cv2
import numpy as np

from drivers.camera.detect import FaceDetector
from drivers.camera.results import FaceBox, Image, QualityReason, QualityVerdict
from drivers.camera.settings import FaceSettings

__all__ = ["assess", "check_frame", "sharpness"]

# The crop is scaled to a fixed size before the Laplacian so that sharpness does not depend on
# how close the citizen stands (a large face has more fine detail per face than a small one).
_CROP = 128


def sharpness(grey_crop: Image) -> float:
    """Variance of the Laplacian of `grey_crop` resized to 128x128 px and lightly smoothed
    (higher = sharper)."""
    crop = cv2.resize(grey_crop, (_CROP, _CROP), interpolation=cv2.INTER_AREA)
    # A 3x3 Gaussian first: sensor noise alone raises the bare Laplacian variance of a blurred
    # face above a sharp one's (measured: sigma-2 blur + sigma-4 noise 156 vs sharp 129 on the
    # astronaut); after the pre-blur: 11 vs 52.
    crop = cv2.GaussianBlur(crop, (3, 3), 0)
    return float(cv2.Laplacian(crop, cv2.CV_64F).var())


def check_frame(image: Image, detector: FaceDetector, settings: FaceSettings) -> QualityVerdict:
    """Detect and judge one BGR frame (`detector` as built from the same `settings`)."""
    grey, faces = detector.detect(image)
    return assess(grey, faces, settings)


def assess(grey: Image, faces: list[FaceBox], settings: FaceSettings) -> QualityVerdict:
    """Judge one frame from its raw (not equalised) grey image and detected faces (largest first).

    The first failing gate wins, in the order a citizen can fix them: presence, number,
    distance, position, light, stillness. Pure: no state, no I/O.
    """
    if not faces:
        # the cascade loses faces in a very dark or washed-out frame: then light is what the
        # citizen can fix, so say that rather than "look at the camera"
        frame_light = float(np.mean(grey)) if grey.size else 0.0
        if frame_light < settings.min_brightness / 2:
            return QualityVerdict(QualityReason.TOO_DARK, brightness=frame_light)
        if frame_light > settings.max_brightness:
            return QualityVerdict(QualityReason.TOO_BRIGHT, brightness=frame_light)
        return QualityVerdict(QualityReason.NO_FACE, brightness=frame_light)
    face = faces[0]
    others = [f for f in faces[1:] if f.w >= settings.several_faces_min_width * face.w]
    h, w = grey.shape[:2]
    width = face.w / w
    cx, cy = face.centre
    off = max(abs(cx - w / 2) / w, abs(cy - h / 2) / h)
    crop = grey[face.y : face.y + face.h, face.x : face.x + face.w]
    bright = float(np.mean(crop)) if crop.size else 0.0
    sharp = sharpness(crop) if crop.size else 0.0
    if others:
        reason = QualityReason.SEVERAL_FACES
    elif width < settings.min_face_width:
        reason = QualityReason.TOO_FAR
    elif width > settings.max_face_width:
        reason = QualityReason.TOO_CLOSE
    elif off > settings.max_offcentre:
        reason = QualityReason.OFF_CENTRE
    elif bright < settings.min_brightness:
        reason = QualityReason.TOO_DARK
    elif bright > settings.max_brightness:
        reason = QualityReason.TOO_BRIGHT
    elif sharp < settings.min_sharpness:
        reason = QualityReason.BLURRED
    else:
        reason = QualityReason.OK
    return QualityVerdict(reason, face, len(faces), width, off, bright, sharp)
