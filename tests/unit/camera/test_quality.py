"""Quality gates on real photos (scikit-image, Debian facedetect/opencv-doc) and generated
variations (shift, scale, light, blur, flip, two people, noise)."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from drivers.camera.detect import FaceDetector, resolve_cascade
from drivers.camera.errors import FaceModelError
from drivers.camera.quality import assess, check_frame
from drivers.camera.results import Image, QualityReason
from drivers.camera.settings import FaceSettings
from drivers.camera.synthetic import compose


@pytest.fixture(scope="module")
def detector(face_settings: FaceSettings) -> FaceDetector:
    return FaceDetector(face_settings)


@pytest.mark.parametrize("person", ["astronaut", "grace_hopper"])
@pytest.mark.parametrize(
    "variation",
    [
        {},
        {"face_width": 0.22},
        {"face_width": 0.5},
        {"centre": (0.4, 0.45)},
        {"light": 0.8},
        {"flip": True},
    ],
)
def test_good_frames_pass(
    face_photos: dict[str, Image],
    detector: FaceDetector,
    face_settings: FaceSettings,
    person: str,
    variation: dict[str, object],
) -> None:
    frame = compose(face_photos[person], **variation)  # type: ignore[arg-type]
    verdict = check_frame(frame, detector, face_settings)
    assert verdict.reason is QualityReason.OK, verdict
    assert verdict.faces == 1


def _bright(img: Image) -> Image:
    return np.asarray(cv2.convertScaleAbs(img, alpha=0.6, beta=150), dtype=np.uint8)


@pytest.mark.parametrize(
    ("make", "reason"),
    [
        (lambda p: compose(p, face_width=0.13), QualityReason.TOO_FAR),
        (lambda p: compose(p, face_width=0.75), QualityReason.TOO_CLOSE),
        (lambda p: compose(p, face_width=0.25, centre=(0.22, 0.5)), QualityReason.OFF_CENTRE),
        (lambda p: compose(p, face_width=0.25, centre=(0.5, 0.78)), QualityReason.OFF_CENTRE),
        (lambda p: compose(p, light=0.35), QualityReason.TOO_DARK),
        (lambda p: _bright(compose(p)), QualityReason.TOO_BRIGHT),
        (lambda p: cv2.GaussianBlur(compose(p), (0, 0), 3), QualityReason.BLURRED),
    ],
    ids=["too_far", "too_close", "off_centre_x", "off_centre_y", "dark", "bright", "blurred"],
)
def test_each_gate_names_its_reason(
    face_photos: dict[str, Image],
    detector: FaceDetector,
    face_settings: FaceSettings,
    make: object,
    reason: QualityReason,
) -> None:
    for person in ("astronaut", "grace_hopper"):
        frame = make(face_photos[person])  # type: ignore[operator]
        verdict = check_frame(frame, detector, face_settings)
        assert verdict.reason is reason, (person, verdict)


def test_no_face_in_noise_or_a_wall(detector: FaceDetector, face_settings: FaceSettings) -> None:
    noise = np.random.default_rng(1).integers(0, 256, (480, 640, 3), dtype=np.uint8)
    for frame in (noise, np.full((480, 640, 3), 120, np.uint8)):
        assert check_frame(frame, detector, face_settings).reason is QualityReason.NO_FACE


def test_faceless_frame_in_the_dark_or_glare_says_light(
    detector: FaceDetector, face_settings: FaceSettings
) -> None:
    black = np.zeros((480, 640, 3), np.uint8)
    white = np.full((480, 640, 3), 250, np.uint8)
    assert check_frame(black, detector, face_settings).reason is QualityReason.TOO_DARK
    assert check_frame(white, detector, face_settings).reason is QualityReason.TOO_BRIGHT


def test_two_people_are_refused(
    face_photos: dict[str, Image], detector: FaceDetector, face_settings: FaceSettings
) -> None:
    left = compose(face_photos["astronaut"], face_width=0.3, centre=(0.5, 0.5))
    right = compose(face_photos["grace_hopper"], face_width=0.3, centre=(0.5, 0.5))
    frame = np.concatenate([left[:, 160:480], right[:, 160:480]], axis=1)
    verdict = check_frame(frame, detector, face_settings)
    assert verdict.faces == 2
    assert verdict.reason is QualityReason.SEVERAL_FACES


def test_a_small_face_far_behind_is_tolerated(face_settings: FaceSettings) -> None:
    grey = np.full((480, 640), 128, np.uint8)
    from drivers.camera.results import FaceBox

    faces = [FaceBox(220, 140, 200, 200), FaceBox(10, 10, 82, 82)]  # a passer-by far behind
    assert assess(grey, faces, face_settings).reason is not QualityReason.SEVERAL_FACES


def test_real_photos_measured(face_photos: dict[str, Image], detector: FaceDetector) -> None:
    # the raw test photos as measured once with OpenCV's cascades: one face each
    from drivers.camera.frames import letterbox

    for name in ("astronaut", "grace_hopper", "messi"):
        _, faces = detector.detect(letterbox(face_photos[name]))
        assert len(faces) == 1, name


@pytest.mark.parametrize("reason", list(QualityReason))
def test_every_reason_has_both_languages(reason: QualityReason) -> None:
    zh, en = reason.message("zh_CN"), reason.message("en")
    assert zh and en and zh != en
    assert reason.message() == zh  # the kiosk speaks Chinese by default


def test_cascades_resolve_and_missing_one_is_typed() -> None:
    assert resolve_cascade("haarcascade_frontalface_alt2.xml").is_file()
    assert resolve_cascade("lbpcascade_frontalface.xml").is_file()  # Debian opencv-data
    with pytest.raises(FaceModelError):
        resolve_cascade("no_such_cascade.xml")
