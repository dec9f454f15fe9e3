"""1:1 face verification: dlib 5-point landmarks and the ResNet 128-D embedding.

Privacy: embeddings are numpy arrays that live only inside a check; `wipe` zeroes them once
the decision is taken. Nothing here writes a file or logs an image or an embedding.

Pure of the kiosk and of I/O besides loading the two model files: the central system imports
this module (and `settings`, `errors`) to match the ID card login's aligned face crop against
its own reference photo with the same model and threshold the kiosk uses
(central/idcard_login.py; tests/unit/test_layering.py allows exactly these).
"""

from __future__ import annotations

import io
import logging
import statistics
from collections.abc import Sequence
from dataclasses import replace

import cv2
import dlib
import numpy as np
import numpy.typing as npt
from PIL import Image as PILImage

from drivers.camera.detect import FaceDetector
from drivers.camera.errors import FaceModelError, FrameInvalidError, ReferencePhotoError
from drivers.camera.frames import decode_jpeg, letterbox
from drivers.camera.models import LANDMARKS_5, RECOGNITION, model_path
from drivers.camera.results import FaceBox, Image, MatchResult
from drivers.camera.settings import FaceSettings

__all__ = [
    "CHIP_PADDING",
    "CHIP_SIZE",
    "Embedding",
    "FaceEmbedder",
    "Landmarks",
    "decide",
    "distance",
    "wipe",
]

logger = logging.getLogger("drivers.camera.verify")

Embedding = npt.NDArray[np.float64]
Landmarks = npt.NDArray[np.float64]  # 5 x 2 (x, y) pixels, dlib order, see liveness.py
# dlib's alignment of the ResNet input (`compute_face_descriptor(img, shape)` does the same).
CHIP_SIZE = 150
CHIP_PADDING = 0.25


def distance(a: Embedding, b: Embedding) -> float:
    """Euclidean distance of two 128-D embeddings (dlib: < 0.6 means the same person)."""
    return float(np.linalg.norm(a - b))


def decide(distances: Sequence[float], threshold: float) -> MatchResult:
    """Match when the median distance is below `threshold` (one odd frame cannot decide)."""
    if not distances:
        raise ValueError("no distance to decide on")
    d = float(statistics.median(distances))
    return MatchResult(match=d < threshold, distance=d, threshold=threshold, frames=len(distances))


def wipe(*arrays: npt.NDArray[np.generic] | None) -> None:
    """Zero biometric buffers in place once a decision no longer needs them."""
    for a in arrays:
        if a is not None and a.flags.writeable:
            a.fill(0)


class FaceEmbedder:
    """Landmarks and embeddings of faces found by the cascade. Loads the 5-point and ResNet
    models once (about 30 MB, 0.3 s); not thread-safe, use one per thread.

    Raises `FaceModelError` when a model file is missing. An embedding takes about 100 ms on
    one x86_64 core.
    """

    def __init__(self, settings: FaceSettings) -> None:
        self._settings = settings
        try:
            self._shape = dlib.shape_predictor(str(model_path(LANDMARKS_5)))
            self._net = dlib.face_recognition_model_v1(str(model_path(RECOGNITION)))
        except RuntimeError as e:
            raise FaceModelError("face model cannot be loaded", detail=str(e)) from None
        # reference photos (card EF08: about 100x125 px) are scaled up and searched with a
        # smaller minimum face than live frames
        self._ref_detector = FaceDetector(replace(settings, min_size_px=40))

    @staticmethod
    def _rect(box: FaceBox) -> dlib.rectangle:
        return dlib.rectangle(box.x, box.y, box.x + box.w, box.y + box.h)

    def _shape_of(self, rgb: Image, box: FaceBox) -> dlib.full_object_detection:
        return self._shape(rgb, self._rect(box))

    def landmarks(self, image: Image, box: FaceBox) -> Landmarks:
        """The 5 landmark points of the face in `box` of BGR `image`, as a 5x2 float array."""
        rgb = np.asarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), dtype=np.uint8)
        shape = self._shape_of(rgb, box)
        return np.array([(p.x, p.y) for p in shape.parts()], dtype=np.float64)

    def embed(self, image: Image, box: FaceBox) -> Embedding:
        """128-D embedding of the face in `box` of BGR `image` (aligned on its 5 landmarks)."""
        rgb = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), dtype=np.uint8)
        shape = self._shape_of(rgb, box)
        vec = self._net.compute_face_descriptor(rgb, shape, 0)
        out = np.array(vec, dtype=np.float64)
        wipe(rgb)
        return out

    def embed_reference(self, photo: bytes) -> Embedding:
        """Embedding of the largest face in a reference photo (JPEG/PNG bytes: the card's EF08
        photo or one from the central system). `ReferencePhotoError` if undecodable/faceless."""
        try:
            image = decode_jpeg(photo)
        except FrameInvalidError as e:
            raise ReferencePhotoError("reference photo cannot be read", detail=str(e)) from None
        framed = letterbox(image, 640, 480)
        _, faces = self._ref_detector.detect(framed)
        if not faces:
            wipe(image, framed)
            raise ReferencePhotoError("no face in the reference photo")
        emb = self.embed(framed, faces[0])
        wipe(image, framed)
        return emb

    def chip(self, image: Image, box: FaceBox) -> Image:
        """The aligned face crop the ResNet embeds (BGR, `CHIP_SIZE` square): rotated upright
        on the 5 landmarks of the face in `box`, as `dlib.get_face_chip` makes it. What the ID
        card login sends the central instead of a frame (the least image that can be matched)."""
        rgb = np.ascontiguousarray(cv2.cvtColor(image, cv2.COLOR_BGR2RGB), dtype=np.uint8)
        shape = self._shape_of(rgb, box)
        crop = np.asarray(dlib.get_face_chip(rgb, shape, CHIP_SIZE, CHIP_PADDING), dtype=np.uint8)
        out = np.ascontiguousarray(cv2.cvtColor(crop, cv2.COLOR_RGB2BGR), dtype=np.uint8)
        wipe(rgb, crop)
        return out

    def embed_chip(self, chip: Image) -> Embedding:
        """128-D embedding of an aligned crop made by `chip` (BGR). `FrameInvalidError` for
        anything that is not a `CHIP_SIZE` square colour image."""
        if chip.shape != (CHIP_SIZE, CHIP_SIZE, 3) or chip.dtype != np.uint8:
            raise FrameInvalidError("not an aligned face crop", detail=str(chip.shape))
        rgb = np.ascontiguousarray(cv2.cvtColor(chip, cv2.COLOR_BGR2RGB), dtype=np.uint8)
        out = np.array(self._net.compute_face_descriptor(rgb, 0), dtype=np.float64)
        wipe(rgb)
        return out

    def embed_chip_jpeg(self, data: bytes) -> Embedding:
        """`embed_chip` of a JPEG-encoded crop (what the central receives); the decoded pixels
        are zeroed before returning. `FrameInvalidError` when it is no such crop. The header is
        read first (Pillow, no pixels decoded): a small file declaring a huge image is refused
        before the decoder allocates it."""
        try:
            with PILImage.open(io.BytesIO(data)) as header:
                size, kind = header.size, header.format
        except (OSError, ValueError, PILImage.DecompressionBombError) as e:
            raise FrameInvalidError("not an image", detail=type(e).__name__) from None
        if kind != "JPEG" or size != (CHIP_SIZE, CHIP_SIZE):
            raise FrameInvalidError("not an aligned face crop", detail=f"{kind} {size}")
        chip = decode_jpeg(data)
        try:
            return self.embed_chip(chip)
        finally:
            wipe(chip)
