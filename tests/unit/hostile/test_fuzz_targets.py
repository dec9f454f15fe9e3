"""The fast tier of the fuzz harness (tests/fuzz): every entry point that takes outside bytes,
fed mutated seeds and raw bytes, ends in success or one of its documented errors; a hang (the
per-input alarm) or a command budget overrun is a finding too. The long run is
`python -m tests.fuzz --minutes N`."""

from __future__ import annotations

import logging
import random

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.fuzz.mutate import mutate
from tests.fuzz.runner import classify
from tests.fuzz.targets import all_targets, by_name

NAMES = [t.name for t in all_targets()]


@pytest.fixture(autouse=True)
def _quiet() -> object:
    logging.disable(logging.CRITICAL)  # the guards log every rejection
    yield None
    logging.disable(logging.NOTSET)


def test_every_entry_point_is_a_target() -> None:
    assert set(NAMES) == {
        "card.codecs",
        "card.bank_read",
        "card.holder_read",
        "mqtt.kiosk_edge",
        "mqtt.central",
        "mqtt.fleet",
        "config.kiosk_file",
        "config.central_file",
        "config.kiosk_env",
        "config.central_env",
        "fingerprint.stream",
        "fingerprint.decoders",
        "idcard.stream",
        "idcard.read",
        "printer.status",
        "essc.token",
        "essc.qr",
    }


def test_every_seed_is_accepted_by_some_path() -> None:
    """Seeds that all fail would fuzz only the first refusal: at least one must succeed."""
    for target in all_targets():
        assert any(classify(target, s).what == "success" for s in target.seeds), target.name


@pytest.mark.parametrize("name", NAMES)
@given(seed=st.integers(0, 2**32 - 1), raw=st.binary(max_size=600), use_raw=st.booleans())
@settings(max_examples=600, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_hostile_input_ends_in_a_documented_error(
    name: str, seed: int, raw: bytes, use_raw: bool
) -> None:
    target = by_name(name)
    data = raw if use_raw else mutate(random.Random(seed), target.seeds, target.tokens)
    outcome = classify(target, data)
    assert outcome.ok, f"{name}: {outcome.what} for {data[:120]!r}"
