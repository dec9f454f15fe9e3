"""The session's services port against the real central, with the emulated card answering the
central's challenge through pcscd: the token, masked answers, a payment charged once, a lost
card refused, and a service that needs a credential the token lacks."""

from __future__ import annotations

from drivers.card.emulator import read_profile
from drivers.personal import Masked, PinBuffer
from kiosk.clock import SystemClock
from kiosk.journeys.adapters.card import ReaderCard
from kiosk.journeys.adapters.identity import Proofs
from kiosk.journeys.adapters.services import CentralServices
from kiosk.journeys.rig import EmulatedHardware
from kiosk.session.events import (
    CardRead,
    CentralSessionOpened,
    CentralSessionRefused,
    PaymentDeclined,
    PaymentSucceeded,
    PinVerified,
    QueryAnswered,
    QueryFailed,
)
from tests.fixtures.journeys import JourneyStack
from tests.fixtures.pcscd import PcscdService


def _services(stack: JourneyStack, rig: EmulatedHardware) -> tuple[ReaderCard, CentralServices]:
    agent = stack.agent
    assert agent.sync is not None and agent.journal is not None and agent.payments is not None
    clock = SystemClock()
    card = ReaderCard(rig.config(), clock)
    services = CentralServices(agent.sync.rpc, agent.journal, agent.payments, clock, card, Proofs())
    return card, services


def _present(rig: EmulatedHardware, pcscd: PcscdService, profile: str, card: ReaderCard) -> None:
    rig.insert_card(profile)
    pcscd.wait_present(0)
    assert isinstance(card.read_card(), CardRead)


def test_token_queries_and_one_payment(
    journey_stack: JourneyStack, terminal: EmulatedHardware, pcscd: PcscdService
) -> None:
    card, services = _services(journey_stack, terminal)
    declared = read_profile("ssc3")
    id_number = str(declared.id_number)  # type: ignore[union-attr]
    _present(terminal, pcscd, "ssc3", card)
    try:
        assert isinstance(card.verify_pin(PinBuffer.from_bytes(b"123456")), PinVerified)
        opened = services.open_session(frozenset({"card", "pin"}))
        assert isinstance(opened, CentralSessionOpened), opened
        assert opened.credentials == {"card", "pin"}
        person = services.call("inquiry", "person", {}, "key-person-0001")
        assert isinstance(person, QueryAnswered) and person.request_id == "key-person-0001"
        shown = person.data["id_number"]
        assert isinstance(shown, Masked) and id_number not in str(person.data)
        records = services.call(
            "inquiry", "contributions", {"insurance": "pension"}, "key-contrib-0001"
        )
        assert isinstance(records, QueryAnswered) and records.data["records"]
        # a bill of the holder's water account, paid once, with one key
        from central.seed import holder_bill_accounts

        account = holder_bill_accounts(id_number)["water"]
        bills = services.call(
            "utility",
            "bills",
            {"utility": "water", "account_number": account},
            "key-bills-0001",
        )
        assert isinstance(bills, QueryAnswered), bills
        bill = bills.data["bills"][0]
        before = journey_stack.wallet_cents(id_number)
        paid = services.pay("utility_bill", bill["bill_id"], bill["amount_cents"], "pay-key-0001")
        assert isinstance(paid, PaymentSucceeded) and paid.reference
        again = services.pay("utility_bill", bill["bill_id"], bill["amount_cents"], "pay-key-0001")
        assert isinstance(again, PaymentSucceeded | PaymentDeclined)
        assert journey_stack.wallet_cents(id_number) == before - bill["amount_cents"]
        # the token holds card + PIN only: the pension qualification needs the face
        refused = services.call("pension", "qualify", {}, "key-pension-0001")
        assert isinstance(refused, QueryFailed) and refused.code == "forbidden"
        assert id_number not in repr(refused)
    finally:
        services.close_session()
        card.forget()


def test_a_lost_card_gets_no_session(
    journey_stack: JourneyStack, terminal: EmulatedHardware, pcscd: PcscdService
) -> None:
    card, services = _services(journey_stack, terminal)
    _present(terminal, pcscd, "ssc3_financial", card)
    try:
        assert isinstance(card.verify_pin(PinBuffer.from_bytes(b"123456")), PinVerified)
        refused = services.open_session(frozenset({"card", "pin"}))
        assert refused == CentralSessionRefused(reason="card_lost")
    finally:
        services.close_session()
        card.forget()
