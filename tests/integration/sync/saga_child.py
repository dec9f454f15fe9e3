"""A kiosk process for the saga kill tests: runs or recovers one activation, and can SIGKILL
itself right after a named step (python -m tests.integration.sync.saga_child ...).

The card is a file-backed `ActivationCard` (the injected card-writer interface): the file
survives the kill like a real card's EEPROM; a sibling ``.absent`` file means "no card".
"""

from __future__ import annotations

import argparse
import os
import signal
import sys
import time
import uuid
from pathlib import Path

from kiosk.clock import SystemClock
from kiosk.config import load_config
from kiosk.journal import DEMO_KEY, Journal, Sealer
from kiosk.services.activation import ActivationSaga
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


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--journal", type=Path, required=True)
    p.add_argument("--card", type=Path, required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--mode", choices=("start", "recover"), required=True)
    p.add_argument("--kill-at", default="")
    p.add_argument("--key", default="")
    args = p.parse_args()

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
    card = FileCard(args.card)
    if args.mode == "start":
        outcome = saga.start(
            card, id_number="11010519491231002X", card_number="T00000001", saga_key=args.key
        )
        print(outcome.state)
    else:
        for outcome in saga.recover(card):
            print(outcome.state)
    deadline = time.monotonic() + 15
    while journal.stats().depth and time.monotonic() < deadline:
        time.sleep(0.02)  # let the outbox deliver the confirmation / cancellation
    sync.stop()
    journal.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
