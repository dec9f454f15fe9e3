"""Camera frames showing a QR code, clean or degraded as a phone held to a kiosk camera is: small,
blurred, tilted, dim and noisy, JPEG-compressed. For the tests, the demo and `bench/qr.py`.

Deterministic for a given `random.Random`. Frames are 640 x 480 BGR on a textured background.
"""

from __future__ import annotations

import io
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import segno

__all__ = ["CONDITIONS", "Degradation", "qr_frame", "write_qr_video"]


@dataclass(frozen=True, slots=True)
class Degradation:
    size_px: int = 260
    blur_sigma: float = 0.0
    perspective: float = 0.0  # corner displacement as a share of the code's size
    rotation_deg: float = 0.0
    brightness: float = 1.0
    noise: float = 0.0  # standard deviation of added noise, 0..255
    jpeg_quality: int | None = None


CONDITIONS: dict[str, Degradation] = {
    "clean": Degradation(),
    "small": Degradation(size_px=120),
    "blur": Degradation(blur_sigma=1.8),
    "tilted": Degradation(perspective=0.2, rotation_deg=25),
    "jpeg": Degradation(size_px=180, jpeg_quality=40),
    "dim": Degradation(brightness=0.22, noise=6.0),
    "combined": Degradation(
        size_px=150, blur_sigma=1.0, perspective=0.1, brightness=0.35, jpeg_quality=50
    ),
}


def _code_image(text: str) -> Any:
    buf = io.BytesIO()
    segno.make(text, error="m", micro=False).save(buf, kind="png", scale=8, border=4)
    img = cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)
    assert img is not None
    return img


def qr_frame(text: str, d: Degradation, rng: random.Random) -> Any:
    """One 640 x 480 BGR frame with `text` as a QR code under degradation `d`."""
    h, w = 480, 640
    noise_rng = np.random.default_rng(rng.getrandbits(32))
    background = noise_rng.integers(90, 170, size=(h // 8, w // 8), dtype=np.uint8)
    frame: Any = cv2.resize(background, (w, h), interpolation=cv2.INTER_LINEAR).astype(np.float32)
    code = _code_image(text)
    size = d.size_px
    cx = rng.uniform(size / 2 + 20, w - size / 2 - 20)
    cy = rng.uniform(size / 2 + 20, h - size / 2 - 20)
    ch, cw = code.shape[:2]
    src = np.array([[0, 0], [cw, 0], [cw, ch], [0, ch]], dtype=np.float32)
    angle = np.deg2rad(d.rotation_deg * rng.uniform(-1, 1))
    corners = []
    for ux, uy in ((-0.5, -0.5), (0.5, -0.5), (0.5, 0.5), (-0.5, 0.5)):
        jx = ux + rng.uniform(-d.perspective, d.perspective)
        jy = uy + rng.uniform(-d.perspective, d.perspective)
        x = jx * np.cos(angle) - jy * np.sin(angle)
        y = jx * np.sin(angle) + jy * np.cos(angle)
        corners.append([cx + x * size, cy + y * size])
    matrix = cv2.getPerspectiveTransform(src, np.array(corners, dtype=np.float32))
    warped = cv2.warpPerspective(code, matrix, (w, h), flags=cv2.INTER_LINEAR, borderValue=0)
    mask = cv2.warpPerspective(np.full_like(code, 255), matrix, (w, h), borderValue=0) > 0
    frame[mask] = warped[mask]
    if d.blur_sigma:
        frame = cv2.GaussianBlur(frame, (0, 0), d.blur_sigma)
    frame = frame * d.brightness
    if d.noise:
        frame = frame + noise_rng.normal(0, d.noise, frame.shape)
    grey = np.clip(frame, 0, 255).astype(np.uint8)
    bgr: Any = cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)
    if d.jpeg_quality is not None:
        ok, enc = cv2.imencode(".jpg", bgr, [cv2.IMWRITE_JPEG_QUALITY, d.jpeg_quality])
        assert ok
        bgr = cv2.imdecode(enc, cv2.IMREAD_COLOR)
    return bgr


def write_qr_video(
    text: str,
    path: Path,
    *,
    frames: int = 30,
    fps: float = 15.0,
    seed: int = 1,
    condition: str = "clean",
) -> Path:
    """A video file of a phone showing `text`, for a file camera source (tests and the demo)."""
    rng = random.Random(seed)
    path.parent.mkdir(parents=True, exist_ok=True)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (640, 480))
    if not writer.isOpened():
        raise OSError(f"cannot write a video at {path}")
    try:
        # The phone is steady: the same framing, slightly different noise, frame after frame.
        base = qr_frame(text, CONDITIONS[condition], rng)
        noise_rng = np.random.default_rng(seed)
        for _ in range(frames):
            jitter = noise_rng.normal(0, 2.0, base.shape)
            writer.write(np.clip(base + jitter, 0, 255).astype(np.uint8))
    finally:
        writer.release()
    return path
