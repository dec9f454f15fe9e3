"""Active liveness: a randomised head-turn challenge measured on the 5 dlib landmarks.

The measure, and why it is not fooled by moving a flat photo
-------------------------------------------------------------
dlib's 5 points (order checked on the test photos): 0/1 = outer/inner corner of the subject's
LEFT eye (image right in an upright, unmirrored frame), 2/3 = outer/inner corner of the
subject's RIGHT eye, 4 = base of the nose. With L, R the eye centres, e = |L - R| the
inter-ocular distance, u = (L - R) / e the eye-axis direction and d = nose - (L + R) / 2:

* yaw proxy   ``yaw = (d . u) / e``  - the nose displacement ACROSS the face along the eye axis,
  in inter-ocular units. Projected on the eye axis (not on image x), it does not change when
  a head or a print is rotated in plane; normalised by e, it does not change with distance.
  Positive = the nose moved towards the subject's left (they turned to their left).
* aspect      ``aspect = e / |d x u|`` - eye distance over eye-to-nose height. Turning about
  the vertical axis foreshortens e by cos(theta) while the height stays.

A real head is 3-D: the nose sits in front of the eye plane, so turning by theta moves the nose
across the eye midpoint by about (depth / e) * sin(theta), a first-order effect, while the eye
line foreshortens only by 1 - cos(theta), a second-order one. A flat print turned in depth is
(nearly) an affine map of the plane: it keeps ratios along the eye axis, so the nose stays on
the eye midpoint (yaw ~ constant) while the eye line foreshortens. Perspective adds only a
small nose offset, of order e * sin(theta) / (4 * camera distance), with strong
foreshortening. The check therefore asks for BOTH a yaw change of at least `turn_threshold` in
the challenged direction AND a yaw change at least `min_offset_per_foreshortening` times the
foreshortening ``1 - aspect / aspect_at_start``. A still photo or a replayed static sequence
never changes yaw (timeout); a print rotated in plane keeps yaw and aspect; a print turned in
depth foreshortens without enough nose travel (flat). Replayed video of a real head turning,
and masks, are NOT defeated (no packaged model does passive anti-spoofing; docs/architecture.md §5).

Blink is not offered: the 5-point model has no eyelid points, and eyelids would need the
68-point model (licence excludes commercial use) or the optional MediaPipe extra.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from drivers.camera.results import Challenge, LivenessOutcome, LivenessResult
from drivers.camera.settings import FaceSettings

__all__ = ["HeadPose", "LivenessSession", "head_pose", "pick_challenges"]


@dataclass(frozen=True, slots=True)
class HeadPose:
    """Rotation- and scale-invariant pose measures of one face (see module docstring)."""

    yaw: float
    aspect: float


def head_pose(points: npt.NDArray[np.float64]) -> HeadPose | None:
    """Pose measures from 5 dlib landmarks (5x2 pixels); None for a degenerate shape."""
    p = np.asarray(points, dtype=np.float64).reshape(5, 2)
    left = (p[0] + p[1]) / 2.0  # subject's left eye
    right = (p[2] + p[3]) / 2.0
    axis = left - right
    e = float(math.hypot(axis[0], axis[1]))
    if e < 1e-6:
        return None
    u = axis / e
    d = p[4] - (left + right) / 2.0
    along = float(d[0] * u[0] + d[1] * u[1])
    across = abs(float(d[0] * u[1] - d[1] * u[0]))
    if across < 1e-6:
        return None
    return HeadPose(yaw=along / e, aspect=e / across)


def pick_challenges(settings: FaceSettings, rng: random.Random) -> tuple[Challenge, ...]:
    """`challenge_count` challenges drawn from `settings.challenges` in random order (without
    repetition while possible), so a prepared recording cannot know the order."""
    pool = [Challenge(c) for c in settings.challenges]
    if not pool:
        raise ValueError("no liveness challenge configured")
    out: list[Challenge] = []
    while len(out) < settings.challenge_count:
        batch = pool[:]
        rng.shuffle(batch)
        out.extend(batch)
    return tuple(out[: settings.challenge_count])


class LivenessSession:
    """One challenge sequence, fed pose measures frame by frame (pure; time comes from the
    frames' timestamps, in seconds).

    Each step first needs `baseline_frames` frontal frames (|yaw| <= `frontal_max`), then the
    asked turn held for `hold_frames` frames within `step_timeout` seconds of the step start.
    A turn the other way fails at once (WRONG_DIRECTION). `feed` returns the final
    `LivenessResult` when decided, else None; `prompt` is what to show the citizen now.
    """

    def __init__(self, settings: FaceSettings, challenges: tuple[Challenge, ...]) -> None:
        self._s = settings
        self.challenges = challenges
        self._step = 0
        self._step_start: float | None = None
        self._base: list[HeadPose] = []
        self._baseline: HeadPose | None = None
        self._hold = 0
        self._wrong = 0
        self._flat = False
        self._seen_face = False
        self._peaks: list[float] = []
        self._peak = 0.0
        self.result: LivenessResult | None = None

    @property
    def prompt(self) -> Challenge | None:
        """The challenge to show now (None before the baseline or when finished)."""
        if self.result is not None or self._baseline is None:
            return None
        return self.challenges[self._step]

    def _finish(self, outcome: LivenessOutcome, detail: str) -> LivenessResult:
        self.result = LivenessResult(
            outcome=outcome,
            challenges=self.challenges,
            passed_steps=self._step,
            yaw=(*self._peaks, self._peak),
            detail=detail,
        )
        return self.result

    def feed(self, pose: HeadPose | None, at: float) -> LivenessResult | None:
        """Consume one frame's pose (None = no face in it) taken at `at` seconds."""
        if self.result is not None:
            return self.result
        s = self._s
        if self._step_start is None:
            self._step_start = at
        if at - self._step_start > s.step_timeout:
            return self._timeout()
        if pose is None:
            self._hold = 0
            return None
        self._seen_face = True
        if self._baseline is None:
            if abs(pose.yaw) <= s.frontal_max:
                self._base.append(pose)
                if len(self._base) >= s.baseline_frames:
                    self._baseline = HeadPose(
                        yaw=float(np.mean([b.yaw for b in self._base])),
                        aspect=float(np.mean([b.aspect for b in self._base])),
                    )
            else:
                self._base.clear()
            return None
        sign = 1.0 if self.challenges[self._step] is Challenge.TURN_LEFT else -1.0
        delta = pose.yaw - self._baseline.yaw
        foreshortening = max(0.0, 1.0 - pose.aspect / self._baseline.aspect)
        if abs(delta) > abs(self._peak):
            self._peak = delta
        # 3-D consistency: the nose must travel more than the eye line foreshortens
        solid = abs(delta) >= s.min_offset_per_foreshortening * foreshortening
        if foreshortening >= s.turn_threshold and not solid:
            self._flat = True  # turned like a sheet of paper
        if sign * delta >= s.turn_threshold and solid:
            self._hold += 1
            self._wrong = 0
            if self._hold >= s.hold_frames:
                return self._next_step(at)
        elif -sign * delta >= s.turn_threshold and solid:
            self._wrong += 1
            self._hold = 0
            if self._wrong >= s.hold_frames:
                return self._finish(
                    LivenessOutcome.WRONG_DIRECTION,
                    f"asked {self.challenges[self._step].value}, saw the opposite turn",
                )
        else:
            self._hold = 0
            self._wrong = 0
        return None

    def _next_step(self, at: float) -> LivenessResult | None:
        self._peaks.append(self._peak)
        self._peak = 0.0
        self._step += 1
        self._hold = 0
        self._wrong = 0
        self._flat = False
        self._baseline = None  # look straight again before the next turn
        self._base.clear()
        self._step_start = at
        if self._step >= len(self.challenges):
            self.result = LivenessResult(
                outcome=LivenessOutcome.PASSED,
                challenges=self.challenges,
                passed_steps=self._step,
                yaw=tuple(self._peaks),
                detail="all turns seen",
            )
            return self.result
        return None

    def _timeout(self) -> LivenessResult:
        if not self._seen_face:
            return self._finish(LivenessOutcome.NO_FACE, "no usable face seen in time")
        if self._baseline is None:
            return self._finish(LivenessOutcome.NOT_FRONTAL, "never looked straight ahead")
        if self._flat:
            return self._finish(LivenessOutcome.FLAT, "face foreshortened without turning")
        return self._finish(
            LivenessOutcome.TIMEOUT, f"no {self.challenges[self._step].value} seen in time"
        )

    def end(self) -> LivenessResult:
        """The result when the frames run out before a decision (counts as a timeout)."""
        if self.result is not None:
            return self.result
        return self._timeout()
