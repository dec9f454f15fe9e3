"""Issue 8: attempts limited per session and per card (kiosk/face_attempts.py)."""

from __future__ import annotations

import pytest

from drivers.personal import Masked, PersonalKind
from drivers.vocabulary import ErrorCode
from kiosk.config import load_config
from kiosk.face_attempts import FaceAttempts, FaceAttemptsExhaustedError


class Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_session_gets_its_attempts_then_a_typed_refusal() -> None:
    attempts = FaceAttempts(per_session=3, per_card=10, card_window_s=3600, clock=Clock())
    for left in (3, 2, 1):
        assert attempts.remaining("s1", "card-A") == left
        attempts.begin("s1", "card-A").record(False)
    with pytest.raises(FaceAttemptsExhaustedError) as e:
        attempts.begin("s1", "card-A")
    assert e.value.scope == "session" and e.value.code is ErrorCode.FACE_ATTEMPTS_EXHAUSTED
    assert "次数" in e.value.message("zh_CN") and "attempts" in e.value.message("en")
    # a new session of the same card may try again (within the card's limit)
    attempts.end_session("s1")
    attempts.begin("s2", "card-A")


def test_a_card_is_limited_across_sessions_within_its_window() -> None:
    clock = Clock()
    attempts = FaceAttempts(per_session=2, per_card=3, card_window_s=3600, clock=clock)
    for session in ("a", "a", "b"):
        attempts.begin(session, "card-A").record(False)
    with pytest.raises(FaceAttemptsExhaustedError) as e:
        attempts.begin("c", "card-A")
    assert e.value.scope == "card"
    assert attempts.remaining("c", "card-B") == 2  # another card is not affected
    clock.now += 3600  # the window slides past the failures
    attempts.begin("c", "card-A")


def test_an_abandoned_check_counts_and_a_pass_is_withdrawn() -> None:
    attempts = FaceAttempts(per_session=10, per_card=2, card_window_s=3600, clock=Clock())
    attempts.begin("a", "card-A")  # never recorded: the card was pulled half-way
    ok = attempts.begin("b", "card-A")
    ok.record(True)  # passed: it does not count against the card
    ok.record(False)  # a second record is ignored
    assert attempts.remaining("c", "card-A") == 1


def test_the_counter_never_holds_a_card_number() -> None:
    attempts = FaceAttempts(per_session=3, per_card=3, card_window_s=60, clock=Clock())
    attempts.begin("s", "110101199003074518")
    # the Masked value of a card read counts as the same card
    attempts.begin("t", Masked("110101199003074518", PersonalKind.ID_NUMBER))
    assert attempts.remaining("u", "110101199003074518") == 1
    assert "110101199003074518" not in repr(vars(attempts))
    assert b"110101199003074518" not in b"".join(attempts._cards)


def test_limits_come_from_the_face_section() -> None:
    face = load_config(None, profile="test").config.face
    attempts = FaceAttempts.from_config(face)
    assert attempts.per_session == face.max_attempts_per_session
    assert attempts.per_card == face.max_failures_per_card
    with pytest.raises(ValueError):
        FaceAttempts(per_session=0, per_card=1, card_window_s=1)
