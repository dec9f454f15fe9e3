"""The session's card port on the real card layer: pyscard → pcscd → vpcd → the card emulator,
with the test PSAM in slot 1 (PSAM-authenticated read, PIN with tries, blocked and expired
cards, the central's challenge, the photo, and the bank card swap)."""

from __future__ import annotations

from drivers.card.emulator import read_profile
from drivers.card.emulator.card import VirtualCard
from drivers.personal import PinBuffer
from kiosk.clock import SystemClock
from kiosk.config import KioskConfig, load_config
from kiosk.journeys.adapters.card import ReaderCard
from kiosk.session.events import (
    BankCardRead,
    BankCardReadFailed,
    CardRead,
    CardReadFailed,
    PinBlocked,
    PinRejected,
    PinVerified,
)
from tests.fixtures.pcscd import PcscdService


def _config(service: PcscdService) -> KioskConfig:
    config = load_config(None, profile="test").config
    return config.model_copy(
        update={
            "card": config.card.model_copy(update={"reader": service.reader_names[0]}),
            "psam": config.psam.model_copy(update={"reader": service.reader_names[1]}),
        }
    )


def _insert(service: PcscdService, profile: str) -> VirtualCard:
    card = service.card.insert(profile)
    service.wait_present(0)
    service.wait_present(1)  # the PSAM the fixture inserted: pcscd sees it within a poll
    return card


def _swap(service: PcscdService, profile: str) -> None:
    """The citizen takes the card out and puts `profile` in (pcscd sees both moves)."""
    service.card.remove()
    service.wait_absent(0)
    _insert(service, profile)


def _pin(digits: str) -> PinBuffer:
    return PinBuffer.from_bytes(digits.encode())


def test_read_verify_pin_answer_and_photo(psam_slot: PcscdService) -> None:
    _insert(psam_slot, "ssc3")
    declared = read_profile("ssc3")
    card = ReaderCard(_config(psam_slot), SystemClock())
    try:
        read = card.read_card()
        assert isinstance(read, CardRead) and not read.expired
        assert read.holder.id_number.reveal() == declared.id_number  # type: ignore[union-attr]
        assert declared.id_number not in repr(read)  # type: ignore[union-attr]
        pin = _pin("000000")
        wrong = card.verify_pin(pin)
        assert wrong == PinRejected(tries_left=2)
        assert len(pin) == 0  # wiped whatever the answer
        assert isinstance(card.verify_pin(_pin(str(declared.pin))), PinVerified)  # type: ignore[union-attr]
        assert card.pin_verified
        # the central's challenge: two answers to one challenge agree, another differs
        challenge = bytes(range(16))
        answer = card.answer(challenge)
        assert len(answer) == 16 and card.answer(challenge) == answer
        assert card.answer(bytes(16)) != answer
        # the photo needs the RKSSSE authentication the read did
        photo = card.photo()
        assert photo[:2] == b"\xff\xd8"
        assert card.terminal_number().isdigit()
    finally:
        card.forget()
    assert not card.pin_verified


def test_blocked_and_expired_cards(psam_slot: PcscdService) -> None:
    config = _config(psam_slot)
    _insert(psam_slot, "pin_blocked")
    card = ReaderCard(config, SystemClock())
    try:
        assert isinstance(card.read_card(), CardRead)
        assert isinstance(card.verify_pin(_pin("123456")), PinBlocked)
    finally:
        card.forget()
    _swap(psam_slot, "expired")
    try:
        read = card.read_card()
        assert isinstance(read, CardRead) and read.expired
    finally:
        card.forget()


def test_bank_card_swap_accepts_only_the_same_card_back(psam_slot: PcscdService) -> None:
    _insert(psam_slot, "ssc3")
    card = ReaderCard(_config(psam_slot), SystemClock())
    try:
        assert isinstance(card.read_card(), CardRead)
        _swap(psam_slot, "bank_card")
        bank = card.read_bank_card()
        assert isinstance(bank, BankCardRead)
        pan = read_profile("bank_card").financial.pan  # type: ignore[union-attr]
        assert bank.bank_number.reveal() == pan and pan not in repr(bank)
        # another social security card comes back: refused
        _swap(psam_slot, "ssc2")
        refused = card.read_card()
        assert isinstance(refused, CardReadFailed) and refused.code == "card.auth_failed"
        # the right one: accepted and authenticated again
        _swap(psam_slot, "ssc3")
        assert isinstance(card.read_card(), CardRead)
        # the social security card is not a bank card for the swap step
        again = card.read_bank_card()
        assert isinstance(again, BankCardReadFailed)
    finally:
        card.forget()
    card.forget()  # idempotent
