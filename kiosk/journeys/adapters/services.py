"""The session's services port on the central's kiosk clients (kiosk/services/), with the
session token of the present card.

`open_session` has the card answer the central's challenge (`session.open`), then, once the
face or fingerprint was checked on site, widens the token (`session.elevate`) with the proofs
the identity port recorded. Every `call` is one business RPC named by (service, action) (the
table `ACTIONS`), answered as `QueryAnswered` with plain JSON data in which the personal
values the central sends (ID number, name, card and bank numbers) are `Masked` again, or as
`QueryFailed` with the stable error code. Money goes through the payment service (journal
first, one key, exactly once); activation through the saga on the open card.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import json
import logging
import threading
from collections.abc import Callable, Mapping
from typing import Any

from pydantic import BaseModel, ValidationError

from drivers.card.errors import CardError
from drivers.idcard.layouts import IdCardHolder
from drivers.personal import Masked, PersonalKind
from kiosk.clock import Clock
from kiosk.contract import (
    Credential,
    FingerprintParams,
    FingerprintResult,
    InsuranceKind,
    PaymentPurpose,
    PhotoParams,
    PhotoResult,
    RpcMethod,
    SessionPurpose,
    UtilityKind,
)
from kiosk.journal.store import Journal
from kiosk.journeys.adapters.card import ReaderCard
from kiosk.journeys.adapters.identity import Proofs
from kiosk.services.activation import ActivationSaga
from kiosk.services.affairs import AffairsService
from kiosk.services.central_session import CentralSession, CentralSessionClient
from kiosk.services.certificate import CertificateService
from kiosk.services.errors import (
    CardLostError,
    ForbiddenError,
    ServiceError,
    UnknownOutcomeError,
    UnreachableError,
    call,
)
from kiosk.services.essc import EsscLoginClient
from kiosk.services.fingerprint import FingerprintReferenceError, enroll_fingerprint
from kiosk.services.idcard_login import IdCardLoginClient
from kiosk.services.inquiry import InquiryService
from kiosk.services.payment import PaymentService
from kiosk.services.pension import PensionService
from kiosk.services.utility import UtilityService
from kiosk.session.events import (
    ActivationFinished,
    ActivationProgressed,
    CentralSessionOpened,
    CentralSessionRefused,
    Event,
    PaymentDeclined,
    PaymentSucceeded,
    PaymentUnknown,
    QueryAnswered,
    QueryFailed,
)
from kiosk.sync.errors import OfflineError, RpcRejectedError, RpcTimeoutError
from kiosk.sync.rpc import RpcClient

__all__ = [
    "ACTIONS",
    "CentralServices",
    "EnrolmentRefusedError",
    "NoCentralSessionError",
    "mask_personal",
]

log = logging.getLogger("kiosk.journeys.services")

# Keys of central answers that hold personal values, and how they are masked on screen.
_PERSONAL: dict[str, PersonalKind] = {
    "id_number": PersonalKind.ID_NUMBER,
    "name": PersonalKind.NAME,
    "holder": PersonalKind.NAME,
    "card_number": PersonalKind.CARD_NUMBER,
    "bank_account": PersonalKind.BANK_NUMBER,
    "bank_number": PersonalKind.BANK_NUMBER,
    "contact_phone": PersonalKind.PHONE,
    "phone": PersonalKind.PHONE,
}

# The steps of the activation saga as the screen shows them (ActivationProgressed.fraction).
# The names are the screen's keys (progress.activation.NAME, kiosk/session/messages.py).
_SAGA_STEPS: dict[str, tuple[str, float]] = {
    "created": ("approval", 0.1),
    "approved": ("card_write", 0.35),
    "written": ("card_write", 0.6),
    "write-recorded": ("read_back", 0.7),
    "probed": ("read_back", 0.7),
    "read-back": ("confirmation", 0.85),
    "confirmed": ("confirmation", 1.0),
}
_SAGA_OUTCOME = {
    "done": "activated",
    "compensated": "compensated",
    "failed": "refused",
    "running": "pending",
}


class EnrolmentRefusedError(ServiceError):
    """The central did not take the enrolled template; `code` says why (nothing was kept)."""

    def __init__(self, code: str) -> None:
        super().__init__(f"fingerprint enrolment refused: {code}", remote_code=code)
        self.code = code


class NoCentralSessionError(ServiceError):
    """A personal call before `open_session` succeeded (a session bug, never the citizen's)."""

    code = "service.no_session"


def session_code(e: ServiceError) -> str:
    """The session's word (kiosk/session/results.py) for a service error: the link's codes
    for an unreachable or silent central, else the central's own code."""
    if isinstance(e, UnreachableError):
        return "sync.offline"
    if isinstance(e, UnknownOutcomeError):
        return "sync.rpc_timeout"
    if isinstance(e, CardLostError):
        return "card_lost"
    if isinstance(e, ForbiddenError):
        return "forbidden"
    return e.remote_code or e.code


def mask_personal(value: Any) -> Any:
    """`value` (JSON data of a central answer) with every personal string `Masked`."""
    if isinstance(value, Mapping):
        out: dict[str, Any] = {}
        for k, v in value.items():
            kind = _PERSONAL.get(str(k))
            out[str(k)] = (
                Masked(v, kind)
                if kind is not None and isinstance(v, str) and v
                else (mask_personal(v))
            )
        return out
    if isinstance(value, list | tuple):
        return [mask_personal(v) for v in value]
    return value


def _dump(result: BaseModel | Mapping[str, Any]) -> dict[str, Any]:
    plain = result.model_dump(mode="json") if isinstance(result, BaseModel) else result
    data: dict[str, Any] = mask_personal(plain)
    return data


Action = Callable[["CentralServices", CentralSession, Mapping[str, Any], str], Any]


def _s(params: Mapping[str, Any], key: str, default: str = "") -> str:
    value = params.get(key, default)
    return value.reveal() if isinstance(value, Masked) else str(value)


def _periods(params: Mapping[str, Any], clock: Clock) -> tuple[str, str]:
    today = dt.datetime.fromtimestamp(clock.wall()).date()
    to = _s(params, "to_period") or f"{today.year}{today.month:02d}"
    start = _s(params, "from_period") or f"{today.year - 5}01"
    return start, to


class CentralServices:
    """`ServicesPort` (kiosk/session/ports.py) over the RPC client and the journal services.

    `card`: the present card (its challenge answer, identity and activation write);
    `proofs`: the identity port's decisions; `terminal_number`: the PSAM's, for the card's
    activation record.
    """

    def __init__(
        self,
        rpc: RpcClient,
        journal: Journal,
        payments: PaymentService,
        clock: Clock,
        card: ReaderCard,
        proofs: Proofs,
        *,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.rpc = rpc
        self.clock = clock
        self._journal = journal
        self._payments = payments
        self._card = card
        self._proofs = proofs
        self._wake = wake
        self._sessions = CentralSessionClient(rpc, clock)
        self.inquiry = InquiryService(rpc)
        self.certificate = CertificateService(rpc)
        self.utility = UtilityService(rpc, payments)
        self.affairs = AffairsService(rpc, payments)
        self.pension = PensionService(rpc)
        self._session: CentralSession | None = None
        self._lock = threading.RLock()

    # -- the central session -------------------------------------------------------------------

    @property
    def session(self) -> CentralSession:
        if self._session is None:
            raise NoCentralSessionError("no central session open")
        return self._session

    def open_session(self, credentials: frozenset[str]) -> Event:
        """Open the central session with the card (and PIN), or widen it with the on-site
        proofs. A lost card opens only a ``loss_cancel`` session (then `card_state` says so)."""
        with self._lock:
            try:
                if self._session is None:
                    self._session = self._open()
                known = {c.value for c in Credential}
                wanted = {Credential(c) for c in credentials if c in known}
                if not wanted <= self._session.credentials:
                    self._session = self._sessions.elevate(
                        self._session,
                        self._card,
                        pin_verified=self._card.pin_verified,
                        face=self._proofs.face if Credential.FACE in wanted else None,
                        fingerprint=(
                            self._proofs.fingerprint if Credential.FINGERPRINT in wanted else None
                        ),
                    )
            except ServiceError as e:
                return CentralSessionRefused(reason=session_code(e))
            except CardError as e:
                return CentralSessionRefused(reason=str(e.code.value))
            return _opened(self._session)

    def redeem_essc(self, code: str) -> Event:
        """`EsscPort`: have the central redeem an e-SSC code; the session it opens (credential
        ``essc``, standing in for card + PIN) is this port's from now on. Refusals:
        ``forbidden`` (expired, used, forged, another terminal's), ``card_lost`` (revoked with
        the card), ``sync.offline``."""
        with self._lock:
            try:
                self._session = EsscLoginClient(self.rpc).login(code)
            except ServiceError as e:
                return CentralSessionRefused(reason=session_code(e))
            return _opened(self._session)

    def open_idcard_session(self, holder: IdCardHolder) -> Event:
        """`IdCardSessionPort`: the ID card as read and the live check's crop (taken from the
        identity port's proofs and zeroed after the call) to ``session.open_idcard``; the
        session the central opens (credential ``idcard_face``, records lookup only) is this
        port's from now on. Refusals: ``forbidden``, ``idcard.*``, ``sync.offline``."""
        with self._lock:
            live = self._proofs.take_live_face()
            if live is None:
                return CentralSessionRefused(reason="face.not_found")
            try:
                self._session = IdCardLoginClient(self.rpc).login(
                    holder, live.statement, live.chip_jpeg
                )
            except ServiceError as e:
                return CentralSessionRefused(reason=session_code(e))
            finally:
                live.wipe()
            return _opened(self._session)

    def _open(self) -> CentralSession:
        try:
            return self._sessions.open(self._card, pin_verified=self._card.pin_verified)
        except CardLostError:
            # The loss may be cancelled at the kiosk: only that session opens for a lost card.
            session = self._sessions.open(
                self._card, pin_verified=self._card.pin_verified, purpose=SessionPurpose.LOSS_CANCEL
            )
            if session.card_state != "temporary_lost":
                raise
            self._session = session
            raise

    def close_session(self) -> None:
        """Forget the token (it expires at the central by itself)."""
        with self._lock:
            self._session = None

    # -- business calls ------------------------------------------------------------------------

    def call(self, service: str, action: str, params: Mapping[str, Any], key: str) -> Event:
        """One business RPC; `key` is its idempotency key (the central applies it once)."""
        handler = ACTIONS.get((service, action))
        if handler is None:
            log.error("no service action %s.%s", service, action)
            return QueryFailed(request_id=key, code="service.unknown_action")
        try:
            with self._lock:
                session = self.session
            result = handler(self, session, params, key)
        except ServiceError as e:
            return QueryFailed(request_id=key, code=session_code(e))
        except (ValueError, ValidationError) as e:
            log.warning("%s.%s: invalid parameters: %s", service, action, type(e).__name__)
            return QueryFailed(request_id=key, code="service.invalid_request")
        return QueryAnswered(request_id=key, data=_dump(result))

    def pay(self, purpose: str, reference: str, amount_cents: int, payment_key: str) -> Event:
        """Debit the wallet once (journal first; unknown outcomes are reconciled by key)."""
        try:
            session = self.session
        except NoCentralSessionError:
            return PaymentDeclined(payment_key=payment_key, reason="forbidden")
        # Exactly once by key: a key the journal already holds is answered from the journal
        # (an unknown outcome is reconciled by the payment service, never sent again).
        outcome = self._payments.get(payment_key) or self._payments.submit(
            id_number=session.id_number,
            card_number=session.card_number,
            purpose=PaymentPurpose(purpose),
            reference=reference,
            amount_cents=amount_cents,
            payment_key=payment_key,
            token=session.token,
        )
        if outcome.state == "accepted":
            return PaymentSucceeded(
                payment_key=payment_key,
                reference=outcome.receipt_no,
                balance_cents=outcome.balance_after_cents,
            )
        if outcome.state in ("declined", "void"):
            reason = outcome.reason or outcome.state
            return PaymentDeclined(payment_key=payment_key, reason=_DECLINES.get(reason, reason))
        return PaymentUnknown(payment_key=payment_key)

    def activate(
        self,
        key: str,
        form: Mapping[str, str | Masked],
        fingerprint_ref: str,
        progress: Callable[[Event], None],
    ) -> Event:
        """The activation saga on the present card: approval, PSAM-authenticated write,
        read-back, confirmation; a failed write is retried once and then compensated."""
        try:
            session = self.session
            terminal = self._card.terminal_number()
            card = self._card.activation_card(terminal)
        except (ServiceError, CardError) as e:
            return ActivationFinished(key=key, outcome="refused", detail=str(e.code))

        def on_step(step: str) -> None:
            name, fraction = _SAGA_STEPS.get(step, (step, 0.5))
            progress(ActivationProgressed(key=key, step=name, fraction=fraction))

        saga = ActivationSaga(self._journal, self.rpc, self.clock, on_step=on_step, wake=self._wake)
        outcome = saga.start(
            card,
            id_number=session.id_number,
            card_number=session.card_number,
            saga_key=key,
            token=session.token,
        )
        return ActivationFinished(
            key=key, outcome=_SAGA_OUTCOME.get(outcome.state, outcome.state), detail=outcome.reason
        )

    # -- references for the identity port -----------------------------------------------------

    def _card_session(self) -> CentralSession:
        """The open central session, or one opened now on the card alone: the references
        are fetched after consent and before the biometric checks that widen the token."""
        with self._lock:
            if self._session is None:
                self._session = self._open()
            return self._session

    def reference_photo(self) -> bytes:
        """The holder's reference photo from the central (after consent), in memory only."""
        session = self._card_session()
        result = call(
            self.rpc,
            RpcMethod.PHOTO_REFERENCE,
            PhotoParams(id_number=session.id_number),
            PhotoResult,
            token=session.token,
        )
        return _b64(result.image_b64)

    def enroll_template(self, template: bytes | bytearray, key: str) -> str:
        """Activation's new template to the central as the holder's reference (after the
        citizen's Confirm); returns the reference (a digest). The token is widened first with
        the face and the finger proven against the reference being replaced (what
        `fingerprint.enroll` needs). `key` is the enrolment's, repeated once after a timeout.
        Raises `EnrolmentRefusedError` (its `code` in the session's words). The caller wipes
        `template`."""
        wanted = frozenset(
            c.value
            for c in (Credential.CARD, Credential.PIN, Credential.FACE, Credential.FINGERPRINT)
        )
        opened = self.open_session(wanted)
        if isinstance(opened, CentralSessionRefused):
            raise EnrolmentRefusedError(opened.reason)
        with self._lock:
            session = self.session
        for attempt in (1, 2):
            try:
                result = enroll_fingerprint(
                    self.rpc,
                    template,
                    id_number=session.id_number,
                    card_number=session.card_number,
                    enrol_key=key,
                    token=session.token,
                )
            except RpcTimeoutError:
                if attempt == 2:
                    raise EnrolmentRefusedError("sync.rpc_timeout") from None
                continue
            except OfflineError:
                raise EnrolmentRefusedError("sync.offline") from None
            except RpcRejectedError as e:
                raise EnrolmentRefusedError(e.remote_code or "forbidden") from None
            except FingerprintReferenceError as e:
                raise EnrolmentRefusedError(e.code) from None
            return result.reference
        raise EnrolmentRefusedError("sync.rpc_timeout")  # unreachable: the loop returns

    def reference_template(self) -> bytes:
        """The holder's enrolled fingerprint template from the central, in memory only."""
        session = self._card_session()
        result = call(
            self.rpc,
            RpcMethod.FINGERPRINT_REFERENCE,
            FingerprintParams(id_number=session.id_number),
            FingerprintResult,
            token=session.token,
        )
        return _b64(result.template_b64)


_DECLINES = {"insufficient_funds": "insufficient_balance", "bill_already_paid": "bill_paid"}


def _this_year(s: CentralServices) -> int:
    return dt.datetime.fromtimestamp(s.clock.wall()).year


def _bills(s: CentralServices, t: CentralSession, p: Mapping[str, Any], k: str) -> Any:
    bills = s.utility.bills(t, UtilityKind(_s(p, "utility")), _s(p, "account_number"))
    return {"bills": [b.model_dump(mode="json") for b in bills]}


def _courses(s: CentralServices, t: CentralSession, p: Mapping[str, Any], k: str) -> Any:
    courses = s.affairs.training_catalogue(t, category=_s(p, "category"))
    return {
        "courses": [
            # "title", never "name": a "name" is the holder's and would be masked on screen
            {**c.model_dump(mode="json"), "starts": c.start_date} for c in courses
        ]
    }


def _quote(s: CentralServices, t: CentralSession, p: Mapping[str, Any], k: str) -> Any:
    # The central computes the amount (the ledger refuses any other): the kiosk only shows it.
    _start, period = _periods(p, s.clock)
    return s.affairs.contribution_quote(t, _s(p, "period") or period)


def _certificate(s: CentralServices, t: CentralSession, p: Mapping[str, Any], k: str) -> Any:
    cert = s.certificate.issue(t, request_key=k or None)
    try:
        document = json.loads(cert.document)
    except ValueError:
        raise ServiceError("the central sent an unreadable certificate") from None
    signed = {**document, "signature_b64": cert.signature_b64, "key_id": cert.key_id}
    # The QR carries the verification code only: `kiosk-central verify CODE` checks it.
    return {**cert.model_dump(mode="json"), "document": signed, "qr": cert.verification_code}


def _qualify(s: CentralServices, t: CentralSession, p: Mapping[str, Any], k: str) -> Any:
    q = s.pension.qualify(t, int(p.get("year", _this_year(s))), request_key=k or None)
    return {**q.model_dump(mode="json"), "valid_until": q.next_due, "already": False}


ACTIONS: dict[tuple[str, str], Action] = {
    ("inquiry", "person"): lambda s, t, p, k: s.inquiry.person(t),
    ("inquiry", "contributions"): lambda s, t, p, k: s.inquiry.contributions(
        t,
        InsuranceKind(_s(p, "insurance", "pension")),
        *_periods(p, s.clock),
        page=int(p.get("page", 1)),
        page_size=int(p.get("page_size", 0)),
    ),
    ("inquiry", "accounts"): lambda s, t, p, k: s.inquiry.accounts(t),
    ("inquiry", "benefits"): lambda s, t, p, k: s.inquiry.benefits(t, *_periods(p, s.clock)),
    ("inquiry", "yearly"): lambda s, t, p, k: s.inquiry.yearly(
        t,
        InsuranceKind(_s(p, "insurance", "pension")),
        int(p.get("from_year", _this_year(s) - 9)),
        int(p.get("to_year", _this_year(s))),
    ),
    ("certificate", "issue"): _certificate,
    ("certificate", "verify"): lambda s, t, p, k: s.certificate.verify(_s(p, "code")),
    ("utility", "bills"): _bills,
    ("contribution", "quote"): _quote,
    ("training", "courses"): _courses,
    ("training", "signup"): lambda s, t, p, k: s.affairs.training_signup(
        t, _s(p, "course_id"), request_key=k or None
    ),
    ("card", "report_loss"): lambda s, t, p, k: s.affairs.report_loss(t, request_key=k or None),
    ("card", "cancel_loss"): lambda s, t, p, k: s.affairs.cancel_loss(t, request_key=k or None),
    ("pension", "qualify"): _qualify,
}
"""(service, action) of a `CallService` effect (kiosk/session/flows.py) → the client call."""


def _b64(text: str) -> bytes:
    try:
        return base64.b64decode(text, validate=True)
    except (binascii.Error, ValueError):
        raise ServiceError("the central sent an undecodable reference") from None


def _opened(s: CentralSession) -> CentralSessionOpened:
    """What the session core learns of a central session: its token and credentials."""
    return CentralSessionOpened(
        token=s.token, credentials=frozenset(str(c.value) for c in s.credentials)
    )
