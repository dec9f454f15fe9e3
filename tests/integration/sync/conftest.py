"""Builders for a kiosk sync stack (journal + SyncService) against the test broker."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kiosk.clock import SystemClock
from kiosk.config import load_config
from kiosk.config.model import KioskConfig
from kiosk.journal import DEMO_KEY, Journal, Sealer
from kiosk.sync import SyncService
from kiosk.sync.commands import AgentControl
from tests.fixtures.broker import Broker

Factory = Callable[..., tuple[SyncService, Journal]]


def kiosk_config(port: int, **mqtt: Any) -> KioskConfig:
    """The test profile, pointed at `port`, with `mqtt` overrides."""
    base = load_config(profile="test", environ={}).config
    return base.model_copy(update={"mqtt": base.mqtt.model_copy(update={"port": port, **mqtt})})


@pytest.fixture
def make_sync(tmp_path: Path, broker: Broker) -> Iterator[Factory]:
    """Factory of started SyncServices (stopped and closed at teardown)."""
    made: list[tuple[SyncService, Journal]] = []

    def factory(
        terminal_id: str = "SSK-T-0001",
        *,
        control: AgentControl | None = None,
        start: bool = True,
        journal_path: Path | None = None,
        **mqtt: Any,
    ) -> tuple[SyncService, Journal]:
        cfg = kiosk_config(mqtt.pop("port", broker.port), **mqtt)
        journal = Journal(
            journal_path or tmp_path / f"{terminal_id}.sqlite3",
            config=cfg.journal,
            sealer=Sealer(DEMO_KEY),
            clock=SystemClock(),
            terminal_id=terminal_id,
            boot_id=uuid.uuid4().hex,
        )
        sync = SyncService(
            cfg.mqtt, journal, SystemClock(), software_version="test", control=control
        )
        if start:
            sync.start()
        made.append((sync, journal))
        return sync, journal

    yield factory
    for sync, journal in made:
        sync.stop()
        journal.close()
