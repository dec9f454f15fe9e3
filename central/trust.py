"""A central that trusts only a present card (docs/central-trust.md).

``session.challenge`` stores 16 random bytes for the asking terminal; ``session.open`` consumes
the challenge (once, before anything is checked: a wrong answer burns it too), checks the card's
INTERNAL AUTHENTICATE answer with the central's own issuer key derivation, and issues a token:
HMAC-SHA256 (`cryptography`) over the claims terminal, person, card, credentials, purpose and
expiry. ``session.elevate`` adds face / fingerprint proofs after a fresh challenge. Every
personal method then needs a token whose terminal is the topic's, whose person and card are the
request's, and whose credentials include the method's requirement; otherwise ``forbidden``
with a message that names no person. The terminal id is the MQTT topic's (the broker's ACL binds
it to the client certificate), never the payload's alone.

Stateless tokens, so any worker verifies what another issued; challenges live in the database,
so any worker consumes them exactly once.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import os
import secrets
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives import hmac as crypto_hmac

from central.config import TrustConfig, resolve_path
from central.errors import CentralError, RejectedError
from central.idnumber import mask_id
from central.issuer import IssuerKeys
from central.storage import Storage
from kiosk.contract import (
    Credential,
    FaceProof,
    FingerprintProof,
    Message,
    RpcMethod,
    RpcRequest,
    SessionChallenge,
    SessionChallengeParams,
    SessionElevateParams,
    SessionOpenParams,
    SessionPurpose,
    SessionTokenResult,
)

__all__ = [
    "DEFAULT_ALTERNATIVES",
    "DEFAULT_REQUIREMENTS",
    "IDCARD_FACE_NEVER",
    "PUBLIC_METHODS",
    "CardLostError",
    "Claims",
    "ForbiddenError",
    "SessionTrust",
    "TokenSigner",
]

logger = logging.getLogger("central.trust")

_C = Credential
_CARD_PIN = frozenset({_C.CARD, _C.PIN})
DEFAULT_REQUIREMENTS: dict[RpcMethod, frozenset[Credential]] = {
    RpcMethod.PERSON_SUMMARY: _CARD_PIN,
    RpcMethod.CONTRIBUTIONS: _CARD_PIN,
    RpcMethod.CONTRIBUTIONS_YEARLY: _CARD_PIN,
    RpcMethod.ACCOUNTS: _CARD_PIN,
    RpcMethod.BENEFITS: _CARD_PIN,
    RpcMethod.BILLS: _CARD_PIN,
    RpcMethod.PAYMENT_SUBMIT: _CARD_PIN,
    # The references are what the face/fingerprint checks compare with: needed before them.
    RpcMethod.PHOTO_REFERENCE: frozenset({_C.CARD}),
    RpcMethod.FINGERPRINT_REFERENCE: frozenset({_C.CARD}),
    RpcMethod.ACTIVATION_APPROVE: frozenset({_C.CARD, _C.PIN, _C.FACE, _C.FINGERPRINT}),
    RpcMethod.CERTIFICATE_ISSUE: _CARD_PIN,
    RpcMethod.EMPLOYMENT_CERTIFICATE: _CARD_PIN,
    RpcMethod.UNEMPLOYMENT_REGISTER: _CARD_PIN,
    RpcMethod.TRAINING_SIGNUP: _CARD_PIN,
    RpcMethod.LOSS_REPORT: _CARD_PIN,
    RpcMethod.LOSS_CANCEL: _CARD_PIN,
    RpcMethod.PENSION_QUALIFY: frozenset({_C.CARD, _C.FACE}),
    # Activation's enrolment replaces the reference: what activation itself needs, the finger
    # proven against the reference it replaces (central/holder_handlers.py).
    RpcMethod.FINGERPRINT_ENROLL: frozenset({_C.CARD, _C.PIN, _C.FACE, _C.FINGERPRINT}),
    RpcMethod.CONTRIBUTION_QUOTE: _CARD_PIN,
}
"""Personal method → the credentials its token must carry (`[trust.requirements]` overrides)."""

_IDCARD_FACE = frozenset({_C.IDCARD_FACE})
DEFAULT_ALTERNATIVES: dict[RpcMethod, tuple[frozenset[Credential], ...]] = {
    # Records lookup only: what the holder reads, nothing that moves money or changes a record.
    RpcMethod.PERSON_SUMMARY: (_IDCARD_FACE,),
    RpcMethod.CONTRIBUTIONS: (_IDCARD_FACE,),
    RpcMethod.CONTRIBUTIONS_YEARLY: (_IDCARD_FACE,),
    RpcMethod.ACCOUNTS: (_IDCARD_FACE,),
    RpcMethod.BENEFITS: (_IDCARD_FACE,),
    RpcMethod.CERTIFICATE_ISSUE: (_IDCARD_FACE,),
}
"""Other credential sets that also suffice for a method (any one of them): the ID card login's
records lookup (`[trust.requirements]` may list alternatives as a list of lists)."""

IDCARD_FACE_NEVER = frozenset(
    {
        RpcMethod.PAYMENT_SUBMIT,  # money
        RpcMethod.CONTRIBUTION_QUOTE,
        RpcMethod.BILLS,  # only ever asked to pay one
        RpcMethod.ACTIVATION_APPROVE,  # a card write
        RpcMethod.FINGERPRINT_ENROLL,
        RpcMethod.LOSS_REPORT,  # the card's own state
        RpcMethod.LOSS_CANCEL,
        RpcMethod.PHOTO_REFERENCE,  # the central matched the face itself: no reference leaves
        RpcMethod.FINGERPRINT_REFERENCE,
        RpcMethod.SESSION_ELEVATE,  # no card to answer the challenge
        RpcMethod.EMPLOYMENT_CERTIFICATE,  # applications are records written in the holder's name
        RpcMethod.UNEMPLOYMENT_REGISTER,
        RpcMethod.TRAINING_SIGNUP,
    }
)
"""Methods an ID card session may never call, whatever `[trust.requirements]` says."""

ESSC_REFUSED = frozenset(
    {
        RpcMethod.ACTIVATION_APPROVE,  # writes the card
        RpcMethod.LOSS_CANCEL,  # only the card itself proves it was found
        RpcMethod.PHOTO_REFERENCE,  # face and fingerprint steps elevate through the card
        RpcMethod.FINGERPRINT_REFERENCE,
        RpcMethod.FINGERPRINT_ENROLL,
        RpcMethod.SESSION_ELEVATE,
    }
)
"""Methods an e-SSC session may not call whatever its credentials."""

PUBLIC_METHODS = frozenset(
    {
        RpcMethod.SESSION_CHALLENGE,
        RpcMethod.SESSION_OPEN,
        RpcMethod.ESSC_LOGIN,  # the code itself is the credential (central/essc.py)
        RpcMethod.IDCARD_LOGIN,  # policy, rate limit and the central's face match decide
        RpcMethod.CERTIFICATE_VERIFY,
        RpcMethod.TRAINING_CATALOGUE,
        # Recovery probes of a terminal's own keys (the ledger refuses another terminal's):
        # they run after a restart, when no card and no session are left.
        RpcMethod.PAYMENT_STATUS,
        RpcMethod.ACTIVATION_STATUS,
    }
)
"""Methods that need no session token (nothing personal, or terminal-bound recovery)."""


class ForbiddenError(RejectedError):
    """No token, or one that does not cover the request. The message names no person."""

    code = "forbidden"


class CardLostError(RejectedError):
    """The card is reported lost: refused until the loss report is cancelled."""

    code = "card_lost"


@dataclass(frozen=True, slots=True)
class Claims:
    """What a session token says; `started_at` bounds elevations (`max_session_s`)."""

    token_id: str
    terminal_id: str
    id_number: str
    card_number: str
    credentials: frozenset[Credential]
    purpose: SessionPurpose
    issued_at: float
    expires_at: float
    started_at: float

    def to_json(self) -> bytes:
        return json.dumps(
            {
                "jti": self.token_id,
                "tid": self.terminal_id,
                "pid": self.id_number,
                "cno": self.card_number,
                "cred": sorted(c.value for c in self.credentials),
                "pur": self.purpose.value,
                "iat": self.issued_at,
                "exp": self.expires_at,
                "st": self.started_at,
            },
            separators=(",", ":"),
            sort_keys=True,
        ).encode()

    @classmethod
    def from_json(cls, raw: bytes) -> Claims:
        d = json.loads(raw)
        return cls(
            token_id=str(d["jti"]),
            terminal_id=str(d["tid"]),
            id_number=str(d["pid"]),
            card_number=str(d["cno"]),
            credentials=frozenset(Credential(c) for c in d["cred"]),
            purpose=SessionPurpose(d["pur"]),
            issued_at=float(d["iat"]),
            expires_at=float(d["exp"]),
            started_at=float(d["st"]),
        )


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class TokenSigner:
    """``base64url(claims JSON) . base64url(HMAC-SHA256(key, claims JSON))``."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the token key must be at least 32 bytes")
        self._key = key

    def _mac(self, body: bytes) -> crypto_hmac.HMAC:
        mac = crypto_hmac.HMAC(self._key, hashes.SHA256())
        mac.update(b"ssk-session-token-v1\x00" + body)
        return mac

    def sign(self, claims: Claims) -> str:
        body = claims.to_json()
        return f"{_b64(body)}.{_b64(self._mac(body).finalize())}"

    def verify(self, token: str) -> Claims | None:
        """The claims of a token this key signed, or None (malformed, forged). Expiry is the
        caller's check."""
        head, dot, tail = token.partition(".")
        if not dot or not head or not tail:
            return None
        try:
            body, tag = _unb64(head), _unb64(tail)
            self._mac(body).verify(tag)  # constant time
            return Claims.from_json(body)
        except (binascii.Error, ValueError, InvalidSignature, KeyError, TypeError):
            return None


def _token_key(cfg: TrustConfig) -> bytes:
    if not cfg.token_key_file:
        return os.urandom(32)
    path = resolve_path(cfg.token_key_file)
    try:
        key = bytes.fromhex(path.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as e:
        raise CentralError(f"token key {path.name}: {e}", code="central.config") from None
    if len(key) < 32:
        raise CentralError(f"token key {path.name}: fewer than 32 bytes", code="central.config")
    return key


Requirement = tuple[frozenset[Credential], ...]
"""The credential sets that each suffice for a method; the first is the card's."""


def _requirements(cfg: TrustConfig) -> dict[RpcMethod, Requirement]:
    table: dict[RpcMethod, Requirement] = {
        m: (creds, *DEFAULT_ALTERNATIVES.get(m, ())) for m, creds in DEFAULT_REQUIREMENTS.items()
    }
    for name, creds in cfg.requirements.items():
        # A flat list is one set; a list of lists, alternatives (the config never mixes them).
        sets = [c for c in creds if isinstance(c, list)]
        options = sets or [[c for c in creds if isinstance(c, str)]]
        try:
            table[RpcMethod(name)] = tuple(frozenset(Credential(c) for c in o) for o in options)
        except ValueError as e:
            raise CentralError(f"[trust.requirements] {name}: {e}", code="central.config") from None
    return table


class SessionTrust:
    """Challenges, tokens and the per-method authorization. Shared by the workers (read-only
    state); every method that touches the database takes the worker's own `Storage`."""

    def __init__(
        self,
        config: TrustConfig | None = None,
        clock: Callable[[], float] = time.time,
        *,
        token_key: bytes | None = None,
    ) -> None:
        self.config = config or TrustConfig()
        self._clock = clock
        self._keys = IssuerKeys.load(
            resolve_path(self.config.issuer_keys_file), self.config.issuer_key_set
        )
        self.signer = TokenSigner(token_key or _token_key(self.config))
        self.requirements: Mapping[RpcMethod, Requirement] = _requirements(self.config)

    # ------------------------------------------------------------------ challenge / open

    def challenge(self, db: Storage, terminal_id: str, p: SessionChallengeParams) -> Message:
        """A fresh challenge for this terminal (expired ones of the terminal are purged)."""
        now = self._clock()
        challenge_id = secrets.token_hex(16)
        value = os.urandom(16).hex().upper()
        expires = now + self.config.challenge_ttl_s
        with db.transaction() as tx:
            tx.execute(
                "DELETE FROM session_challenges WHERE terminal_id = ? AND expires_at < ?",
                (terminal_id, now - 60),
            )
            tx.execute(
                "INSERT INTO session_challenges (challenge_id, terminal_id, challenge, purpose,"
                " expires_at, used_at) VALUES (?,?,?,?,?,NULL)",
                (challenge_id, terminal_id, value, p.purpose.value, expires),
            )
        return SessionChallenge(challenge_id=challenge_id, challenge_hex=value, expires_at=expires)

    def _consume(self, db: Storage, terminal_id: str, challenge_id: str) -> tuple[bytes, str]:
        """Use a challenge once; committed before the answer is checked, so that neither a
        wrong answer nor a replay gets a second try with it."""
        now = self._clock()
        with db.transaction() as tx:
            row = tx.one(
                "SELECT challenge, purpose FROM session_challenges"
                " WHERE challenge_id = ? AND terminal_id = ?",
                (challenge_id, terminal_id),
            )
            used = tx.execute(
                "UPDATE session_challenges SET used_at = ? WHERE challenge_id = ?"
                " AND terminal_id = ? AND used_at IS NULL AND expires_at >= ?",
                (now, challenge_id, terminal_id, now),
            )
        if row is None or used != 1:
            logger.warning("terminal %s: challenge unknown, used or expired", terminal_id)
            raise ForbiddenError("the challenge is unknown, used or expired: ask a new one")
        return bytes.fromhex(row[0]), str(row[1])

    def _card(self, db: Storage, card_number: str) -> tuple[str, str, str, str]:
        row = db.one(
            "SELECT card_id, id_number, algorithm, state FROM cards WHERE card_number = ?",
            (card_number,),
        )
        if row is None:
            raise ForbiddenError("the card is not recognised")
        return str(row[0]), str(row[1]), str(row[2]), str(row[3])

    def _check_answer(
        self, terminal_id: str, card: tuple[str, str, str, str], challenge: bytes, answer: str
    ) -> None:
        card_id, _idn, alg, _state = card
        if not self._keys.verify(alg, bytes.fromhex(card_id), challenge, bytes.fromhex(answer)):
            logger.warning("terminal %s: a card failed the central's challenge", terminal_id)
            raise ForbiddenError("the card failed the central's challenge")

    def open(self, db: Storage, terminal_id: str, p: SessionOpenParams) -> Message:
        """Check the card's answer and issue the session's first token."""
        challenge, purpose = self._consume(db, terminal_id, p.challenge_id)
        if purpose != p.purpose.value:
            raise ForbiddenError("the challenge was asked for another purpose")
        card = self._card(db, p.card_number)
        if card[0].upper() != p.card_id_hex.upper():
            raise ForbiddenError("the card is not recognised")
        self._check_answer(terminal_id, card, challenge, p.answer_hex)
        person = db.one("SELECT status FROM persons WHERE id_number = ?", (card[1],))
        if person is None or person[0] == "deceased":
            # A genuine card of someone who died is used by someone else (survival fraud).
            logger.warning("terminal %s: a card of a person not served was refused", terminal_id)
            raise ForbiddenError("this card cannot be served here: please ask the staff")
        lost = card[3] != "active"
        if lost and p.purpose is SessionPurpose.SERVICE:
            logger.info("terminal %s: lost card %s refused", terminal_id, p.card_number[:2] + "…")
            raise CardLostError("this card is reported lost: it can only cancel its loss report")
        now = self._clock()
        creds = {Credential.CARD} | ({Credential.PIN} if p.pin_verified else set())
        claims = Claims(
            token_id=secrets.token_hex(8),
            terminal_id=terminal_id,
            id_number=card[1],
            card_number=p.card_number,
            credentials=frozenset(creds),
            purpose=p.purpose,
            issued_at=now,
            expires_at=now + self.config.token_ttl_s,
            started_at=now,
        )
        logger.info(
            "terminal %s: session for %s with %s",
            terminal_id,
            mask_id(card[1]),
            sorted(c.value for c in creds),
        )
        return self._result(claims, card[3])

    def elevate(
        self, db: Storage, terminal_id: str, claims: Claims, p: SessionElevateParams
    ) -> Message:
        """Add the proofs of checks done on site; the card answers a fresh challenge."""
        challenge, purpose = self._consume(db, terminal_id, p.challenge_id)
        if purpose != claims.purpose.value:
            raise ForbiddenError("the challenge was asked for another purpose")
        card = self._card(db, claims.card_number)
        self._check_answer(terminal_id, card, challenge, p.answer_hex)
        added: set[Credential] = set()
        if p.pin_verified:
            added.add(Credential.PIN)
        if p.face is not None:
            self._check_face(db, claims.id_number, p.face)
            added.add(Credential.FACE)
        if p.fingerprint is not None:
            self._check_fingerprint(db, claims.id_number, p.fingerprint)
            added.add(Credential.FINGERPRINT)
        now = self._clock()
        elevated = Claims(
            token_id=secrets.token_hex(8),
            terminal_id=terminal_id,
            id_number=claims.id_number,
            card_number=claims.card_number,
            credentials=claims.credentials | added,
            purpose=claims.purpose,
            issued_at=now,
            expires_at=min(
                now + self.config.token_ttl_s, claims.started_at + self.config.max_session_s
            ),
            started_at=claims.started_at,
        )
        return self._result(elevated, card[3])

    def _reference_digest(self, db: Storage, id_number: str, column: str) -> str | None:
        row = db.one(f"SELECT {column} FROM persons WHERE id_number = ?", (id_number,))
        if row is None or row[0] is None:
            return None
        return hashlib.sha256(bytes(row[0])).hexdigest()

    def _check_face(self, db: Storage, id_number: str, proof: FaceProof) -> None:
        if not (proof.matched and proof.liveness):
            raise ForbiddenError("a face proof counts only when matched with liveness")
        if proof.reference_sha256 != self._reference_digest(db, id_number, "photo"):
            raise ForbiddenError("the face was not compared with the central's reference photo")

    def _check_fingerprint(self, db: Storage, id_number: str, proof: FingerprintProof) -> None:
        if not proof.matched:
            raise ForbiddenError("a fingerprint proof counts only when matched")
        if proof.template_sha256 != self._reference_digest(db, id_number, "finger_template"):
            raise ForbiddenError("the fingerprint was not compared with the central's template")

    def _result(self, claims: Claims, card_state: str) -> SessionTokenResult:
        return SessionTokenResult(
            token=self.signer.sign(claims),
            expires_at=claims.expires_at,
            credentials=sorted(claims.credentials, key=lambda c: c.value),
            id_number_masked=mask_id(claims.id_number),
            id_number=claims.id_number,
            purpose=claims.purpose,
            card_state="active" if card_state == "active" else "temporary_lost",
        )

    # ------------------------------------------------------------------ authorization

    def authorize(
        self, db: Storage, terminal_id: str, request: RpcRequest, params: Any
    ) -> Claims | None:
        """The token's claims when the request may run (None for a public method); raises
        `ForbiddenError` / `CardLostError` otherwise."""
        method = request.method
        if method in PUBLIC_METHODS:
            return None
        claims = self.verify_token(terminal_id, request.session_token)
        if Credential.IDCARD_FACE in claims.credentials:
            return self._authorize_idcard(method, claims, params)
        if method is RpcMethod.SESSION_ELEVATE:
            return claims
        options = self.requirements.get(method)
        if options is None:  # a method nobody classified: refused, never open by default
            raise ForbiddenError(f"{method.value} has no credential policy")
        needed = options[0]
        if claims.purpose is SessionPurpose.LOSS_CANCEL and method is not RpcMethod.LOSS_CANCEL:
            raise ForbiddenError("this session may only cancel the card's loss report")
        if Credential.ESSC in claims.credentials:
            return self._authorize_essc(db, method, claims, params, needed)
        missing = needed - claims.credentials
        if missing and not any(o <= claims.credentials for o in options[1:]):
            raise ForbiddenError(
                f"{method.value} needs " + ", ".join(sorted(c.value for c in missing))
            )
        id_number = getattr(params, "id_number", None)
        if id_number is not None and str(id_number).upper() != claims.id_number:
            raise ForbiddenError("the session does not cover this person")
        card_number = getattr(params, "card_number", "")
        if card_number and card_number != claims.card_number:
            raise ForbiddenError("the session does not cover this card")
        state = db.one("SELECT state FROM cards WHERE card_number = ?", (claims.card_number,))
        if state is None:
            raise ForbiddenError("the card is not recognised")
        lost = state[0] != "active"
        if lost and method not in (RpcMethod.LOSS_CANCEL, RpcMethod.LOSS_REPORT):
            raise CardLostError("this card is reported lost: no service until it is cancelled")
        return claims

    def _authorize_essc(
        self,
        db: Storage,
        method: RpcMethod,
        claims: Claims,
        params: Any,
        needed: frozenset[Credential],
    ) -> Claims:
        """An e-SSC session stands in for card + PIN, minus what only the card can do: no card
        write (activation), no face or fingerprint steps (they elevate through the card's
        challenge), and a lost card revokes it (docs/essc-login.md)."""
        if method in ESSC_REFUSED or needed - {Credential.CARD, Credential.PIN}:
            raise ForbiddenError(f"{method.value} needs the social security card itself")
        id_number = getattr(params, "id_number", None)
        if id_number is not None and str(id_number).upper() != claims.id_number:
            raise ForbiddenError("the session does not cover this person")
        card_number = getattr(params, "card_number", "")
        if card_number:
            owner = db.one("SELECT id_number FROM cards WHERE card_number = ?", (card_number,))
            if owner is None or owner[0] != claims.id_number:
                raise ForbiddenError("the session does not cover this card")
        lost = db.one(
            "SELECT 1 FROM cards WHERE id_number = ? AND state != 'active'", (claims.id_number,)
        )
        if lost is not None and method is not RpcMethod.LOSS_REPORT:
            raise CardLostError("the card is reported lost: the e-SSC is revoked with it")
        return claims

    def _authorize_idcard(self, method: RpcMethod, claims: Claims, params: Any) -> Claims:
        """An ID card session (docs/idcard-reader.md): only the methods whose requirement
        lists `idcard_face` as one alternative, never one of `IDCARD_FACE_NEVER`, and only for
        its own person. No card is involved, so the card's loss does not stop it: the central's
        own face match is the credential."""
        options = self.requirements.get(method, ())
        if method in IDCARD_FACE_NEVER or not any(o <= claims.credentials for o in options):
            logger.warning("an ID card session asked for %s: refused", method.value)
            raise ForbiddenError(f"{method.value} needs the social security card itself")
        id_number = getattr(params, "id_number", None)
        if id_number is not None and str(id_number).upper() != claims.id_number:
            raise ForbiddenError("the session does not cover this person")
        if getattr(params, "card_number", ""):
            raise ForbiddenError("the session does not cover this card")
        return claims

    def idcard_session(self, terminal_id: str, id_number: str) -> SessionTokenResult:
        """The token of a session opened with the ID card and the central's face match
        (central/idcard_login.py): credential ``idcard_face`` only."""
        now = self._clock()
        claims = Claims(
            token_id=secrets.token_hex(8),
            terminal_id=terminal_id,
            id_number=id_number,
            card_number="",
            credentials=frozenset({Credential.IDCARD_FACE}),
            purpose=SessionPurpose.SERVICE,
            issued_at=now,
            expires_at=now + self.config.token_ttl_s,
            started_at=now,
        )
        return self._result(claims, "active")

    def essc_session(self, terminal_id: str, id_number: str) -> SessionTokenResult:
        """The token of a session opened with a redeemed e-SSC code (central/essc.py)."""
        now = self._clock()
        claims = Claims(
            token_id=secrets.token_hex(8),
            terminal_id=terminal_id,
            id_number=id_number,
            card_number="",
            credentials=frozenset({Credential.ESSC}),
            purpose=SessionPurpose.SERVICE,
            issued_at=now,
            expires_at=now + self.config.token_ttl_s,
            started_at=now,
        )
        return self._result(claims, "active")

    def verify_token(self, terminal_id: str, token: str) -> Claims:
        """Valid, unexpired and issued to this terminal, or `ForbiddenError`."""
        if not token:
            raise ForbiddenError("a session token is needed: insert the card")
        claims = self.signer.verify(token)
        if claims is None:
            logger.warning("terminal %s sent a forged or malformed session token", terminal_id)
            raise ForbiddenError("the session token is not valid")
        if claims.terminal_id != terminal_id:
            logger.warning("terminal %s sent a token of another terminal", terminal_id)
            raise ForbiddenError("the session token was issued to another terminal")
        if self._clock() >= claims.expires_at:
            raise ForbiddenError("the session token has expired: insert the card again")
        return claims

    def issue_for_tests(
        self,
        terminal_id: str,
        id_number: str,
        card_number: str,
        credentials: frozenset[Credential],
        *,
        ttl_s: float | None = None,
        purpose: SessionPurpose = SessionPurpose.SERVICE,
    ) -> str:
        """A token signed with this central's key without a card: for tests and tools that hold
        the central's own key (they could sign anything anyway), never reachable over MQTT."""
        now = self._clock()
        return self.signer.sign(
            Claims(
                token_id=secrets.token_hex(8),
                terminal_id=terminal_id,
                id_number=id_number.upper(),
                card_number=card_number,
                credentials=credentials,
                purpose=purpose,
                issued_at=now,
                expires_at=now + (self.config.token_ttl_s if ttl_s is None else ttl_s),
                started_at=now,
            )
        )
