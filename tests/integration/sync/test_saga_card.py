"""The activation saga on the emulated card through real pcscd + vpcd (helper H's card API):
in-process (crash simulated by an exception) and in a subprocess SIGKILLed after each step."""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any

import pytest

from drivers.card.activation import ActivationRecord
from drivers.card.emulator.profiles import load_profile
from drivers.card.psam import PsamClient
from drivers.card.transport import PcscChannel
from kiosk.clock import SystemClock
from kiosk.services.activation import ActivationSaga, DriverActivationCard
from tests.fixtures.broker import Broker
from tests.fixtures.sync_central import MiniCentral
from tests.integration.card import test_activation_pcsc as act
from tests.integration.sync.conftest import Factory
from tests.integration.sync.test_drain import wait_until
from tests.integration.sync.test_saga import child

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


# ---------------------------------------------------------------- killed on the emulated card
#
# The kiosk is a subprocess (saga_child) driving the emulated card through the test pcscd with a
# real PC/SC session (PSAM authentication, PIN), SIGKILLed right after each step; a second
# process recovers against the same emulated card (its EEPROM lives in this test process).

# step killed after → (card still in the reader at restart?, end state, central state)
CARD_KILL_CASES = [
    ("created", True, "failed", None),  # approval never asked: nothing to undo
    ("approved", True, "done", "confirmed"),  # recovery writes the card
    ("written", True, "done", "confirmed"),  # recovery reads the record back
    ("write-recorded", True, "done", "confirmed"),
    ("read-back", True, "done", "confirmed"),
    ("approved", False, "compensated", "cancelled"),  # the holder took the card away
    ("written", False, "compensated", "cancelled"),
]


@pytest.mark.parametrize(("kill_at", "card_back", "end", "central_state"), CARD_KILL_CASES)
def test_killed_on_the_emulated_card_then_recovered(
    tmp_path: Path,
    broker: Broker,
    mini_central: MiniCentral,
    card_slot: Any,
    psam_slot: Any,
    kill_at: str,
    card_back: bool,
    end: str,
    central_state: str | None,
) -> None:
    card_slot.card.insert(load_profile("ssc3"))
    card_slot.wait_present(0)
    psam_slot.wait_present(1)
    readers = [
        "--card-reader",
        card_slot.reader_names[0],
        "--psam-reader",
        card_slot.reader_names[1],
    ]
    key = str(uuid.uuid4())
    first = child(tmp_path, broker.port, "start", kill_at=kill_at, key=key, extra=readers)
    assert first.returncode == -9, first.stderr[-2000:]
    if not card_back:
        card_slot.card.remove()
        card_slot.wait_absent(0)
    second = child(tmp_path, broker.port, "recover", extra=readers)
    assert second.returncode == 0, second.stderr[-2000:]
    assert second.stdout.split() == [end], second.stderr[-2000:]
    with mini_central.lock:
        rec = mini_central.activations.get(key)
        kinds = [e.kind.value for e in mini_central.events]
        applied = dict(mini_central.applied)
    if central_state is None:
        assert rec is None and kinds == []
    else:
        assert rec is not None and rec["state"] == central_state
        assert kinds == [f"activation_{central_state}"]  # exactly one closing event
        assert all(n == 1 for n in applied.values())
    stored = card_slot.card.card.activation_record() if card_back else None
    if end == "done":
        assert stored is not None and ActivationRecord.decode(stored).matches_key(key)
