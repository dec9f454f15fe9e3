"""What the machine asks the outside world to do; the runner (runner.py) executes them.

Effects are data. The runner calls the matching port (ports.py) off the caller's thread and posts
the port's answer (an event of events.py) back to the machine. Effects that carry a PIN or a
personal value exist only until the runner has executed them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from drivers.idcard.layouts import IdCardHolder
from drivers.personal import Masked, PinBuffer

__all__ = [
    "CallService",
    "CaptureFace",
    "CaptureLiveFace",
    "ChangePin",
    "CloseCentralSession",
    "Effect",
    "EnrollFinger",
    "OpenCentralSession",
    "OpenIdCardSession",
    "PrintDocument",
    "RaiseStaffAlert",
    "ReadBankCard",
    "ReadCard",
    "ReadIdCard",
    "RecordOutbox",
    "RedeemEssc",
    "RunActivation",
    "ScanQr",
    "SubmitEnrolment",
    "SubmitPayment",
    "VerifyFinger",
    "VerifyPin",
    "WipePersonalData",
]


class Effect:
    """Base of every effect."""

    __slots__ = ()


@dataclass(frozen=True, slots=True)
class ReadCard(Effect):
    """Read and authenticate the SSC in the reader (answers CardRead / CardReadFailed)."""


@dataclass(frozen=True, slots=True, eq=False)
class VerifyPin(Effect):
    """Have the card verify the PIN (answers PinVerified / PinRejected / PinBlocked).

    The runner wipes `pin` once the card answered, whatever the answer.
    """

    pin: PinBuffer


@dataclass(frozen=True, slots=True, eq=False)
class ChangePin(Effect):
    """Change the card's PIN; the runner checks `new` equals `repeat` (constant time) first.

    Answers PinChanged / PinChangeFailed / PinBlocked; all three buffers are wiped after.
    """

    old: PinBuffer
    new: PinBuffer
    repeat: PinBuffer


@dataclass(frozen=True, slots=True)
class ReadBankCard(Effect):
    """Read the bank card inserted in the activation swap step (BankCardRead / ...Failed)."""


@dataclass(frozen=True, slots=True)
class OpenCentralSession(Effect):
    """Open (or widen) the session at the central with the credentials proven so far.

    The port has the present card answer the central's challenge (INTERNAL AUTHENTICATE).
    Answers CentralSessionOpened / CentralSessionRefused.
    """

    credentials: frozenset[str]


@dataclass(frozen=True, slots=True)
class CloseCentralSession(Effect):
    """Forget the central token (session end)."""


@dataclass(frozen=True, slots=True)
class CaptureFace(Effect):
    """Face against the holder's reference photo with liveness (FaceMatched / FaceFailed)."""

    attempt: int
    challenges: int = 2


@dataclass(frozen=True, slots=True)
class VerifyFinger(Effect):
    """1:1 fingerprint against the central's reference (FingerprintMatched / ...Failed)."""


@dataclass(frozen=True, slots=True)
class EnrollFinger(Effect):
    """Check the finger against the central's reference, then enrol it anew (FingerprintEnrolled
    / FingerprintFailed). The new template stays in the identity port, unsent, until the
    citizen confirms (`SubmitEnrolment`); the session's end wipes it (`WipePersonalData`)."""


@dataclass(frozen=True, slots=True)
class SubmitEnrolment(Effect):
    """Hand the template the identity port holds to the central as the holder's new reference,
    once per `key` (EnrolmentSubmitted / EnrolmentRefused). Only after a `Confirm`."""

    key: str


@dataclass(frozen=True, slots=True)
class CallService(Effect):
    """One business RPC (QueryAnswered / QueryFailed with `request_id` = the key).

    `service` and `action` name it (see docs/session.md for the list); `params` are plain or
    `Masked` values the port reveals only into the RPC body.
    """

    service: str
    action: str
    params: Mapping[str, Any] = field(default_factory=dict)
    idempotency_key: str = ""


@dataclass(frozen=True, slots=True)
class SubmitPayment(Effect):
    """Debit the wallet (PaymentSucceeded / Declined / Unknown). Only after a `Confirm`."""

    purpose: str  # contract.PaymentPurpose value
    reference: str  # bill id, or the contribution period
    amount_cents: int
    payment_key: str


@dataclass(frozen=True, slots=True)
class RunActivation(Effect):
    """The activation saga: approval, card write, read-back, confirmation.

    Posts ActivationProgressed while it runs and ActivationFinished at the end.
    """

    key: str
    form: Mapping[str, str | Masked] = field(default_factory=dict)
    fingerprint_ref: str = ""


@dataclass(frozen=True, slots=True)
class RecordOutbox(Effect):
    """A journal outbox event: ``consent``, ``audit``, ``session_stats``, ``application``,
    ``registration`` (contract.EventKind values). Never a biometric sample, never a PIN."""

    kind: str
    payload: Mapping[str, Any]
    key: str = ""


@dataclass(frozen=True, slots=True)
class RaiseStaffAlert(Effect):
    """Alert the hall staff: `reason` (``call_staff``, ``card_left``, ``repeated_failure``,
    ``consent_refused``...) and the `step` (state name). No personal data."""

    reason: str
    step: str


@dataclass(frozen=True, slots=True)
class PrintDocument(Effect):
    """Print document `template` (kiosk/documents/templates) in the session's language `lang`
    with `data` (personal values `Masked`: they print masked). Answers DocumentPrinted(key), or
    EffectFailed(PrintDocument, code, key) when the printer failed (not ready, mid-document).
    The runner adds the print time and the terminal id to `data`."""

    template: str
    lang: str
    data: Mapping[str, Any]
    key: str = ""

    @property
    def document(self) -> dict[str, Any]:
        """What `PrinterPort.print_document` takes."""
        return {"template": self.template, "lang": self.lang, "data": dict(self.data)}


@dataclass(frozen=True, slots=True)
class ReadIdCard(Effect):
    """Wait up to `timeout_s` for a resident ID card on the reader and read it (activation's
    identity step). Answers IdCardRead / IdCardReadFailed with `key`."""

    key: str
    timeout_s: float


@dataclass(frozen=True, slots=True)
class ScanQr(Effect):
    """Scan camera frames for a QR code (the e-SSC) for up to `timeout_s`. Answers QrScanned /
    QrScanFailed with `key`."""

    key: str
    timeout_s: float


@dataclass(frozen=True, slots=True)
class RedeemEssc(Effect):
    """Have the central redeem an e-SSC code for a session (CentralSessionOpened with the
    credential ``essc`` / CentralSessionRefused: forbidden, card_lost, sync.offline)."""

    code: str = field(repr=False)


@dataclass(frozen=True, slots=True)
class CaptureLiveFace(Effect):
    """The ID card login's face check: liveness and one followed face, no reference on the
    terminal; the aligned crop stays in the port for `OpenIdCardSession`. Answers FaceLive or
    FaceFailed."""

    attempt: int
    challenges: int


@dataclass(frozen=True, slots=True)
class OpenIdCardSession(Effect):
    """Ask the central for an ID card session (``session.open_idcard``): the card as read and
    the live check's crop, matched by the central. CentralSessionOpened (``idcard_face``) or
    CentralSessionRefused (forbidden, idcard.*, sync.offline)."""

    holder: IdCardHolder = field(repr=False)


@dataclass(frozen=True, slots=True)
class WipePersonalData(Effect):
    """The session ended: ports drop every cached personal value (holder, photo, token)."""
