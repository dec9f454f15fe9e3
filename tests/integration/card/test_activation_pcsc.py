"""Activation record write through real pcscd + vpcd: read-back, refusal, power lost, probe."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

import pytest

from drivers.card import reader as pcsc
from drivers.card.activation import (
    ActivationRecord,
    ActivationWriteRefusedError,
    ActivationWriteUnconfirmed,
    read_activation_record,
    write_activation_record,
)
from drivers.card.cryptogram import PsamCryptogramProvider
from drivers.card.emulator import Fault
from drivers.card.errors import CardError, SecurityStatusError
from drivers.card.psam import PsamClient
from drivers.card.security import CardAuthenticator, make_security_hook
from drivers.card.ssc import SscApplication
from drivers.card.transport import PcscChannel
from drivers.personal import PinBuffer
from tests.integration.card import test_security_pcsc as sec
from tests.integration.card.test_security_pcsc import insert, settings_for

psam_channel = sec.psam_channel  # the fixture, shared with the other security tests


def _pin(ssc: SscApplication) -> Callable[[], None]:
    def verify() -> None:
        ssc.verify_pin(PinBuffer.from_bytes(b"123456"))

    return verify


def _open(
    service: Any, psam: PcscChannel, profile: str
) -> tuple[PcscChannel, SscApplication, CardAuthenticator, ActivationRecord]:
    """Card in slot 0, holder read with PSAM authentication; the record this terminal writes."""
    client = PsamClient(psam)
    kept: list[CardAuthenticator] = []

    def keep(_: object, auth: CardAuthenticator | None) -> None:
        assert auth is not None
        kept.append(auth)

    channel = insert(service, profile)
    ssc = SscApplication(
        channel, security_hook=make_security_hook(PsamCryptogramProvider(client), on_access=keep)
    )
    ssc.read_holder()
    record = ActivationRecord.for_activation(
        date=dt.date(2026, 11, 27),
        terminal_number=client.terminal_number(),
        idempotency_key="7d1c2c0e-activation",
    )
    return channel, ssc, kept[0], record


def _reconnect(service: Any) -> PcscChannel:
    """Connect again after a power loss (pcscd may still be noticing the card's absence)."""
    name = service.reader_names[0]
    for _ in range(20):
        service.wait_present(0)
        try:
            channel = pcsc.connect(name, settings_for(name))
        except CardError:
            continue
        try:
            SscApplication(channel).select()
        except CardError:
            channel.close()
            continue
        return channel
    raise AssertionError("the card did not come back after the power loss")


@pytest.mark.parametrize("profile", ["ssc3", "ssc2"])
def test_write_with_read_back(card_slot: Any, psam_channel: PcscChannel, profile: str) -> None:
    channel, ssc, auth, record = _open(card_slot, psam_channel, profile)
    try:
        assert write_activation_record(channel, auth, record, _pin(ssc)) == record
        assert card_slot.card.card.activation_record() == record.encode()
        assert read_activation_record(channel, _pin(ssc)).matches_key("7d1c2c0e-activation")
    finally:
        channel.close()


def test_write_refused(card_slot: Any, psam_channel: PcscChannel) -> None:
    channel, ssc, auth, record = _open(card_slot, psam_channel, "ssc3")
    try:
        card_slot.card.inject(Fault.WRITE_DENIED)
        with pytest.raises(ActivationWriteRefusedError) as e:
            write_activation_record(channel, auth, record, _pin(ssc))
        assert e.value.sw == 0x6982 and e.value.code == "card.write_failed"
        card_slot.card.inject(Fault.WRITE_REFUSED)
        with pytest.raises(ActivationWriteRefusedError) as e:
            write_activation_record(channel, auth, record, _pin(ssc))
        assert e.value.sw == 0x6581
        assert card_slot.card.card.activation_record() != record.encode()
    finally:
        channel.close()


def test_power_lost_between_write_and_read_back(card_slot: Any, psam_channel: PcscChannel) -> None:
    channel, ssc, auth, record = _open(card_slot, psam_channel, "ssc3")
    card_slot.card.inject(Fault.POWER_LOSS_AFTER_WRITE)
    try:
        with pytest.raises(ActivationWriteUnconfirmed) as e:
            write_activation_record(channel, auth, record, _pin(ssc))
        assert e.value.expected == record
    finally:
        channel.close()
    # The saga's recovery probe, once the card is back: the write did land.
    channel = _reconnect(card_slot)
    try:
        ssc = SscApplication(channel)
        with pytest.raises(SecurityStatusError):
            read_activation_record(channel, lambda: None)
        probed = read_activation_record(channel, _pin(ssc))
        assert probed == record and probed.matches_key("7d1c2c0e-activation")
    finally:
        channel.close()
