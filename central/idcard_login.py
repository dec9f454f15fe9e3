"""The resident ID card as a login for records lookup, where policy allows (docs/idcard-reader.md).

An ID card read through the terminal's SAM module proves nothing to the central by itself (the
module's answer carries no signature the central can check). What the central can check is a
face: ``session.open_idcard`` carries the card's fields as read, the terminal's liveness
statement and ONE aligned face crop of the live check, and the central matches that crop
against ITS OWN reference photo of the person, with the model and threshold the kiosk uses
(`drivers.camera.verify`, the one camera module central may import). In order:

1. policy: `[trust] idcard_login` on, and the terminal in `idcard_login_terminals` (empty: all);
2. rate: at most `idcard_login_attempts` per terminal and per ID number in
   `idcard_login_window_s` (every attempt counts, accepted or not: a tampered terminal cannot
   probe faces or ID numbers);
3. the card: a valid GB 11643 number, not expired; its holder known with that name (one
   answer for both: "not recognised" tells a prober nothing); not recorded deceased;
4. the terminal's liveness statement (trusted, like `pin_verified`: the central cannot see it);
5. the match: the crop's embedding against the reference photo's, below the threshold.

A lost social security card does not stop it: the card is not part of this credential, and its
holder is the one most likely to need the records without it. The token (`idcard_face`)
serves only the lookups `central/trust.py` lists for it. The crop, the decoded pixels and both
embeddings live only inside `FaceMatcher.distance` and are zeroed there; nothing is stored but
the attempt's row (terminal, hashed ID number, masked ID number, time, outcome), and the audit
log (`central.audit`) names the ID number masked.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import hashlib
import logging
import time
from collections.abc import Callable

from central.config import TrustConfig
from central.errors import CentralError, RejectedError
from central.idnumber import is_valid_id_number, mask_id
from central.storage import Storage
from central.trust import ForbiddenError, SessionTrust
from drivers.camera.errors import CameraError, FaceModelError, ReferencePhotoError
from drivers.camera.settings import MIN_CHALLENGES, FaceSettings
from drivers.camera.verify import FaceEmbedder, distance, wipe
from kiosk.contract import IdCardLoginParams, SessionTokenResult

__all__ = [
    "FaceMatcher",
    "FaceMismatchError",
    "IdCardExpiredError",
    "IdCardLogin",
    "NotRecognisedError",
    "RateLimitedError",
]

audit = logging.getLogger("central.audit.idcard_login")
_NOT_RECOGNISED = "this ID card is not recognised: please use the counter"


class RateLimitedError(RejectedError):
    """Too many ID card logins at this terminal or for this ID number in the window."""

    code = "idcard.rate_limited"


class IdCardExpiredError(RejectedError):
    """The ID card's validity ended."""

    code = "idcard.expired"


class NotRecognisedError(RejectedError):
    """No insured person with this ID number and name (one answer for both on purpose)."""

    code = "idcard.not_recognised"


class FaceMismatchError(RejectedError):
    """The live face is not the central's reference photo of the card's holder."""

    code = "idcard.face_mismatch"


class FaceMatcher:
    """The central's own face match: the kiosk's model (dlib ResNet) and threshold. Loads the
    models on first use (~0.3 s); one per worker thread (dlib's objects are not thread-safe)."""

    def __init__(self, threshold: float) -> None:
        self.threshold = threshold
        self._embedder: FaceEmbedder | None = None

    def _models(self) -> FaceEmbedder:
        if self._embedder is None:
            self._embedder = FaceEmbedder(FaceSettings(match_threshold=self.threshold))
        return self._embedder

    def distance(self, reference_photo: bytes, chip_jpeg: bytes) -> float:
        """Distance of the crop's face to the reference photo's. `CameraError` when either is
        not a face image. Both embeddings are zeroed before this returns."""
        embedder = self._models()
        ref = embedder.embed_reference(reference_photo)
        try:
            live = embedder.embed_chip_jpeg(chip_jpeg)
        except CameraError:
            wipe(ref)
            raise
        try:
            return distance(live, ref)
        finally:
            wipe(live, ref)


def _subject(id_number: str) -> str:
    # The attempts table keeps no ID number in clear (the rate limit only needs to compare).
    return hashlib.sha256(b"ssk-idcard-login\x00" + id_number.encode()).hexdigest()


class IdCardLogin:
    """``session.open_idcard`` (see the module docstring). Shared by the workers; each call
    takes the worker's own `Storage` and `FaceMatcher`."""

    def __init__(self, trust: SessionTrust, clock: Callable[[], float] = time.time) -> None:
        self._trust = trust
        self._clock = clock

    @property
    def config(self) -> TrustConfig:
        return self._trust.config

    def allowed(self, terminal_id: str) -> bool:
        cfg = self.config
        return cfg.idcard_login and (
            not cfg.idcard_login_terminals or terminal_id in cfg.idcard_login_terminals
        )

    def login(
        self, db: Storage, matcher: FaceMatcher, terminal_id: str, p: IdCardLoginParams
    ) -> SessionTokenResult:
        id_number = p.id_number.upper()
        masked = mask_id(id_number)
        if not self.allowed(terminal_id):
            self._refused(terminal_id, masked, "policy")
            raise ForbiddenError("the ID card login is not offered at this terminal")
        self._count(db, terminal_id, id_number, masked)
        try:
            result = self._check(db, matcher, terminal_id, id_number, p)
        except CentralError as e:
            self._outcome(db, terminal_id, id_number, e.code)
            self._refused(terminal_id, masked, e.code)
            raise
        self._outcome(db, terminal_id, id_number, "accepted")
        audit.info("terminal %s: ID card login of %s accepted", terminal_id, masked)
        return result

    def _check(
        self,
        db: Storage,
        matcher: FaceMatcher,
        terminal_id: str,
        id_number: str,
        p: IdCardLoginParams,
    ) -> SessionTokenResult:
        if not is_valid_id_number(id_number):
            raise NotRecognisedError(_NOT_RECOGNISED)
        if p.valid_until:
            try:
                until = dt.date.fromisoformat(p.valid_until)
            except ValueError:
                raise NotRecognisedError(_NOT_RECOGNISED) from None
            today = dt.datetime.fromtimestamp(self._clock()).date()
            if until < today:
                raise IdCardExpiredError("this ID card has expired")
        row = db.one("SELECT name, status, photo FROM persons WHERE id_number = ?", (id_number,))
        if row is None or str(row[0]) != p.name.strip():
            raise NotRecognisedError(_NOT_RECOGNISED)
        if row[1] == "deceased":
            raise ForbiddenError("this ID card cannot be served here: please ask the staff")
        live = p.liveness
        # a check of fewer challenges than the kiosk's least is one a recording could pass
        if not (live.live and live.same_face and live.challenges >= MIN_CHALLENGES):
            raise ForbiddenError("the ID card login needs a passed live face check")
        if row[2] is None:
            raise ForbiddenError("no reference photo is held: please use the counter")
        try:
            chip = base64.b64decode(p.face_jpeg_b64, validate=True)
        except (binascii.Error, ValueError):
            raise ForbiddenError("the face image is not valid") from None
        try:
            d = matcher.distance(bytes(row[2]), chip)
        except FaceModelError as e:  # the central's own fault, not the citizen's
            raise CentralError(f"face models: {e}", code="internal") from None
        except ReferencePhotoError:
            raise ForbiddenError("no usable reference photo is held: use the counter") from None
        except CameraError:
            raise ForbiddenError("the face image is not valid") from None
        finally:
            del chip
        if d >= matcher.threshold:
            raise FaceMismatchError("the face does not match the ID card's holder")
        return self._trust.idcard_session(terminal_id, id_number)

    def _count(self, db: Storage, terminal_id: str, id_number: str, masked: str) -> None:
        """Record this attempt, then refuse when it is one too many: the insert comes first,
        so two workers racing on the same ID number both count each other."""
        cfg = self.config
        now = self._clock()
        since = now - cfg.idcard_login_window_s
        subject = _subject(id_number)
        with db.transaction() as tx:
            tx.execute("DELETE FROM idcard_login_attempts WHERE at < ?", (since - 86400,))
            tx.execute(
                "INSERT INTO idcard_login_attempts (terminal_id, subject, id_masked, at, outcome)"
                " VALUES (?, ?, ?, ?, 'open')",
                (terminal_id, subject, masked, now),
            )
            by_terminal = tx.one(
                "SELECT COUNT(*) FROM idcard_login_attempts WHERE terminal_id = ? AND at >= ?",
                (terminal_id, since),
            )
            by_person = tx.one(
                "SELECT COUNT(*) FROM idcard_login_attempts WHERE subject = ? AND at >= ?",
                (subject, since),
            )
        limit = cfg.idcard_login_attempts
        counts = [int(r[0]) for r in (by_terminal, by_person) if r is not None]
        if any(n > limit for n in counts):
            self._outcome(db, terminal_id, id_number, RateLimitedError.code)
            self._refused(terminal_id, masked, RateLimitedError.code)
            raise RateLimitedError(
                "too many ID card logins: wait a few minutes or use the social security card"
            )

    def _outcome(self, db: Storage, terminal_id: str, id_number: str, outcome: str) -> None:
        db.execute(
            "UPDATE idcard_login_attempts SET outcome = ? WHERE terminal_id = ? AND subject = ?"
            " AND outcome = 'open'",
            (outcome, terminal_id, _subject(id_number)),
        )

    @staticmethod
    def _refused(terminal_id: str, masked: str, why: str) -> None:
        audit.warning("terminal %s: ID card login of %s refused (%s)", terminal_id, masked, why)
