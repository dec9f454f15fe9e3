"""How many face checks a session and a card may try (issue 8: limit attempts).

A replayed clip passes a random challenge draw with a small probability (docs/face-check.md),
so the number of draws an attacker gets is what bounds the risk. `FaceAttempts` is the one
place that counts them, for the session layer:

    attempts = FaceAttempts.from_config(config.face)
    attempt = attempts.begin(session_id, card_key)   # raises FaceAttemptsExhaustedError
    result = verifier.check(photo, frames, prompt=show)
    attempt.record(result.passed)
    ...
    attempts.end_session(session_id)                 # when the citizen's session ends

`card_key` is the card's number (a `str` or the `Masked` the card read gives). Every `begin`
counts against the session at once, and against the card until a pass withdraws
it: a check abandoned half-way (card pulled, kiosk restarted inside the session) still counts
as a failure. Card keys are kept only as a keyed hash (a random key per process): the counter
never holds a card number. Counts live in memory: a restart forgets the per-card window,
which is why the per-session limit is the first bound.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

from drivers.personal import Masked
from drivers.vocabulary import ErrorCode
from kiosk.config.face import FaceConfig

__all__ = ["Attempt", "FaceAttempts", "FaceAttemptsExhaustedError"]

Scope = Literal["session", "card"]

_MESSAGES: dict[Scope, tuple[str, str]] = {
    "session": (
        "人脸核验次数已用完，请联系工作人员",
        "No face check attempts left in this session: please ask the staff",
    ),
    "card": (
        "该卡今日人脸核验失败次数过多，请到柜台办理",
        "Too many failed face checks for this card today: please go to a service counter",
    ),
}


class FaceAttemptsExhaustedError(Exception):
    """No face check may start: `scope` says which limit ("session" or "card")."""

    code = ErrorCode.FACE_ATTEMPTS_EXHAUSTED

    def __init__(self, scope: Scope, limit: int) -> None:
        super().__init__(f"face check attempts exhausted ({scope}: {limit})")
        self.scope: Scope = scope
        self.limit = limit

    def message(self, locale: str = "zh_CN") -> str:
        """What the citizen is told (zh_CN default, or "en")."""
        zh, en = _MESSAGES[self.scope]
        return en if locale.lower().startswith("en") else zh


@dataclass(slots=True)
class Attempt:
    """One started face check. `record(passed)` once it is decided (a second call is ignored)."""

    _owner: FaceAttempts
    _card: bytes
    _at: float
    _done: bool = field(default=False)

    def record(self, passed: bool) -> None:
        if self._done:
            return
        self._done = True
        if passed:
            self._owner._withdraw(self._card, self._at)


class FaceAttempts:
    """Per-session and per-card limits on face checks (thread-safe).

    `per_session`: checks one session may start; `per_card`: failed (or unfinished) checks
    of one card within `card_window_s` seconds; `clock` is monotonic seconds (tests inject).
    """

    def __init__(
        self,
        *,
        per_session: int,
        per_card: int,
        card_window_s: float,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if per_session < 1 or per_card < 1 or card_window_s <= 0:
            raise ValueError("attempt limits must be positive")
        self.per_session = per_session
        self.per_card = per_card
        self.card_window_s = card_window_s
        self._clock = clock
        self._key = secrets.token_bytes(32)
        self._lock = threading.Lock()
        self._sessions: dict[str, int] = {}
        self._cards: dict[bytes, deque[float]] = {}

    @classmethod
    def from_config(
        cls, face: FaceConfig, clock: Callable[[], float] = time.monotonic
    ) -> FaceAttempts:
        """Limits from the [face] section (`max_attempts_per_session`, ...)."""
        return cls(
            per_session=face.max_attempts_per_session,
            per_card=face.max_failures_per_card,
            card_window_s=face.card_failure_window_s,
            clock=clock,
        )

    def _card_key(self, card: str | Masked) -> bytes:
        raw = card.reveal() if isinstance(card, Masked) else card  # hashed at once, never kept
        return hashlib.blake2b(raw.encode(), key=self._key, digest_size=16).digest()

    def _failures(self, card: bytes, now: float) -> deque[float]:
        times = self._cards.setdefault(card, deque())
        while times and now - times[0] >= self.card_window_s:
            times.popleft()
        return times

    def remaining(self, session_id: str, card: str | Masked) -> int:
        """How many more checks may start now for this session and card."""
        with self._lock:
            now = self._clock()
            used = self._sessions.get(session_id, 0)
            failed = len(self._failures(self._card_key(card), now))
            return max(0, min(self.per_session - used, self.per_card - failed))

    def begin(self, session_id: str, card: str | Masked) -> Attempt:
        """Start one check, or raise `FaceAttemptsExhaustedError` (nothing is counted then)."""
        with self._lock:
            now = self._clock()
            key = self._card_key(card)
            failures = self._failures(key, now)
            if self._sessions.get(session_id, 0) >= self.per_session:
                raise FaceAttemptsExhaustedError("session", self.per_session)
            if len(failures) >= self.per_card:
                raise FaceAttemptsExhaustedError("card", self.per_card)
            self._sessions[session_id] = self._sessions.get(session_id, 0) + 1
            failures.append(now)
            return Attempt(self, key, now)

    def _withdraw(self, card: bytes, at: float) -> None:
        with self._lock:
            times = self._cards.get(card)
            if times is not None and at in times:
                times.remove(at)

    def end_session(self, session_id: str) -> None:
        """Forget a finished session's count (the card's failures stay for their window)."""
        with self._lock:
            self._sessions.pop(session_id, None)
