"""The fleet's state: pure, fed with parsed messages, time injected; read as revisioned deltas.

Threads: the MQTT adapter writes (on paho's network thread), the web server reads (one thread per
request); one lock guards everything, and nothing inside it blocks or does I/O.
"""

from __future__ import annotations

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Protocol

from central.fleet.messages import AckUpdate, StatusUpdate, TelemetryUpdate

__all__ = [
    "ACK_STATES",
    "Clock",
    "CommandRecord",
    "FleetState",
    "Presence",
    "TerminalRecord",
]

# Presence words on the status topic, plus `unknown` before the first status arrives.
PRESENCE_VALUES = ("online", "offline", "stopped", "unknown")
Presence = str

# Command states in the order they may follow each other. `sent` and `expired` are ours; the others
# come from the terminal's cmd/ack. A final state is never overwritten by a late, lesser one
# (QoS 1 may deliver `accepted` after `succeeded` on redelivery).
ACK_STATES = ("sent", "accepted", "in_progress", "rejected", "succeeded", "failed", "expired")
_RANK = {"sent": 0, "accepted": 1, "in_progress": 2}
_FINAL = {"rejected", "succeeded", "failed", "expired"}
# A command's result (e.g. collect_logs' redacted log tail) is kept up to this size per command;
# it is served on request, never pushed in the live stream.
MAX_RESULT_BYTES = 128 * 1024


class Clock(Protocol):
    """Monotonic seconds for ages and windows, wall seconds for what operators read."""

    def monotonic(self) -> float: ...

    def wall(self) -> float: ...


@dataclass
class CommandRecord:
    """One remote command sent from this monitor and what the terminal said about it."""

    command_id: str
    name: str
    state: str
    sent_wall: float
    expires_wall: float
    updated_wall: float
    detail: str = ""
    result: dict[str, Any] = field(default_factory=dict)

    def as_json(self, with_result: bool = False) -> dict[str, Any]:
        out: dict[str, Any] = {
            "command_id": self.command_id,
            "name": self.name,
            "state": self.state,
            "detail": self.detail,
            "sent": self.sent_wall,
            "expires": self.expires_wall,
            "updated": self.updated_wall,
            "has_result": bool(self.result),
        }
        if with_result:
            out["result"] = self.result
        return out


@dataclass
class TerminalRecord:
    """Everything the monitor knows about one terminal."""

    terminal_id: str
    presence: Presence = "unknown"
    boot_id: str = ""
    version: str = ""
    last_seen_mono: float | None = None
    last_seen_wall: float | None = None
    presence_since_wall: float | None = None
    health: dict[str, str] = field(default_factory=dict)
    device_details: dict[str, str] = field(default_factory=dict)
    backlog: int | None = None
    oldest_unsent_s: float | None = None
    dead: int | None = None
    uptime_s: float | None = None
    sessions: int | None = None
    errors: int | None = None
    maintenance: bool = False
    degraded: bool = False
    stale: bool = False
    flapping: bool = False
    transitions: deque[float] = field(default_factory=deque)  # monotonic times
    malformed: int = 0
    last_problem: str = ""
    commands: dict[str, CommandRecord] = field(default_factory=dict)  # insertion = send order
    rev: int = 0

    @property
    def health_summary(self) -> str:
        """`ok` when every device is online, `degraded` otherwise, `unknown` before telemetry."""
        if not self.health:
            return "unknown"
        return "ok" if all(v == "online" for v in self.health.values()) else "degraded"

    def set_health(self, health: dict[str, str]) -> None:
        self.health = health
        self.degraded = self.health_summary == "degraded"  # cached: counts run per viewer poll

    def as_json(self, now_mono: float) -> dict[str, Any]:
        last_cmd = next(reversed(self.commands.values()), None) if self.commands else None
        age = None if self.last_seen_mono is None else max(0.0, now_mono - self.last_seen_mono)
        return {
            "id": self.terminal_id,
            "presence": self.presence,
            "presence_since": self.presence_since_wall,
            "boot_id": self.boot_id,
            "version": self.version,
            "last_seen": self.last_seen_wall,
            "age_s": age,
            "health": self.health_summary,
            "devices": dict(self.health),
            "device_details": dict(self.device_details),
            "backlog": self.backlog,
            "oldest_unsent_s": self.oldest_unsent_s,
            "dead": self.dead,
            "uptime_s": self.uptime_s,
            "sessions": self.sessions,
            "errors": self.errors,
            "maintenance": self.maintenance,
            "stale": self.stale,
            "flapping": self.flapping,
            "transitions": len(self.transitions),
            "malformed": self.malformed,
            "problem": self.last_problem,
            "command": last_cmd.as_json() if last_cmd else None,
            "rev": self.rev,
        }


class FleetState:
    """All terminals, keyed by id. Every change bumps a global revision so readers ask for deltas.

    Time-dependent flags (stale, flapping, command expiry) are re-evaluated when read, so a
    terminal that goes silent turns stale without any message arriving.
    """

    def __init__(
        self,
        clock: Clock,
        *,
        stale_after_s: float,
        flap_window_s: float,
        flap_threshold: int,
        commands_kept: int = 5,
        reevaluate_every_s: float = 0.2,
    ) -> None:
        self._clock = clock
        self._reevaluate_every = reevaluate_every_s
        self._last_reevaluation: float | None = None
        self._counts_cache: tuple[int, dict[str, int]] = (-1, {})
        self._stale_after = stale_after_s
        self._flap_window = flap_window_s
        self._flap_threshold = flap_threshold
        self._commands_kept = commands_kept
        self._terminals: dict[str, TerminalRecord] = {}
        self._rev = 0
        self._lock = threading.Lock()
        self.malformed_total = 0
        self.ignored_wills = 0
        self.messages_applied = 0  # status + telemetry + acks taken in (health page, bench)

    # ---- writers (MQTT thread) -------------------------------------------------------------

    def apply_status(self, terminal_id: str, update: StatusUpdate) -> None:
        """A retained status message: birth `online`, Will `offline`, or clean `stopped`."""
        with self._lock:
            self.messages_applied += 1
            t = self._terminal(terminal_id)
            now = self._clock.monotonic()
            # A Will from an earlier boot can arrive after the next birth (Sparkplug bdSeq rule):
            # an `offline` whose boot id differs from the live session's is history, not news.
            if (
                update.state != "online"
                and t.presence == "online"
                and update.boot_id
                and t.boot_id
                and update.boot_id != t.boot_id
            ):
                self.ignored_wills += 1
                self._seen(t, now)
                self._touch(t)
                return
            if update.state != t.presence:
                was_known = t.presence != "unknown"
                t.presence = update.state
                t.presence_since_wall = self._clock.wall()
                if was_known:
                    t.transitions.append(now)
            if update.boot_id:
                t.boot_id = update.boot_id
            if update.version:
                t.version = update.version
            t.maintenance = update.maintenance
            self._seen(t, now)
            self._touch(t)

    def apply_telemetry(self, terminal_id: str, update: TelemetryUpdate) -> None:
        """A periodic telemetry message: health, backlog, counters. Proves the terminal alive."""
        with self._lock:
            self.messages_applied += 1
            t = self._terminal(terminal_id)
            if update.historical:
                # Replayed from the terminal's backlog: proves it is alive now, but its values
                # are old and must not overwrite the current picture (backfill never does).
                self._seen(t, self._clock.monotonic())
                self._touch(t)
                return
            if update.boot_id:
                t.boot_id = update.boot_id
            if update.version:
                t.version = update.version
            t.set_health(dict(update.health))
            t.device_details = dict(update.device_details)
            t.backlog = update.backlog
            t.oldest_unsent_s = update.oldest_unsent_s
            t.dead = update.dead
            t.uptime_s = update.uptime_s
            t.sessions = update.sessions
            t.errors = update.errors
            t.maintenance = update.maintenance
            if t.presence == "unknown":
                # Telemetry flows only over a live connection; the retained status may come later.
                t.presence = "online"
                t.presence_since_wall = self._clock.wall()
            self._seen(t, self._clock.monotonic())
            self._touch(t)

    def apply_ack(self, terminal_id: str, update: AckUpdate) -> bool:
        """A cmd/ack. Returns False when it names a command this monitor did not send."""
        with self._lock:
            self.messages_applied += 1
            t = self._terminal(terminal_id)
            self._seen(t, self._clock.monotonic())
            cmd = t.commands.get(update.command_id)
            if cmd is None:
                self._touch(t)
                return False
            if cmd.state not in _FINAL and (
                update.state in _FINAL or _RANK.get(update.state, 0) > _RANK.get(cmd.state, 0)
            ):
                cmd.state = update.state
                cmd.detail = update.detail
                cmd.updated_wall = self._clock.wall()
                if update.result:
                    size = len(json.dumps(update.result))
                    cmd.result = (
                        update.result
                        if size <= MAX_RESULT_BYTES
                        else {"dropped": f"result of {size} bytes is over {MAX_RESULT_BYTES}"}
                    )
            self._touch(t)
            return True

    def record_command(
        self, terminal_id: str, command_id: str, name: str, expires_wall: float
    ) -> CommandRecord:
        """A command this monitor has just published; its state starts as `sent`."""
        with self._lock:
            t = self._terminals.get(terminal_id)
            if t is None:
                raise KeyError(terminal_id)
            now = self._clock.wall()
            cmd = CommandRecord(command_id, name, "sent", now, expires_wall, now)
            t.commands[command_id] = cmd
            while len(t.commands) > self._commands_kept:
                del t.commands[next(iter(t.commands))]
            self._touch(t)
            return cmd

    def ack_failed_locally(self, terminal_id: str, command_id: str, detail: str) -> None:
        """Mark a recorded command `failed` on our side (it never reached the broker)."""
        with self._lock:
            t = self._terminals.get(terminal_id)
            cmd = None if t is None else t.commands.get(command_id)
            if t is None or cmd is None:
                return
            cmd.state, cmd.detail, cmd.updated_wall = "failed", detail, self._clock.wall()
            self._touch(t)

    def note_malformed(self, terminal_id: str | None, reason: str) -> None:
        """A message that could not be used; counted on its terminal when the topic named one."""
        with self._lock:
            self.malformed_total += 1
            if terminal_id is None:
                return
            t = self._terminal(terminal_id)
            t.malformed += 1
            t.last_problem = reason
            self._touch(t)

    # ---- readers (web threads) -------------------------------------------------------------

    def command(self, terminal_id: str, command_id: str) -> dict[str, Any] | None:
        """One recent command of a terminal with its result, or None if not (or no longer) kept."""
        with self._lock:
            self._reevaluate()
            t = self._terminals.get(terminal_id)
            cmd = None if t is None else t.commands.get(command_id)
            return None if cmd is None else cmd.as_json(with_result=True)

    def knows(self, terminal_id: str) -> bool:
        with self._lock:
            return terminal_id in self._terminals

    def get(self, terminal_id: str) -> dict[str, Any] | None:
        """One terminal as JSON-ready data (after re-evaluating time flags), or None."""
        with self._lock:
            self._reevaluate()
            t = self._terminals.get(terminal_id)
            return None if t is None else t.as_json(self._clock.monotonic())

    def delta(self, since: int = 0) -> dict[str, Any]:
        """Terminals changed after revision `since` (all when 0), with fleet-wide counts.

        The result is JSON-ready: {"rev", "now", "full", "counts", "terminals"}. A reader that
        passes back `rev` next time gets only what changed since (the live stream does this).
        """
        with self._lock:
            self._reevaluate()
            now = self._clock.monotonic()
            full = since <= 0 or since > self._rev
            rows = [t.as_json(now) for t in self._terminals.values() if full or t.rev > since]
            return {
                "rev": self._rev,
                "now": self._clock.wall(),
                "full": full,
                "counts": self._counts(),
                "terminals": rows,
            }

    def counts(self) -> dict[str, int]:
        """Terminals per presence state, and how many are stale, flapping, degraded, backlogged."""
        with self._lock:
            self._reevaluate()
            return self._counts()

    @property
    def revision(self) -> int:
        with self._lock:
            return self._rev

    # ---- internals (lock held) -------------------------------------------------------------

    def _terminal(self, terminal_id: str) -> TerminalRecord:
        t = self._terminals.get(terminal_id)
        if t is None:
            t = self._terminals[terminal_id] = TerminalRecord(terminal_id)
        return t

    def _seen(self, t: TerminalRecord, now: float) -> None:
        t.last_seen_mono = now
        t.last_seen_wall = self._clock.wall()

    def _touch(self, t: TerminalRecord) -> None:
        self._rev += 1
        t.rev = self._rev
        self._flags(t, self._clock.monotonic(), self._clock.wall())

    def _flags(self, t: TerminalRecord, now: float, wall: float) -> bool:
        """Recompute stale, flapping and command expiry; True when anything changed."""
        while t.transitions and now - t.transitions[0] > self._flap_window:
            t.transitions.popleft()
        flapping = len(t.transitions) > self._flap_threshold
        # Silence is news only for a terminal that claims to be online (or never said otherwise);
        # an offline or stopped one is expected to be quiet.
        stale = (
            t.presence in ("online", "unknown")
            and t.last_seen_mono is not None
            and now - t.last_seen_mono > self._stale_after
        )
        changed = flapping != t.flapping or stale != t.stale
        t.flapping, t.stale = flapping, stale
        for cmd in t.commands.values():
            if cmd.state not in _FINAL and wall > cmd.expires_wall:
                cmd.state, cmd.detail, cmd.updated_wall = "expired", "no final ack", wall
                changed = True
        return changed

    def _reevaluate(self) -> None:
        now, wall = self._clock.monotonic(), self._clock.wall()
        # Every viewer's stream asks a few times a second; with 10,000 terminals a full pass
        # costs ~10 ms under the lock (bench/fleet_monitor.py), so viewers share one pass.
        last = self._last_reevaluation
        if last is not None and 0 <= now - last < self._reevaluate_every:
            return
        self._last_reevaluation = now
        for t in self._terminals.values():
            if self._flags(t, now, wall):
                self._rev += 1
                t.rev = self._rev

    def _counts(self) -> dict[str, int]:
        if self._counts_cache[0] == self._rev:
            return dict(self._counts_cache[1])
        ts = self._terminals.values()
        counts = {
            "total": len(self._terminals),
            "online": 0,
            "offline": 0,
            "stopped": 0,
            "unknown": 0,
        }
        for t in ts:
            counts[t.presence] += 1
        counts["stale"] = sum(t.stale for t in ts)
        counts["flapping"] = sum(t.flapping for t in ts)
        counts["degraded"] = sum(t.degraded for t in ts)
        counts["backlog"] = sum(bool(t.backlog) for t in ts)
        self._counts_cache = (self._rev, counts)
        return dict(counts)
