"""The session's outbox and staff-alert ports on the journal.

Consent decisions, technician audit records, session statistics, applications and staff
alerts become journal outbox rows, delivered to the central exactly once by their key when the
broker is there (kiosk/sync/drain.py), queued meanwhile. Payloads are checked for what must
never be in them (a biometric sample, a PIN, bytes); a row holding a personal value (`Masked`,
revealed only into the row) is of data class personal, encrypted at rest and purged early.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Mapping
from typing import Any

from drivers.personal import Masked, PinBuffer
from kiosk.clock import Clock
from kiosk.config.terminal import TerminalConfig
from kiosk.contract import EventKind, StaffAlert, StaffAlertReason
from kiosk.journal.store import DataClass, Journal

__all__ = ["JournalAlerts", "JournalOutbox", "UnsafePayloadError"]

log = logging.getLogger("kiosk.journeys.outbox")

_CLASS: dict[EventKind, DataClass] = {
    EventKind.CONSENT: DataClass.AUDIT,
    EventKind.AUDIT: DataClass.AUDIT,
    EventKind.SESSION_STATS: DataClass.OPERATIONAL,
    EventKind.STAFF_ALERT: DataClass.OPERATIONAL,
    EventKind.APPLICATION: DataClass.PERSONAL,
    EventKind.REGISTRATION: DataClass.PERSONAL,
}
_FORBIDDEN_KEYS = frozenset(
    {"pin", "photo", "image", "frame", "template", "embedding", "fingerprint_template"}
)


class UnsafePayloadError(ValueError):
    """A payload holds what the journal must never keep (a PIN, biometric or binary data)."""

    code = "outbox.unsafe_payload"


def _plain(payload: Any, found: list[str], path: str = "") -> Any:
    """The payload as plain JSON data; personal values (`Masked`) revealed into it and their
    keys listed in `found` (the row is then encrypted at rest, data class personal). Raises
    `UnsafePayloadError` naming the key of a PIN, binary or biometric value."""
    if isinstance(payload, Masked):
        found.append(path.rstrip(".") or "payload")
        return payload.reveal()
    if isinstance(payload, PinBuffer | bytes | bytearray | memoryview):
        raise UnsafePayloadError(f"{path or 'payload'}: PIN or binary value refused")
    if isinstance(payload, Mapping):
        out: dict[str, Any] = {}
        for k, v in payload.items():
            if str(k).lower() in _FORBIDDEN_KEYS:
                raise UnsafePayloadError(f"{path}{k}: never journaled")
            out[str(k)] = _plain(v, found, f"{path}{k}.")
        return out
    if isinstance(payload, list | tuple | set | frozenset):
        return [_plain(v, found, path) for v in payload]
    if payload is None or isinstance(payload, str | int | float | bool):
        return payload
    return str(payload)


class JournalOutbox:
    """`OutboxPort`: one outbox row per key (a retried effect with the same key is a no-op in
    this process; the central applies each row's own key once)."""

    def __init__(self, journal: Journal, *, wake: Callable[[], None] = lambda: None) -> None:
        self._journal = journal
        self._wake = wake
        self._seen: set[str] = set()
        self._lock = threading.Lock()

    def record(self, kind: str, payload: Mapping[str, Any], key: str) -> None:
        event = EventKind(kind)
        personal: list[str] = []
        data = _plain(payload, personal)
        if key:
            data["event_key"] = key
            with self._lock:
                if key in self._seen:
                    return
                self._seen.add(key)
        data_class = DataClass.PERSONAL if personal else _CLASS.get(event, DataClass.AUDIT)
        msg_id = self._journal.enqueue_event(event, data, data_class)
        log.debug("outbox %s %s", event.value, msg_id)
        self._wake()


_REASONS: dict[str, StaffAlertReason] = {
    "call_staff": StaffAlertReason.CALL_STAFF,
    "card_left": StaffAlertReason.CARD_LEFT,
    "repeated_failure": StaffAlertReason.REPEATED_FAILURES,
    "repeated_failures": StaffAlertReason.REPEATED_FAILURES,
    "device_fault": StaffAlertReason.DEVICE_FAULT,
}


class JournalAlerts:
    """`AlertsPort`: a `staff_alert` event with terminal (the envelope), hall, site and step;
    never personal data. Reasons without their own word (consent refused...) call staff."""

    def __init__(
        self,
        journal: Journal,
        terminal: TerminalConfig,
        clock: Clock,
        *,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self._journal = journal
        self._terminal = terminal
        self._clock = clock
        self._wake = wake

    def raise_alert(self, reason: str, step: str) -> None:
        alert = StaffAlert(
            alert_id=uuid.uuid4().hex,
            reason=_REASONS.get(reason, StaffAlertReason.CALL_STAFF),
            step=step[:60],
            hall=self._terminal.site[:60],
            site=self._terminal.site[:60],
            raised_at=self._clock.wall(),
        )
        self._journal.enqueue_event(
            EventKind.STAFF_ALERT, alert.model_dump(mode="json"), DataClass.OPERATIONAL
        )
        log.info("staff alert %s at step %s", alert.reason.value, alert.step)
        self._wake()
