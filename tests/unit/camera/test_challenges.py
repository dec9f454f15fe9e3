"""Issue 8: challenges from the larger set (nods, a step closer) on projected 3-D landmark
models, the random draw (orders, holds, the replay odds), and what a flat print cannot do."""

from __future__ import annotations

import itertools
import math
import random
from collections import Counter
from dataclasses import replace

import numpy as np
import pytest

from drivers.camera.liveness import (
    HeadPose,
    LivenessSession,
    answer,
    change,
    head_pose,
    pick_challenges,
    pick_holds,
)
from drivers.camera.results import Challenge, LivenessOutcome
from drivers.camera.settings import FaceSettings

EYES = np.array([[0.7, 0.0, 0.0], [0.3, 0.0, 0.0], [-0.7, 0.0, 0.0], [-0.3, 0.0, 0.0]])
SETTINGS = FaceSettings(step_timeout=3.0)
ALL = tuple(Challenge)


def project(
    yaw: float = 0.0, pitch: float = 0.0, *, depth: float = 0.6, scale: float = 100.0
) -> np.ndarray:
    """Landmarks of a head (a print when depth=0) nodding by `pitch` rad (+ = down), then
    turned by `yaw` (+ = subject's left), orthographic, `scale` pixels per eye unit."""
    pts = np.vstack([EYES, [[0.0, 0.75, depth]]])
    c, s = math.cos(pitch), math.sin(pitch)
    y = pts[:, 1] * c + pts[:, 2] * s
    z = -pts[:, 1] * s + pts[:, 2] * c
    cy, sy = math.cos(yaw), math.sin(yaw)
    x = pts[:, 0] * cy + z * sy
    return np.stack([x * scale + 320, y * scale + 240], axis=1)


def pose(p: np.ndarray) -> HeadPose:
    hp = head_pose(p)
    assert hp is not None
    return hp


FRONT = pose(project())


def answered(p: np.ndarray) -> Challenge | None:
    return answer(change(pose(p), FRONT, SETTINGS), SETTINGS)


@pytest.mark.parametrize("deg", [15, 25, 35])
def test_nods_and_turns_each_answer_their_own_challenge(deg: float) -> None:
    r = math.radians(deg)
    assert answered(project(pitch=r)) is Challenge.LOOK_DOWN
    assert answered(project(pitch=-r)) is Challenge.LOOK_UP
    assert answered(project(yaw=r)) is Challenge.TURN_LEFT
    assert answered(project(yaw=-r)) is Challenge.TURN_RIGHT
    assert answered(project(scale=100.0 * (1.2 + deg / 100))) is Challenge.MOVE_CLOSER


def test_a_head_turn_is_never_read_as_a_nod_or_a_step() -> None:
    # a turn shortens the eye line, which also grows the nose drop per eye distance
    for deg in range(-50, 51, 2):
        got = answered(project(yaw=math.radians(deg)))
        assert got in (None, Challenge.TURN_LEFT, Challenge.TURN_RIGHT), deg


@pytest.mark.parametrize("deg", [20, 35, 50])
def test_a_print_turned_in_depth_is_neither_a_turn_nor_a_nod(deg: float) -> None:
    flat = project(yaw=math.radians(deg), depth=0.0)
    flat_front = pose(project(depth=0.0))
    assert answer(change(pose(flat), flat_front, SETTINGS), SETTINGS) is None


@pytest.mark.parametrize("deg", [10, 25, 40, 60])
def test_a_tilted_print_can_never_look_down(deg: float) -> None:
    # tilting a sheet either way only shortens the nose drop: "look down" needs depth
    flat_front = pose(project(depth=0.0))
    for sign in (1, -1):
        tilted = pose(project(pitch=sign * math.radians(deg), depth=0.0))
        assert answer(change(tilted, flat_front, SETTINGS), SETTINGS) is not Challenge.LOOK_DOWN


def run(
    session: LivenessSession, poses: list[HeadPose], fresh: list[bool] | None = None
) -> LivenessOutcome:
    for i, p in enumerate(poses):
        result = session.feed(p, i / 15.0, fresh=True if fresh is None else fresh[i])
        if result is not None:
            return result.outcome
    return session.end().outcome


def movement(
    yaw: float = 0.0, pitch: float = 0.0, scale: float = 1.0, hold: int = 5
) -> list[HeadPose]:
    ramp = [k / 5 for k in range(1, 6)]
    path = [pose(project(yaw * k, pitch * k, scale=100 * (1 + (scale - 1) * k))) for k in ramp]
    return [FRONT] * 3 + path + path[-1:] * hold + path[::-1] + [FRONT] * 3


def test_three_different_movements_in_the_asked_order_pass() -> None:
    asked = (Challenge.LOOK_UP, Challenge.TURN_RIGHT, Challenge.MOVE_CLOSER)
    seq = movement(pitch=-0.5) + movement(yaw=-0.6) + movement(scale=1.4)
    assert run(LivenessSession(SETTINGS, asked, (4, 4, 4)), seq) is LivenessOutcome.PASSED


def test_answering_another_challenge_fails() -> None:
    asked = (Challenge.LOOK_DOWN, Challenge.TURN_LEFT, Challenge.MOVE_CLOSER)
    seq = movement(pitch=-0.5) + movement(yaw=0.6) + movement(scale=1.4)
    assert run(LivenessSession(SETTINGS, asked), seq) is LivenessOutcome.WRONG_DIRECTION


def test_repeated_frames_never_complete_a_hold() -> None:
    # a held pose counts only in fresh frames: the same frame replayed is no evidence
    turned = pose(project(yaw=0.6))
    seq = [FRONT] * 3 + [turned] * 40
    fresh = [True] * 4 + [False] * 39
    session = LivenessSession(SETTINGS, (Challenge.TURN_LEFT,), (2,))
    assert run(session, seq, fresh) is LivenessOutcome.TIMEOUT
    again = LivenessSession(SETTINGS, (Challenge.TURN_LEFT,), (2,))
    assert run(again, seq) is LivenessOutcome.PASSED  # the same poses, fresh, pass


def test_the_baseline_after_a_nod_is_taken_looking_ahead_again() -> None:
    # after "look up" the citizen still looking up is not back at the start: coming back
    # from up must not count as "look down"
    up = pose(project(pitch=-0.5))
    asked = (Challenge.LOOK_UP, Challenge.LOOK_DOWN, Challenge.TURN_LEFT)
    seq = movement(pitch=-0.5)[:-3] + [up] * 30 + [FRONT] * 30
    assert run(LivenessSession(SETTINGS, asked, (2, 2, 2)), seq) is not LivenessOutcome.PASSED


def test_draws_are_three_distinct_challenges_with_a_turn_and_reach_every_order() -> None:
    rng = random.Random(8)
    orders = Counter(pick_challenges(SETTINGS, rng) for _ in range(20000))
    valid = {p for p in itertools.permutations(ALL, 3) if any(c.is_turn for c in p)}
    assert len(valid) == 54  # 5*4*3 orders minus the 3*2*1 without a turn
    assert set(orders) == valid
    # uniform: every order near 1/54 of the draws
    assert max(orders.values()) / min(orders.values()) < 1.5
    # the replay odds: a clip recorded for one draw answers another's order 1/54 of the time
    same = sum(n * n for n in orders.values()) / 20000**2
    assert same == pytest.approx(1 / 54, rel=0.1)


def test_holds_are_random_within_their_bounds() -> None:
    rng = random.Random(2)
    holds = [h for _ in range(500) for h in pick_holds(SETTINGS, 3, rng)]
    assert set(holds) == set(range(SETTINGS.hold_frames, SETTINGS.hold_frames_max + 1))


def test_a_pool_without_turns_is_drawn_as_is() -> None:
    cfg = replace(SETTINGS, challenges=("look_up", "look_down", "move_closer"))
    drawn = pick_challenges(cfg, random.Random(1))
    assert sorted(drawn) == sorted((Challenge.LOOK_UP, Challenge.LOOK_DOWN, Challenge.MOVE_CLOSER))


def test_every_challenge_and_outcome_speaks_both_languages() -> None:
    from drivers.camera.results import IdentityOutcome

    for item in (*Challenge, *LivenessOutcome, *IdentityOutcome):
        zh, en = item.message("zh_CN"), item.message("en")
        assert zh and en and zh != en
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh), item
        assert en.isascii(), item


def test_a_failed_check_names_what_failed_first_in_both_languages() -> None:
    from drivers.camera.results import (
        FaceCheckResult,
        IdentityOutcome,
        IdentityResult,
        LivenessResult,
        MatchResult,
    )

    matched = MatchResult(match=True, distance=0.2, threshold=0.5, frames=3)
    stranger = MatchResult(match=False, distance=0.7, threshold=0.5, frames=3)
    live = LivenessResult(LivenessOutcome.PASSED, (Challenge.TURN_LEFT,), 1)
    swapped = LivenessResult(LivenessOutcome.DISCONTINUOUS, (Challenge.TURN_LEFT,), 0)
    held = IdentityResult(IdentityOutcome.HELD)
    changed = IdentityResult(IdentityOutcome.CHANGED)
    cases = [
        (FaceCheckResult(matched, live, identity=held), ""),
        (FaceCheckResult(stranger, live), "match.no_match"),
        (FaceCheckResult(matched, swapped, identity=changed), "identity.changed"),
        (FaceCheckResult(matched, swapped, identity=held), "liveness.discontinuous"),
        (FaceCheckResult(None, None), "liveness.no_face"),
        # live and matched, but identity never judged (an older caller): cannot pass
        (FaceCheckResult(matched, live), "identity.not_rematched"),
    ]
    for result, reason in cases:
        assert result.reason == reason
        assert result.passed is (reason == "")
        zh, en = result.message("zh_CN"), result.message("en")
        assert any("\u4e00" <= ch <= "\u9fff" for ch in zh) and en.isascii()


def test_a_citizen_who_stays_close_then_steps_back_can_still_nod() -> None:
    # after "move closer" the next baseline may be taken close up; stepping back must not
    # leave the nod measured against the close-up face (its eye distance is 40 % larger)
    close = pose(project(scale=140.0))
    asked = (Challenge.MOVE_CLOSER, Challenge.LOOK_DOWN, Challenge.TURN_LEFT)
    ramp = [pose(project(scale=100.0 + 40.0 * k / 5)) for k in range(1, 6)]
    back = ramp[::-1] + [FRONT] * 6
    seq = [FRONT] * 3 + ramp + [close] * 8 + back + movement(pitch=0.5) + movement(yaw=0.6)
    assert run(LivenessSession(SETTINGS, asked, (2, 2, 2)), seq) is LivenessOutcome.PASSED
