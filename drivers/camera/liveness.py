"""Active liveness: a randomised challenge sequence measured on the 5 dlib landmarks.

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
and masks, are NOT defeated (no packaged model does passive anti-spoofing; docs/face-check.md).

Nods and moving closer (the other challenges the 5 points support)
-------------------------------------------------------------------
* nod         ``nod = aspect_at_start / aspect - 1`` - the relative growth of the nose drop
  below the eye line per eye distance. Looking down moves the nose (in front of the eye plane)
  further below the eye line: about h cos(phi) + depth sin(phi), growing; looking up shrinks
  it. A nod does not foreshorten the eye line, so a nod only counts while the eye distance
  stays within `nod_eye_tolerance` of the start and the yaw has not moved: a head turn or a
  print turned in depth (both shorten the eye line, which also grows ``nod``) never reads as
  a nod. A print tilted back shortens the drop by h (1 - cos(phi)) and can imitate "look up"
  at about 35 degrees; it can never imitate "look down". That is why every draw contains at
  least one head turn, the challenge with the 3-D test.
* closer      ``scale = e / e_at_start`` >= `closer_ratio`, proportions kept (|nod| below its
  threshold) and no turn. It proves nothing about depth (a print brought closer does it too):
  it is in the set to make the challenge sequence harder to pre-record, not as a 3-D test.

Blink is not offered: the 5-point model has no eyelid points, and eyelids would need the
68-point model (licence excludes commercial use) or the optional MediaPipe extra.

Random draws
------------
`pick_challenges` draws `challenge_count` distinct challenges in random order, rejecting draws
without a head turn (uniform over the valid ones); `pick_holds` draws each step's hold. With
the five challenges and three per check there are 5*4*3 - 3*2*1 = 54 equally likely orders: a
clip recorded for one check answers another's order with probability 1/54 (1.9 %), and only if
it also holds each pose at least as long as the new draw asks (holds 2-4 fresh frames).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from drivers.camera.results import Challenge, LivenessOutcome, LivenessResult
from drivers.camera.settings import FaceSettings

__all__ = [
    "HeadPose",
    "LivenessSession",
    "PoseChange",
    "answer",
    "change",
    "head_pose",
    "pick_challenges",
    "pick_holds",
]


@dataclass(frozen=True, slots=True)
class HeadPose:
    """Rotation- and scale-invariant pose measures of one face (see module docstring), and the
    eye distance in pixels (`eye_px`, 0 = unknown: then no nod or move is read from it)."""

    yaw: float
    aspect: float
    eye_px: float = 0.0


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
    return HeadPose(yaw=along / e, aspect=e / across, eye_px=e)


@dataclass(frozen=True, slots=True)
class PoseChange:
    """A pose against the step's frontal baseline: `yaw` change, `foreshortening` of the eye
    line (1 - aspect / aspect at start), `nod` (relative nose-drop growth), `scale` (eye
    distance ratio, 0 = unknown) and `solid` (the nose travelled more than the eyes
    foreshortened: a 3-D head, not a sheet)."""

    yaw: float
    foreshortening: float
    nod: float
    scale: float
    solid: bool


def change(pose: HeadPose, base: HeadPose, settings: FaceSettings) -> PoseChange:
    """How `pose` differs from the frontal `base` (pure)."""
    dyaw = pose.yaw - base.yaw
    foreshortening = max(0.0, 1.0 - pose.aspect / base.aspect)
    scale = pose.eye_px / base.eye_px if pose.eye_px > 0 and base.eye_px > 0 else 0.0
    return PoseChange(
        yaw=dyaw,
        foreshortening=foreshortening,
        nod=base.aspect / pose.aspect - 1.0,
        scale=scale,
        solid=abs(dyaw) >= settings.min_offset_per_foreshortening * foreshortening,
    )


def answer(c: PoseChange, settings: FaceSettings) -> Challenge | None:
    """Which challenge the pose change answers, if any. A turn wins; a nod needs the eye line
    kept (no turn, no print turned in depth); a move closer needs proportions kept."""
    s = settings
    if c.solid and c.yaw >= s.turn_threshold:
        return Challenge.TURN_LEFT
    if c.solid and c.yaw <= -s.turn_threshold:
        return Challenge.TURN_RIGHT
    if abs(c.yaw) >= s.turn_threshold or c.scale <= 0.0:
        return None  # turning (not solid enough to count): nothing else counts either
    if abs(c.scale - 1.0) <= s.nod_eye_tolerance:
        if c.nod >= s.pitch_threshold:
            return Challenge.LOOK_DOWN
        if c.nod <= -s.pitch_threshold:
            return Challenge.LOOK_UP
    elif c.scale >= s.closer_ratio and abs(c.nod) < s.pitch_threshold:
        return Challenge.MOVE_CLOSER
    return None


def _measure(asked: Challenge, c: PoseChange) -> float:
    """The signed amount of the asked movement (reported as the step's peak)."""
    if asked.is_turn:
        return c.yaw
    if asked is Challenge.MOVE_CLOSER:
        return c.scale - 1.0 if c.scale > 0 else 0.0
    return c.nod


def pick_challenges(settings: FaceSettings, rng: random.Random) -> tuple[Challenge, ...]:
    """`challenge_count` challenges drawn from `settings.challenges` in random order (without
    repetition while possible), so a prepared recording cannot know the order. A draw without
    a head turn is drawn again (when the pool has one): only turns test for a flat print."""
    pool = [Challenge(c) for c in settings.challenges]
    if not pool:
        raise ValueError("no liveness challenge configured")
    has_turn = any(c.is_turn for c in pool)
    while True:
        out: list[Challenge] = []
        while len(out) < settings.challenge_count:
            batch = pool[:]
            rng.shuffle(batch)
            out.extend(batch)
        drawn = tuple(out[: settings.challenge_count])
        if not has_turn or any(c.is_turn for c in drawn):
            return drawn


def pick_holds(settings: FaceSettings, steps: int, rng: random.Random) -> tuple[int, ...]:
    """Each step's hold in fresh frames, uniform in [hold_frames, hold_frames_max]."""
    low = settings.hold_frames
    high = max(low, settings.hold_frames_max)
    return tuple(rng.randint(low, high) for _ in range(steps))


class LivenessSession:
    """One challenge sequence, fed pose measures frame by frame (pure; time comes from the
    frames' timestamps, in seconds).

    Each step first needs `baseline_frames` frontal frames (|yaw| <= `frontal_max`, and after
    the first step the nose drop of the first baseline: see `is_neutral`), then the
    asked movement held for its hold (`holds`, default `hold_frames` each) in FRESH frames
    (a frame byte-identical to the one before is no evidence: a camera sensor never repeats
    itself) within `step_timeout` seconds of the step start. Another challenge answered
    instead fails at once (WRONG_DIRECTION). `feed` returns the final `LivenessResult` when
    decided, else None; `prompt` is what to show the citizen now.
    """

    def __init__(
        self,
        settings: FaceSettings,
        challenges: tuple[Challenge, ...],
        holds: tuple[int, ...] | None = None,
    ) -> None:
        if not challenges:
            raise ValueError("no liveness challenge to ask")
        self._s = settings
        self.challenges = challenges
        self.holds = holds if holds is not None else (settings.hold_frames,) * len(challenges)
        if len(self.holds) != len(challenges) or min(self.holds) < 1:
            raise ValueError("one hold of at least one frame per challenge")
        self._step = 0
        self._step_start: float | None = None
        self._base: list[HeadPose] = []
        self._baseline: HeadPose | None = None
        self._neutral: HeadPose | None = None  # the first baseline: how this face looks ahead
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

    @property
    def step(self) -> int:
        """The index of the challenge being asked (= the number passed so far)."""
        return self._step

    @property
    def baseline(self) -> HeadPose | None:
        """The current step's frontal baseline (None while it is being taken)."""
        return self._baseline

    def is_neutral(self, pose: HeadPose) -> bool:
        """Looking straight ahead: frontal yaw and, once known, the first baseline's yaw and
        nose drop (a citizen still turned a little, or looking up or down, is not back at the
        start)."""
        if abs(pose.yaw) > self._s.frontal_max:
            return False
        if self._neutral is None:
            return True
        # close to how this face first looked ahead: not the tail of the last movement
        if abs(pose.yaw - self._neutral.yaw) > self._s.frontal_max / 2:
            return False
        return abs(self._neutral.aspect / pose.aspect - 1.0) < self._s.pitch_threshold / 2

    def _agrees(self, pose: HeadPose) -> bool:
        """The face has settled: yaw and distance of the baseline frames agree."""
        yaws = [b.yaw for b in self._base] + [pose.yaw]
        if max(yaws) - min(yaws) > self._s.frontal_max / 2:
            return False
        eyes = [b.eye_px for b in self._base if b.eye_px > 0]
        if pose.eye_px > 0 and eyes:
            return max(abs(pose.eye_px / e - 1.0) for e in eyes) <= self._s.nod_eye_tolerance / 2
        return True

    def _finish(self, outcome: LivenessOutcome, detail: str) -> LivenessResult:
        self.result = LivenessResult(
            outcome=outcome,
            challenges=self.challenges,
            passed_steps=self._step,
            yaw=(*self._peaks, self._peak),
            detail=detail,
        )
        return self.result

    def fail(self, outcome: LivenessOutcome, detail: str) -> LivenessResult:
        """End the sequence from outside (the motion check saw a jump)."""
        if self.result is not None:
            return self.result
        return self._finish(outcome, detail)

    def feed(
        self, pose: HeadPose | None, at: float, *, fresh: bool = True
    ) -> LivenessResult | None:
        """Consume one frame's pose (None = no usable face in it) taken at `at` seconds;
        `fresh` False for a frame identical to the previous one."""
        if self.result is not None:
            return self.result
        s = self._s
        if self._step_start is None:
            self._step_start = at
        if at - self._step_start > s.step_timeout:
            return self._timeout()
        if pose is None:
            # a frame the detector lost (or a blurred one) neither holds nor breaks a pose:
            # the cascade drops single frames of a turned face; the track (drivers.camera.
            # track) ends the check when the face stays away longer than `track_lost_s`
            return None
        self._seen_face = True
        if self._baseline is None:
            if self.is_neutral(pose):
                # a settled face: the baseline frames agree (not the tail of the last move)
                if self._base and not self._agrees(pose):
                    self._base.clear()
                self._base.append(pose)
                if len(self._base) >= s.baseline_frames:
                    self._baseline = HeadPose(
                        yaw=float(np.mean([b.yaw for b in self._base])),
                        aspect=float(np.mean([b.aspect for b in self._base])),
                        eye_px=float(np.mean([b.eye_px for b in self._base])),
                    )
                    if self._neutral is None:
                        self._neutral = self._baseline
            else:
                self._base.clear()
            return None
        asked = self.challenges[self._step]
        c = change(pose, self._baseline, s)
        amount = _measure(asked, c)
        if abs(amount) > abs(self._peak):
            self._peak = amount
        if asked.is_turn and c.foreshortening >= s.turn_threshold and not c.solid:
            self._flat = True  # turned like a sheet of paper
        seen = answer(c, s)
        if (
            seen is None
            and asked is not Challenge.MOVE_CLOSER
            and 0.0 < c.scale < 1.0 - s.nod_eye_tolerance
            and abs(c.yaw) <= s.frontal_max
            and abs(c.nod) < s.pitch_threshold / 2
        ):
            # looking ahead from further away than at the baseline: the citizen stepped back
            # after "move closer"; a nod is measured from where they stand now
            self._baseline = None
            self._base.clear()
            self._hold = self._wrong = 0
            return None
        if not fresh:
            return None  # a repeated frame neither holds nor breaks a pose
        if seen is asked:
            self._hold += 1
            self._wrong = 0
            if self._hold >= self.holds[self._step]:
                return self._next_step(at)
        elif seen is not None:
            self._wrong += 1
            self._hold = 0
            if self._wrong >= s.hold_frames:
                return self._finish(
                    LivenessOutcome.WRONG_DIRECTION,
                    f"asked {asked.value}, saw {seen.value}",
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
        self._baseline = None  # look straight again before the next movement
        self._base.clear()
        self._step_start = at
        if self._step >= len(self.challenges):
            self.result = LivenessResult(
                outcome=LivenessOutcome.PASSED,
                challenges=self.challenges,
                passed_steps=self._step,
                yaw=tuple(self._peaks),
                detail="all movements seen",
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
