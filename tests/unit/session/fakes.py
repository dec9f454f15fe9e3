"""Fake ports and a driving harness for the pure session core (the real stack is in e2e tests).

`FakePorts` answers every effect the way a healthy terminal and central would (configurable per
test); `Harness` steps the machine by hand with an injected clock.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from drivers.card.holder import CardHolder
from drivers.idcard.layouts import IdCardHolder, IdCardKind, Sex
from drivers.personal import Masked, PersonalKind, PinBuffer
from kiosk.config.session import PolicyConfig, SessionConfig
from kiosk.session import effects as fx
from kiosk.session.events import (
    ActivationFinished,
    ActivationProgressed,
    BankCardRead,
    CardInserted,
    CardRead,
    CentralSessionOpened,
    DocumentPrinted,
    EffectFailed,
    EnrolmentRefused,
    EnrolmentSubmitted,
    Event,
    FaceLive,
    FaceMatched,
    FingerprintEnrolled,
    FingerprintMatched,
    IdCardRead,
    OutboxRecorded,
    PaymentSucceeded,
    PinChanged,
    PinVerified,
    QrScanned,
    QueryAnswered,
)
from kiosk.session.intents import EnterPin
from kiosk.session.machine import initial_state, step
from kiosk.session.model import Input, MachineState, Policy
from kiosk.session.ports import Ports
from kiosk.session.view import View
from kiosk.session.views import view_of

NAME = "欧阳丽华"
ID_NUMBER = "11010519491231002X"
CARD_NUMBER = "A98765432"
BANK_NUMBER = "6222021234567890123"
PHONE = "13912345678"
ADDRESS = "北京市东城区和平里九号"
SECRET = "tech-secret-42"
PERSONAL = (NAME, ID_NUMBER, CARD_NUMBER, BANK_NUMBER, PHONE, ADDRESS)


def holder(card_number: str = CARD_NUMBER, id_number: str = ID_NUMBER) -> CardHolder:
    return CardHolder(
        card_id="11010586" + "0" * 24,
        region="110105",
        card_type="1",
        spec_version="3.00",
        issue_date=dt.date(2020, 1, 1),
        expiry_date=dt.date(2030, 1, 1),
        card_number=Masked(card_number, PersonalKind.CARD_NUMBER),
        id_number=Masked(id_number, PersonalKind.ID_NUMBER),
        name=Masked(NAME, PersonalKind.NAME),
        sex="2",
        ethnicity="01",
        birthplace="110105",
        birth_date=dt.date(1949, 12, 31),
    )


ESSC_CODE = "ESSC1.test-claims.test-signature"


def id_card(id_number: str = ID_NUMBER, name: str = NAME,
            valid_until: dt.date | None = None) -> IdCardHolder:
    """The holder's resident ID card (or another person's, with other values)."""
    return IdCardHolder(
        kind=IdCardKind.RESIDENT,
        name=Masked(name, PersonalKind.NAME),
        sex=Sex.FEMALE,
        birth=dt.date(1949, 12, 31),
        id_number=Masked(id_number, PersonalKind.ID_NUMBER),
        valid_from=dt.date(2015, 1, 1),
        valid_until=valid_until,
        authority="北京市公安局东城分局",
    )


def make_policy(policy: dict[str, Any] | None = None, essc: bool = False,
                idcard: bool = False, **session: Any) -> Policy:
    counter = iter(range(1, 10**9))
    return Policy(
        essc_login=essc,
        idcard_login=idcard,
        session=SessionConfig.model_validate(session),
        policy=PolicyConfig.model_validate(policy or {}),
        terminal_id="SSK-TEST-0001",
        technician_secret=SECRET.encode(),
        new_key=lambda: f"key-{next(counter):06d}",
    )


def pin(digits: bytes = b"123456") -> PinBuffer:
    return PinBuffer.from_bytes(digits)


CONTRIBUTIONS = {
    "records": [
        {"period": f"{2020 + i // 12}{i % 12 + 1:02d}", "insurance": "pension",
         "base_cents": 500000, "employer_cents": 80000, "personal_cents": 40000, "paid": True}
        for i in range(30)
    ]
}
ANSWERS: dict[tuple[str, str], dict[str, Any]] = {
    ("inquiry", "contributions"): CONTRIBUTIONS,
    ("inquiry", "accounts"): {"accounts": [{"kind": "pension", "balance_cents": 1234567,
                                            "months": 30, "as_of": "2026-11-30"}]},
    ("inquiry", "benefits"): {"payments": [{"period": "202610", "kind": "pension",
                                            "amount_cents": 320000, "paid_on": "2026-10-15"}]},
    # the shape the services adapter hands over: the central's signed document, masked by it
    ("certificate", "issue"): {"document": {
        "holder_name_masked": "欧*", "id_number_masked": "110***0013",
        "periods": [{"insurance": "pension", "from_period": "202001", "to_period": "202612",
                     "months": 84}]},
                               "verification_code": "VC-7F3K-99QX", "qr": "ssk:verify:VC-7F3K"},
    ("utility", "bills"): {"bills": [
        {"bill_id": "B-1", "utility": "power", "account_number": "12345678",
         "period": "202611", "amount_cents": 12345, "due_date": "2026-12-20", "paid": False},
        {"bill_id": "B-0", "utility": "power", "account_number": "12345678",
         "period": "202610", "amount_cents": 9000, "paid": True},
    ]},
    ("contribution", "quote"): {"period": "202612", "amount_cents": 98000, "base_cents": 400000},
    ("training", "courses"): {"courses": [
        {"course_id": "C-1", "title": "Elder care", "starts": "2027-01-10", "seats_left": 3},
        {"course_id": "C-2", "title": "Electrician", "starts": "2027-02-01", "seats_left": 0},
    ]},
    ("pension", "qualify"): {"year": 2026, "valid_until": "2027-12-31"},
    ("card", "report_loss"): {"state": "temporary"},
    ("card", "cancel_loss"): {"state": "active"},
}


@dataclass
class FakePorts:
    """Every port in one object; `answers` overrides per effect kind (callable or event)."""

    overrides: dict[str, Callable[..., Event]] = field(default_factory=dict)
    calls: list[tuple[str, Any]] = field(default_factory=list)
    outbox: list[tuple[str, Mapping[str, Any], str]] = field(default_factory=list)
    alerts: list[tuple[str, str]] = field(default_factory=list)
    printed: list[Mapping[str, Any]] = field(default_factory=list)
    forgotten: int = 0
    held_enrolment: bool = False  # a template enrolled and not yet submitted (identity port)
    submitted_enrolments: list[str] = field(default_factory=list)  # what reached "the central"
    gate: threading.Event | None = None  # when set, calls wait for it (runner tests)

    def _do(self, name: str, default: Callable[[], Event], *args: Any) -> Event:
        self.calls.append((name, args))
        if self.gate is not None:
            self.gate.wait(5)
        if name in self.overrides:
            return self.overrides[name](*args)
        return default()

    # card
    def read_card(self) -> Event:
        return self._do("read_card", lambda: CardRead(holder()))

    def verify_pin(self, p: PinBuffer) -> Event:
        return self._do("verify_pin", PinVerified, p)

    def change_pin(self, old: PinBuffer, new: PinBuffer) -> Event:
        return self._do("change_pin", PinChanged, old, new)

    def read_bank_card(self) -> Event:
        return self._do("read_bank_card",
                        lambda: BankCardRead(Masked(BANK_NUMBER, PersonalKind.BANK_NUMBER)))

    def forget(self) -> None:
        self.forgotten += 1
        self.held_enrolment = False  # the identity port wipes an unsent enrolment

    # identity
    def capture_face(self, attempt: int, challenges: int) -> Event:
        return self._do("capture_face", FaceMatched, attempt, challenges)

    def verify_finger(self) -> Event:
        return self._do("verify_finger", FingerprintMatched)

    def enroll_finger(self) -> Event:
        def default() -> Event:
            self.held_enrolment = True  # as the real port: held, unsent, until Confirm
            return FingerprintEnrolled()

        return self._do("enroll_finger", default)

    def submit_enrolment(self, key: str) -> Event:
        def default() -> Event:
            held, self.held_enrolment = self.held_enrolment, False
            if not held:
                return EnrolmentRefused(key, "fingerprint_not_recorded")
            self.submitted_enrolments.append(key)
            return EnrolmentSubmitted(key, "fp-ref-1")

        return self._do("submit_enrolment", default, key)

    # services
    def open_session(self, credentials: frozenset[str]) -> Event:
        return self._do("open_session", lambda: CentralSessionOpened("tok", credentials),
                        credentials)

    def close_session(self) -> None:
        self.calls.append(("close_session", ()))

    def call(self, service: str, action: str, params: Mapping[str, Any], key: str) -> Event:
        return self._do("call", lambda: QueryAnswered(key, ANSWERS[(service, action)]),
                        service, action, params, key)

    def pay(self, purpose: str, reference: str, amount_cents: int, payment_key: str) -> Event:
        return self._do("pay", lambda: PaymentSucceeded(payment_key, "TXN-0001", 500000),
                        purpose, reference, amount_cents, payment_key)

    def activate(self, key: str, form: Mapping[str, Any], fingerprint_ref: str,
                 progress: Callable[[Event], None]) -> Event:
        def default() -> Event:
            for i, name in enumerate(("approval", "card_write", "read_back", "confirmation")):
                progress(ActivationProgressed(key, name, (i + 1) / 4))
            return ActivationFinished(key, "activated")

        return self._do("activate", default, key, form, fingerprint_ref)

    # outbox, alerts, printer
    def record(self, kind: str, payload: Mapping[str, Any], key: str) -> None:
        self.outbox.append((kind, payload, key))

    def raise_alert(self, reason: str, step: str) -> None:
        self.alerts.append((reason, step))

    def print_document(self, document: Mapping[str, Any]) -> None:
        if "print_document" in self.overrides:
            self.overrides["print_document"](document)  # raises to fail the print
        self.printed.append(document)

    # hall devices
    def read_id_card(self, key: str, timeout_s: float) -> Event:
        return self._do("read_id_card", lambda: IdCardRead(key, id_card()), key, timeout_s)

    def scan_qr(self, key: str, timeout_s: float) -> Event:
        return self._do("scan_qr", lambda: QrScanned(key, ESSC_CODE), key, timeout_s)

    def redeem_essc(self, code: str) -> Event:
        return self._do("redeem_essc",
                        lambda: CentralSessionOpened("tok-essc", frozenset({"essc"})), code)

    def capture_live_face(self, attempt: int, challenges: int) -> Event:
        return self._do("capture_live_face", FaceLive, attempt, challenges)

    def open_idcard_session(self, holder: IdCardHolder) -> Event:
        return self._do("open_idcard_session",
                        lambda: CentralSessionOpened("tok-idcard", frozenset({"idcard_face"})),
                        holder)

    def bundle(self) -> Ports:
        return Ports(card=self, identity=self, services=self, outbox=self, alerts=self,
                     printer=self, id_card=self, qr=self, essc=self, live_face=self,
                     idcard_session=self)


def answer(ports: FakePorts, effect: fx.Effect) -> list[Event]:
    """What the runner would post for `effect` (synchronously; the pure tests' world)."""
    out: list[Event] = []
    if isinstance(effect, fx.ReadCard):
        out.append(ports.read_card())
    elif isinstance(effect, fx.VerifyPin):
        out.append(ports.verify_pin(effect.pin))
        effect.pin.wipe()
    elif isinstance(effect, fx.ChangePin):
        out.append(ports.change_pin(effect.old, effect.new))
    elif isinstance(effect, fx.ReadBankCard):
        out.append(ports.read_bank_card())
    elif isinstance(effect, fx.OpenCentralSession):
        out.append(ports.open_session(effect.credentials))
    elif isinstance(effect, fx.CaptureFace):
        out.append(ports.capture_face(effect.attempt, effect.challenges))
    elif isinstance(effect, fx.VerifyFinger):
        out.append(ports.verify_finger())
    elif isinstance(effect, fx.EnrollFinger):
        out.append(ports.enroll_finger())
    elif isinstance(effect, fx.SubmitEnrolment):
        out.append(ports.submit_enrolment(effect.key))
    elif isinstance(effect, fx.CallService):
        out.append(ports.call(effect.service, effect.action, effect.params,
                              effect.idempotency_key))
    elif isinstance(effect, fx.SubmitPayment):
        out.append(ports.pay(effect.purpose, effect.reference, effect.amount_cents,
                             effect.payment_key))
    elif isinstance(effect, fx.RunActivation):
        out.append(ports.activate(effect.key, effect.form, effect.fingerprint_ref, out.append))
    elif isinstance(effect, fx.RecordOutbox):
        ports.record(effect.kind, effect.payload, effect.key)
        out.append(OutboxRecorded(effect.key))
    elif isinstance(effect, fx.RaiseStaffAlert):
        ports.raise_alert(effect.reason, effect.step)
    elif isinstance(effect, fx.PrintDocument):
        try:
            ports.print_document(effect.document)
            out.append(DocumentPrinted(effect.key))
        except Exception as e:  # as the runner does
            out.append(EffectFailed("PrintDocument", str(getattr(e, "code", "internal")),
                                    effect.key))
    elif isinstance(effect, fx.ReadIdCard):
        out.append(ports.read_id_card(effect.key, effect.timeout_s))
    elif isinstance(effect, fx.ScanQr):
        out.append(ports.scan_qr(effect.key, effect.timeout_s))
    elif isinstance(effect, fx.RedeemEssc):
        out.append(ports.redeem_essc(effect.code))
    elif isinstance(effect, fx.CaptureLiveFace):
        out.append(ports.capture_live_face(effect.attempt, effect.challenges))
    elif isinstance(effect, fx.OpenIdCardSession):
        out.append(ports.open_idcard_session(effect.holder))
    elif isinstance(effect, fx.WipePersonalData):
        ports.forget()
    return out


class Harness:
    """Steps the machine by hand; `auto=True` answers effects with `ports` immediately."""

    def __init__(self, pol: Policy | None = None, ports: FakePorts | None = None,
                 auto: bool = True) -> None:
        self.pol = pol or make_policy()
        self.ports = ports or FakePorts()
        self.auto = auto
        self.now = 100.0
        self.st: MachineState = initial_state(self.pol, self.now)
        self.effects: list[fx.Effect] = []

    def send(self, inp: Input, dt: float = 0.5) -> list[fx.Effect]:
        self.now += dt
        t = step(self.st, inp, self.now, self.pol)
        self.st = t.state
        produced = list(t.effects)
        self.effects.extend(produced)
        if self.auto:
            for e in produced:
                for ev in answer(self.ports, e):
                    produced.extend(self.send(ev, 0.0))
        return produced

    def wait(self, seconds: float) -> list[fx.Effect]:
        from kiosk.session.events import Tick

        return self.send(Tick(self.now + seconds), seconds)

    @property
    def view(self) -> View:
        return view_of(self.st, self.pol)

    @property
    def state(self) -> str:
        return self.st.name.value

    def insert_card(self) -> None:
        self.send(CardInserted())

    def enter_pin(self, digits: bytes = b"123456") -> None:
        self.send(EnterPin(pin(digits)))
