"""The activation saga on the emulated card through real pcscd + vpcd (helper H's card API)."""

from __future__ import annotations

from typing import Any

import pytest

from drivers.card.psam import PsamClient
from drivers.card.transport import PcscChannel
from kiosk.clock import SystemClock
from kiosk.services.activation import ActivationSaga, DriverActivationCard
from tests.fixtures.sync_central import MiniCentral
from tests.integration.card import test_activation_pcsc as act
from tests.integration.sync.conftest import Factory
from tests.integration.sync.test_drain import wait_until

psam_channel = act.psam_channel  # the card tests' fixture: the PSAM in slot 2


class Crash(BaseException):
    """Stands for the process dying right after a step (nothing below it runs)."""


def card_port(card_slot: Any, psam: PcscChannel) -> tuple[DriverActivationCard, Any]:
    channel, ssc, auth, _ = act._open(card_slot, psam, "ssc3")
    port = DriverActivationCard(
        channel, auth, act._pin(ssc), PsamClient(psam).terminal_number(), SystemClock()
    )
    return port, channel


def test_activation_on_the_emulated_card(
    make_sync: Factory, mini_central: MiniCentral, card_slot: Any, psam_channel: PcscChannel
) -> None:
    sync, journal = make_sync("SSK-CARD-0001")
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]
    saga = ActivationSaga(journal, sync.rpc, SystemClock(), wake=sync.wake)
    port, channel = card_port(card_slot, psam_channel)
    try:
        outcome = saga.start(port, id_number="11010519491231002X", card_number="T00000001")
    finally:
        channel.close()
    assert outcome.state == "done"
    record = card_slot.card.card.activation_record()
    assert record[:2] == bytes([0x60, 0x13]) and record[2] == 1
    assert wait_until(lambda: mini_central.activations[outcome.saga_key]["state"] == "confirmed")


def test_crash_after_the_card_write_is_finished_by_reading_the_card_back(
    make_sync: Factory, mini_central: MiniCentral, card_slot: Any, psam_channel: PcscChannel
) -> None:
    sync, journal = make_sync("SSK-CARD-0002")
    assert sync.transport.wait_connected(10)  # type: ignore[attr-defined]

    def die_after_write(step: str) -> None:
        if step == "written":
            raise Crash

    port, channel = card_port(card_slot, psam_channel)
    try:
        with pytest.raises(Crash):
            ActivationSaga(journal, sync.rpc, SystemClock(), on_step=die_after_write).start(
                port, id_number="11010519491231002X", card_number="T00000001"
            )
        [running] = journal.sagas("activation", "running")
        assert running.step == "write"  # the write happened, the journal does not know yet
        # "After the restart": a new saga object; the card is still in the reader.
        [outcome] = ActivationSaga(journal, sync.rpc, SystemClock(), wake=sync.wake).recover(port)
    finally:
        channel.close()
    assert outcome.state == "done"
    assert wait_until(lambda: mini_central.activations[outcome.saga_key]["state"] == "confirmed")
    assert [e.kind.value for e in mini_central.events] == ["activation_confirmed"]
