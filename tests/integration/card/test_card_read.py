"""Reading every card profile through pyscard → pcscd → vpcd → the emulator, strict and lenient
T=0, and every fault: removal mid-command, garbage, silence."""

from __future__ import annotations

import dataclasses
import datetime as dt
from typing import Any

import pytest

from drivers.card.driver import CardDriver
from drivers.card.emulator import Fault, list_profiles, load_profile, read_profile
from drivers.card.emulator.model import SscProfile
from drivers.card.errors import (
    CardDataError,
    CardError,
    CardRemovedError,
    CardTimeoutError,
    ReaderMissingError,
    SecurityStatusError,
)
from drivers.card.settings import CardSettings

CARD_PROFILES = [p for p in list_profiles() if isinstance(read_profile(p), SscProfile)]


def _date(text: str) -> dt.date:
    return dt.date(int(text[:4]), int(text[4:6]), int(text[6:]))


def expected_failure(prof: SscProfile) -> type[CardError] | None:
    if prof.raw_records:
        return CardDataError
    if prof.rkssse_protected:
        return SecurityStatusError
    return None


def test_profiles_found() -> None:
    assert {"ssc2", "ssc2_ext", "ssc3", "rare_gbk", "corrupt_record"} <= set(CARD_PROFILES)


@pytest.mark.parametrize("strict", [True, False], ids=["t0-strict", "lenient"])
@pytest.mark.parametrize("name", CARD_PROFILES)
def test_read_profile(card_slot: Any, driver: CardDriver, name: str, strict: bool) -> None:
    prof = read_profile(name)
    assert isinstance(prof, SscProfile)
    card_slot.card.insert(load_profile(name, t0_strict=strict))
    failure = expected_failure(prof)
    if failure is not None:
        with pytest.raises(failure) as info:
            driver.read_holder()
        if failure is SecurityStatusError:
            assert "PSAM" in str(info.value)
        return
    holder = driver.read_holder()
    assert holder.name.reveal() == prof.name
    assert holder.id_number.reveal() == prof.id_number
    assert holder.card_number.reveal() == prof.card_number
    assert holder.spec_version == prof.spec_version
    assert holder.region == prof.region
    assert holder.card_type == prof.card_type
    assert holder.sex == prof.sex
    assert holder.ethnicity == prof.ethnicity
    assert holder.birthplace == prof.birthplace
    assert holder.birth_date == _date(prof.birth_date)
    assert holder.issue_date == _date(prof.issue_date)
    assert holder.expiry_date == _date(prof.expiry_date)
    assert holder.card_id.endswith(prof.card_serial.upper())
    assert holder.card_id.startswith(prof.region + "D156000005")
    if name == "expired":
        assert holder.is_expired(dt.date.today())


def test_protocol_is_t0(card_slot: Any, driver: CardDriver) -> None:
    card_slot.card.insert("ssc2")
    with driver.open(driver.wait_for_card()) as session:
        assert session.channel.protocol == 1  # pyscard T0_protocol
        assert session.atr.hex().upper().startswith("3B6D0000")


@pytest.mark.parametrize("after", [0, 3, 9, 14])
def test_removed_mid_read(card_slot: Any, driver: CardDriver, after: int) -> None:
    card_slot.card.insert("ssc2")
    name = driver.wait_for_card()
    card_slot.card.inject(Fault.REMOVE_MID_COMMAND, after=after)
    holder = None
    with pytest.raises(CardRemovedError), driver.open(name) as session:
        holder = session.read_holder()
    assert holder is None


def test_garbage_answer(card_slot: Any, driver: CardDriver) -> None:
    card_slot.card.insert("ssc2")
    name = driver.wait_for_card()
    card_slot.card.inject(Fault.GARBAGE, after=4)
    with pytest.raises(CardError), driver.open(name) as session:
        session.read_holder()


def test_silent_card_times_out(card_slot: Any, card_settings: CardSettings) -> None:
    # A deadline shorter than the emulator's silence: the driver gives up first.
    silence = float(card_slot.card.silence_s)
    driver = CardDriver(
        dataclasses.replace(
            card_settings, apdu_timeout_s=silence / 4, operation_timeout_s=silence / 4
        )
    )
    card_slot.card.insert("ssc2")
    name = driver.wait_for_card()
    card_slot.card.inject(Fault.SILENCE, after=2)
    with pytest.raises(CardTimeoutError), driver.open(name) as session:
        session.read_holder()


def test_no_card_times_out(card_slot: Any, driver: CardDriver) -> None:
    with pytest.raises(CardTimeoutError):
        driver.wait_for_card(timeout_s=0.3)


def test_unknown_reader_names_the_readers(card_slot: Any, driver: CardDriver) -> None:
    with pytest.raises(ReaderMissingError) as e:
        driver.wait_for_card("No Such Reader", timeout_s=0.3)
    assert "No Such Reader" in str(e.value) and card_slot.reader_names[0] in str(e.value)
