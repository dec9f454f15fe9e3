"""The session's identity port on the camera and the fingerprint scanner.

Face: the live stream against the central's reference photo when the central session can
fetch it (the check a token credential needs, `FaceProof` names that photo by digest), else the
card's own EF08 photo; liveness by the head-turn challenges (a generated stream is asked what
it can do, as `kiosk face verify` does). Fingerprint: 1:1 in the module's RAM against the
central's reference template; enrolment captures a new template and holds it until the citizen
confirms the activation (`submit_enrolment` hands it to the central and wipes it; `forget`, at
the session's end, wipes one never submitted).
The ID card login's face (`capture_live_face`): liveness and one followed face with no reference
here; the aligned crop of a closing frame waits in `proofs.live_face` for the central, which
alone matches it, and is zeroed once sent or when the session ends.
Photos and frames live only inside each call; what survives is the decision, kept in `proofs`
for the central session's `session.elevate` and wiped with the session.
"""

from __future__ import annotations

import hashlib
import logging
import random
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from drivers.camera.errors import CameraError
from drivers.camera.results import Challenge, Frame
from drivers.camera.service import FaceVerifier
from drivers.camera.settings import FaceSettings, SourceSettings
from drivers.camera.source import FrameSource
from drivers.camera.synthetic import script_challenges
from drivers.fingerprint.driver import FingerprintDriver
from drivers.fingerprint.errors import FingerprintError
from drivers.personal import wipe_bytes
from drivers.vocabulary import ErrorCode
from kiosk.contract import FaceProof, FingerprintProof, LivenessStatement
from kiosk.session.events import (
    EnrolmentRefused,
    EnrolmentSubmitted,
    Event,
    FaceFailed,
    FaceLive,
    FaceMatched,
    FingerprintEnrolled,
    FingerprintFailed,
    FingerprintMatched,
)

__all__ = ["CameraAndScanner", "LiveFace", "Proofs", "ReferenceSource"]

log = logging.getLogger("kiosk.journeys.identity")


@dataclass(slots=True)
class LiveFace:
    """The ID card login's live check: the statement and the aligned crop (JPEG) the central
    matches. The crop is a bytearray, zeroed by `wipe` (after sending, or at the session end)."""

    statement: LivenessStatement
    chip_jpeg: bytearray

    def wipe(self) -> None:
        wipe_bytes(self.chip_jpeg)


@dataclass(slots=True)
class Proofs:
    """The decisions of this session's on-site checks, for the central; biometric data only in
    `live_face` (the ID card login's crop), until the central has it."""

    face: FaceProof | None = None
    fingerprint: FingerprintProof | None = None
    live_face: LiveFace | None = None

    def take_live_face(self) -> LiveFace | None:
        """The crop for one `session.open_idcard` (the caller wipes it after the call)."""
        live, self.live_face = self.live_face, None
        return live

    def clear(self) -> None:
        self.face = None
        self.fingerprint = None
        if self.live_face is not None:
            self.live_face.wipe()
            self.live_face = None


class ReferenceSource:
    """Where reference data comes from: callables the composition root wires to the central
    session (photo, template, enrolment) and to the card (its photo). Each returns bytes the
    caller wipes, or raises."""

    def __init__(
        self,
        *,
        central_photo: Callable[[], bytes] | None = None,
        card_photo: Callable[[], bytes] | None = None,
        template: Callable[[], bytes] | None = None,
        enroll: Callable[[bytearray, str], str] | None = None,
    ) -> None:
        self.central_photo = central_photo
        self.card_photo = card_photo
        self.template = template
        self.enroll = enroll


class CameraAndScanner:
    """`IdentityPort` (kiosk/session/ports.py). `verifier` is built once (models ~0.3 s)."""

    def __init__(
        self,
        source: SourceSettings,
        face: FaceSettings,
        fingerprint: FingerprintDriver | None,
        references: ReferenceSource,
        *,
        frame_timeout_s: float = 5.0,
        verifier: FaceVerifier | None = None,
        camera: FrameSource | None = None,
    ) -> None:
        self._source = source
        self._face = face
        self._fp = fingerprint
        self._refs = references
        self._frame_timeout_s = frame_timeout_s
        self._verifier = verifier
        self._camera = camera  # the composition root's running camera, else one per check
        self._lock = threading.RLock()
        self.proofs = Proofs()
        self._enrolled: bytearray | None = None  # activation's new template, until Confirm

    def _face_verifier(self) -> FaceVerifier:
        if self._verifier is None:
            seed = self._face.seed
            self._verifier = FaceVerifier(
                self._face, random.Random(seed) if seed is not None else None
            )
        return self._verifier

    def _reference(self) -> tuple[bytearray, bool]:
        """(photo, from_central). The central's reference is what a FACE credential needs."""
        if self._refs.central_photo is not None:
            try:
                return bytearray(self._refs.central_photo()), True
            except Exception as e:  # the card photo is the documented fallback
                log.info("no central reference photo (%s): using the card's", type(e).__name__)
        if self._refs.card_photo is None:
            raise LookupError("no reference photo")
        return bytearray(self._refs.card_photo()), False

    def _challenges(self, count: int) -> tuple[Challenge, ...] | None:
        """The movements a generated stream makes, in its order (it cannot answer others), when
        it makes at least `count`; else None: the verifier draws its own (a stream of fewer
        movements then fails, as it should, rather than being asked less)."""
        need = max(count, self._face.min_challenges)  # never fewer than any check asks
        asked = script_challenges(self._source.source)
        return asked[:need] if asked is not None and len(asked) >= need else None

    @contextmanager
    def _frames(self, name: str) -> Iterator[Iterator[Frame]]:
        """The composition root's running camera (the preview shows the same frames), else a
        camera opened for this one check and closed after it."""
        if self._camera is not None:
            yield self._camera.frames(timeout=self._frame_timeout_s)
            return
        camera = FrameSource(self._source, name=name)
        camera.start()
        try:
            yield camera.frames(timeout=self._frame_timeout_s)
        finally:
            camera.stop()

    # -- IdentityPort --------------------------------------------------------------------------

    def capture_face(self, attempt: int, challenges: int) -> Event:
        """One face check with liveness; only the decision is kept (in `proofs`)."""
        with self._lock:
            try:
                photo, from_central = self._reference()
            except Exception:
                return FaceFailed(reason=ErrorCode.FACE_NOT_FOUND.value)
            digest = hashlib.sha256(photo).hexdigest()
            try:
                verifier = self._face_verifier()
                with self._frames(f"face-{attempt}") as frames:
                    result = verifier.check(
                        bytes(photo), frames, challenges=self._challenges(challenges)
                    )
            except CameraError as e:
                return FaceFailed(reason=str(e.code.value))
            finally:
                wipe_bytes(photo)
            match, live = result.match, result.liveness
            if match is None:
                return FaceFailed(reason=ErrorCode.FACE_NOT_FOUND.value)
            if not match.match:
                return FaceFailed(reason=ErrorCode.FACE_MISMATCH.value)
            if live is None or not live.live:
                return FaceFailed(reason=ErrorCode.LIVENESS_FAILED.value)
            score = max(0.0, min(1.0, 1.0 - match.distance))
            if from_central:
                self.proofs.face = FaceProof(
                    matched=True, liveness=True, score=score, reference_sha256=digest
                )
            return FaceMatched(score=score)

    def capture_live_face(self, attempt: int, challenges: int) -> Event:
        """`LiveFacePort`: the ID card login's check (liveness, one face from the first frame
        to the last, no reference here); a passed check leaves its crop in `proofs.live_face`."""
        with self._lock:
            self.proofs.clear()
            try:
                verifier = self._face_verifier()
                with self._frames(f"live-face-{attempt}") as frames:
                    live = verifier.check_live(frames, challenges=self._challenges(challenges))
            except CameraError as e:
                return FaceFailed(reason=str(e.code.value))
            result = live.result
            if result.match is None:
                return FaceFailed(reason=ErrorCode.FACE_NOT_FOUND.value)
            if live.chip_jpeg is None or result.liveness is None:
                live.wipe()
                return FaceFailed(reason=ErrorCode.LIVENESS_FAILED.value)
            statement = LivenessStatement(
                live=result.liveness.live,
                challenges=result.liveness.passed_steps,
                same_face=result.identity is not None and result.identity.held,
            )
            self.proofs.live_face = LiveFace(statement, live.chip_jpeg)
            return FaceLive()

    def verify_finger(self) -> Event:
        """1:1 against the central's template, in the module's RAM."""
        with self._lock:
            return self._verify_finger()

    def _verify_finger(self) -> Event:
        if self._fp is None or self._refs.template is None:
            return FingerprintFailed(reason=ErrorCode.FINGERPRINT_MODULE.value)
        try:
            template = bytearray(self._refs.template())
        except Exception:
            return FingerprintFailed(reason=ErrorCode.FINGER_MISMATCH.value)
        digest = hashlib.sha256(template).hexdigest()
        try:
            result = self._fp.verify(template)
        except FingerprintError as e:
            return FingerprintFailed(reason=_fp_code(e))
        finally:
            wipe_bytes(template)
        if not result.matched:
            return FingerprintFailed(reason=ErrorCode.FINGER_MISMATCH.value)
        self.proofs.fingerprint = FingerprintProof(
            matched=True, score=result.score, template_sha256=digest
        )
        return FingerprintMatched()

    def enroll_finger(self) -> Event:
        """Activation's fingerprint step: the live finger is first checked against the
        template the central holds (the proof its trust rules need: docs/central-trust.md),
        then enrolled anew (two captures, the module builds the model). The new template is
        held here, unsent: it replaces the central's reference only once the citizen has
        confirmed the activation (`submit_enrolment`)."""
        with self._lock:
            if self._refs.enroll is None:
                # Nowhere to hand it later: refuse before capturing anything.
                log.error("fingerprint enrolment has no central to go to")
                return FingerprintFailed(reason=ErrorCode.FINGERPRINT_MODULE.value)
            checked = self._verify_finger()
            if not isinstance(checked, FingerprintMatched):
                return checked
            assert self._fp is not None
            try:
                template = self._fp.enroll()
            except FingerprintError as e:
                return FingerprintFailed(reason=_fp_code(e))
            self._drop_enrolment()  # a retried step: only the latest capture is kept
            self._enrolled = template
            return FingerprintEnrolled()

    def submit_enrolment(self, key: str) -> Event:
        """The held template to the central as the holder's reference, once per `key`; wiped
        here whatever the answer (a refused one is not kept for another try)."""
        with self._lock:
            template, self._enrolled = self._enrolled, None
        if template is None or self._refs.enroll is None:
            return EnrolmentRefused(key=key, code="fingerprint_not_recorded")
        try:
            ref = self._refs.enroll(template, key)
        except Exception as e:
            log.warning("fingerprint enrolment not accepted: %s", type(e).__name__)
            return EnrolmentRefused(key=key, code=str(getattr(e, "code", "") or "internal"))
        finally:
            wipe_bytes(template)
        return EnrolmentSubmitted(key=key, ref=ref)

    @property
    def holds_enrolment(self) -> bool:
        """True while an enrolled template waits for the citizen's Confirm (tests, doctor)."""
        with self._lock:
            return self._enrolled is not None

    def _drop_enrolment(self) -> None:
        template, self._enrolled = self._enrolled, None
        if template is not None:
            wipe_bytes(template)

    def forget(self) -> None:
        """Drop the decisions of the ended session and a template enrolled but never submitted
        (cancel, timeout, card pulled before Confirm): the central's reference stays as it
        was, and no biometric data is left here."""
        with self._lock:
            self._drop_enrolment()
        self.proofs.clear()


def _fp_code(e: FingerprintError) -> str:
    code = getattr(e, "code", None)
    return str(getattr(code, "value", code or ErrorCode.FINGERPRINT_MODULE.value))
