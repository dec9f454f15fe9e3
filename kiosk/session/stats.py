"""Operating statistics of the session machine (telemetry and `session_stats` events).

Counts only: journeys started, completed, abandoned and failed per service, failure reasons,
durations, cards left, staff calls. Never a personal value.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Stats"]


@dataclass(frozen=True, slots=True)
class Stats:
    """Immutable counters; `bump` returns a new object."""

    counters: tuple[tuple[str, float], ...] = ()

    def get(self, key: str) -> float:
        return dict(self.counters).get(key, 0)

    def bump(self, key: str, by: float = 1) -> Stats:
        values = dict(self.counters)
        values[key] = values.get(key, 0) + by
        return Stats(tuple(sorted(values.items())))

    def journey(self, service: str, outcome: str, duration_s: float, reason: str = "") -> Stats:
        """Count one journey's end (`outcome`: completed, abandoned, failed)."""
        out = self.bump(f"journeys.{service}.{outcome}").bump(
            f"duration_s.{service}", round(duration_s, 3)
        )
        return out.bump(f"failures.{reason}") if reason else out

    def as_dict(self) -> dict[str, Any]:
        """Nested for telemetry: {"journeys": {service: {outcome: n}}, "failures": {...}, ...}."""
        out: dict[str, Any] = {}
        for key, value in self.counters:
            node = out
            *parents, leaf = key.split(".")
            for part in parents:
                node = node.setdefault(part, {})
            node[leaf] = int(value) if float(value).is_integer() else value
        return out
