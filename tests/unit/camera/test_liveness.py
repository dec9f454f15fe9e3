"""The head-turn measure and the challenge state machine, on projected 3-D landmark models.

A 3-D head has its nose base in front of the eye plane; a flat print has it in the plane.
Both are turned (yaw), rolled in plane, scaled and moved, then projected like a camera.
"""

from __future__ import annotations

import math
import random
from collections.abc import Sequence
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from drivers.camera.liveness import HeadPose, LivenessSession, head_pose, pick_challenges
from drivers.camera.results import Challenge, LivenessOutcome, LivenessResult
from drivers.camera.settings import FaceSettings

# dlib 5-point order: subject's left eye outer/inner (image right), right eye outer/inner, nose
EYES = np.array([[0.7, 0.0, 0.0], [0.3, 0.0, 0.0], [-0.7, 0.0, 0.0], [-0.3, 0.0, 0.0]])
NOSE_DEPTH = 0.6  # nose base in front of the eye plane, inter-ocular units
SETTINGS = FaceSettings(step_timeout=3.0, seed=1)


def project(
    yaw: float,
    *,
    depth: float = NOSE_DEPTH,
    roll: float = 0.0,
    scale: float = 100.0,
    shift: tuple[float, float] = (320.0, 240.0),
) -> np.ndarray:
    """Landmarks of a head (or a print when depth=0) turned by `yaw` rad (+ = subject's left),
    rolled in plane by `roll` rad, orthographic projection to pixels."""
    pts = np.vstack([EYES, [[0.0, 0.75, depth]]])
    c, s = math.cos(yaw), math.sin(yaw)
    x = pts[:, 0] * c + pts[:, 2] * s
    y = pts[:, 1]
    cr, sr = math.cos(roll), math.sin(roll)
    xr, yr = x * cr - y * sr, x * sr + y * cr
    return np.stack([xr * scale + shift[0], yr * scale + shift[1]], axis=1)


def naive_yaw(p: np.ndarray) -> float:
    """What NOT to do: nose offset along image x."""
    mid = (p[0] + p[1] + p[2] + p[3]) / 4
    return float((p[4, 0] - mid[0]) / abs(p[0, 0] - p[2, 0]))


def pose(p: np.ndarray) -> HeadPose:
    hp = head_pose(p)
    assert hp is not None
    return hp


@settings(max_examples=60, deadline=None)
@given(
    yaw=st.floats(-0.8, 0.8),
    roll=st.floats(-math.pi, math.pi),
    scale=st.floats(20, 400),
    dx=st.floats(-300, 300),
    dy=st.floats(-300, 300),
)
def test_measure_is_invariant_to_roll_scale_and_position(
    yaw: float, roll: float, scale: float, dx: float, dy: float
) -> None:
    ref = pose(project(yaw))
    moved = pose(project(yaw, roll=roll, scale=scale, shift=(dx, dy)))
    assert moved.yaw == pytest.approx(ref.yaw, abs=1e-9)
    assert moved.aspect == pytest.approx(ref.aspect, rel=1e-9)


def test_naive_image_x_measure_is_fooled_by_roll_ours_is_not() -> None:
    rolled = project(0.0, roll=math.radians(20))
    # a rolled frontal print looks "turned" along x, beyond the turn threshold
    assert abs(naive_yaw(rolled)) > SETTINGS.turn_threshold
    assert abs(pose(rolled).yaw) < 1e-9


@settings(max_examples=60, deadline=None)
@given(yaw=st.floats(-1.0, 1.0), roll=st.floats(-0.5, 0.5))
def test_flat_print_keeps_its_yaw_whatever_the_turn(yaw: float, roll: float) -> None:
    # a flat print is an affine image of itself: the nose stays on the eye midpoint
    assert pose(project(yaw, depth=0.0, roll=roll)).yaw == pytest.approx(0.0, abs=1e-9)


def test_real_turn_moves_the_nose_more_than_the_eyes_foreshorten() -> None:
    front = pose(project(0.0))
    for deg in (20, 30, 40, 50):
        turned = pose(project(math.radians(deg)))
        delta = turned.yaw - front.yaw
        foreshortening = 1 - turned.aspect / front.aspect
        assert delta > 0
        assert delta > SETTINGS.min_offset_per_foreshortening * foreshortening


def run(
    session: LivenessSession, poses: Sequence[HeadPose | None], fps: float = 15.0
) -> LivenessResult:
    result = None
    for i, p in enumerate(poses):
        result = session.feed(p, i / fps)
        if result is not None:
            return result
    return session.end()


def turn_sequence(
    peak_deg: float, *, depth: float = NOSE_DEPTH, roll: float = 0.0
) -> list[HeadPose | None]:
    ramp = [math.radians(peak_deg) * k / 6 for k in range(1, 7)]
    yaws = [0.0] * 4 + ramp + [math.radians(peak_deg)] * 4 + ramp[::-1] + [0.0] * 4
    return [pose(project(y, depth=depth, roll=roll)) for y in yaws]


@pytest.mark.parametrize("roll_deg", [0, 15, -30])
def test_head_turn_in_the_asked_direction_passes(roll_deg: float) -> None:
    roll = math.radians(roll_deg)
    left = LivenessSession(SETTINGS, (Challenge.TURN_LEFT,))
    assert run(left, turn_sequence(35, roll=roll)).outcome is LivenessOutcome.PASSED
    both = LivenessSession(SETTINGS, (Challenge.TURN_RIGHT, Challenge.TURN_LEFT))
    seq = turn_sequence(-35, roll=roll) + turn_sequence(35, roll=roll)
    result = run(both, seq)
    assert result.outcome is LivenessOutcome.PASSED
    assert result.passed_steps == 2


def test_wrong_direction_fails_at_once() -> None:
    s = LivenessSession(SETTINGS, (Challenge.TURN_LEFT,))
    result = run(s, turn_sequence(-35))
    assert result.outcome is LivenessOutcome.WRONG_DIRECTION


def test_still_face_times_out() -> None:
    s = LivenessSession(SETTINGS, (Challenge.TURN_LEFT,))
    result = run(s, [pose(project(0.0))] * 60)
    assert result.outcome is LivenessOutcome.TIMEOUT


@pytest.mark.parametrize("roll_deg", [0, 20])
def test_flat_print_turned_in_depth_fails_as_flat(roll_deg: float) -> None:
    s = LivenessSession(SETTINGS, (Challenge.TURN_LEFT,))
    seq = turn_sequence(50, depth=0.0, roll=math.radians(roll_deg)) * 3
    seq += [pose(project(0.0, depth=0.0))] * 30
    result = run(s, seq)
    assert result.outcome is LivenessOutcome.FLAT


def test_print_rotated_in_plane_never_passes() -> None:
    s = LivenessSession(SETTINGS, (Challenge.TURN_LEFT,))
    seq = [pose(project(0.0, roll=math.radians(a))) for a in range(-40, 41, 2)] * 2
    assert run(s, seq).outcome is LivenessOutcome.TIMEOUT


def test_perspective_like_small_offset_with_strong_foreshortening_is_flat() -> None:
    # a print turned towards a close camera: small nose offset, strong eye-line shrink
    front = pose(project(0.0))
    fake = HeadPose(yaw=front.yaw + 0.11, aspect=front.aspect * 0.8)
    s = LivenessSession(SETTINGS, (Challenge.TURN_LEFT,))
    result = run(s, [front] * 3 + [fake] * 60)
    assert result.outcome is LivenessOutcome.FLAT


def test_no_face_and_not_frontal() -> None:
    assert run(LivenessSession(SETTINGS, (Challenge.TURN_LEFT,)), [None] * 60).outcome is (
        LivenessOutcome.NO_FACE
    )
    turned = [pose(project(math.radians(30)))] * 60
    assert run(LivenessSession(SETTINGS, (Challenge.TURN_LEFT,)), turned).outcome is (
        LivenessOutcome.NOT_FRONTAL
    )


def test_prompt_follows_the_steps() -> None:
    s = LivenessSession(SETTINGS, (Challenge.TURN_LEFT, Challenge.TURN_RIGHT))
    assert s.prompt is None  # no baseline yet
    front = pose(project(0.0))
    s.feed(front, 0.0)
    s.feed(front, 0.1)
    assert s.prompt is Challenge.TURN_LEFT


def test_challenge_order_is_seeded_and_random() -> None:
    cfg = replace(SETTINGS, challenges=("turn_left", "turn_right"), challenge_count=2)
    a = pick_challenges(cfg, random.Random(3))
    assert a == pick_challenges(cfg, random.Random(3))
    assert sorted(a) == sorted((Challenge.TURN_LEFT, Challenge.TURN_RIGHT))
    orders = {pick_challenges(cfg, random.Random(seed)) for seed in range(20)}
    assert len(orders) == 2  # both orders occur
    single = {pick_challenges(replace(cfg, challenge_count=1), random.Random(s)) for s in range(20)}
    assert single == {(Challenge.TURN_LEFT,), (Challenge.TURN_RIGHT,)}
