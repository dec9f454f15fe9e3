"""What happened: past-tense results from devices, the effect runner and the central system.

Device threads and the runner post these; the machine consumes them. `Tick(now)` only moves the
clock (timeouts); every other event is a fact the machine may act on or explicitly ignore.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drivers.card.holder import CardHolder
from drivers.idcard.layouts import IdCardHolder
from drivers.personal import Masked
from drivers.vocabulary import DeviceHealth, DeviceKind

__all__ = [
    "ActivationFinished",
    "ActivationProgressed",
    "BankCardRead",
    "BankCardReadFailed",
    "CardInserted",
    "CardRead",
    "CardReadFailed",
    "CardRemoved",
    "CentralReachability",
    "CentralSessionOpened",
    "CentralSessionRefused",
    "DeviceHealthChanged",
    "DocumentPrinted",
    "EffectFailed",
    "EnrolmentRefused",
    "EnrolmentSubmitted",
    "Event",
    "FaceFailed",
    "FaceLive",
    "FaceMatched",
    "FingerprintEnrolled",
    "FingerprintFailed",
    "FingerprintMatched",
    "IdCardRead",
    "IdCardReadFailed",
    "MaintenanceCommanded",
    "OutboxRecorded",
    "PaymentDeclined",
    "PaymentSucceeded",
    "PaymentUnknown",
    "PinBlocked",
    "PinChangeFailed",
    "PinChanged",
    "PinRejected",
    "PinVerified",
    "QrScanFailed",
    "QrScanned",
    "QueryAnswered",
    "QueryFailed",
    "Tick",
]


class Event:
    """Base of every session event."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class Tick(Event):
    """Time passed (the runner posts one a second); `now` is monotonic seconds."""

    now: float


# --------------------------------------------------------------------------- card


@dataclass(frozen=True, slots=True)
class CardInserted(Event):
    """A card is in the reader (any card: SSC or bank card)."""


@dataclass(frozen=True, slots=True)
class CardRemoved(Event):
    """The reader is empty."""


@dataclass(frozen=True, slots=True)
class CardRead(Event):
    """The SSC was read and authenticated (PSAM); `expired` as of the terminal's date."""

    holder: CardHolder
    expired: bool = False


@dataclass(frozen=True, slots=True)
class CardReadFailed(Event):
    """The card could not be read or is not an SSC; `code` is a drivers.vocabulary.ErrorCode."""

    code: str


@dataclass(frozen=True, slots=True)
class PinVerified(Event):
    """The card accepted the PIN."""


@dataclass(frozen=True, slots=True)
class PinRejected(Event):
    """The card refused the PIN; `tries_left` from its retry counter."""

    tries_left: int


@dataclass(frozen=True, slots=True)
class PinBlocked(Event):
    """The card's PIN is blocked (no tries left): only a counter can unblock it."""


@dataclass(frozen=True, slots=True)
class PinChanged(Event):
    """The card took the new PIN."""


@dataclass(frozen=True, slots=True)
class PinChangeFailed(Event):
    """PIN change refused: ``mismatch`` (new and repeat differ), ``format``, or an ErrorCode."""

    reason: str
    tries_left: int | None = None


@dataclass(frozen=True, slots=True)
class BankCardRead(Event):
    """The bank card of the activation swap step was read (EMV PAN)."""

    bank_number: Masked


@dataclass(frozen=True, slots=True)
class BankCardReadFailed(Event):
    """The inserted card is not a readable bank card."""

    code: str


# --------------------------------------------------------------------------- identity


@dataclass(frozen=True, slots=True)
class FaceMatched(Event):
    """Face matched the reference and passed liveness. Only the decision, never the image."""

    score: float = 0.0


@dataclass(frozen=True, slots=True)
class FaceLive(Event):
    """The ID card login's live check passed (liveness, one face throughout); its aligned crop
    waits in the port for the central, which alone matches it."""


@dataclass(frozen=True, slots=True)
class FaceFailed(Event):
    """Face check failed: ErrorCode value (face.mismatch, face.liveness_failed, camera.*...)."""

    reason: str


@dataclass(frozen=True, slots=True)
class FingerprintMatched(Event):
    """The live finger matched the reference template."""


@dataclass(frozen=True, slots=True)
class FingerprintEnrolled(Event):
    """The finger matched the reference and a new template was enrolled (activation). The
    template stays in the identity port, unsent, until the citizen confirms."""


@dataclass(frozen=True, slots=True)
class EnrolmentSubmitted(Event):
    """The central took the held template as the holder's reference; `ref` names it (digest)."""

    key: str
    ref: str


@dataclass(frozen=True, slots=True)
class EnrolmentRefused(Event):
    """The held template did not become the reference (`code` in the session's words); the
    port wiped it either way."""

    key: str
    code: str


@dataclass(frozen=True, slots=True)
class FingerprintFailed(Event):
    """Fingerprint capture or match failed (ErrorCode value)."""

    reason: str


# --------------------------------------------------------------------------- central


@dataclass(frozen=True, slots=True)
class CentralSessionOpened(Event):
    """The central checked the card's answer and issued a token for these credentials."""

    token: str = field(repr=False)
    credentials: frozenset[str] = frozenset()


@dataclass(frozen=True, slots=True)
class CentralSessionRefused(Event):
    """The central refused: ``card_lost``, ``card_auth_failed``, ``forbidden``, sync.offline..."""

    reason: str


@dataclass(frozen=True, slots=True)
class QueryAnswered(Event):
    """A `CallService` effect's answer; `request_id` is the effect's idempotency key."""

    request_id: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class QueryFailed(Event):
    """A `CallService` effect failed (ErrorCode value, e.g. sync.offline, sync.rpc_rejected)."""

    request_id: str
    code: str


@dataclass(frozen=True, slots=True)
class PaymentSucceeded(Event):
    """The central debited the wallet; `reference` goes on the receipt."""

    payment_key: str
    reference: str
    balance_cents: int | None = None


@dataclass(frozen=True, slots=True)
class PaymentDeclined(Event):
    """The central refused the payment (``insufficient_balance``, ``bill_paid``, ...)."""

    payment_key: str
    reason: str


@dataclass(frozen=True, slots=True)
class PaymentUnknown(Event):
    """No answer before the deadline: the payment is reconciled later by its key."""

    payment_key: str


@dataclass(frozen=True, slots=True)
class ActivationProgressed(Event):
    """One step of the activation saga (approval, card write, read-back, confirmation)."""

    key: str
    step: str
    fraction: float


@dataclass(frozen=True, slots=True)
class ActivationFinished(Event):
    """The saga ended: ``activated``, ``refused``, ``compensated`` or ``pending`` (reconciled)."""

    key: str
    outcome: str
    detail: str = ""


@dataclass(frozen=True, slots=True)
class OutboxRecorded(Event):
    """A `RecordOutbox` effect is durable in the journal (the runner posts it after `record`)."""

    key: str


@dataclass(frozen=True, slots=True)
class EffectFailed(Event):
    """An effect raised: the runner reports the effect's kind, a stable error code and the
    effect's key (idempotency, payment or outbox key) when it has one."""

    effect: str
    code: str
    key: str = ""


# --------------------------------------------------------------------------- hall devices


@dataclass(frozen=True, slots=True)
class DocumentPrinted(Event):
    """A `PrintDocument` effect printed its document to the end (cut); `key` the effect's."""

    key: str


@dataclass(frozen=True, slots=True)
class IdCardRead(Event):
    """The resident ID card on the reader was read (`ReadIdCard` with this key); `expired` as of
    the terminal's date. Personal values are `Masked`; the photo never leaves the port."""

    key: str
    holder: IdCardHolder
    expired: bool = False


@dataclass(frozen=True, slots=True)
class IdCardReadFailed(Event):
    """No ID card came within the step's time (``idcard.no_card``), its data is impossible
    (``idcard.data_invalid``: a bad check digit), or the reader failed (an ErrorCode value)."""

    key: str
    code: str


@dataclass(frozen=True, slots=True)
class QrScanned(Event):
    """Two camera frames agreed on one QR code (`ScanQr` with this key). The code is an opaque
    one-time token: kept only until the central redeemed it, never shown or logged."""

    key: str
    code: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class QrScanFailed(Event):
    """No QR code in time (``qr.timeout``) or the camera failed (``camera.*``)."""

    key: str
    code: str


# --------------------------------------------------------------------------- terminal


@dataclass(frozen=True, slots=True)
class DeviceHealthChanged(Event):
    """A device's health (CEN/XFS words) changed."""

    kind: DeviceKind
    health: DeviceHealth


@dataclass(frozen=True, slots=True)
class CentralReachability(Event):
    """The broker link to the central came up or went down."""

    online: bool


@dataclass(frozen=True, slots=True)
class MaintenanceCommanded(Event):
    """The remote ``maintenance`` command (on or off), from the fleet."""

    enabled: bool
    command_id: str = ""
