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
    "IdentityOutcome",
    "IdentityResult",
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
    """Active liveness challenges, in the citizen's own terms (their left, not the image's).
    All are measured on the 5 dlib landmarks (see `drivers.camera.liveness`)."""

    TURN_LEFT = "turn_left"
    TURN_RIGHT = "turn_right"
    LOOK_UP = "look_up"
    LOOK_DOWN = "look_down"
    MOVE_CLOSER = "move_closer"

    @property
    def is_turn(self) -> bool:
        """A head turn: the only challenges that also test for a flat print (3-D check)."""
        return self in (Challenge.TURN_LEFT, Challenge.TURN_RIGHT)

    def message(self, locale: str = "zh_CN") -> str:
        zh, en = {
            Challenge.TURN_LEFT: ("请向左转头", "Please turn your head to your left"),
            Challenge.TURN_RIGHT: ("请向右转头", "Please turn your head to your right"),
            Challenge.LOOK_UP: ("请抬头", "Please look up"),
            Challenge.LOOK_DOWN: ("请低头", "Please look down"),
            Challenge.MOVE_CLOSER: ("请靠近摄像头", "Please move closer to the camera"),
        }[self]
        return en if locale.lower().startswith("en") else zh


class LivenessOutcome(StrEnum):
    """How the liveness check ended. Values are stable."""

    PASSED = "passed"
    TIMEOUT = "timeout"  # the requested turn was not seen in time (still photo, static replay)
    WRONG_DIRECTION = "wrong_direction"  # another challenge was answered than the one asked
    FLAT = "flat"  # the face foreshortened without its nose moving: a turned print
    NOT_FRONTAL = "not_frontal"  # never looked straight at the camera to start
    NO_FACE = "no_face"
    DISCONTINUOUS = "discontinuous"  # a still run then a jump: prints swapped, not a head moving

    def message(self, locale: str = "zh_CN") -> str:
        """What the citizen is told (zh_CN default, or "en")."""
        zh, en = _LIVENESS_MESSAGES[self]
        return en if locale.lower().startswith("en") else zh


_LIVENESS_MESSAGES: dict[LivenessOutcome, tuple[str, str]] = {
    LivenessOutcome.PASSED: ("动作检测通过", "Liveness check passed"),
    LivenessOutcome.TIMEOUT: ("未在规定时间内完成动作", "The movement was not seen in time"),
    LivenessOutcome.WRONG_DIRECTION: (
        "动作与提示不符，请按提示操作",
        "That was not the movement asked for: please follow the prompt",
    ),
    LivenessOutcome.FLAT: ("未检测到真实人脸", "No real face was seen"),
    LivenessOutcome.NOT_FRONTAL: ("请先正对摄像头", "Please look straight at the camera first"),
    LivenessOutcome.NO_FACE: ("未检测到人脸", "No face was seen"),
    LivenessOutcome.DISCONTINUOUS: (
        "动作不连贯，请缓慢自然地转动",
        "The movement was not continuous: please move slowly and naturally",
    ),
}


class IdentityOutcome(StrEnum):
    """Whether the face that matched stayed the one in front of the camera. Values are stable."""

    HELD = "identity.held"
    CHANGED = "identity.changed"  # a sampled frame is not the person who matched
    SECOND_FACE = "identity.second_face"  # another face joined during the check
    TRACK_LOST = "identity.track_lost"  # the face left, or jumped to another place
    NOT_REMATCHED = "identity.not_rematched"  # no matching frontal face after the challenge

    def message(self, locale: str = "zh_CN") -> str:
        """What the citizen is told (zh_CN default, or "en")."""
        zh, en = _IDENTITY_MESSAGES[self]
        return en if locale.lower().startswith("en") else zh


_IDENTITY_MESSAGES: dict[IdentityOutcome, tuple[str, str]] = {
    IdentityOutcome.HELD: ("身份核验一致", "Same person throughout"),
    IdentityOutcome.CHANGED: (
        "检测过程中人脸发生变化，请本人重新验证",
        "The face changed during the check: the card holder must try again",
    ),
    IdentityOutcome.SECOND_FACE: (
        "检测过程中出现多人，请确保只有一人在镜头前",
        "Another face appeared: only one person in front of the camera",
    ),
    IdentityOutcome.TRACK_LOST: (
        "人脸离开了画面，请重新验证",
        "The face left the picture: please try again",
    ),
    IdentityOutcome.NOT_REMATCHED: (
        "动作完成后请正对摄像头",
        "Please look straight at the camera after the movements",
    ),
}


@dataclass(frozen=True, slots=True)
class IdentityResult:
    """Identity over the whole check: `samples` embeddings compared during and after the
    challenge, `worst` the largest distance among them, `closing` the median distance of the
    frontal frames matched again at the end (None if never seen)."""

    outcome: IdentityOutcome
    samples: int = 0
    worst: float = 0.0
    closing: float | None = None
    detail: str = ""

    @property
    def held(self) -> bool:
        return self.outcome is IdentityOutcome.HELD

    def message(self, locale: str = "zh_CN") -> str:
        return self.outcome.message(locale)


@dataclass(frozen=True, slots=True)
class LivenessResult:
    """Outcome of the challenge sequence. `challenges` in the order asked; `yaw` the peak of
    the asked measure per step (turns: yaw proxy change, + = citizen's left; nods: relative
    nose-drop change, + = down; closer: eye-distance growth); `detail` one plain sentence."""

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
    """The whole face check: match, liveness and identity held throughout. Holds no image and
    no embedding (privacy): only decisions, distances and outcomes go on to the journal.

    `match` is the opening 1:1 decision; `identity` says whether every frame used for liveness
    belonged to that face and it matched again at the end (None only on results built by
    older callers, which then cannot pass)."""

    match: MatchResult | None
    liveness: LivenessResult | None
    quality: QualityReason = QualityReason.OK
    identity: IdentityResult | None = None

    @property
    def passed(self) -> bool:
        return (
            self.match is not None
            and self.match.match
            and self.liveness is not None
            and self.liveness.live
            and self.identity is not None
            and self.identity.held
        )

    def _failure(self) -> IdentityOutcome | LivenessOutcome | None:
        """What failed first, in the order that explains it best: a check that never matched
        fails on the match (or on why no face was seen), then identity, then liveness."""
        if self.match is not None and not self.match.match:
            return None
        if self.match is None:
            return self.liveness.outcome if self.liveness is not None else LivenessOutcome.NO_FACE
        if self.identity is not None and not self.identity.held:
            return self.identity.outcome
        if self.liveness is not None and not self.liveness.live:
            return self.liveness.outcome
        return IdentityOutcome.NOT_REMATCHED  # matched and live, but identity never judged

    @property
    def reason(self) -> str:
        """The stable code of why it failed ("" when it passed): "match.no_match",
        "liveness.<outcome>" or an "identity.<outcome>"."""
        if self.passed:
            return ""
        failed = self._failure()
        if failed is None:
            return "match.no_match"
        if isinstance(failed, LivenessOutcome):
            return f"liveness.{failed.value}"
        return failed.value

    def message(self, locale: str = "zh_CN") -> str:
        """The sentence for the citizen (zh_CN default, or "en")."""
        en = locale.lower().startswith("en")
        if self.passed:
            return "Face check passed" if en else "人脸核验通过"
        failed = self._failure()
        if failed is None:
            return "The face does not match the card" if en else "人脸与证件照片不符"
        return failed.message(locale)


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
