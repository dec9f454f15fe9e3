"""A kiosk process for the saga kill tests: runs or recovers one activation, and can SIGKILL
itself right after a named step (python -m tests.integration.sync.saga_child ...).

The card is either the emulated card through the test pcscd (``--card-reader`` and
``--psam-reader``: a real PC/SC session with PSAM authentication and PIN, as the kiosk does;
the emulator, in the test process, keeps the card's EEPROM across the kill), or a file-backed
`ActivationCard` (``--card FILE``: the file survives the kill like an EEPROM page; a sibling
``.absent`` file means "no card").
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import uuid
from pathlib import Path
from typing import Any

from drivers.card.errors import CardError
from kiosk.clock import SystemClock
from kiosk.config import load_config
from kiosk.journal import DEMO_KEY, Journal, Sealer
from kiosk.services.activation import (
    ActivationCard,
    ActivationSaga,
    CardWriteFailed,
    DriverActivationCard,
)
from kiosk.sync import SyncService


class FileCard:
    """A card whose activation record is a file, written atomically (like an EEPROM page)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.absent = path.with_suffix(".absent")

    def write(self, activation_key: str) -> None:
        tmp = self.path.with_suffix(".tmp")
        with tmp.open("w") as f:
            f.write(activation_key)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, self.path)

    def holds(self, activation_key: str) -> bool | None:
        if self.absent.exists():
            return None
        return self.path.exists() and self.path.read_text() == activation_key


class NoCard:
    """No card in the reader (or not the right one): nothing can be written or proved."""

    def write(self, activation_key: str) -> None:
        raise CardWriteFailed("no card in the reader")

    def holds(self, activation_key: str) -> bool | None:
        return None


def open_emulated_card(card_reader: str, psam_reader: str) -> tuple[ActivationCard, list[Any]]:
    """A `DriverActivationCard` over a fresh PC/SC session (holder read with PSAM
    authentication); `NoCard` when the reader holds no usable card. Returns the channels to
    close."""
    import dataclasses

    from drivers.card import reader as pcsc
    from drivers.card.cryptogram import PsamCryptogramProvider
    from drivers.card.psam import PsamClient
    from drivers.card.security import CardAuthenticator, make_security_hook
    from drivers.card.ssc import SscApplication
    from drivers.personal import PinBuffer

    base = load_config(None, profile="test", environ={}).config.card.driver_settings()
    psam = pcsc.connect(psam_reader, dataclasses.replace(base, reader=psam_reader))
    client = PsamClient(psam)
    try:
        channel = pcsc.connect(card_reader, dataclasses.replace(base, reader=card_reader))
    except CardError as e:
        print(f"no card: {e}", file=sys.stderr)
        return NoCard(), [psam]
    kept: list[CardAuthenticator] = []

    def keep(_: object, auth: CardAuthenticator | None) -> None:
        if auth is not None:
            kept.append(auth)

    ssc = SscApplication(
        channel, security_hook=make_security_hook(PsamCryptogramProvider(client), on_access=keep)
    )
    try:
        ssc.read_holder()
    except CardError as e:
        print(f"card unreadable: {e}", file=sys.stderr)
        return NoCard(), [channel, psam]

    def verify_pin() -> None:
        ssc.verify_pin(PinBuffer.from_bytes(b"123456"))  # the emulator profiles' test PIN

    port = DriverActivationCard(
        channel, kept[0], verify_pin, client.terminal_number(), SystemClock()
    )
    return port, [channel, psam]


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--journal", type=Path, required=True)
    p.add_argument("--card", type=Path, default=None)
    p.add_argument("--card-reader", default="")
    p.add_argument("--psam-reader", default="")
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=("start", "recover"), required=True)
    p.add_argument("--kill-at", default="")
    p.add_argument("--key", default="")
    p.add_argument("--token", default="", help="Central session token (card+PIN+face+finger).")
    args = p.parse_args()
    if not args.card_reader and args.card is None:
        p.error("give --card FILE or --card-reader/--psam-reader")

    base = load_config(profile="test", environ={}).config
    mqtt = base.mqtt.model_copy(update={"port": args.port})
    clock = SystemClock()
    journal = Journal(
        args.journal,
        config=base.journal,
        sealer=Sealer(DEMO_KEY),
        clock=clock,
        terminal_id="SSK-SAGA-0001",
        boot_id=uuid.uuid4().hex,
    )
    sync = SyncService(mqtt, journal, clock, software_version="saga-test")

    def on_step(step: str) -> None:
        if step == args.kill_at:
            os.kill(os.getpid(), signal.SIGKILL)

    saga = ActivationSaga(journal, sync.rpc, clock, on_step=on_step, wake=sync.wake)
    sync.start()
    if not sync.transport.wait_connected(15):  # type: ignore[attr-defined]
        print("no broker", file=sys.stderr)
        return 2
    channels: list[Any] = []
    card: ActivationCard
    if args.card_reader:
        card, channels = open_emulated_card(args.card_reader, args.psam_reader)
    else:
        card = FileCard(args.card)
    if args.mode == "start":
        outcome = saga.start(
            card,
            id_number="11010519491231002X",
            card_number="T00000001",
            saga_key=args.key,
            token=args.token,
        )
        print(outcome.state)
    else:
        for outcome in saga.recover(card):
            print(outcome.state)
    deadline = time.monotonic() + 15
    while journal.stats().depth and time.monotonic() < deadline:
        time.sleep(0.02)  # let the outbox deliver the confirmation / cancellation
    for channel in channels:
        channel.close()
    sync.stop()
    journal.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
