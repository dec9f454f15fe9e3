"""The central session: the present card answers the central's challenge, the central issues a
short-lived token bound to this terminal, the holder and the credentials proven here.

Protocol (docs/central-trust.md): ``session.challenge`` → 16 random bytes R ‖ S; the card
answers INTERNAL AUTHENTICATE over them (through `drivers.card.security.answer_challenge`);
``session.open`` sends the answer with the card's identification code and card number and the
PIN-verified flag and receives the token. After a face or fingerprint check on site,
``session.elevate`` (a fresh challenge: the card must still be there) adds those credentials.
The token goes with every personal request; it is kept in memory only, for this session.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Protocol

from drivers.card.holder import IssuerData
from drivers.card.psam import ApduChannel
from drivers.card.security import answer_challenge
from kiosk.clock import Clock
from kiosk.contract import (
    Credential,
    FaceProof,
    FingerprintProof,
    RpcMethod,
    SessionChallenge,
    SessionChallengeParams,
    SessionElevateParams,
    SessionOpenParams,
    SessionPurpose,
    SessionTokenResult,
)
from kiosk.services.errors import ForbiddenError, call
from kiosk.sync.rpc import RpcClient

__all__ = [
    "CardResponder",
    "CentralSession",
    "CentralSessionClient",
    "ChannelCardResponder",
    "session_from_result",
]


class CardResponder(Protocol):
    """The card as the central session needs it: its identity and its challenge answer."""

    @property
    def card_id(self) -> bytes:
        """EF05 tag 01, the 16-byte card identification code."""
        ...

    @property
    def card_number(self) -> str:
        """The card number (EF05 tag 07), clear text: it goes to the central only."""
        ...

    def answer(self, challenge: bytes) -> bytes:
        """INTERNAL AUTHENTICATE over the 16-byte challenge. Raises `CardError`."""
        ...


@dataclass(frozen=True, slots=True)
class ChannelCardResponder:
    """A `CardResponder` over the open card channel of this session (after EF05 was read)."""

    channel: ApduChannel
    issuer: IssuerData

    @property
    def card_id(self) -> bytes:
        return self.issuer.card_id

    @property
    def card_number(self) -> str:
        return self.issuer.card_number.reveal()

    def answer(self, challenge: bytes) -> bytes:
        return answer_challenge(self.channel, challenge)


@dataclass(frozen=True, slots=True)
class CentralSession:
    """A token and what it covers. `token` and `id_number` never appear in a repr."""

    token: str = field(repr=False)
    expires_at: float
    credentials: frozenset[Credential]
    id_number: str = field(repr=False)
    id_number_masked: str
    card_number: str = field(repr=False)
    purpose: SessionPurpose = SessionPurpose.SERVICE
    card_state: str = "active"

    def has(self, *needed: Credential) -> bool:
        """True when every credential in `needed` is proven."""
        return set(needed) <= self.credentials

    def expired(self, now_wall: float) -> bool:
        """True once the central would refuse the token."""
        return now_wall >= self.expires_at


class CentralSessionClient:
    """Opens and elevates central sessions. Blocking (RPC and card I/O): off the UI thread.

    Errors (kiosk/services/errors.py): `CardLostError` (the card is reported lost; open a
    ``loss_cancel`` session to cancel), `ForbiddenError` (the card failed the challenge, or an
    unknown card), `UnreachableError`, `UnknownOutcomeError`; and the card's `CardError`.
    """

    def __init__(self, rpc: RpcClient, clock: Clock) -> None:
        self._rpc = rpc
        self._clock = clock

    def _challenge(self, purpose: SessionPurpose) -> SessionChallenge:
        return call(
            self._rpc,
            RpcMethod.SESSION_CHALLENGE,
            SessionChallengeParams(purpose=purpose),
            SessionChallenge,
        )

    def open(
        self,
        card: CardResponder,
        *,
        pin_verified: bool,
        purpose: SessionPurpose = SessionPurpose.SERVICE,
    ) -> CentralSession:
        """Challenge → card answer → ``session.open``; the token covers card (+ PIN)."""
        challenge = self._challenge(purpose)
        answer = card.answer(bytes.fromhex(challenge.challenge_hex))
        result = call(
            self._rpc,
            RpcMethod.SESSION_OPEN,
            SessionOpenParams(
                challenge_id=challenge.challenge_id,
                card_id_hex=card.card_id.hex().upper(),
                card_number=card.card_number,
                answer_hex=answer.hex().upper(),
                pin_verified=pin_verified,
                purpose=purpose,
            ),
            SessionTokenResult,
        )
        return session_from_result(result, card.card_number)

    def elevate(
        self,
        session: CentralSession,
        card: CardResponder,
        *,
        pin_verified: bool = False,
        face: FaceProof | None = None,
        fingerprint: FingerprintProof | None = None,
    ) -> CentralSession:
        """Add credentials proven on site; the card answers a fresh challenge (still present).

        A proof that did not match (or a face without liveness) is refused by the central
        (`ForbiddenError`): only pass proofs of checks that passed."""
        if card.card_number != session.card_number:
            raise ForbiddenError("another card than the session's")
        challenge = self._challenge(session.purpose)
        answer = card.answer(bytes.fromhex(challenge.challenge_hex))
        result = call(
            self._rpc,
            RpcMethod.SESSION_ELEVATE,
            SessionElevateParams(
                challenge_id=challenge.challenge_id,
                answer_hex=answer.hex().upper(),
                pin_verified=pin_verified,
                face=face,
                fingerprint=fingerprint,
            ),
            SessionTokenResult,
            token=session.token,
        )
        return replace(session_from_result(result, session.card_number), purpose=session.purpose)


def session_from_result(result: SessionTokenResult, card_number: str = "") -> CentralSession:
    """The kiosk's session from the central's token answer (`card_number` empty for the
    logins without the card: e-SSC, ID card)."""
    return CentralSession(
        token=result.token,
        expires_at=result.expires_at,
        credentials=frozenset(result.credentials),
        id_number=result.id_number,
        id_number_masked=result.id_number_masked,
        card_number=card_number,
        purpose=result.purpose,
        card_state=result.card_state,
    )
