"""Issue 8: the same live person from the first frame to the last, on real OpenCV + dlib.

The attacks are made of the real packaged photos: the victim's photo for the opening match
followed by the attacker's own head turning (mixed identity), still prints swapped in front of
the camera (every frame of a run byte-identical), a genuine clip recorded for one challenge
order replayed against another, a second face joining, the face leaving, and another person
taking over for the closing frames. Genuine nods and steps closer pass.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest

from drivers.camera.results import (
    Challenge,
    FaceCheckResult,
    Frame,
    IdentityOutcome,
    Image,
    LivenessOutcome,
)
from drivers.camera.service import FaceVerifier
from drivers.camera.settings import FaceSettings
from drivers.camera.source import FrameSource
from drivers.camera.synthetic import compose, script_challenges
from kiosk.config import load_config
from tests.fixtures.faces import FPS, ScriptFrames

LEFT, RIGHT = Challenge.TURN_LEFT, Challenge.TURN_RIGHT
UP, DOWN, CLOSER = Challenge.LOOK_UP, Challenge.LOOK_DOWN, Challenge.MOVE_CLOSER
PEOPLE = ["astronaut", "grace_hopper"]


def check(
    verifier: FaceVerifier,
    ref: bytes,
    frames: list[Frame],
    challenges: tuple[Challenge, ...],
    holds: tuple[int, ...] | None = None,
) -> FaceCheckResult:
    return verifier.check(ref, iter(frames), challenges=challenges, holds=holds)


def retimed(images: list[Image]) -> list[Frame]:
    return [Frame(img, i + 1, i / FPS) for i, img in enumerate(images)]


@pytest.mark.parametrize("person", PEOPLE)
@pytest.mark.parametrize(
    ("script", "challenge"),
    [("look-up", UP), ("look-down", DOWN), ("move-closer", CLOSER)],
)
def test_nods_and_a_step_closer_pass(
    face_verifier: FaceVerifier,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
    person: str,
    script: str,
    challenge: Challenge,
) -> None:
    result = check(
        face_verifier, reference_jpeg(person), script_frames(script, person), (challenge,)
    )
    assert result.passed, result
    assert result.identity is not None and result.identity.samples >= 2


@pytest.mark.parametrize("person", PEOPLE)
def test_three_challenges_with_the_longest_holds_pass(
    face_verifier: FaceVerifier,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
    person: str,
) -> None:
    script = "turn-right+look-down+move-closer"
    asked = script_challenges(f"synthetic:{script}")
    assert asked == (RIGHT, DOWN, CLOSER)
    frames = script_frames(script, person)
    result = check(face_verifier, reference_jpeg(person), frames, asked, holds=(4, 4, 4))
    assert result.passed, result
    assert result.identity is not None and result.identity.closing is not None
    assert result.identity.closing < 0.3  # matched again at the end


@pytest.mark.parametrize(
    ("victim", "attacker"), [("astronaut", "grace_hopper"), ("grace_hopper", "astronaut")]
)
def test_victims_photo_then_the_attackers_head_turning_fails(
    face_verifier: FaceVerifier,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
    victim: str,
    attacker: str,
) -> None:
    # issue 8: four frames (here six) of the victim's photo, then the attacker's own head,
    # framed on the very same spot so that the box and the landmarks do not jump
    frames = script_frames("mixed-identity", f"{victim}+{attacker}")
    result = check(face_verifier, reference_jpeg(victim), frames, (LEFT, RIGHT))
    assert not result.passed
    assert result.match is not None and result.match.match  # the photo did match at first
    assert result.identity is not None
    assert result.identity.outcome is IdentityOutcome.CHANGED, result.identity
    assert result.reason == "identity.changed"
    assert "changed" in result.message("en") and "变化" in result.message("zh_CN")


def test_the_attacker_taking_over_for_the_closing_frames_is_not_rematched(
    face_verifier: FaceVerifier,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
) -> None:
    # the victim really turns, then another person faces the camera on the same spot
    victim = script_frames("turn-left", "astronaut")
    other = script_frames("still", "grace_hopper")
    frames = retimed([f.image for f in victim[:14]] + [f.image for f in other[:12]])
    result = check(face_verifier, reference_jpeg("astronaut"), frames, (LEFT,))
    assert result.liveness is not None and result.liveness.live
    assert result.identity is not None
    assert result.identity.outcome is IdentityOutcome.NOT_REMATCHED, result.identity
    assert result.identity.closing is not None and result.identity.closing > 0.6
    assert not result.passed


@pytest.mark.parametrize("person", PEOPLE)
def test_still_prints_swapped_in_front_of_the_camera_fail(
    face_verifier: FaceVerifier,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
    person: str,
) -> None:
    # issue 8: frontal, turned left, frontal, turned right; every frame of a run identical
    frames = script_frames("print-swap", person)
    runs = [frames[i].image for i in (0, 6, 12, 18)]
    assert all(np.array_equal(frames[i + 1].image, frames[i].image) for i in (0, 6, 12, 18))
    assert not np.array_equal(runs[0], runs[1])
    result = check(face_verifier, reference_jpeg(person), frames, (LEFT, RIGHT), holds=(2, 2))
    assert not result.passed
    assert result.liveness is not None
    assert result.liveness.outcome is LivenessOutcome.DISCONTINUOUS, result.liveness
    assert result.reason == "liveness.discontinuous"


def test_swapped_prints_filmed_with_sensor_noise_fail_too(
    face_verifier: FaceVerifier,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
) -> None:
    # the same swap in front of a real sensor: no two frames identical, still runs and jumps
    rng = np.random.default_rng(5)
    noisy = [
        np.clip(f.image + rng.normal(0, 1.5, f.image.shape), 0, 255).astype(np.uint8)
        for f in script_frames("print-swap", "grace_hopper")
    ]
    result = check(face_verifier, reference_jpeg("grace_hopper"), retimed(noisy), (LEFT, RIGHT))
    assert result.liveness is not None
    assert result.liveness.outcome is LivenessOutcome.DISCONTINUOUS, result.liveness


@pytest.mark.parametrize(
    "asked",
    [(UP, LEFT, CLOSER), (LEFT, CLOSER, UP), (LEFT, UP, DOWN), (RIGHT, UP, CLOSER)],
)
def test_a_clip_recorded_for_another_order_fails(
    face_verifier: FaceVerifier,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
    asked: tuple[Challenge, ...],
) -> None:
    recorded = "turn-left+look-up+move-closer"
    frames = script_frames(recorded, "grace_hopper")
    # the clip itself is genuine: it passes the check it was recorded for
    own = script_challenges(f"synthetic:{recorded}")
    assert own is not None and own != asked
    assert check(face_verifier, reference_jpeg("grace_hopper"), frames, own).passed
    looped = retimed([f.image for f in frames * 2])  # replayed for as long as it takes
    result = check(face_verifier, reference_jpeg("grace_hopper"), looped, asked)
    assert not result.passed
    assert result.liveness is not None and not result.liveness.live
    assert result.liveness.outcome in (LivenessOutcome.WRONG_DIRECTION, LivenessOutcome.TIMEOUT)


def test_a_second_face_joining_ends_the_check(
    face_verifier: FaceVerifier,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
    face_photos: dict[str, Image],
) -> None:
    frames = script_frames("turn-left", "astronaut")
    # another person leans in beside the citizen from the seventh frame on
    other = compose(face_photos["grace_hopper"], face_width=0.26, centre=(0.85, 0.45))
    images = [f.image.copy() for f in frames]
    for img in images[6:]:
        img[:, 460:] = other[:, 460:]
    result = check(face_verifier, reference_jpeg("astronaut"), retimed(images), (LEFT,))
    assert not result.passed
    assert result.identity is not None
    assert result.identity.outcome is IdentityOutcome.SECOND_FACE, result.identity


def test_a_face_that_leaves_during_the_challenge_loses_the_track(
    face_verifier: FaceVerifier,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
    face_settings: FaceSettings,
) -> None:
    frames = script_frames("turn-left", "grace_hopper")
    empty = np.full_like(frames[0].image, 120)
    gap = int(face_settings.track_lost_s * FPS) + 3
    images = [f.image for f in frames[:6]] + [empty] * gap + [f.image for f in frames[6:]]
    result = check(face_verifier, reference_jpeg("grace_hopper"), retimed(images), (LEFT,))
    assert not result.passed
    assert result.identity is not None
    assert result.identity.outcome is IdentityOutcome.TRACK_LOST, result.identity


def test_a_face_that_jumps_to_another_place_loses_the_track(
    face_verifier: FaceVerifier,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
    framed: dict[str, Image],
    face_photos: dict[str, Image],
) -> None:
    # the victim's photo, then (unaligned) the attacker: a face appears elsewhere at once
    victim = script_frames("still", "astronaut")[:6]
    moved = compose(face_photos["grace_hopper"], centre=(0.36, 0.55))
    images = (
        [f.image for f in victim]
        + [moved] * 2
        + [f.image for f in script_frames("turn-left", "grace_hopper")]
    )
    result = check(face_verifier, reference_jpeg("astronaut"), retimed(images), (LEFT,))
    assert not result.passed
    assert result.identity is not None
    assert result.identity.outcome in (IdentityOutcome.TRACK_LOST, IdentityOutcome.CHANGED)
    assert result.identity.outcome is IdentityOutcome.TRACK_LOST, result.identity


def test_print_swap_through_a_real_video_capture_fails(tmp_path: Path) -> None:
    # the attack as a stream: MJPG video played by FrameSource through cv2.VideoCapture
    cfg = load_config(None, profile="test").config
    face = cfg.face.to_settings()
    src_settings = replace(
        cfg.camera.to_settings(source="synthetic:print-swap:grace_hopper"), loop_files=False
    )
    verifier = FaceVerifier(replace(face, min_challenges=2), random.Random(3))
    photo = Path("/usr/share/doc/facedetect/examples/grace_hopper_512x512.jpg").read_bytes()
    src = FrameSource(src_settings, name="attack")
    src.start()
    try:
        result = verifier.check(photo, src.frames(timeout=10.0), challenges=(LEFT, RIGHT))
    finally:
        src.stop()
    assert result.liveness is not None
    assert result.liveness.outcome is LivenessOutcome.DISCONTINUOUS, result
    assert not result.passed
