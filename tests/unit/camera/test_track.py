"""Issue 8: one face followed through the check and continuous motion (drivers.camera.track),
and the whole decision on observations (drivers.camera.check): identity samples, the closing
match, a second face, a lost track, and a print swap's still runs joined by jumps."""

from __future__ import annotations

import math
from collections.abc import Callable

import numpy as np
import pytest

from drivers.camera.check import CheckOutcome, CheckSession, Observation
from drivers.camera.liveness import head_pose
from drivers.camera.results import Challenge, FaceBox, IdentityOutcome, LivenessOutcome
from drivers.camera.settings import FaceSettings
from drivers.camera.track import FaceTrack, TrackBreak, iou, pose_step

EYES = np.array([[0.7, 0.0, 0.0], [0.3, 0.0, 0.0], [-0.7, 0.0, 0.0], [-0.3, 0.0, 0.0]])
SETTINGS = FaceSettings(step_timeout=3.0, verify_frames=2)
DT = 1 / 15


def points(yaw: float = 0.0, *, dx: float = 0.0, jitter: float = 0.0, seed: int = 0) -> np.ndarray:
    pts = np.vstack([EYES, [[0.0, 0.75, 0.6]]])
    x = pts[:, 0] * math.cos(yaw) + pts[:, 2] * math.sin(yaw)
    out = np.stack([x * 60 + 320 + dx, pts[:, 1] * 60 + 220], axis=1)
    if jitter:
        out += np.random.default_rng(seed).normal(0, jitter, out.shape)
    return out


def box(dx: float = 0.0) -> FaceBox:
    return FaceBox(int(250 + dx), 150, 140, 140)


def feed(track: FaceTrack, yaws: list[float], fresh: list[bool] | None = None) -> TrackBreak | None:
    out = None
    for i, y in enumerate(yaws):
        p = points(y, jitter=0.2, seed=i)
        out = track.feed(
            box(),
            p,
            head_pose(p),
            second_face=False,
            fresh=True if fresh is None else fresh[i],
            at=i * DT,
        )
        if out is not None:
            return out
    return out


def smooth_turn(peak: float = 0.6, n: int = 6) -> list[float]:
    # a minimum-jerk movement, as a head moves
    ramp = [peak * (10 * t**3 - 15 * t**4 + 6 * t**5) for t in (k / n for k in range(1, n + 1))]
    return [0.0] * 5 + ramp + [peak] * 4 + ramp[::-1] + [0.0] * 5


def test_iou() -> None:
    assert iou(box(), box()) == 1.0
    assert iou(box(), box(1000)) == 0.0
    assert 0.3 < iou(box(), box(50)) < 0.6


def test_a_smooth_head_turn_keeps_the_track() -> None:
    assert feed(FaceTrack(SETTINGS), smooth_turn()) is None


def test_a_still_run_then_a_jump_is_discontinuous() -> None:
    # the print swap: frontal print, then the turned print, no frame in between
    yaws = [0.0] * 6 + [0.6] * 6 + [0.0] * 6
    broken = feed(FaceTrack(SETTINGS), yaws)
    assert broken is not None and broken.outcome is LivenessOutcome.DISCONTINUOUS


def test_byte_identical_runs_are_still_runs() -> None:
    yaws = [0.0] * 6 + [0.6] * 6
    fresh = [i % 6 == 0 for i in range(12)]
    broken = feed(FaceTrack(SETTINGS), yaws, fresh)
    assert broken is not None and broken.outcome is LivenessOutcome.DISCONTINUOUS


def test_dropped_frames_allow_a_proportionally_larger_step() -> None:
    # latest frame wins: an embedding taking 300 ms drops frames, the head moved meanwhile
    track = FaceTrack(SETTINGS)
    for i in range(4):
        p = points(0.0, jitter=0.2, seed=i)
        assert track.feed(box(), p, head_pose(p), second_face=False, fresh=True, at=i * DT) is None
    p = points(0.3)
    assert (
        track.feed(box(), p, head_pose(p), second_face=False, fresh=True, at=3 * DT + 0.3) is None
    )


@pytest.mark.parametrize("frames", [2, 3, 4, 6])
def test_even_a_fast_head_turn_from_still_to_still_is_continuous(frames: int) -> None:
    # 0.13 to 0.4 s for 34 degrees: the largest step is followed by another moving frame
    assert feed(FaceTrack(SETTINGS), smooth_turn(0.6, frames)) is None


def test_the_swap_step_is_far_above_the_jump_bound() -> None:
    front, turned = head_pose(points(0.0)), head_pose(points(0.6))
    assert front is not None and turned is not None
    assert pose_step(front, turned, SETTINGS) > 2 * SETTINGS.jump_step


def test_a_jump_into_a_moving_frame_is_not_a_swap() -> None:
    # still, a big step, and the head keeps moving: a fast real movement
    yaws = [0.0] * 6 + [0.3, 0.5, 0.6] + [0.6] * 4
    assert feed(FaceTrack(SETTINGS), yaws) is None


@pytest.mark.parametrize("dx", [150.0, 400.0])
def test_a_face_elsewhere_breaks_the_track(dx: float) -> None:
    track = FaceTrack(SETTINGS)
    p = points()
    assert track.feed(box(), p, head_pose(p), second_face=False, fresh=True, at=0.0) is None
    q = points(dx=dx)
    broken = track.feed(box(dx), q, head_pose(q), second_face=False, fresh=True, at=DT)
    assert broken is not None and broken.outcome is IdentityOutcome.TRACK_LOST


def test_landmarks_that_jump_inside_the_same_box_break_the_track() -> None:
    track = FaceTrack(SETTINGS)
    p = points()
    assert track.feed(box(), p, head_pose(p), second_face=False, fresh=True, at=0.0) is None
    q = points(dx=45.0)  # same box (an aligned swap), other landmark places
    broken = track.feed(box(), q, head_pose(q), second_face=False, fresh=True, at=DT)
    assert broken is not None and broken.outcome is IdentityOutcome.TRACK_LOST


def test_a_missing_face_loses_the_track_after_the_grace_time() -> None:
    track = FaceTrack(SETTINGS)
    p = points()
    track.feed(box(), p, head_pose(p), second_face=False, fresh=True, at=0.0)
    assert track.feed(None, None, None, second_face=False, fresh=True, at=0.3) is None
    broken = track.feed(None, None, None, second_face=False, fresh=True, at=0.6)
    assert broken is not None and broken.outcome is IdentityOutcome.TRACK_LOST


def test_a_second_face_that_stays_ends_the_track_one_glimpse_does_not() -> None:
    track = FaceTrack(SETTINGS)
    p = points()
    track.feed(box(), p, head_pose(p), second_face=False, fresh=True, at=0.0)
    assert track.feed(box(), p, head_pose(p), second_face=True, fresh=True, at=DT) is None
    assert track.feed(box(), p, head_pose(p), second_face=False, fresh=True, at=2 * DT) is None
    track.feed(box(), p, head_pose(p), second_face=True, fresh=True, at=3 * DT)
    broken = track.feed(box(), p, head_pose(p), second_face=True, fresh=True, at=4 * DT)
    assert broken is not None and broken.outcome is IdentityOutcome.SECOND_FACE


# --- the whole decision (CheckSession) on observations --------------------------------------


def run_check(
    yaws: list[float],
    distance_of: Callable[[int], float],
    asked: tuple[Challenge, ...] = (Challenge.TURN_LEFT,),
) -> tuple[CheckOutcome, list[int]]:
    session = CheckSession(SETTINGS, asked, (2,) * len(asked))
    asked_at: list[int] = []
    for i, y in enumerate(yaws):
        p = points(y, jitter=0.2, seed=i)
        obs = Observation(at=i * DT, face=box(), points=p, usable=True)
        d = None
        if session.wants_identity(obs):
            asked_at.append(i)
            d = distance_of(i)
        out = session.feed(obs, d)
        if out is not None:
            return out, asked_at
    return session.end(), asked_at


def test_the_same_person_throughout_passes_and_is_sampled_during_the_challenge() -> None:
    outcome, asked_at = run_check(smooth_turn(), lambda i: 0.1)
    assert outcome.passed, outcome
    identity = outcome.identity
    assert identity is not None
    assert identity.outcome is IdentityOutcome.HELD and identity.closing == pytest.approx(0.1)
    # opening frames, the first frame that answers the turn, and closing frames
    turned = [i for i in asked_at if abs(smooth_turn()[i]) > 0.1]
    assert turned, asked_at
    assert asked_at[-1] > 15  # closing samples after the turn


def test_another_face_during_the_challenge_is_a_changed_identity() -> None:
    yaws = smooth_turn()
    outcome, _ = run_check(yaws, lambda i: 0.1 if abs(yaws[i]) < 0.05 else 0.75)
    assert not outcome.passed
    assert outcome.identity is not None
    assert outcome.identity.outcome is IdentityOutcome.CHANGED


def test_another_face_at_the_end_is_not_rematched() -> None:
    yaws = smooth_turn()
    outcome, _ = run_check(yaws, lambda i: 0.1 if i < 15 else 0.7)
    assert outcome.liveness.live
    assert outcome.identity is not None
    assert outcome.identity.outcome is IdentityOutcome.NOT_REMATCHED
    assert not outcome.passed


def test_a_stranger_is_not_asked_to_perform() -> None:
    outcome, asked_at = run_check(smooth_turn(), lambda i: 0.8)
    assert outcome.match is not None and not outcome.match.match
    assert outcome.identity is None
    assert len(asked_at) == SETTINGS.verify_frames  # ended right after the opening match
