"""The whole face check on real OpenCV + dlib with real photos: quality, 1:1 match, liveness.

Head turns are synthesised by warping the real photo (nose region moved across the eye
midpoint, eye line foreshortened); the attacks are the same photo kept still, replayed byte
for byte, rotated in plane, and turned in depth as a flat print (perspective warp).
"""

from __future__ import annotations

import dataclasses
import itertools
import logging
import random
from collections.abc import Callable, Iterator

import cv2
import numpy as np
import pytest

from drivers.camera.errors import ReferencePhotoError
from drivers.camera.frames import encode_jpeg
from drivers.camera.results import (
    Challenge,
    FaceCheckResult,
    Frame,
    Image,
    LivenessOutcome,
    QualityReason,
)
from drivers.camera.service import FaceVerifier
from drivers.camera.settings import FaceSettings
from drivers.camera.synthetic import rotate
from drivers.vocabulary import ErrorCode
from tests.fixtures.faces import ScriptFrames

LEFT = (Challenge.TURN_LEFT,)
RIGHT = (Challenge.TURN_RIGHT,)
BOTH = (Challenge.TURN_LEFT, Challenge.TURN_RIGHT)


def check(
    verifier: FaceVerifier, ref: bytes, frames: list[Frame], challenges: tuple[Challenge, ...]
) -> FaceCheckResult:
    return verifier.check(ref, iter(frames), challenges=challenges)


@pytest.mark.parametrize("person", ["astronaut", "grace_hopper"])
@pytest.mark.parametrize(
    ("script", "challenges"),
    [("turn-left", LEFT), ("turn-right", RIGHT), ("turn-left-right", BOTH)],
)
def test_synthesised_head_turn_in_the_asked_direction_passes(
    face_verifier: FaceVerifier,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
    person: str,
    script: str,
    challenges: tuple[Challenge, ...],
) -> None:
    result = check(face_verifier, reference_jpeg(person), script_frames(script, person), challenges)
    assert result.liveness is not None and result.liveness.live, result.liveness
    assert result.match is not None and result.match.match
    assert result.match.distance < 0.3  # same photo, re-framed: measured 0.06-0.09
    assert result.passed


@pytest.mark.parametrize("person", ["astronaut", "grace_hopper"])
@pytest.mark.parametrize(
    ("script", "challenges", "outcome"),
    [
        ("still", LEFT, LivenessOutcome.TIMEOUT),
        ("static", RIGHT, LivenessOutcome.TIMEOUT),
        ("turn-right", LEFT, LivenessOutcome.WRONG_DIRECTION),
        ("turn-right-left", BOTH, LivenessOutcome.WRONG_DIRECTION),
        ("rotate", LEFT, LivenessOutcome.TIMEOUT),
        ("rotate", RIGHT, LivenessOutcome.TIMEOUT),
        ("print-turn", LEFT, LivenessOutcome.FLAT),
        ("print-turn", RIGHT, LivenessOutcome.FLAT),
    ],
)
def test_attacks_and_wrong_answers_fail_liveness(
    face_verifier: FaceVerifier,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
    person: str,
    script: str,
    challenges: tuple[Challenge, ...],
    outcome: LivenessOutcome,
) -> None:
    frames = script_frames(script, person)
    # a replay loops the recording for longer than the time limit
    looped = [Frame(f.image, i + 1, i / 15.0) for i, f in enumerate(frames * 2)]
    result = check(face_verifier, reference_jpeg(person), looped, challenges)
    assert result.liveness is not None
    assert result.liveness.outcome is outcome, result.liveness
    assert not result.passed
    # recognition is not liveness: the photo still matches its owner
    assert result.match is not None and result.match.match


def test_turn_seen_through_an_in_plane_rotation_still_passes(
    face_verifier: FaceVerifier, script_frames: ScriptFrames, reference_jpeg: Callable[[str], bytes]
) -> None:
    # a citizen whose head is tilted 5 degrees (Haar alt2 loses frontal faces from about 8):
    # the measure follows the eye axis, not image x
    frames = [
        Frame(rotate(f.image, 5.0), f.seq, f.at) for f in script_frames("turn-left", "grace_hopper")
    ]
    result = check(face_verifier, reference_jpeg("grace_hopper"), frames, LEFT)
    assert result.liveness is not None and result.liveness.live, result.liveness


def test_another_person_does_not_match(
    face_verifier: FaceVerifier, script_frames: ScriptFrames, reference_jpeg: Callable[[str], bytes]
) -> None:
    result = check(
        face_verifier, reference_jpeg("grace_hopper"), script_frames("turn-left", "astronaut"), LEFT
    )
    assert result.match is not None
    assert not result.match.match
    assert result.match.distance >= 0.6  # measured 0.68-0.70
    assert not result.passed


def test_distances_between_the_packaged_people(
    face_verifier: FaceVerifier, face_photos: dict[str, Image], face_settings: FaceSettings
) -> None:
    from drivers.camera.verify import distance

    embs = {n: face_verifier.reference(encode_jpeg(img)) for n, img in face_photos.items()}
    flipped = face_verifier.reference(
        encode_jpeg(np.ascontiguousarray(cv2.flip(face_photos["astronaut"], 1), np.uint8))
    )
    darker = face_verifier.reference(
        encode_jpeg(np.asarray(cv2.convertScaleAbs(face_photos["astronaut"], alpha=0.7), np.uint8))
    )
    assert distance(embs["astronaut"], flipped) < face_settings.match_threshold
    assert distance(embs["astronaut"], darker) < face_settings.match_threshold
    for a, b in [("astronaut", "grace_hopper"), ("astronaut", "messi"), ("grace_hopper", "messi")]:
        assert distance(embs[a], embs[b]) > face_settings.match_threshold, (a, b)


def test_small_card_photo_is_a_usable_reference(
    face_verifier: FaceVerifier, face_photos: dict[str, Image], script_frames: ScriptFrames
) -> None:
    # EF08 photos are small (about 102x126 px, JPEG): crop the head and shrink it
    img = face_photos["grace_hopper"][40:470, 90:440]
    small = np.asarray(cv2.resize(img, (102, 126), interpolation=cv2.INTER_AREA), np.uint8)
    card = encode_jpeg(small, quality=75)
    result = check(face_verifier, card, script_frames("turn-left", "grace_hopper"), LEFT)
    assert result.match is not None and result.match.match, result.match


def test_unusable_reference_photos_are_typed_errors(face_verifier: FaceVerifier) -> None:
    for bad in (b"", b"not a jpeg", encode_jpeg(np.full((200, 200, 3), 90, np.uint8))):
        with pytest.raises(ReferencePhotoError) as e:
            face_verifier.check(bad, iter([]), challenges=LEFT)
        assert e.value.code is ErrorCode.FACE_NOT_FOUND


def test_no_frames_means_no_face_and_no_decision(
    face_verifier: FaceVerifier, reference_jpeg: Callable[[str], bytes]
) -> None:
    result = face_verifier.check(reference_jpeg("grace_hopper"), iter([]), challenges=LEFT)
    assert result.match is None
    assert result.liveness is not None and result.liveness.outcome is LivenessOutcome.NO_FACE
    assert not result.passed


def test_prompts_guide_the_citizen(
    face_verifier: FaceVerifier,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
    face_photos: dict[str, Image],
) -> None:
    dark = [Frame(np.zeros((480, 640, 3), np.uint8), i + 1, i / 15.0) for i in range(3)]
    frames = dark + [
        Frame(f.image, f.seq + 3, f.at + 0.2) for f in script_frames("turn-right", "grace_hopper")
    ]
    shown: list[QualityReason | Challenge] = []
    result = face_verifier.check(
        reference_jpeg("grace_hopper"), iter(frames), challenges=RIGHT, prompt=shown.append
    )
    assert result.passed
    assert shown[:2] == [QualityReason.TOO_DARK, Challenge.TURN_RIGHT]


def test_seeded_challenge_order_is_reproducible(
    face_settings: FaceSettings, reference_jpeg: Callable[[str], bytes]
) -> None:
    asked = []
    for _ in range(2):
        v = FaceVerifier(dataclasses.replace(face_settings, min_challenges=1), random.Random(11))
        result = v.check(reference_jpeg("grace_hopper"), iter([]))
        assert result.liveness is not None
        asked.append(result.liveness.challenges)
    assert asked[0] == asked[1]
    # issue 8: three distinct challenges from the larger set, at least one a head turn
    assert len(asked[0]) == face_settings.challenge_count == 3
    assert len(set(asked[0])) == 3
    assert any(c.is_turn for c in asked[0])


def test_result_holds_no_image_or_embedding(
    face_verifier: FaceVerifier, script_frames: ScriptFrames, reference_jpeg: Callable[[str], bytes]
) -> None:
    result = check(
        face_verifier, reference_jpeg("astronaut"), script_frames("turn-left", "astronaut"), LEFT
    )

    def walk(obj: object) -> None:
        assert not isinstance(obj, np.ndarray | bytes | bytearray | memoryview)
        if dataclasses.is_dataclass(obj):
            for f in dataclasses.fields(obj):
                walk(getattr(obj, f.name))
        elif isinstance(obj, tuple | list):
            for item in obj:
                walk(item)

    walk(result)


def test_embeddings_are_zeroed_and_never_logged(
    face_verifier: FaceVerifier,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # every embedding made during the check (live frames and the reference) is kept aside here
    made: list[np.ndarray] = []
    embedder = face_verifier.embedder
    real_embed, real_ref = embedder.embed, embedder.embed_reference

    def embed(image: Image, box: object) -> np.ndarray:
        out = real_embed(image, box)  # type: ignore[arg-type]
        made.append(out)
        return out

    def embed_reference(photo: bytes) -> np.ndarray:
        out = real_ref(photo)
        made.append(out)
        return out

    monkeypatch.setattr(embedder, "embed", embed)
    monkeypatch.setattr(embedder, "embed_reference", embed_reference)
    caplog.set_level(logging.DEBUG)
    frames = script_frames("turn-left", "grace_hopper")
    result = check(face_verifier, reference_jpeg("grace_hopper"), frames, LEFT)
    assert result.passed
    assert len(made) >= 2  # the reference and at least one live face
    assert all(not e.any() for e in made)  # wiped once the decision was taken
    for record in caplog.records:
        args = record.args if isinstance(record.args, tuple) else (record.args,)
        assert not any(isinstance(a, np.ndarray | bytes | bytearray) for a in args), record.msg
        assert len(record.getMessage()) < 300, record.getMessage()


@pytest.mark.timeout(60)
def test_check_ends_on_an_endless_stream_that_never_faces_again(
    face_settings: FaceSettings, script_frames: ScriptFrames, reference_jpeg: Callable[[str], bytes]
) -> None:
    # a live camera never runs out of frames: after the turn the citizen keeps looking away,
    # and more frontal frames are wanted than were seen
    verifier = FaceVerifier(
        dataclasses.replace(face_settings, verify_frames=10, min_challenges=1), random.Random(1)
    )
    frames = script_frames("turn-left", "grace_hopper")
    turned = frames[10].image

    def endless() -> Iterator[Frame]:
        yield from frames[:14]
        for i in itertools.count(14):
            yield Frame(turned, i + 1, i / 15.0)

    result = verifier.check(reference_jpeg("grace_hopper"), endless(), challenges=LEFT)
    assert result.liveness is not None and result.liveness.live
    assert result.match is not None and 1 <= result.match.frames < 10 and result.match.match
