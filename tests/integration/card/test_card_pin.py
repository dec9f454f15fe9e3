"""VERIFY and CHANGE PIN through the real stack: remaining tries, blocked, not enabled."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.card.driver import CardDriver
from drivers.card.errors import (
    PinBlockedError,
    PinNotEnabledError,
    PinPadUnavailableError,
    PinWrongError,
)
from drivers.personal import PinBuffer


def pin(text: bytes) -> PinBuffer:
    return PinBuffer.from_bytes(text)


def test_verify_right_wrong_right(card_slot: Any, driver: CardDriver) -> None:
    card_slot.card.insert("ssc2")
    with driver.open(driver.wait_for_card()) as session:
        session.read_holder()
        session.verify_pin(pin(b"123456"))
        with pytest.raises(PinWrongError) as info:
            session.verify_pin(pin(b"654321"))
        assert info.value.tries_left == 2
        with pytest.raises(PinWrongError) as info:
            session.verify_pin(pin(b"654321"))
        assert info.value.tries_left == 1
        session.verify_pin(pin(b"123456"))


def test_blocked_after_last_try(card_slot: Any, driver: CardDriver) -> None:
    card_slot.card.insert("ssc2")
    with driver.open(driver.wait_for_card()) as session:
        session.ssc.select()
        for left in (2, 1, 0):
            with pytest.raises(PinWrongError) as info:
                session.verify_pin(pin(b"000000"))
            assert info.value.tries_left == left
        with pytest.raises(PinBlockedError):
            session.verify_pin(pin(b"123456"))


def test_blocked_profile(card_slot: Any, driver: CardDriver) -> None:
    card_slot.card.insert("pin_blocked")
    with driver.open(driver.wait_for_card()) as session:
        session.ssc.select()
        with pytest.raises(PinBlockedError):
            session.verify_pin(pin(b"123456"))


def test_not_enabled_profile(card_slot: Any, driver: CardDriver) -> None:
    card_slot.card.insert("pin_not_enabled")
    with driver.open(driver.wait_for_card()) as session:
        session.ssc.select()
        with pytest.raises(PinNotEnabledError):
            session.verify_pin(pin(b"123456"))


def test_change_pin(card_slot: Any, driver: CardDriver) -> None:
    card_slot.card.insert("ssc2")
    with driver.open(driver.wait_for_card()) as session:
        session.ssc.select()
        with pytest.raises(PinWrongError):
            session.change_pin(pin(b"111111"), pin(b"246810"))
        session.change_pin(pin(b"123456"), pin(b"246810"))
        session.verify_pin(pin(b"246810"))
        with pytest.raises(PinWrongError):
            session.verify_pin(pin(b"123456"))


def test_vpcd_has_no_pin_pad(card_slot: Any, driver: CardDriver) -> None:
    card_slot.card.insert("ssc2")
    with driver.open(driver.wait_for_card()) as session:
        assert session.pin_pad is None
        with pytest.raises(PinPadUnavailableError):
            session.verify_pin(None)
