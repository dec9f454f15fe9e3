"""The staff desk of the fleet monitor: staff alerts (call staff, card left in the reader,
repeated failures) with their acknowledgement, and each terminal's journeys per service with
their failure reasons. Pure, time injected, one lock; nothing personal ever gets here (the
contract's StaffAlert and SessionStats carry places, steps and codes only).

Events arrive at least once (the kiosk's outbox resends until the central receipts), so both
kinds are de-duplicated: alerts by `alert_id`, journeys by the event's `msg_id`.
"""

from __future__ import annotations

import logging
import threading
from collections import OrderedDict, deque
from dataclasses import dataclass
from typing import Any

from central.fleet.messages import AlertUpdate, JourneyUpdate
from central.fleet.state import Clock

__all__ = ["AlertRecord", "StaffDesk"]

logger = logging.getLogger("central.fleet.desk")

OUTCOMES = ("completed", "abandoned", "failed")


@dataclass
class AlertRecord:
    """One staff alert and who acknowledged it, when."""

    alert_id: str
    terminal_id: str
    reason: str
    step: str
    hall: str
    site: str
    raised_wall: float
    received_wall: float
    acked_wall: float | None = None
    acked_by: str = ""
    repeats: int = 0  # redeliveries of the same alert (not new alerts)

    def as_json(self) -> dict[str, Any]:
        return {
            "alert_id": self.alert_id,
            "terminal": self.terminal_id,
            "reason": self.reason,
            "step": self.step,
            "hall": self.hall,
            "site": self.site,
            "raised": self.raised_wall,
            "received": self.received_wall,
            "acked": self.acked_wall,
            "acked_by": self.acked_by,
            "open": self.acked_wall is None,
        }


class StaffDesk:
    """Alerts (newest kept up to `alerts_kept`) and journey counts per terminal and service."""

    def __init__(self, clock: Clock, *, alerts_kept: int = 500, journeys_seen: int = 50_000):
        self._clock = clock
        self._alerts: OrderedDict[str, AlertRecord] = OrderedDict()
        self._alerts_kept = alerts_kept
        self._journeys: dict[str, dict[str, dict[str, int]]] = {}
        self._failures: dict[str, dict[str, int]] = {}
        self._seen: set[str] = set()
        self._seen_order: deque[str] = deque()
        self._seen_max = journeys_seen
        self._rev = 0
        self._lock = threading.Lock()

    @property
    def revision(self) -> int:
        with self._lock:
            return self._rev

    # ---- writers (MQTT thread) -------------------------------------------------------------

    def apply_alert(self, terminal_id: str, a: AlertUpdate) -> bool:
        """Record an alert; False for a redelivery of one already known."""
        with self._lock:
            known = self._alerts.get(a.alert_id)
            if known is not None:
                known.repeats += 1
                return False
            self._alerts[a.alert_id] = AlertRecord(
                a.alert_id,
                terminal_id,
                a.reason,
                a.step,
                a.hall,
                a.site,
                a.raised_at,
                self._clock.wall(),
            )
            while len(self._alerts) > self._alerts_kept:
                self._alerts.popitem(last=False)
            self._rev += 1
        logger.warning(
            "staff alert %s at %s (%s, step %s)", a.reason, terminal_id, a.hall or "?", a.step
        )
        return True

    def apply_journey(self, terminal_id: str, j: JourneyUpdate) -> bool:
        """Count a finished journey once; False for a redelivery."""
        with self._lock:
            if j.msg_id in self._seen:
                return False
            self._seen.add(j.msg_id)
            self._seen_order.append(j.msg_id)
            while len(self._seen_order) > self._seen_max:
                self._seen.discard(self._seen_order.popleft())
            services = self._journeys.setdefault(terminal_id, {})
            counts = services.setdefault(j.service, dict.fromkeys(OUTCOMES, 0))
            counts[j.outcome] = counts.get(j.outcome, 0) + 1
            if j.outcome != "completed" and j.reason:
                reasons = self._failures.setdefault(terminal_id, {})
                reasons[j.reason] = reasons.get(j.reason, 0) + 1
            self._rev += 1
            return True

    # ---- operator actions (web threads) ----------------------------------------------------

    def acknowledge(self, alert_id: str, by: str) -> dict[str, Any] | None:
        """Acknowledge an open alert (a second ack keeps the first); None when unknown."""
        with self._lock:
            alert = self._alerts.get(alert_id)
            if alert is None:
                return None
            if alert.acked_wall is None:
                alert.acked_wall = self._clock.wall()
                alert.acked_by = by
                self._rev += 1
                logger.info(
                    "staff alert %s at %s acknowledged by %s",
                    alert_id,
                    alert.terminal_id,
                    by or "operator",
                )
            return alert.as_json()

    # ---- readers -----------------------------------------------------------------------------

    def snapshot(self, alerts_shown: int = 100) -> dict[str, Any]:
        """Open alerts first (newest first), then the latest acknowledged; journeys per
        terminal and service; failure reasons per terminal."""
        with self._lock:
            alerts = list(reversed(self._alerts.values()))
            open_ = [a for a in alerts if a.acked_wall is None]
            done = [a for a in alerts if a.acked_wall is not None]
            shown = (open_ + done)[:alerts_shown]
            return {
                "rev": self._rev,
                "open_alerts": len(open_),
                "alerts": [a.as_json() for a in shown],
                "journeys": {
                    tid: {
                        "services": {s: dict(c) for s, c in sorted(services.items())},
                        "failures": dict(
                            sorted(self._failures.get(tid, {}).items(), key=lambda kv: -kv[1])
                        ),
                    }
                    for tid, services in sorted(self._journeys.items())
                },
            }
