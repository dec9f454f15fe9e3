"""Helpers of the card driver's integration tests (fixtures `pcscd`/`card_slot` come from
tests/fixtures/pcscd.py)."""

from __future__ import annotations

import dataclasses
from typing import Any

import pytest

from drivers.card.driver import CardDriver
from drivers.card.settings import CardSettings
from kiosk.config import load_config


@pytest.fixture(scope="session")
def card_settings(pcscd: Any) -> CardSettings:
    """The [card] section of the test profile, pointed at slot 0 of the test pcscd."""
    base = load_config(None, profile="test").config.card.driver_settings()
    return dataclasses.replace(base, reader=pcscd.reader_names[0])


@pytest.fixture
def driver(card_settings: CardSettings) -> CardDriver:
    return CardDriver(card_settings)
