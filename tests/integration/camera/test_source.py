"""The frame source thread through a real cv2.VideoCapture: files, generated streams, a file
that vanishes and returns (camera loss), a missing device, and broken frames."""

from __future__ import annotations

import itertools
import logging
import random
import time
from collections.abc import Callable, Iterator
from dataclasses import replace
from pathlib import Path

import cv2
import numpy as np
import pytest

from drivers.camera import source as source_mod
from drivers.camera.results import Challenge
from drivers.camera.service import FaceVerifier
from drivers.camera.settings import FaceSettings, SourceSettings
from drivers.camera.source import FrameSource, classify_source
from drivers.vocabulary import DeviceEvent, DeviceHealth, DeviceHealthChanged
from kiosk.config import load_config


def write_video(path: Path, frames: int = 12, fps: float = 30.0) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (640, 480))
    assert writer.isOpened()
    for i in range(frames):
        img = np.full((480, 640, 3), 40 + 10 * i, np.uint8)
        cv2.putText(img, str(i), (300, 240), cv2.FONT_HERSHEY_SIMPLEX, 2, (255, 255, 255), 3)
        writer.write(img)
    writer.release()
    return path


def wait_for(cond: Callable[[], bool], timeout: float = 15.0) -> None:
    deadline = time.monotonic() + timeout
    while not cond():
        if time.monotonic() > deadline:
            raise AssertionError("condition not reached in time")
        time.sleep(0.01)


@pytest.fixture
def settings() -> SourceSettings:
    return load_config(None, profile="test").config.camera.to_settings()


@pytest.fixture
def events() -> list[DeviceEvent]:
    return []


@pytest.fixture
def make_source(events: list[DeviceEvent]) -> Iterator[Callable[[SourceSettings], FrameSource]]:
    made: list[FrameSource] = []

    def make(s: SourceSettings) -> FrameSource:
        src = FrameSource(s, name="test", on_event=events.append)
        made.append(src)
        src.start()
        return src

    yield make
    for src in made:
        src.stop()


def healths(events: list[DeviceEvent]) -> list[DeviceHealth]:
    return [e.health for e in events if isinstance(e, DeviceHealthChanged)]


def test_source_kinds() -> None:
    assert classify_source("0") == "device"
    assert classify_source("synthetic:turn-left") == "synthetic"
    assert classify_source("/tmp/x.avi") == "file"
    assert classify_source("/dev/video0") == "device"  # as `kiosk provision` writes it
    assert classify_source("/dev/v4l/by-id/usb-cam-video-index0") == "device"


def test_file_frames_arrive_as_numpy_frames(
    tmp_path: Path, settings: SourceSettings, make_source: Callable[[SourceSettings], FrameSource]
) -> None:
    video = write_video(tmp_path / "a.avi")
    src = make_source(replace(settings, source=str(video)))
    got = list(src.frames(timeout=5.0, limit=20))
    assert len(got) == 20
    assert [f.seq for f in got] == sorted({f.seq for f in got})
    assert all(isinstance(f.image, np.ndarray) and f.image.shape == (480, 640, 3) for f in got)
    stats = src.stats()
    assert stats.health is DeviceHealth.ONLINE
    assert stats.size == (640, 480) and stats.captured >= 20 and stats.fps > 0


def test_latest_frame_wins_and_drops_are_counted(
    tmp_path: Path, settings: SourceSettings, make_source: Callable[[SourceSettings], FrameSource]
) -> None:
    video = write_video(tmp_path / "b.avi")
    fast = replace(settings, source=str(video), pace_files=False)
    src = make_source(fast)
    wait_for(lambda: src.stats().captured >= 40)  # nobody reads meanwhile
    stats = src.stats()
    assert stats.dropped >= stats.captured - 2
    frame = src.latest()
    assert frame is not None and frame.seq >= 40
    src.stop()
    assert src.latest() is None  # no frame outlives the source
    src.stop()  # idempotent


def test_camera_lost_and_back_reconnects_and_reports_once_per_change(
    tmp_path: Path,
    settings: SourceSettings,
    make_source: Callable[[SourceSettings], FrameSource],
    events: list[DeviceEvent],
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="drivers.camera")
    video = write_video(tmp_path / "cam.avi", frames=6)
    src = make_source(replace(settings, source=str(video)))
    wait_for(lambda: src.stats().captured >= 3)
    hidden = video.rename(tmp_path / "unplugged.avi")  # the camera goes away
    wait_for(lambda: src.health is DeviceHealth.NO_DEVICE)
    assert not video.exists()
    seen = src.stats().captured
    time.sleep(0.5)  # several reopen attempts with backoff happen meanwhile
    gone = src.stats()
    assert gone.captured == seen  # nothing is captured while it is gone
    assert "no such file" in gone.last_error
    assert src.latest() is None  # and no frozen frame of the citizen is left to show
    assert src.wait_frame(0, timeout=0.1) is None
    hidden.rename(video)  # and comes back
    wait_for(lambda: src.health is DeviceHealth.ONLINE and src.stats().captured > seen)
    back = src.latest()
    assert back is not None and back.seq > seen
    stats = src.stats()
    assert stats.reconnects >= 1
    assert healths(events) == [DeviceHealth.ONLINE, DeviceHealth.NO_DEVICE, DeviceHealth.ONLINE]
    lost_logs = [r for r in caplog.records if "no_device" in r.getMessage()]
    assert len(lost_logs) == 1, [r.getMessage() for r in lost_logs]


def test_a_different_camera_returning_is_what_the_frames_show(
    tmp_path: Path,
    settings: SourceSettings,
    make_source: Callable[[SourceSettings], FrameSource],
    events: list[DeviceEvent],
) -> None:
    # The file is deleted (not kept aside) and a different stream appears at the same path,
    # with another size and content: the frames after the return come from it, not from a
    # handle kept open on the old one.
    video = write_video(tmp_path / "cam.avi", frames=6)
    src = make_source(replace(settings, source=str(video)))
    wait_for(lambda: src.stats().captured >= 3)
    first = src.latest()
    assert first is not None and first.size == (640, 480)
    video.unlink()
    wait_for(lambda: src.health is DeviceHealth.NO_DEVICE)
    seen = src.stats().captured
    writer = cv2.VideoWriter(
        str(tmp_path / "new.avi"), cv2.VideoWriter.fourcc(*"MJPG"), 30.0, (320, 240)
    )
    for _ in range(6):
        writer.write(np.full((240, 320, 3), 230, np.uint8))
    writer.release()
    (tmp_path / "new.avi").rename(video)  # appears at once, complete
    wait_for(lambda: src.stats().captured > seen + 2)
    frame = src.latest()
    assert frame is not None and frame.seq > seen
    assert frame.size == (320, 240) and src.stats().size == (320, 240)
    assert float(frame.image.mean()) > 200  # the new stream's content
    assert healths(events) == [DeviceHealth.ONLINE, DeviceHealth.NO_DEVICE, DeviceHealth.ONLINE]


def test_generated_stream_waits_for_a_slow_consumer(
    settings: SourceSettings, make_source: Callable[[SourceSettings], FrameSource]
) -> None:
    # a generated stream stands for a citizen following the prompts: a busy check (here a
    # consumer slower than the stream's 15 fps) still sees every frame, in stream time
    src = make_source(replace(settings, source="synthetic:turn-left:grace_hopper"))
    got = []
    for frame in src.frames(timeout=10.0, limit=8):
        got.append(frame)
        time.sleep(0.12)
    assert [f.seq for f in got] == list(range(1, 9))
    assert src.stats().dropped == 0
    period = 1.0 / settings.synthetic_fps
    assert [round(b.at - a.at, 6) for a, b in itertools.pairwise(got)] == [round(period, 6)] * 7


class FakeCamera:
    """Stands in for `cv2.VideoCapture` on a device index (no camera in CI): `plugged` decides
    whether it opens and reads, as a V4L2 camera pulled out of its USB port would."""

    plugged = True
    opens = 0

    def __init__(self, index: int | str, backend: int = 0) -> None:
        FakeCamera.opens += 1
        self._open = FakeCamera.plugged

    def isOpened(self) -> bool:  # noqa: N802 - the cv2 name
        return self._open

    def set(self, prop: int, value: float) -> bool:
        return True

    def read(self) -> tuple[bool, np.ndarray | None]:
        if not (self._open and FakeCamera.plugged):
            return False, None
        time.sleep(0.005)
        return True, np.full((480, 640, 3), 90, np.uint8)

    def release(self) -> None:
        self._open = False


@pytest.mark.parametrize("device", ["0", "/dev/null"])  # an index, a device node that exists
def test_device_unplugged_mid_stream_fails_reads_then_reconnects(
    settings: SourceSettings,
    make_source: Callable[[SourceSettings], FrameSource],
    events: list[DeviceEvent],
    monkeypatch: pytest.MonkeyPatch,
    device: str,
) -> None:
    # the library boundary only: a device whose reads start failing (USB unplug)
    monkeypatch.setattr(cv2, "VideoCapture", FakeCamera)
    FakeCamera.plugged, FakeCamera.opens = True, 0
    src = make_source(replace(settings, source=device))
    wait_for(lambda: src.stats().captured >= 3)
    FakeCamera.plugged = False
    wait_for(lambda: src.health is DeviceHealth.NO_DEVICE)
    assert src.latest() is None
    lost = [e for e in events if isinstance(e, DeviceHealthChanged)][-1]
    assert "failed reads" in lost.detail  # noticed by its reads failing, not at an open
    opens = FakeCamera.opens
    wait_for(lambda: FakeCamera.opens >= opens + 2)  # it keeps trying, with backoff
    seen = src.stats().captured
    FakeCamera.plugged = True
    wait_for(lambda: src.health is DeviceHealth.ONLINE and src.stats().captured > seen)
    assert src.stats().reconnects >= 1
    assert healths(events) == [DeviceHealth.ONLINE, DeviceHealth.NO_DEVICE, DeviceHealth.ONLINE]


def test_missing_device_degrades_without_raising(
    tmp_path: Path,
    settings: SourceSettings,
    make_source: Callable[[SourceSettings], FrameSource],
) -> None:
    src = make_source(replace(settings, source=str(tmp_path / "none.avi")))
    wait_for(lambda: src.health is DeviceHealth.NO_DEVICE)
    assert src.wait_frame(0, timeout=0.2) is None
    assert "no such file" in src.stats().last_error
    idx = make_source(replace(settings, source="63"))
    wait_for(lambda: idx.health is DeviceHealth.NO_DEVICE)
    node = make_source(replace(settings, source="/dev/video63"))
    wait_for(lambda: node.health is DeviceHealth.NO_DEVICE)
    assert "no such device" in node.stats().last_error


def test_broken_frames_are_counted_not_fatal(
    tmp_path: Path,
    settings: SourceSettings,
    make_source: Callable[[SourceSettings], FrameSource],
    events: list[DeviceEvent],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # a faulty driver: the library boundary (`VideoCapture.read` result) returns junk
    junk: list[object] = [None, np.zeros((0, 0, 3), np.uint8), np.zeros((4, 4, 2), np.uint8)]
    real_read = source_mod._Capture.read

    def read(self: source_mod._Capture) -> tuple[bool, object]:
        if junk:
            return True, junk.pop(0)
        return real_read(self)

    monkeypatch.setattr(source_mod._Capture, "read", read)
    video = write_video(tmp_path / "c.avi")
    src = make_source(replace(settings, source=str(video)))
    wait_for(lambda: src.stats().captured >= 3)
    stats = src.stats()
    assert stats.invalid == 3
    assert stats.last_error  # says why
    assert DeviceHealth.HARDWARE_ERROR in healths(events)
    assert src.health is DeviceHealth.ONLINE  # good frames brought it back


def test_generated_stream_through_the_source_passes_the_face_check(
    settings: SourceSettings, make_source: Callable[[SourceSettings], FrameSource]
) -> None:
    face: FaceSettings = load_config(None, profile="test").config.face.to_settings()
    src = make_source(replace(settings, source="synthetic:turn-left:grace_hopper"))
    verifier = FaceVerifier(replace(face, min_challenges=1), random.Random(1))
    photo = Path("/usr/share/doc/facedetect/examples/grace_hopper_512x512.jpg").read_bytes()
    result = verifier.check(photo, src.frames(timeout=10.0), challenges=(Challenge.TURN_LEFT,))
    assert result.passed, result
