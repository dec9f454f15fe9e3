"""What the effect runner needs from the rest of the kiosk: one Protocol per kind of effect.

Each call blocks (the runner calls it on a worker thread) and returns the event to post. A port
that raises gets `EffectFailed(effect, code)` posted instead (`code` from the exception's
`code` attribute, else ``internal``). `journeys` wires the real devices and the central to
these; tests use fakes.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

from drivers.idcard.layouts import IdCardHolder
from drivers.personal import Masked, PinBuffer
from kiosk.session.events import Event

__all__ = [
    "AlertsPort",
    "CardPort",
    "EsscPort",
    "IdCardPort",
    "IdCardSessionPort",
    "IdentityPort",
    "LiveFacePort",
    "OutboxPort",
    "Ports",
    "PrinterPort",
    "QrPort",
    "ServicesPort",
]


class CardPort(Protocol):
    """The SSC and bank card in the reader."""

    def read_card(self) -> Event:
        """CardRead or CardReadFailed."""
        ...

    def verify_pin(self, pin: PinBuffer) -> Event:
        """PinVerified, PinRejected or PinBlocked (the runner wipes `pin` afterwards)."""
        ...

    def change_pin(self, old: PinBuffer, new: PinBuffer) -> Event:
        """PinChanged, PinChangeFailed or PinBlocked."""
        ...

    def read_bank_card(self) -> Event:
        """BankCardRead or BankCardReadFailed."""
        ...

    def forget(self) -> None:
        """Drop the holder and anything cached from the card."""
        ...


class IdentityPort(Protocol):
    """Camera and fingerprint scanner; biometric data never leaves these calls."""

    def capture_face(self, attempt: int, challenges: int) -> Event:
        """FaceMatched or FaceFailed."""
        ...

    def verify_finger(self) -> Event:
        """FingerprintMatched or FingerprintFailed."""
        ...

    def enroll_finger(self) -> Event:
        """FingerprintEnrolled or FingerprintFailed. The new template is held here, unsent."""
        ...

    def submit_enrolment(self, key: str) -> Event:
        """EnrolmentSubmitted or EnrolmentRefused: the held template to the central (once per
        `key`), then wiped whatever the answer."""
        ...

    def forget(self) -> None:
        """Drop reference photos and templates, and a held enrolment that was never submitted
        (cancel, timeout, card pulled): the central's reference stays as it was."""
        ...


class ServicesPort(Protocol):
    """The central system (RPC over MQTT) and the journal-backed business services."""

    def open_session(self, credentials: frozenset[str]) -> Event:
        """CentralSessionOpened or CentralSessionRefused."""
        ...

    def close_session(self) -> None:
        """Forget the token."""
        ...

    def call(self, service: str, action: str, params: Mapping[str, Any], key: str) -> Event:
        """QueryAnswered or QueryFailed (with request_id = key)."""
        ...

    def pay(self, purpose: str, reference: str, amount_cents: int, payment_key: str) -> Event:
        """PaymentSucceeded, PaymentDeclined or PaymentUnknown (exactly once by key)."""
        ...

    def activate(
        self,
        key: str,
        form: Mapping[str, str | Masked],
        fingerprint_ref: str,
        progress: Callable[[Event], None],
    ) -> Event:
        """Run the activation saga, posting ActivationProgressed via `progress`; returns
        ActivationFinished."""
        ...


class OutboxPort(Protocol):
    """The journal's outbox (delivered to the central when online, exactly once by key)."""

    def record(self, kind: str, payload: Mapping[str, Any], key: str) -> None: ...


class AlertsPort(Protocol):
    """Staff alerts (MQTT event with terminal and step)."""

    def raise_alert(self, reason: str, step: str) -> None: ...


class PrinterPort(Protocol):
    """The receipt/certificate printer (kiosk/printing.py `ReceiptPrinter`)."""

    def print_document(self, document: Mapping[str, Any]) -> None:
        """``{"template", "lang", "data"}``; raises (with a `code`) when it did not print."""
        ...


class IdCardPort(Protocol):
    """The resident ID card reader (kiosk/journeys/adapters/idcard.py)."""

    def read_id_card(self, key: str, timeout_s: float) -> Event:
        """IdCardRead or IdCardReadFailed (the card's photo never leaves the port)."""
        ...


class QrPort(Protocol):
    """QR codes through the camera (kiosk/journeys/adapters/qr.py)."""

    def scan_qr(self, key: str, timeout_s: float) -> Event:
        """QrScanned (two equal reads) or QrScanFailed."""
        ...


class EsscPort(Protocol):
    """e-SSC login at the central (the services adapter: it keeps the session it opens)."""

    def redeem_essc(self, code: str) -> Event:
        """CentralSessionOpened (credential ``essc``) or CentralSessionRefused."""
        ...


class LiveFacePort(Protocol):
    """The ID card login's face check on the camera (kiosk/journeys/adapters/identity.py)."""

    def capture_live_face(self, attempt: int, challenges: int) -> Event:
        """FaceLive (the crop kept in the port until the central has it) or FaceFailed."""
        ...


class IdCardSessionPort(Protocol):
    """The ID card login at the central (the services adapter: it keeps the session)."""

    def open_idcard_session(self, holder: IdCardHolder) -> Event:
        """CentralSessionOpened (credential ``idcard_face``) or CentralSessionRefused."""
        ...


@dataclass(frozen=True, slots=True)
class Ports:
    """The bundle the runner is given (`printer`, `id_card` None when the terminal has none;
    `qr` and `essc` None: no e-SSC login)."""

    card: CardPort
    identity: IdentityPort
    services: ServicesPort
    outbox: OutboxPort
    alerts: AlertsPort
    printer: PrinterPort | None = None
    id_card: IdCardPort | None = None
    qr: QrPort | None = None
    essc: EsscPort | None = None
    live_face: LiveFacePort | None = None  # both None: no ID card login
    idcard_session: IdCardSessionPort | None = None
