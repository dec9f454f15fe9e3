"""Frozen results of the camera layer: frames, faces, quality verdicts, match and liveness.

These are what leaves `drivers.camera`: numpy arrays and our dataclasses, never cv2 or dlib
objects. Reason codes are stable strings; `message(locale)` gives the short sentence shown to
the citizen (zh_CN and en).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum

import numpy as np
import numpy.typing as npt

from drivers.vocabulary import DeviceHealth

__all__ = [
    "Challenge",
    "FaceBox",
    "FaceCheckResult",
    "Frame",
    "Image",
    "LivenessOutcome",
    "LivenessResult",
    "MatchResult",
    "QualityReason",
    "QualityVerdict",
    "SourceStats",
]

Image = npt.NDArray[np.uint8]


@dataclass(frozen=True, slots=True, eq=False)
class Frame:
    """One captured frame: BGR uint8 HxWx3, its sequence number and capture time (monotonic s)."""

    image: Image
    seq: int
    at: float

    @property
    def size(self) -> tuple[int, int]:
        """(width, height) in pixels."""
        return int(self.image.shape[1]), int(self.image.shape[0])


@dataclass(frozen=True, slots=True)
class FaceBox:
    """A detected face in pixels (x, y = top-left corner)."""

    x: int
    y: int
    w: int
    h: int

    @property
    def centre(self) -> tuple[float, float]:
        return self.x + self.w / 2.0, self.y + self.h / 2.0

    @property
    def area(self) -> int:
        return self.w * self.h


class QualityReason(StrEnum):
    """Why a frame is not good enough, in words a citizen understands. Values are stable."""

    OK = "face.ok"
    NO_FACE = "face.no_face"
    SEVERAL_FACES = "face.several_faces"
    TOO_FAR = "face.too_far"
    TOO_CLOSE = "face.too_close"
    OFF_CENTRE = "face.off_centre"
    TOO_DARK = "face.too_dark"
    TOO_BRIGHT = "face.too_bright"
    BLURRED = "face.blurred"

    def message(self, locale: str = "zh_CN") -> str:
        """The short instruction shown to the citizen; `locale` "zh_CN" (default) or "en"."""
        zh, en = _MESSAGES[self]
        return en if locale.lower().startswith("en") else zh


_MESSAGES: dict[QualityReason, tuple[str, str]] = {
    QualityReason.OK: ("很好，请保持不动", "Good, please hold still"),
    QualityReason.NO_FACE: ("请正对摄像头", "Please look at the camera"),
    QualityReason.SEVERAL_FACES: (
        "请确保只有一人在镜头前",
        "Only one person in front of the camera",
    ),
    QualityReason.TOO_FAR: ("请靠近一些", "Please come a little closer"),
    QualityReason.TOO_CLOSE: ("请离远一些", "Please move back a little"),
    QualityReason.OFF_CENTRE: ("请将脸部移到框内中央", "Please move your face to the centre"),
    QualityReason.TOO_DARK: ("光线太暗，请抬起头或靠近光源", "Too dark: please face the light"),
    QualityReason.TOO_BRIGHT: ("光线太强，请避开强光", "Too bright: please avoid strong light"),
    QualityReason.BLURRED: ("画面模糊，请保持不动", "Blurred: please hold still"),
}


@dataclass(frozen=True, slots=True)
class QualityVerdict:
    """The quality gate outcome for one frame. `face` is the chosen (largest) face, if any.

    Measures: `face_width` fraction of frame width, `offcentre` fraction of frame size,
    `brightness` mean grey 0-255 of the face crop, `sharpness` Laplacian variance (128 px crop).
    """

    reason: QualityReason
    face: FaceBox | None = None
    faces: int = 0
    face_width: float = 0.0
    offcentre: float = 0.0
    brightness: float = 0.0
    sharpness: float = 0.0

    @property
    def ok(self) -> bool:
        return self.reason is QualityReason.OK

    def message(self, locale: str = "zh_CN") -> str:
        return self.reason.message(locale)


@dataclass(frozen=True, slots=True)
class MatchResult:
    """1:1 decision: `distance` is the (median) Euclidean distance of the 128-D embeddings."""

    match: bool
    distance: float
    threshold: float
    frames: int


class Challenge(StrEnum):
    """Active liveness challenges, in the citizen's own terms (their left, not the image's)."""

    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"

    def message(self, locale: str = "zh_CN") -> str:
        zh, en = {
            Challenge.TURN_LEFT: ("请向左转头", "Please turn your head to your left"),
            Challenge.TURN_RIGHT: ("请向右转头", "Please turn your head to your right"),
        }[self]
        return en if locale.lower().startswith("en") else zh


class LivenessOutcome(StrEnum):
    """How the liveness check ended. Values are stable."""

    PASSED = "passed"
    TIMEOUT = "timeout"  # the requested turn was not seen in time (still photo, static replay)
    WRONG_DIRECTION = "wrong_direction"
    FLAT = "flat"  # the face foreshortened without its nose moving: a turned print
    NOT_FRONTAL = "not_frontal"  # never looked straight at the camera to start
    NO_FACE = "no_face"


@dataclass(frozen=True, slots=True)
class LivenessResult:
    """Outcome of the challenge sequence. `challenges` in the order asked; `yaw` the peak yaw
    proxy change seen per step (signed, + = citizen's left); `detail` one plain sentence."""

    outcome: LivenessOutcome
    challenges: tuple[Challenge, ...]
    passed_steps: int
    yaw: tuple[float, ...] = ()
    detail: str = ""

    @property
    def live(self) -> bool:
        return self.outcome is LivenessOutcome.PASSED


@dataclass(frozen=True, slots=True)
class FaceCheckResult:
    """The whole face check: match and liveness. Holds no image and no embedding (privacy):
    only the decision, the distance and the liveness outcome go on to the journal."""

    match: MatchResult | None
    liveness: LivenessResult | None
    quality: QualityReason = QualityReason.OK

    @property
    def passed(self) -> bool:
        return (
            self.match is not None
            and self.match.match
            and self.liveness is not None
            and self.liveness.live
        )


@dataclass(frozen=True, slots=True)
class SourceStats:
    """Counters of a frame source: `fps` measured over the last second of captured frames,
    `dropped` = frames overwritten before anyone took them (latest frame wins)."""

    health: DeviceHealth
    fps: float
    captured: int
    dropped: int
    invalid: int
    reconnects: int
    last_error: str = ""
    size: tuple[int, int] = field(default=(0, 0))
