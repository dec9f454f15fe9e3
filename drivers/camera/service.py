"""The face check facade for the session: quality gates, liveness challenge and 1:1 match.

`FaceVerifier.check(reference_photo, frames)` runs the whole check over a stream of frames and
returns a `FaceCheckResult` holding only decisions, the distance and the liveness outcome. The
live frames, the reference image and every embedding stay in this call and are zeroed before
it returns (docs/architecture.md §5: biometric data lives only as long as the check needs it).
"""

from __future__ import annotations

import logging
import random
from collections.abc import Callable, Iterable

from drivers.camera.detect import FaceDetector
from drivers.camera.liveness import LivenessSession, head_pose, pick_challenges
from drivers.camera.quality import assess
from drivers.camera.results import (
    Challenge,
    FaceCheckResult,
    Frame,
    LivenessResult,
    QualityReason,
)
from drivers.camera.settings import FaceSettings
from drivers.camera.verify import Embedding, FaceEmbedder, decide, distance, wipe

__all__ = ["FaceVerifier", "Prompt"]

logger = logging.getLogger("drivers.camera.face")

# What the UI should show now: a quality instruction or the current challenge.
Prompt = Callable[[QualityReason | Challenge], None]


class FaceVerifier:
    """Runs face checks; build once (loads the models, ~0.3 s) and reuse. Not thread-safe:
    call `check` from one worker thread (never the UI thread: an embedding takes ~100 ms).

    `rng` draws the challenge order; tests pass `random.Random(seed)`. Without one, a seeded
    `settings.seed` or OS randomness (`random.SystemRandom`) is used.
    """

    def __init__(self, settings: FaceSettings, rng: random.Random | None = None) -> None:
        self._s = settings
        self._detector = FaceDetector(settings)
        self._embedder = FaceEmbedder(settings)
        if rng is None:
            rng = (
                random.Random(settings.seed) if settings.seed is not None else random.SystemRandom()
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

    def check(
        self,
        reference_photo: bytes,
        frames: Iterable[Frame],
        *,
        challenges: tuple[Challenge, ...] | None = None,
        prompt: Prompt | None = None,
    ) -> FaceCheckResult:
        """Check the person in `frames` against `reference_photo`.

        Frames are consumed until liveness is decided and `verify_frames` good frontal frames
        were compared (at most one more `step_timeout` after the liveness decision), or the
        frames run out (a source that stops counts as a timeout; the
        step time limit is measured on the frames' own timestamps). `challenges` overrides
        the random draw (a demo source that can only turn one way). `prompt`, if given, is
        called with what to show the citizen whenever it changes.

        Raises `ReferencePhotoError` when the reference has no usable face.
        """
        s = self._s
        ref = self.reference(reference_photo)
        asked = challenges or pick_challenges(s, self._rng)
        live = LivenessSession(s, asked)
        distances: list[float] = []
        last_quality = QualityReason.NO_FACE
        shown: QualityReason | Challenge | None = None
        liveness: LivenessResult | None = None
        decided_at: float | None = None
        try:
            for frame in frames:
                grey, faces = self._detector.detect(frame.image)
                verdict = assess(grey, faces, s)
                last_quality = verdict.reason
                pose = None
                if verdict.ok and verdict.face is not None:
                    points = self._embedder.landmarks(frame.image, verdict.face)
                    pose = head_pose(points)
                    frontal = pose is not None and abs(pose.yaw) <= s.frontal_max
                    if frontal and len(distances) < s.verify_frames:
                        emb = self._embedder.embed(frame.image, verdict.face)
                        distances.append(distance(emb, ref))
                        wipe(emb)
                liveness = live.feed(pose, frame.at)
                want: QualityReason | Challenge | None = verdict.reason
                if verdict.ok:
                    # the challenge while it runs; once decided, "hold still" for the match
                    want = live.prompt if liveness is None else QualityReason.OK
                if prompt is not None and want is not None and want != shown:
                    shown = want
                    prompt(want)
                if liveness is not None:
                    if len(distances) >= s.verify_frames or not liveness.live:
                        break
                    # live, but still short of frontal frames to compare: wait one more step
                    # time for the citizen to face the camera again, never forever
                    if decided_at is None:
                        decided_at = frame.at
                    elif frame.at - decided_at > s.step_timeout:
                        break
        finally:
            wipe(ref)
        if liveness is None:
            liveness = live.end()
        match = decide(distances, s.match_threshold) if distances else None
        result = FaceCheckResult(match=match, liveness=liveness, quality=last_quality)
        logger.info(
            "face check: match=%s distance=%s liveness=%s",
            None if match is None else match.match,
            None if match is None else f"{match.distance:.3f}",
            liveness.outcome.value,
        )
        return result
