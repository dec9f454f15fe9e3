"""The face check without a reference on the terminal (the ID card login): liveness and one
followed face on real OpenCV + dlib, and the aligned crop a passed check hands over, matched as
the central matches it (`FaceEmbedder.embed_chip_jpeg` against the reference photo)."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest

import drivers.camera.verify as verify
from drivers.camera.errors import FrameInvalidError
from drivers.camera.frames import decode_jpeg, encode_jpeg
from drivers.camera.results import Challenge, Frame, IdentityOutcome
from drivers.camera.service import FaceVerifier
from drivers.camera.settings import FaceSettings
from drivers.camera.verify import CHIP_SIZE, distance, wipe
from tests.fixtures.faces import ScriptFrames

BOTH = (Challenge.TURN_LEFT, Challenge.TURN_RIGHT)


def _central_distance(verifier: FaceVerifier, photo: bytes, chip: bytes) -> float:
    ref = verifier.embedder.embed_reference(photo)
    live = verifier.embedder.embed_chip_jpeg(chip)
    try:
        return distance(live, ref)
    finally:
        wipe(live, ref)


def test_a_live_check_passes_and_its_crop_matches_the_holder_and_no_one_else(
    face_verifier: FaceVerifier,
    face_settings: FaceSettings,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
) -> None:
    live = face_verifier.check_live(
        iter(script_frames("turn-left-right", "astronaut")), challenges=BOTH
    )
    assert live.result.passed, live.result
    assert live.chip_jpeg is not None
    chip = bytes(live.chip_jpeg)
    assert decode_jpeg(chip).shape == (CHIP_SIZE, CHIP_SIZE, 3)
    assert len(chip) < 20_000  # a face crop, not a frame
    own = _central_distance(face_verifier, reference_jpeg("astronaut"), chip)
    other = _central_distance(face_verifier, reference_jpeg("grace_hopper"), chip)
    assert own < face_settings.match_threshold, own
    assert other >= 0.6, other  # dlib's own same-person bound, well past the threshold
    buffer = live.chip_jpeg
    live.wipe()
    assert live.chip_jpeg is None and not any(buffer)


def test_the_crop_embeds_as_the_frame_does(
    face_verifier: FaceVerifier, framed: dict[str, np.ndarray]
) -> None:
    """The central's embedding of the crop is the kiosk's embedding of the face in the frame
    (dlib aligns the same way): the same model, not an approximation of it."""
    image = framed["grace_hopper"]
    _, faces = face_verifier.detector.detect(image)
    direct = face_verifier.embedder.embed(image, faces[0])
    via_chip = face_verifier.embedder.embed_chip(face_verifier.embedder.chip(image, faces[0]))
    assert distance(direct, via_chip) < 1e-6


def test_a_still_photo_and_a_swapped_face_give_no_crop(
    face_verifier: FaceVerifier, script_frames: ScriptFrames
) -> None:
    still = script_frames("still", "astronaut")
    looped = [Frame(f.image, i + 1, i / 15.0) for i, f in enumerate(still * 3)]
    photo = face_verifier.check_live(iter(looped), challenges=BOTH)
    assert not photo.result.passed and photo.chip_jpeg is None
    # the victim's photo opens, the attacker turns: the face followed is not held
    swapped = face_verifier.check_live(
        iter(script_frames("mixed-identity", "astronaut+grace_hopper")), challenges=BOTH
    )
    assert not swapped.result.passed and swapped.chip_jpeg is None
    assert swapped.result.identity is None or swapped.result.identity.outcome is not (
        IdentityOutcome.HELD
    )


def test_a_crop_declaring_a_huge_image_is_refused_before_any_pixel_is_decoded(
    face_verifier: FaceVerifier, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the central receives is hostile input: the header says 60000x60000 in a few
    bytes; the decoder must never be asked to allocate it."""
    small = bytearray(encode_jpeg(np.zeros((8, 8, 3), np.uint8)))
    sof = small.index(b"\xff\xc0")
    small[sof + 5 : sof + 9] = (60000).to_bytes(2, "big") * 2

    def never(data: bytes) -> None:
        raise AssertionError("decoded")

    monkeypatch.setattr(verify, "decode_jpeg", never)
    with pytest.raises(FrameInvalidError):
        face_verifier.embedder.embed_chip_jpeg(bytes(small))
    with pytest.raises(FrameInvalidError):
        face_verifier.embedder.embed_chip_jpeg(b"\x89PNG\r\n\x1a\n not a crop")


@pytest.mark.parametrize("asked", [(), BOTH[:1], BOTH])
def test_the_kiosks_verifier_refuses_fewer_than_three_fixed_challenges(
    strict_face_verifier: FaceVerifier,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
    asked: tuple[Challenge, ...],
) -> None:
    frames = script_frames("turn-left-right", "grace_hopper")
    with pytest.raises(ValueError, match=f"at least 3 liveness challenges, not {len(asked)}"):
        strict_face_verifier.check(reference_jpeg("grace_hopper"), iter(frames), challenges=asked)
    with pytest.raises(ValueError, match="at least 3 liveness challenges"):
        strict_face_verifier.check_live(iter(frames), challenges=asked)


def test_the_kiosks_verifier_runs_three_fixed_challenges(
    strict_face_verifier: FaceVerifier,
    script_frames: ScriptFrames,
    reference_jpeg: Callable[[str], bytes],
) -> None:
    asked = (Challenge.TURN_LEFT, Challenge.LOOK_UP, Challenge.TURN_RIGHT)
    frames = script_frames("turn-left+look-up+turn-right", "grace_hopper")
    result = strict_face_verifier.check(
        reference_jpeg("grace_hopper"), iter(frames), challenges=asked
    )
    assert result.passed, result
    assert result.liveness is not None and result.liveness.passed_steps == 3
