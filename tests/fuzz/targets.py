"""Every fuzz target, built once (seeds come from our emulators and packaged files)."""

from __future__ import annotations

import functools

from tests.fuzz.card import card_targets
from tests.fuzz.config import config_targets
from tests.fuzz.essc import essc_targets
from tests.fuzz.fingerprint import fingerprint_targets
from tests.fuzz.idcard import idcard_targets
from tests.fuzz.mqtt import mqtt_targets
from tests.fuzz.printer import printer_targets
from tests.fuzz.target import Target

__all__ = ["all_targets", "by_name"]


@functools.cache
def all_targets() -> tuple[Target, ...]:
    return (
        *card_targets(),
        *mqtt_targets(),
        *config_targets(),
        *fingerprint_targets(),
        *idcard_targets(),
        *printer_targets(),
        *essc_targets(),
    )


def by_name(name: str) -> Target:
    for target in all_targets():
        if target.name == name:
            return target
    raise KeyError(name)
