"""e-SSC QR codes through the camera: zxing-cpp on generated degraded frames, and through a real
OpenCV VideoCapture file source, with the two-equal-reads rule."""

from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.camera.qr import MAX_PAYLOAD, QrDecoder, QrScanner, payload_hash
from drivers.camera.qr_frames import CONDITIONS, Degradation, qr_frame, write_qr_video
from drivers.camera.settings import SourceSettings
from drivers.camera.source import FrameSource

TOKEN = "ESSC1.eyJwIjoiUFNOLTAwMDEiLCJ4IjoxNzk5OTk5OTk5fQ.c2lnbmF0dXJlLWJ5dGVz"


@pytest.mark.parametrize("condition", sorted(CONDITIONS))
def test_decodes_degraded_frames(condition: str) -> None:
    rng = random.Random(condition)
    decoder = QrDecoder()
    hits = sum(
        TOKEN in decoder.decode(qr_frame(TOKEN, CONDITIONS[condition], rng)) for _ in range(10)
    )
    assert hits >= 8, f"{condition}: {hits}/10"


def test_a_frame_without_a_code_or_with_noise_decodes_nothing() -> None:
    decoder = QrDecoder()
    rng = np.random.default_rng(1)
    assert decoder.decode(rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)) == []
    assert decoder.decode(np.zeros((480, 640), np.uint8)) == []


def test_scanner_needs_two_equal_reads_and_refuses_two_codes() -> None:
    rng = random.Random(2)
    scanner = QrScanner(QrDecoder(), window_s=2.0)
    frame = qr_frame(TOKEN, CONDITIONS["clean"], rng)
    assert scanner.feed(frame, at=0.0) is None
    assert scanner.feed(frame, at=0.5) == TOKEN
    # A read too long after the first one starts over.
    assert scanner.feed(frame, at=10.0) is None
    assert scanner.feed(frame, at=13.0) is None
    # Two phones in view: neither is taken.
    left = cv2.resize(qr_frame("ESSC1.one", Degradation(size_px=200), rng), (320, 240))
    right = cv2.resize(qr_frame("ESSC1.two", Degradation(size_px=200), rng), (320, 240))
    both = np.hstack([left, right])
    assert sorted(QrDecoder().decode(both)) == ["ESSC1.one", "ESSC1.two"]  # both are in view
    scanner.reset()
    assert scanner.feed(both, at=20.0) is None and scanner.feed(both, at=20.1) is None


def test_oversized_payload_is_not_ours() -> None:
    rng = random.Random(3)
    huge = "X" * (MAX_PAYLOAD + 10)
    assert QrDecoder().decode(qr_frame(huge, Degradation(size_px=420), rng)) == []


def test_payload_hash_is_short_and_stable() -> None:
    assert payload_hash(TOKEN) == payload_hash(TOKEN) and len(payload_hash(TOKEN)) == 12
    assert TOKEN[:12] not in payload_hash(TOKEN)


def test_through_a_video_file_camera_source(tmp_path: Path) -> None:
    video = write_qr_video(TOKEN, tmp_path / "phone.avi", frames=20, condition="combined")
    source = FrameSource(SourceSettings(source=str(video)), name="qr-test")
    source.start()
    scanner = QrScanner(QrDecoder())
    found = None
    try:
        for frame in source.frames(timeout=5.0, limit=40):
            found = scanner.feed(frame.image, at=frame.at)
            if found:
                break
    finally:
        source.stop()
    assert found == TOKEN
