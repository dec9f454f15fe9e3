"""The face check facade for the session: quality gates, liveness challenges, 1:1 match, and
the same face followed from the first frame to the last (docs/face-check.md).

`FaceVerifier.check(reference_photo, frames)` runs the whole check over a stream of frames and
returns a `FaceCheckResult` holding only decisions, distances and outcomes.
`FaceVerifier.check_live(frames)` is the same check without a reference on the terminal (the ID
card login: the central matches): the first frontal face is the one followed to the last frame,
and the aligned crop of a closing frame is returned for the central, JPEG-encoded. The
live frames, the reference image and every embedding stay in this call and are zeroed before
it returns (docs/face-check.md: biometric data lives only as long as the check needs it).
"""

from __future__ import annotations

import hashlib
import logging
import random
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from drivers.camera.check import CheckOutcome, CheckSession, Observation
from drivers.camera.detect import FaceDetector
from drivers.camera.frames import encode_jpeg
from drivers.camera.liveness import pick_challenges, pick_holds
from drivers.camera.quality import assess
from drivers.camera.results import Challenge, FaceCheckResult, Frame, Image, QualityReason
from drivers.camera.settings import FaceSettings
from drivers.camera.verify import Embedding, FaceEmbedder, distance, wipe

__all__ = ["FaceVerifier", "LiveCheck", "Prompt"]

logger = logging.getLogger("drivers.camera.face")

# What the UI should show now: a quality instruction or the current challenge.
Prompt = Callable[[QualityReason | Challenge], None]


@dataclass(slots=True)
class LiveCheck:
    """`check_live`'s outcome: the decisions, and when it passed, the aligned face crop of a
    closing frame as JPEG bytes (a bytearray: the caller zeroes it once sent)."""

    result: FaceCheckResult
    chip_jpeg: bytearray | None = None

    def wipe(self) -> None:
        if self.chip_jpeg is not None:
            self.chip_jpeg[:] = bytes(len(self.chip_jpeg))
            self.chip_jpeg = None


class FaceVerifier:
    """Runs face checks; build once (loads the models, ~0.3 s) and reuse. Not thread-safe:
    call `check` from one worker thread (never the UI thread: an embedding takes ~100 ms).

    `rng` draws the challenge order and holds; tests pass `random.Random(seed)`. Without one,
    a seeded `settings.seed` or OS randomness (`secrets.SystemRandom`) is used.
    """

    def __init__(self, settings: FaceSettings, rng: random.Random | None = None) -> None:
        self._s = settings
        self._detector = FaceDetector(settings)
        self._embedder = FaceEmbedder(settings)
        if rng is None:
            rng = (
                random.Random(settings.seed)
                if settings.seed is not None
                else secrets.SystemRandom()
            )
        self._rng = rng

    @property
    def detector(self) -> FaceDetector:
        return self._detector

    @property
    def embedder(self) -> FaceEmbedder:
        return self._embedder

    def reference(self, photo: bytes) -> Embedding:
        """Embedding of the reference photo (JPEG/PNG bytes); `ReferencePhotoError` if none.
        The caller must `wipe()` it after use; `check` does this itself."""
        return self._embedder.embed_reference(photo)

    def draw(self) -> tuple[tuple[Challenge, ...], tuple[int, ...]]:
        """A fresh random challenge sequence and its holds (see `drivers.camera.liveness`)."""
        asked = pick_challenges(self._s, self._rng)
        return asked, pick_holds(self._s, len(asked), self._rng)

    def check(
        self,
        reference_photo: bytes,
        frames: Iterable[Frame],
        *,
        challenges: tuple[Challenge, ...] | None = None,
        holds: tuple[int, ...] | None = None,
        prompt: Prompt | None = None,
    ) -> FaceCheckResult:
        """Check the person in `frames` against `reference_photo`: the same live person from
        the first frame to the last (`drivers.camera.check`).

        Frames are consumed until the check is decided (the closing match waits at most one
        `step_timeout` after the last challenge) or the frames run out (a source that stops
        counts as a timeout; time limits are measured on the frames' own timestamps).
        `challenges` (and `holds`, fresh frames per step) override the random draw: a demo
        source that can only do what it recorded; `ValueError` if it holds fewer than
        `min_challenges` (3). `prompt`, if given, is called with what to show the citizen
        whenever it changes.

        Raises `ReferencePhotoError` when the reference has no usable face.
        """
        self._require_enough(challenges)  # before the reference: nothing to wipe yet
        ref = self.reference(reference_photo)
        return self._run(ref, frames, challenges, holds, prompt).result

    def check_live(
        self,
        frames: Iterable[Frame],
        *,
        challenges: tuple[Challenge, ...] | None = None,
        holds: tuple[int, ...] | None = None,
        prompt: Prompt | None = None,
    ) -> LiveCheck:
        """`check` without a reference photo: the opening frames' face is the reference the
        rest of the check must hold (the same person from first to last, with liveness), and a
        passed check returns the aligned crop of its last closing frame for a match done
        elsewhere. `match` then only says the opening frames agreed with themselves."""
        self._require_enough(challenges)
        return self._run(None, frames, challenges, holds, prompt)

    def _require_enough(self, challenges: tuple[Challenge, ...] | None) -> None:
        """A fixed sequence shorter than `min_challenges` is refused (`ValueError`): a short one
        is what a prepared recording can answer, so an override never makes a check weaker."""
        least = self._s.min_challenges
        if challenges is not None and len(challenges) < least:
            raise ValueError(
                f"a face check asks at least {least} liveness challenges, not {len(challenges)}"
            )

    def _run(
        self,
        reference: Embedding | None,
        frames: Iterable[Frame],
        challenges: tuple[Challenge, ...] | None,
        holds: tuple[int, ...] | None,
        prompt: Prompt | None,
    ) -> LiveCheck:
        s = self._s
        ref = reference
        chip: Image | None = None  # the latest closing frame's crop (pixels, not features)
        if challenges is None:
            challenges, drawn = self.draw()
            holds = holds or drawn
        elif holds is None:
            holds = pick_holds(s, len(challenges), self._rng)
        session = CheckSession(s, challenges, holds)
        last_quality = QualityReason.NO_FACE
        shown: QualityReason | Challenge | None = None
        previous: bytes | None = None
        outcome: CheckOutcome | None = None
        try:
            for frame in frames:
                grey, faces = self._detector.detect(frame.image)
                verdict = assess(grey, faces, s)
                last_quality = verdict.reason
                # a camera sensor never repeats a frame byte for byte: a repeat is no evidence
                digest = hashlib.blake2b(frame.image.tobytes(), digest_size=16).digest()
                fresh, previous = digest != previous, digest
                face = faces[0] if faces else None
                points = self._embedder.landmarks(frame.image, face) if face is not None else None
                obs = Observation(
                    at=frame.at,
                    face=face,
                    points=points,
                    usable=verdict.ok,
                    second_face=verdict.reason is QualityReason.SEVERAL_FACES,
                    fresh=fresh,
                )
                dist: float | None = None
                if face is not None and session.wants_identity(obs):
                    emb = self._embedder.embed(frame.image, face)
                    if ref is None:
                        ref = emb.copy()  # live mode: the first frontal face is the reference
                    dist = distance(emb, ref)
                    wipe(emb)
                    if reference is None and session.live.result is not None:
                        wipe(chip)
                        chip = self._embedder.chip(frame.image, face)
                outcome = session.feed(obs, dist)
                if points is not None:
                    wipe(points)
                want: QualityReason | Challenge | None = verdict.reason
                if verdict.ok:
                    # the challenge while it runs; once answered, "hold still" for the match
                    want = session.prompt if session.live.result is None else QualityReason.OK
                if prompt is not None and want is not None and want != shown:
                    shown = want
                    prompt(want)
                if outcome is not None:
                    break
        finally:
            wipe(ref)
        if outcome is None:
            outcome = session.end()
        chip_jpeg = bytearray(encode_jpeg(chip)) if chip is not None and outcome.passed else None
        wipe(chip)
        result = FaceCheckResult(
            match=outcome.match,
            liveness=outcome.liveness,
            quality=last_quality,
            identity=outcome.identity,
        )
        logger.info(
            "face check: match=%s distance=%s liveness=%s identity=%s",
            None if outcome.match is None else outcome.match.match,
            None if outcome.match is None else f"{outcome.match.distance:.3f}",
            outcome.liveness.outcome.value,
            None if outcome.identity is None else outcome.identity.outcome.value,
        )
        return LiveCheck(result, chip_jpeg)
