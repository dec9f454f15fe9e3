"""Broken frames give a clear typed error, never a crash."""

from __future__ import annotations

import numpy as np
import pytest

from drivers.camera.errors import FrameInvalidError
from drivers.camera.frames import decode_jpeg, encode_jpeg, letterbox, validate_frame
from drivers.vocabulary import ErrorCode


@pytest.mark.parametrize(
    ("frame", "words"),
    [
        (None, "no frame"),
        ("not an image", "not an image"),
        (np.zeros((0, 0, 3), np.uint8), "empty"),
        (np.zeros((480, 0, 3), np.uint8), "empty"),
        (np.zeros((48, 64, 3), np.float32), "8-bit"),
        (np.zeros((48, 64, 2), np.uint8), "wrong shape"),
        (np.zeros((4, 48, 64, 3), np.uint8), "wrong shape"),
    ],
)
def test_broken_frames_are_refused(frame: object, words: str) -> None:
    with pytest.raises(FrameInvalidError) as e:
        validate_frame(frame)
    assert e.value.code is ErrorCode.FRAME_INVALID
    assert words in str(e.value)


def test_grey_and_bgra_frames_become_bgr() -> None:
    assert validate_frame(np.zeros((48, 64), np.uint8)).shape == (48, 64, 3)
    assert validate_frame(np.zeros((48, 64, 4), np.uint8)).shape == (48, 64, 3)
    bgr = np.zeros((48, 64, 3), np.uint8)
    assert validate_frame(bgr) is bgr


def test_jpeg_round_trip_and_garbage() -> None:
    img = np.full((40, 30, 3), 128, np.uint8)
    assert decode_jpeg(encode_jpeg(img)).shape == (40, 30, 3)
    with pytest.raises(FrameInvalidError):
        decode_jpeg(b"")
    with pytest.raises(FrameInvalidError):
        decode_jpeg(b"\xff\xd8 not really a jpeg")


def test_letterbox_keeps_aspect() -> None:
    out = letterbox(np.full((100, 100, 3), 255, np.uint8), 640, 480)
    assert out.shape == (480, 640, 3)
    assert out[:, :80].max() == 0 and out[:, 80:560].min() == 255


def test_frame_source_is_a_kiosk_device() -> None:
    from drivers.camera.settings import SourceSettings
    from drivers.camera.source import FrameSource
    from drivers.vocabulary import DeviceHealth, DeviceKind
    from kiosk.device import Device

    src = FrameSource(SourceSettings(source="/nonexistent.avi"))
    assert isinstance(src, Device)
    assert src.kind is DeviceKind.CAMERA and src.health is DeviceHealth.OFFLINE
    src.stop()  # stopping a source that never started is harmless
