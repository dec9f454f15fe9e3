"""The frame source: one capture thread over `cv2.VideoCapture`, latest frame wins.

Thread inventory: one daemon thread per source, `camera-<name>`, that owns the VideoCapture
(OpenCV capture objects are not thread-safe). Consumers on other threads call `latest()`,
`wait_frame()` or `frames()`; they get `Frame` objects holding numpy arrays, never cv2 objects.
A slow consumer never slows capture: the single slot is overwritten and `dropped` counts it.
Generated streams (`synthetic:...`, the demo's and tests' stand-in for a citizen following
the prompts) are the exception: they wait for each frame to be taken and carry their own
stream time, so a check on a loaded machine sees the whole sequence.
"""

from __future__ import annotations

import contextlib
import logging
import sys
import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path

import cv2
import numpy as np

from drivers.camera.errors import CameraError, CameraUnavailableError, FrameInvalidError
from drivers.camera.frames import validate_frame
from drivers.camera.results import Frame, Image, SourceStats
from drivers.camera.settings import SourceSettings
from drivers.vocabulary import DeviceEvent, DeviceHealth, DeviceHealthChanged, DeviceKind

__all__ = ["FrameSource", "SourceKind", "classify_source", "read_file_frames"]

SourceKind = str  # "device" | "file" | "synthetic"


def classify_source(spec: str) -> SourceKind:
    """ "device" for an index ("0") or a device node (`/dev/video0`, `/dev/v4l/by-id/...`, as
    `kiosk provision` writes it), "synthetic" for `synthetic:...`, else "file"."""
    if spec.strip().isdigit() or spec.startswith("/dev/"):
        return "device"
    if spec.startswith("synthetic:"):
        return "synthetic"
    return "file"


def read_file_frames(path: Path, limit: int | None = None) -> Iterator[Image]:
    """Every frame of a video file, in order, validated (no thread, no pacing, no dropping):
    for benchmarks and tools that must see each frame. Invalid frames raise
    `FrameInvalidError`; a file that cannot be opened raises `CameraUnavailableError`."""
    cap = cv2.VideoCapture(str(path))
    try:
        if not cap.isOpened():
            raise CameraUnavailableError("cannot open video", detail=str(path))
        n = 0
        while limit is None or n < limit:
            ok, img = cap.read()
            if not ok:
                return
            n += 1
            yield validate_frame(img)
    finally:
        cap.release()


class _Capture:
    """A thin owner of one `cv2.VideoCapture`; lives only on the capture thread."""

    def __init__(self, cap: cv2.VideoCapture, fps: float) -> None:
        self.cap = cap
        self.fps = fps

    def read(self) -> tuple[bool, object]:
        ok, img = self.cap.read()
        return bool(ok), img

    def release(self) -> None:
        self.cap.release()


class FrameSource:
    """Captures frames on its own thread and keeps only the newest.

    `on_event` (called on the capture thread; must only enqueue) receives a
    `DeviceHealthChanged` once per health change. `start()` never raises for a missing camera:
    the source reports `no_device` and keeps retrying with exponential backoff
    (`reconnect_initial` doubling up to `reconnect_max` seconds). Files loop (reopened at the
    end, so a file that vanishes counts as a lost camera) and play at their own frame rate.
    """

    kind = DeviceKind.CAMERA

    def __init__(
        self,
        settings: SourceSettings,
        *,
        name: str = "camera",
        on_event: Callable[[DeviceEvent], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self._settings = settings
        self._on_event = on_event
        self._now = monotonic
        self._log = logging.getLogger(f"drivers.camera.{name}")
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._latest: Frame | None = None
        self._taken_seq = 0
        self._seq = 0
        self._dropped = 0
        self._invalid = 0
        self._reconnects = 0
        self._times: deque[float] = deque(maxlen=120)
        self._health = DeviceHealth.OFFLINE
        self._last_error = ""
        self._size = (0, 0)
        self._synthetic_path: Path | None = None
        # OpenCV prints its own warnings for every failed open (each reconnect attempt) to
        # stderr, bypassing our logging; keep its errors only, our log says it once
        with contextlib.suppress(AttributeError, cv2.error):
            cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)

    # -- public API (any thread) -------------------------------------------------------------

    @property
    def health(self) -> DeviceHealth:
        return self._health

    def start(self) -> None:
        """Start the capture thread. Idempotent; never raises for a missing device."""
        if self._thread is not None and self._thread.is_alive():
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name=f"camera-{self.name}", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        """Stop the thread, release the device and drop the held frame. Idempotent."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
        if self._thread is not None:
            self._thread.join(timeout=5.0)
            self._thread = None
        with self._cond:
            self._latest = None  # no frame of a citizen outlives the source
        self._set_health(DeviceHealth.OFFLINE, "stopped")

    def latest(self) -> Frame | None:
        """The newest frame, or None if none yet, the source is stopped or the camera lost."""
        with self._cond:
            if self._latest is not None:
                self._taken_seq = self._latest.seq
                self._cond.notify_all()  # a generated stream waits for its frame to be taken
            return self._latest

    def peek(self) -> Frame | None:
        """The newest frame without taking it: a preview looks, while the check that consumes
        frames (and a generated stream that waits for each frame to be taken) sees every one."""
        with self._cond:
            return self._latest

    def wait_frame(self, after_seq: int = 0, timeout: float = 1.0) -> Frame | None:
        """Block up to `timeout` s for a frame newer than `after_seq`; None on timeout/stop."""
        deadline = self._now() + timeout
        with self._cond:
            while not self._stop.is_set():
                if self._latest is not None and self._latest.seq > after_seq:
                    self._taken_seq = self._latest.seq
                    self._cond.notify_all()  # a generated stream waits for its frame to be taken
                    return self._latest
                left = deadline - self._now()
                if left <= 0:
                    return None
                self._cond.wait(min(left, 0.1))
        return None

    def frames(self, timeout: float = 1.0, limit: int | None = None) -> Iterator[Frame]:
        """Successive new frames (skipping any overwritten ones) until the source stops, no
        frame comes within `timeout` s, or `limit` frames were given."""
        seq = 0
        given = 0
        while limit is None or given < limit:
            frame = self.wait_frame(seq, timeout)
            if frame is None:
                return
            seq = frame.seq
            given += 1
            yield frame

    def stats(self) -> SourceStats:
        """Counters; `fps` over the last second of captured frames."""
        with self._cond:
            now = self._now()
            recent = [t for t in self._times if now - t <= 1.0]
            if len(recent) >= 2:
                fps = (len(recent) - 1) / max(recent[-1] - recent[0], 1e-6)
            else:
                fps = 0.0
            return SourceStats(
                health=self._health,
                fps=fps,
                captured=self._seq,
                dropped=self._dropped,
                invalid=self._invalid,
                reconnects=self._reconnects,
                last_error=self._last_error,
                size=self._size,
            )

    # -- capture thread ----------------------------------------------------------------------

    def _set_health(self, health: DeviceHealth, detail: str) -> None:
        if health is self._health:
            return
        self._health = health
        # once per change (HA "log-when-unavailable"), not once per failed read
        if health is DeviceHealth.ONLINE or detail == "stopped":
            self._log.info("camera %s %s", self.name, health.value)
        else:
            self._log.warning("camera %s %s: %s", self.name, health.value, detail)
        if self._on_event is not None:
            try:
                self._on_event(
                    DeviceHealthChanged(
                        device=self.name,
                        at=self._now(),
                        kind=DeviceKind.CAMERA,
                        health=health,
                        detail=detail,
                    )
                )
            except Exception:  # a consumer bug must not kill the capture thread
                self._log.exception("health event handler failed")

    def _open(self) -> _Capture | None:
        spec = self._settings.source
        kind = classify_source(spec)
        if self._settings.devices_only and kind != "device":
            self._last_error = f"{kind} source refused on a production terminal: {spec}"
            return None
        try:
            if kind == "device":
                # V4L2 directly: the default order also tries FFMPEG, which cannot open cameras
                # in the pip wheel and only adds a warning
                backend = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
                if spec.strip().isdigit():
                    cap = cv2.VideoCapture(int(spec), backend)
                else:
                    if not Path(spec).exists():  # unplugged: its node (or by-id link) is gone
                        self._last_error = f"no such device: {spec}"
                        return None
                    cap = cv2.VideoCapture(spec, backend)
                fps = 0.0  # a camera paces itself
            else:
                path = self._synthetic_file() if kind == "synthetic" else Path(spec)
                if not path.exists():
                    self._last_error = f"no such file: {path}"
                    return None
                cap = cv2.VideoCapture(str(path))
                fps = float(cap.get(cv2.CAP_PROP_FPS) or 0.0) if self._settings.pace_files else 0.0
        except (cv2.error, CameraError, OSError, ValueError) as e:
            self._last_error = str(e)
            return None
        if not cap.isOpened():
            cap.release()
            self._last_error = f"cannot open {spec}"
            return None
        if kind == "device":
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self._settings.width)
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self._settings.height)
            cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # we want the newest frame, not a queue
        return _Capture(cap, fps)

    def _synthetic_file(self) -> Path:
        if self._synthetic_path is None or not self._synthetic_path.is_file():
            from drivers.camera.synthetic import write_synthetic_video  # dlib only when needed

            self._synthetic_path = write_synthetic_video(
                self._settings.source, fps=self._settings.synthetic_fps
            )
        return self._synthetic_path

    def _forget_frame(self) -> None:
        # A lost camera leaves no frozen frame of the citizen behind for `latest()` to show.
        with self._cond:
            self._latest = None

    def _publish(self, image: np.ndarray, at: float | None = None, *, wait: bool = False) -> None:
        """Make `image` the latest frame, stamped `at` (default now). With `wait`, first wait
        until the previous frame was taken (a generated stream: nothing is dropped)."""
        now = self._now()
        with self._cond:
            while (
                wait
                and self._latest is not None
                and self._latest.seq > self._taken_seq
                and not self._stop.is_set()
            ):
                self._cond.wait(0.1)
            if self._stop.is_set():
                return
            now = self._now()
            self._seq += 1
            if self._latest is not None and self._latest.seq > self._taken_seq:
                self._dropped += 1  # overwritten before anyone took it
            self._latest = Frame(image=image, seq=self._seq, at=now if at is None else at)
            self._times.append(now)
            self._size = (int(image.shape[1]), int(image.shape[0]))
            self._cond.notify_all()

    def _run(self) -> None:
        s = self._settings
        backoff = s.reconnect_initial
        first = True
        while not self._stop.is_set():
            cap = self._open()
            if cap is None:
                self._forget_frame()
                self._set_health(DeviceHealth.NO_DEVICE, self._last_error)
                self._stop.wait(backoff)
                backoff = min(backoff * s.reconnect_factor, s.reconnect_max)
                continue
            if not first:
                self._reconnects += 1
            first = False
            backoff = s.reconnect_initial
            self._set_health(DeviceHealth.ONLINE, "")
            try:
                self._pump(cap)
            finally:
                cap.release()

    def _pump(self, cap: _Capture) -> None:
        """Read until the stream ends or fails; returns to let `_run` reopen."""
        s = self._settings
        failed = 0
        invalid = 0
        period = 1.0 / cap.fps if cap.fps > 0 else 0.0
        next_at = self._now()
        # A generated stream stands for a citizen who follows the prompts: it is delivered
        # frame by frame (never dropped, whatever the consumer's speed or the machine's load)
        # and stamped with its own stream time, so a busy check sees the same sequence.
        lossless = classify_source(s.source) == "synthetic"
        stream_t0 = next_at
        delivered = 0
        while not self._stop.is_set():
            ok, img = cap.read()
            if not ok:
                if classify_source(s.source) != "device":
                    if s.loop_files:
                        return  # end of file: reopen (notices a file that vanished)
                    self._set_health(DeviceHealth.OFFLINE, "end of stream")
                    self._stop.wait()
                    return
                failed += 1
                if failed >= s.max_failed_reads:
                    self._last_error = f"{failed} failed reads"
                    self._forget_frame()
                    self._set_health(DeviceHealth.NO_DEVICE, self._last_error)
                    return
                continue
            failed = 0
            try:
                frame = validate_frame(img)
            except FrameInvalidError as e:
                with self._cond:
                    self._invalid += 1
                    self._last_error = str(e)
                invalid += 1
                if invalid >= s.max_failed_reads:
                    self._set_health(DeviceHealth.HARDWARE_ERROR, str(e))
                continue
            invalid = 0
            self._set_health(DeviceHealth.ONLINE, "")
            if lossless:
                at = stream_t0 + delivered * period if period else None
                self._publish(frame, at, wait=True)
                delivered += 1
            else:
                self._publish(frame)
            if period:
                # play a file at its own rate, as a camera would deliver it
                next_at += period
                delay = next_at - self._now()
                if delay > 0:
                    self._stop.wait(delay)
                else:
                    next_at = self._now()
