"""The kiosk's service clients end to end: the emulated card (pyscard → pcscd → vpcd → emulator)
answers the central's challenge, the kiosk's own sync stack (SyncService, RpcClient, journal)
talks to the real central through mosquitto, and every result and error is typed."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from central.seed import holder_bill_accounts
from drivers.card.ssc import SscApplication
from drivers.card.transport import PcscChannel
from drivers.personal import PinBuffer
from kiosk.clock import SystemClock
from kiosk.contract import (
    FaceProof,
    InsuranceKind,
    SessionPurpose,
    UtilityKind,
)
from kiosk.journal import Journal
from kiosk.services.affairs import AffairsService
from kiosk.services.central_session import (
    CentralSession,
    CentralSessionClient,
    ChannelCardResponder,
)
from kiosk.services.certificate import CertificateService
from kiosk.services.errors import (
    CardLostError,
    DeclinedError,
    ForbiddenError,
    NotFoundError,
    UnreachableError,
)
from kiosk.services.inquiry import InquiryService
from kiosk.services.payment import PaymentService
from kiosk.services.pension import PensionService
from kiosk.services.utility import UtilityService
from kiosk.sync import SyncService
from tests.fixtures.broker import Broker
from tests.fixtures.central import CentralHandle, emulator_seed_config, start_test_central
from tests.integration.card.test_security_pcsc import insert
from tests.integration.sync.conftest import Factory, make_sync  # noqa: F401 (the fixture)

SSC3_ID = "330303199202140048"  # drivers/card/emulator/profiles/ssc3.json
SSC2_ID = "330302198503120015"  # ssc2.json (3DES)
TERMINAL = "SSK-SVC-0001"


@pytest.fixture
def emu_central(tmp_path: Path, broker: Broker) -> Iterator[CentralHandle]:
    handle = start_test_central(tmp_path / "central", broker, seed=emulator_seed_config())
    try:
        yield handle
    finally:
        handle.service.stop()


class Kiosk:
    """The kiosk side: its sync stack, the service clients, and the card in slot 0."""

    def __init__(self, sync: SyncService, journal: Journal) -> None:
        clock = SystemClock()
        self.sessions = CentralSessionClient(sync.rpc, clock)
        self.payments = PaymentService(journal, sync.rpc, clock, deadline_s=10)
        self.inquiry = InquiryService(sync.rpc)
        self.certificates = CertificateService(sync.rpc)
        self.utility = UtilityService(sync.rpc, self.payments)
        self.affairs = AffairsService(sync.rpc, self.payments)
        self.pension = PensionService(sync.rpc)

    def card(self, card_slot: Any, profile: str) -> tuple[ChannelCardResponder, PcscChannel]:
        channel = insert(card_slot, profile)
        ssc = SscApplication(channel)
        issuer = ssc.read_issuer()
        ssc.verify_pin(PinBuffer.from_bytes(b"123456"))  # the PIN the profile holds
        return ChannelCardResponder(channel, issuer), channel


@pytest.fixture
def kiosk(make_sync: Factory, emu_central: CentralHandle) -> Kiosk:  # noqa: F811
    sync, journal = make_sync(TERMINAL)
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    return Kiosk(sync, journal)


def test_the_card_opens_a_session_and_the_queries_answer(
    kiosk: Kiosk, card_slot: Any, emu_central: CentralHandle
) -> None:
    card, channel = kiosk.card(card_slot, "ssc3")
    try:
        session = kiosk.sessions.open(card, pin_verified=True)
        assert session.id_number == SSC3_ID and session.token not in repr(session)
        person = kiosk.inquiry.person(session)
        assert person.id_number == SSC3_ID and person.card_number == "X00000003"
        page = kiosk.inquiry.contributions(
            session, InsuranceKind.PENSION, "202511", "202610", page=2, page_size=5
        )
        assert (page.page, page.pages, page.total, len(page.records)) == (2, 3, 12, 5)
        accounts = kiosk.inquiry.accounts(session)
        assert {a.kind.value for a in accounts.accounts} == {"pension", "medical"}
        series = kiosk.inquiry.yearly(session, InsuranceKind.MEDICAL, 2025, 2026)
        assert [p.year for p in series.points] == [2025, 2026]
        benefits = kiosk.inquiry.benefits(session, "202511", "202610")
        assert all(b.bank_account.count("*") >= 9 for b in benefits.payments)
        cert = kiosk.certificates.issue(session, insurances=[InsuranceKind.PENSION])
        assert kiosk.certificates.verify(cert.verification_code).valid
        assert SSC3_ID not in cert.document
        with pytest.raises(NotFoundError):
            kiosk.utility.bills(session, UtilityKind.WATER, "0000000000")
    finally:
        channel.close()


def test_a_3des_card_opens_a_session_too(kiosk: Kiosk, card_slot: Any) -> None:
    card, channel = kiosk.card(card_slot, "ssc2")
    try:
        session = kiosk.sessions.open(card, pin_verified=True)
        assert kiosk.inquiry.person(session).id_number == SSC2_ID
    finally:
        channel.close()


def test_a_foreign_card_is_refused(kiosk: Kiosk, card_slot: Any) -> None:
    """A card whose keys come from another issuer's master key: the central refuses it."""
    channel = insert(card_slot, "ssc3", key_set="foreign")
    try:
        ssc = SscApplication(channel)
        card = ChannelCardResponder(channel, ssc.read_issuer())
        with pytest.raises(ForbiddenError) as refused:
            kiosk.sessions.open(card, pin_verified=True)
        assert SSC3_ID not in str(refused.value)
    finally:
        channel.close()


def test_a_bill_is_paid_once_with_the_session_and_refused_without(
    kiosk: Kiosk, card_slot: Any, emu_central: CentralHandle
) -> None:
    card, channel = kiosk.card(card_slot, "ssc3")
    try:
        session = kiosk.sessions.open(card, pin_verified=True)
        account = holder_bill_accounts(SSC3_ID)["gas"]
        bills = kiosk.utility.bills(session, UtilityKind.GAS, account)
        assert bills and all(not b.paid for b in bills)
        before = emu_central.wallet_cents(SSC3_ID)
        outcome = kiosk.utility.pay(session, bills[0])
        assert outcome.state == "accepted" and outcome.receipt_no
        assert emu_central.wallet_cents(SSC3_ID) == before - bills[0].amount_cents
        # The same bill again with a new key: declined by the central, nothing charged.
        again = kiosk.utility.pay(session, bills[0])
        assert again.state == "declined" and again.reason == "bill_already_paid"
        # A token that is not the central's: forbidden, nothing charged, the key burnt.
        forged = CentralSession(
            token=session.token[:-4] + "AAAA",
            expires_at=session.expires_at,
            credentials=session.credentials,
            id_number=session.id_number,
            id_number_masked=session.id_number_masked,
            card_number=session.card_number,
        )
        with pytest.raises(ForbiddenError):
            kiosk.inquiry.person(forged)
        flex = kiosk.affairs.pay_flexible_contribution(forged, period="202611", amount_cents=500)
        assert (flex.state, flex.reason) == ("declined", "forbidden")
        assert emu_central.wallet_cents(SSC3_ID) == before - bills[0].amount_cents
    finally:
        channel.close()


def test_face_elevation_loss_report_and_cancellation(
    kiosk: Kiosk, card_slot: Any, emu_central: CentralHandle
) -> None:
    card, channel = kiosk.card(card_slot, "ssc3")
    try:
        session = kiosk.sessions.open(card, pin_verified=True)
        photo = emu_central.query("SELECT photo FROM persons WHERE id_number = ?", (SSC3_ID,))
        face = FaceProof(
            matched=True,
            liveness=True,
            score=0.91,
            reference_sha256=hashlib.sha256(bytes(photo[0][0])).hexdigest(),
        )
        with pytest.raises(ForbiddenError):  # card + PIN is not enough for the survival check
            kiosk.pension.qualify(session, 2026)
        elevated = kiosk.sessions.elevate(session, card, face=face)
        assert elevated.has(*session.credentials) and "face" in {
            c.value for c in elevated.credentials
        }
        with pytest.raises(DeclinedError):  # a working person draws no pension
            kiosk.pension.qualify(elevated, 2026)
        courses = kiosk.affairs.training_catalogue(session)
        signed = kiosk.affairs.training_signup(session, courses[0].course_id)
        assert signed.state.value == "accepted"
        lost = kiosk.affairs.report_loss(session)
        assert lost.card_state == "temporary_lost"
        with pytest.raises(CardLostError):
            kiosk.inquiry.person(session)
        with pytest.raises(CardLostError):
            kiosk.sessions.open(card, pin_verified=True)
        cancel_session = kiosk.sessions.open(
            card, pin_verified=True, purpose=SessionPurpose.LOSS_CANCEL
        )
        assert cancel_session.card_state == "temporary_lost"
        assert kiosk.affairs.cancel_loss(cancel_session).card_state == "active"
        assert (
            kiosk.inquiry.person(kiosk.sessions.open(card, pin_verified=True)).id_number == SSC3_ID
        )
    finally:
        channel.close()


def test_an_unreachable_central_is_a_typed_error(
    make_sync: Factory,  # noqa: F811
    card_slot: Any,
    emu_central: CentralHandle,
) -> None:
    sync, journal = make_sync("SSK-SVC-0002", start=False)  # never connected
    offline = Kiosk(sync, journal)
    card, channel = offline.card(card_slot, "ssc3")
    try:
        with pytest.raises(UnreachableError):
            offline.sessions.open(card, pin_verified=True)
    finally:
        channel.close()
