"""The decision of one face check, frame by frame: the same live person from first to last.

`CheckSession` is pure: it is fed one `Observation` per frame (the face found, its landmarks,
the quality verdict, whether the frame is fresh) and, when it asks for one
(`wants_identity`), the embedding distance of that frame's face to the reference. The
service (`drivers.camera.service`) does the expensive work per frame; the bench
(`bench/liveness.py`) feeds it observations cached from real frames.

What it decides
---------------
* Opening match: up to `verify_frames` good frontal frames before the first challenge is
  answered; the median distance must be below `match_threshold` (`MatchResult`). No match
  ends the check at once: a stranger is not asked to perform.
* Liveness (`drivers.camera.liveness`) on the same frames, and continuous motion and one
  followed face (`drivers.camera.track`).
* Identity samples during the challenge: the first frontal frame of every later step's
  baseline and the first frame of each step that answers a challenge (the asked one or
  another) are embedded; each must be within `identity_threshold` of the reference (dlib's
  own same-person bound: a turned face embeds less well than a frontal one, measured
  0.1-0.55 on our generated turns and nods, against 0.67 and more for another person).
* Closing match: after the last challenge, up to `verify_frames` good frontal frames within
  `step_timeout`; their median must be below `match_threshold` again.

Any break (a face change, a second face, a lost track, a jump) ends the check with its typed
reason. Each embedding is used once and never stored; the caller zeroes it.
"""

from __future__ import annotations

import statistics
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from drivers.camera.liveness import HeadPose, LivenessSession, answer, change, head_pose
from drivers.camera.results import (
    Challenge,
    FaceBox,
    IdentityOutcome,
    IdentityResult,
    LivenessOutcome,
    LivenessResult,
    MatchResult,
)
from drivers.camera.settings import FaceSettings
from drivers.camera.track import FaceTrack

__all__ = ["CheckOutcome", "CheckSession", "Observation"]


@dataclass(frozen=True, slots=True)
class Observation:
    """What one frame showed: the chosen face and its 5 landmarks (None = no face), whether
    it passed the quality gates (`usable`), whether a second comparable face was there, and
    whether the frame is fresh (not byte-identical to the previous one). `at` in seconds."""

    at: float
    face: FaceBox | None
    points: npt.NDArray[np.float64] | None
    usable: bool
    second_face: bool = False
    fresh: bool = True


@dataclass(frozen=True, slots=True)
class CheckOutcome:
    """The three decisions of a finished check (no image, no embedding)."""

    match: MatchResult | None
    liveness: LivenessResult
    identity: IdentityResult | None

    @property
    def passed(self) -> bool:
        return (
            self.match is not None
            and self.match.match
            and self.liveness.live
            and self.identity is not None
            and self.identity.held
        )


class CheckSession:
    """One face check's decision state (see the module docstring). Not thread-safe."""

    def __init__(
        self,
        settings: FaceSettings,
        challenges: tuple[Challenge, ...],
        holds: tuple[int, ...] | None = None,
    ) -> None:
        self._s = settings
        self.live = LivenessSession(settings, challenges, holds)
        self.track = FaceTrack(settings)
        self._opening: list[float] = []
        self._closing: list[float] = []
        self._samples: list[float] = []
        self._sampled: set[tuple[int, str]] = set()
        self._passed_at: float | None = None
        self.outcome: CheckOutcome | None = None

    @property
    def prompt(self) -> Challenge | None:
        """The challenge to show now (None while the baseline is taken or when decided)."""
        return self.live.prompt if self.outcome is None else None

    @property
    def challenges(self) -> tuple[Challenge, ...]:
        return self.live.challenges

    def _frontal(self, pose: HeadPose | None) -> bool:
        return pose is not None and self.live.is_neutral(pose)

    def _sample_key(self, obs: Observation, pose: HeadPose | None) -> tuple[int, str] | None:
        """Which sample this frame would be, if it is one (None = no embedding wanted)."""
        s, live = self._s, self.live
        if self.outcome is not None or not obs.usable or pose is None:
            return None
        if live.result is not None:
            if live.result.live and self._frontal(pose) and len(self._closing) < s.verify_frames:
                return (len(live.challenges), "closing")
            return None
        step = live.step
        if step == 0 and self._frontal(pose) and len(self._opening) < s.verify_frames:
            return (0, "opening")
        if live.baseline is None:
            key = (step, "baseline")
            return key if step > 0 and self._frontal(pose) and key not in self._sampled else None
        # the first frame that answers a challenge (the asked one, or another: a face put in
        # place of the matched one often reads as a movement against its baseline)
        key = (step, "answer")
        if key not in self._sampled and answer(change(pose, live.baseline, s), s) is not None:
            return key
        return None

    def wants_identity(self, obs: Observation) -> bool:
        """True when this frame's embedding distance should be passed to `feed`."""
        pose = head_pose(obs.points) if obs.points is not None else None
        return self._sample_key(obs, pose) is not None

    def feed(self, obs: Observation, distance: float | None = None) -> CheckOutcome | None:
        """Consume one frame (call `wants_identity` first; pass the distance it asked for).
        Returns the outcome once decided (and then always the same), else None."""
        if self.outcome is not None:
            return self.outcome
        s = self._s
        pose = head_pose(obs.points) if obs.points is not None else None
        key = self._sample_key(obs, pose)
        broken = self.track.feed(
            obs.face,
            obs.points,
            pose,
            second_face=obs.second_face,
            fresh=obs.fresh,
            at=obs.at,
        )
        if broken is not None:
            if isinstance(broken.outcome, LivenessOutcome):
                return self._finish(self.live.fail(broken.outcome, broken.detail))
            return self._finish(self.live.end(), broken.outcome, broken.detail)
        if key is not None and distance is not None:
            self._sampled.add(key)
            if key[1] == "opening":
                self._opening.append(distance)
                if len(self._opening) >= s.verify_frames and not self._opening_match().match:
                    return self._finish(self.live.end())
            elif key[1] == "closing":
                self._closing.append(distance)
                self._samples.append(distance)
            else:
                self._samples.append(distance)
                if distance >= s.identity_threshold:
                    return self._finish(
                        self.live.end(),
                        IdentityOutcome.CHANGED,
                        f"{key[1]} frame of step {key[0] + 1} at distance {distance:.2f}",
                    )
        was_opening = self.live.step == 0 and self.live.result is None
        result = self.live.feed(pose if obs.usable else None, obs.at, fresh=obs.fresh)
        opened = was_opening and (self.live.step > 0 or result is not None)
        if opened and self._opening and not self._opening_match().match:
            return self._finish(result or self.live.end())
        if result is None:
            return None
        if not result.live:
            return self._finish(result)
        if self._passed_at is None:
            self._passed_at = obs.at
        if len(self._closing) >= s.verify_frames or obs.at - self._passed_at > s.step_timeout:
            return self._finish(result)
        return None

    def end(self) -> CheckOutcome:
        """The outcome when the frames run out (an undecided step counts as a timeout)."""
        if self.outcome is not None:
            return self.outcome
        return self._finish(self.live.end())

    def _opening_match(self) -> MatchResult:
        d = float(statistics.median(self._opening))
        return MatchResult(
            match=d < self._s.match_threshold,
            distance=d,
            threshold=self._s.match_threshold,
            frames=len(self._opening),
        )

    def _finish(
        self,
        liveness: LivenessResult,
        broken: IdentityOutcome | None = None,
        detail: str = "",
    ) -> CheckOutcome:
        match = self._opening_match() if self._opening else None
        worst = max(self._samples, default=0.0)
        closing = float(statistics.median(self._closing)) if self._closing else None
        identity: IdentityResult | None
        if match is None or not match.match:
            identity = None  # nobody matched: there is no identity to hold
        elif broken is not None:
            identity = IdentityResult(broken, len(self._samples), worst, closing, detail)
        elif not liveness.live:
            identity = IdentityResult(
                IdentityOutcome.HELD, len(self._samples), worst, closing, "until liveness failed"
            )
        elif closing is None:
            identity = IdentityResult(
                IdentityOutcome.NOT_REMATCHED,
                len(self._samples),
                worst,
                None,
                "no frontal face after the last movement",
            )
        elif closing >= self._s.match_threshold:
            identity = IdentityResult(
                IdentityOutcome.NOT_REMATCHED,
                len(self._samples),
                worst,
                closing,
                f"closing distance {closing:.2f}",
            )
        else:
            identity = IdentityResult(
                IdentityOutcome.HELD, len(self._samples), worst, closing, "same face throughout"
            )
        self.outcome = CheckOutcome(match, liveness, identity)
        return self.outcome
