"""Reconnect delays and the drain's token bucket (pure, with injected randomness and time)."""

from __future__ import annotations

import random

from hypothesis import given
from hypothesis import strategies as st

from kiosk.clock import FakeClock
from kiosk.sync.backoff import Backoff
from kiosk.sync.drain import TokenBucket


def test_first_delay_after_a_drop_is_random_within_its_bound() -> None:
    rng = random.Random(1)
    delays = {Backoff(1, 300, 30, 20, rand=rng.uniform).lost(100.0) for _ in range(50)}
    assert all(0 <= d <= 30 for d in delays) and len(delays) == 50  # no lockstep


@given(st.integers(min_value=0, max_value=2**32))
def test_decorrelated_jitter_stays_between_base_and_cap(seed: int) -> None:
    rng = random.Random(seed)
    b = Backoff(1.0, 60.0, 5.0, 20.0, rand=rng.uniform)
    b.lost(0.0)
    for _ in range(30):
        assert 1.0 <= b.failed() <= 60.0


def test_a_stable_connection_resets_the_sequence() -> None:
    b = Backoff(1.0, 300.0, 0.0, 20.0, rand=lambda lo, hi: hi)  # worst case every time
    b.lost(0.0)
    grown = [b.failed() for _ in range(5)]
    assert grown == [3.0, 9.0, 27.0, 81.0, 243.0]
    b.connected(1000.0)
    assert b.lost(1030.0) == 0.0  # stable ≥ 20 s: back to a (random) first delay
    assert b.failed() == 3.0
    b.connected(2000.0)
    assert b.lost(2005.0) == 9.0  # flapping (< 20 s): keeps growing


def test_token_bucket_bounds_the_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate=10.0, burst=5, clock=clock)
    assert [bucket.take() for _ in range(5)] == [0.0] * 5
    wait = bucket.take()
    assert 0.09 <= wait <= 0.11
    clock.advance(1.0)
    assert sum(1 for _ in range(20) if bucket.take() == 0.0) == 5  # capped at burst
