"""Every state against every kind of input: handled (a transition) or ignored explicitly.

A representative state of each StateName is captured from scripted journeys; each is then fed
every intent and event kind. Nothing may raise, an intent the view does not list must change
nothing, and each result must still have a view.
"""

from __future__ import annotations

from typing import Any

import pytest

from drivers.personal import Masked, PersonalKind
from drivers.vocabulary import DeviceHealth, DeviceKind
from kiosk.session import events as ev
from kiosk.session import intents as it
from kiosk.session.machine import step
from kiosk.session.model import MachineState
from kiosk.session.states import StateName
from kiosk.session.views import view_of
from tests.unit.session.fakes import (
    ADDRESS,
    BANK_NUMBER,
    ID_NUMBER,
    PHONE,
    SECRET,
    Harness,
    holder,
    id_card,
    make_policy,
    pin,
)
from tests.unit.session.test_journeys import activation_to_form, pay_power_bill


class Recorder(Harness):
    captured: dict[StateName, MachineState]

    def send(self, inp: Any, dt: float = 0.5) -> list[Any]:
        self.now += dt
        t = step(self.st, inp, self.now, self.pol)
        self.st = t.state
        type(self).captured.setdefault(self.st.name, self.st)
        produced = list(t.effects)
        if self.auto:
            from tests.unit.session.fakes import answer

            for e in produced:
                for event in answer(self.ports, e):
                    produced.extend(self.send(event, 0.0))
        return produced


def capture() -> dict[StateName, MachineState]:
    Recorder.captured = {}
    h = Recorder()
    Recorder.captured[h.st.name] = h.st
    h.insert_card()
    pay_power_bill(h)
    h.send(it.Confirm())
    h.send(it.Choose("menu"))
    for group, service in (("query", "inquiry"), ("query", "certificate"),
                           ("affairs", "training"), ("card", "pin_change")):
        h.send(it.Choose(group))
        h.send(it.ChooseService(service))
        if service == "pin_change":
            h.enter_pin(b"123456")
            h.enter_pin(b"654321")
        h.send(it.Back())
    activation_to_form(h)
    h.send(it.EnterText("phone", PHONE))
    h.send(it.EnterText("address", ADDRESS))
    h.send(it.Confirm())
    h.enter_pin()
    h.ports.overrides["capture_face"] = lambda a, c: ev.FaceFailed("face.mismatch")
    h.send(it.ConsentGiven())
    h.ports.overrides.clear()
    h.send(it.Choose("retry"))
    h.auto = False
    h.send(it.Confirm())  # → activation_writing, waiting
    h.send(ev.CardRemoved())
    h.send(ev.CardInserted())  # reading_card, waiting
    h.auto = True
    h.send(ev.CardRead(holder()))
    h.send(it.Cancel())
    h.wait(h.pol.session.take_card_s + 1)  # card_left
    h.send(ev.CardRemoved())
    h.send(it.Choose("technician"))
    h.send(it.TechnicianLogin(SECRET))
    h.send(it.TechnicianLogout())
    h.send(ev.MaintenanceCommanded(True))
    essc = Recorder(pol=make_policy(essc=True), auto=False)
    essc.send(it.Choose("essc"))  # qr_scan, waiting for the camera
    idcard = Recorder(pol=make_policy(idcard=True), auto=False)
    idcard.send(ev.DeviceHealthChanged(DeviceKind.ID_CARD_READER, DeviceHealth.ONLINE))
    idcard.send(it.Choose("idcard"))  # idcard_read, waiting for the ID card
    return Recorder.captured


INPUTS: list[Any] = [
    it.Confirm(), it.Cancel(), it.Back(), it.MoreTime(), it.CallStaff(), it.NextPage(),
    it.PrevPage(), it.ConsentGiven(), it.ConsentRefused(), it.Touch(), it.TechnicianLogout(),
    it.SetElderly(True), it.SetLanguage("en"), it.Reveal("name"), it.ChooseService("inquiry"),
    it.ChooseService("bogus"), it.Choose("query"), it.Choose("B-1"), it.Choose("retry"),
    it.Choose("zzz"), it.EnterText("phone", PHONE), it.EnterText("id_number", ID_NUMBER),
    it.EnterText("account_number", "123"), it.TechnicianLogin("x"),
    it.TechnicianAction("device_test"),
    ev.Tick(0), ev.CardInserted(), ev.CardRemoved(), ev.CardRead(holder()),
    ev.CardReadFailed("card.unreadable"), ev.PinVerified(), ev.PinRejected(1), ev.PinBlocked(),
    ev.PinChanged(), ev.PinChangeFailed("mismatch"),
    ev.BankCardRead(Masked(BANK_NUMBER, PersonalKind.BANK_NUMBER)),
    ev.BankCardReadFailed("card.not_bank"), ev.FaceMatched(), ev.FaceFailed("face.quality"),
    ev.FingerprintMatched(), ev.FingerprintEnrolled(), ev.EnrolmentSubmitted("nope", "r"),
    ev.EnrolmentRefused("nope", "forbidden"),
    ev.FingerprintFailed("fingerprint.timeout"),
    ev.CentralSessionOpened("t", frozenset({"card"})), ev.CentralSessionRefused("forbidden"),
    ev.QueryAnswered("nope", {}), ev.QueryFailed("nope", "sync.offline"),
    ev.PaymentSucceeded("nope", "r"), ev.PaymentDeclined("nope", "x"), ev.PaymentUnknown("nope"),
    ev.ActivationProgressed("nope", "approval", 0.5), ev.ActivationFinished("nope", "activated"),
    ev.OutboxRecorded("nope"), ev.EffectFailed("CallService", "internal"),
    ev.DeviceHealthChanged(DeviceKind.CAMERA, DeviceHealth.OFFLINE),
    ev.DeviceHealthChanged(DeviceKind.CARD_READER, DeviceHealth.NO_DEVICE),
    ev.CentralReachability(False), ev.MaintenanceCommanded(True), ev.MaintenanceCommanded(False),
    it.Choose("print"), it.Choose("essc"), it.Choose("type_id"), ev.DocumentPrinted("nope"),
    ev.EffectFailed("PrintDocument", "printer.paper_out", "nope"),
    ev.IdCardRead("nope", id_card()), ev.IdCardReadFailed("nope", "idcard.no_card"),
    ev.QrScanned("nope", "ESSC1.x.y"), ev.QrScanFailed("nope", "qr.timeout"),
    ev.DeviceHealthChanged(DeviceKind.PRINTER, DeviceHealth.USER_ERROR),
    ev.DeviceHealthChanged(DeviceKind.ID_CARD_READER, DeviceHealth.ONLINE),
    it.Choose("idcard"), ev.FaceLive(),
]
CAPTURED = capture()


def test_every_state_is_captured() -> None:
    assert set(CAPTURED) == set(StateName)


@pytest.mark.parametrize("name", list(StateName), ids=lambda n: n.value)
def test_every_input_is_handled_or_ignored(name: StateName) -> None:
    state = CAPTURED[name]
    h = Harness()
    allowed = view_of(state, h.pol).intents
    now = state.now + 0.1
    for inp in [*INPUTS, it.EnterPin(pin())]:
        t = step(state, inp, now, h.pol)
        assert isinstance(t.state, MachineState)
        view_of(t.state, h.pol)
        if isinstance(inp, it.Intent) and type(inp).__name__ not in allowed:
            assert t.state == step(state, ev.Tick(now), now, h.pol).state, type(inp).__name__
