"""Frame checks and small image helpers shared by the camera layer (no I/O, no threads)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

from drivers.camera.errors import CameraError, FrameInvalidError
from drivers.camera.results import Image, QualityVerdict

__all__ = [
    "annotate",
    "decode_jpeg",
    "encode_jpeg",
    "letterbox",
    "save_image",
    "to_grey",
    "validate_frame",
]


def validate_frame(image: object) -> Image:
    """Return `image` as a BGR uint8 HxWx3 array, or raise `FrameInvalidError` saying why.

    Accepts HxW grey (converted to BGR). Rejects None, non-arrays, zero size, other dtypes or
    channel counts: a broken driver frame must give a clear error, never a crash further on.
    """
    if image is None:
        raise FrameInvalidError("no frame", detail="None")
    if not isinstance(image, np.ndarray):
        raise FrameInvalidError("frame is not an image", detail=type(image).__name__)
    if image.size == 0 or 0 in image.shape:
        raise FrameInvalidError("empty frame", detail=f"shape {image.shape}")
    if image.dtype != np.uint8:
        raise FrameInvalidError("frame is not 8-bit", detail=f"dtype {image.dtype}")
    if image.ndim == 2:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_GRAY2BGR), dtype=np.uint8)
    if image.ndim != 3 or image.shape[2] not in (3, 4):
        raise FrameInvalidError("frame has the wrong shape", detail=f"shape {image.shape}")
    if image.shape[2] == 4:
        return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGRA2BGR), dtype=np.uint8)
    return image


def to_grey(image: Image) -> Image:
    """BGR to single-channel grey."""
    return np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY), dtype=np.uint8)


def letterbox(image: Image, width: int = 640, height: int = 480) -> Image:
    """Scale `image` to fit width x height keeping its aspect ratio, centred on black."""
    h, w = image.shape[:2]
    s = min(width / w, height / h)
    nw, nh = max(1, round(w * s)), max(1, round(h * s))
    scaled = cv2.resize(
        image, (nw, nh), interpolation=cv2.INTER_AREA if s < 1 else cv2.INTER_LINEAR
    )
    out = np.zeros((height, width, 3), np.uint8)
    y, x = (height - nh) // 2, (width - nw) // 2
    out[y : y + nh, x : x + nw] = scaled
    return out


def decode_jpeg(data: bytes) -> Image:
    """Decode JPEG/PNG bytes (e.g. the card's EF08 photo) to BGR; `FrameInvalidError` if not."""
    if not data:
        raise FrameInvalidError("empty photo", detail="0 bytes")
    buf = np.frombuffer(data, dtype=np.uint8)
    img = cv2.imdecode(buf, cv2.IMREAD_COLOR)
    if img is None:
        raise FrameInvalidError("photo cannot be decoded", detail=f"{len(data)} bytes")
    return np.asarray(img, dtype=np.uint8)


def encode_jpeg(image: Image, quality: int = 90) -> bytes:
    """BGR image to JPEG bytes."""
    ok, buf = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise FrameInvalidError("image cannot be encoded", detail=f"shape {image.shape}")
    return bytes(buf.tobytes())


def save_image(path: Path, image: Image) -> None:
    """Write `image` to `path` (format from the suffix); `CameraError` on failure. For the
    technician's snapshot only: citizen frames are never written by the kiosk."""
    try:
        ok = cv2.imwrite(str(path), image)
    except cv2.error as e:
        raise CameraError("snapshot cannot be written", detail=str(e)) from None
    if not ok:
        raise CameraError("snapshot cannot be written", detail=str(path))


def annotate(image: Image, verdict: QualityVerdict) -> Image:
    """A copy of `image` with the chosen face box and the verdict (English: cv2 text is
    ASCII only) drawn on it."""
    out = image.copy()
    colour = (0, 200, 0) if verdict.ok else (0, 0, 255)
    if verdict.face is not None:
        f = verdict.face
        cv2.rectangle(out, (f.x, f.y), (f.x + f.w, f.y + f.h), colour, 2)
    text = f"{verdict.reason.value}: {verdict.message('en')}"
    cv2.putText(out, text, (8, 24), cv2.FONT_HERSHEY_SIMPLEX, 0.6, colour, 2, cv2.LINE_AA)
    return out
