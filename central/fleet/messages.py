"""Inbound fleet messages: MQTT topic + payload → typed updates, validated with kiosk.contract.

Pure (no I/O, no clock). Everything a terminal sends is untrusted: any failure becomes a
`MalformedMessageError` naming the terminal when the topic did, never another exception.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from central.fleet.errors import MalformedMessageError
from kiosk.contract import (
    BusinessEvent,
    Channel,
    CommandAck,
    ContractError,
    Envelope,
    EventKind,
    SessionStats,
    StaffAlert,
    StatusMessage,
    Telemetry,
    decode,
    parse_topic,
)

__all__ = [
    "AckUpdate",
    "AlertUpdate",
    "FleetMessage",
    "Journey",
    "JourneyUpdate",
    "StatusUpdate",
    "TelemetryUpdate",
    "UnusableMessageError",
    "parse_message",
]


@dataclass(frozen=True, slots=True)
class StatusUpdate:
    """Presence: `state` is online, offline (the last will) or stopped (clean exit)."""

    state: str
    boot_id: str = ""
    version: str = ""
    maintenance: bool = False


@dataclass(frozen=True, slots=True)
class TelemetryUpdate:
    """The parts of a telemetry message the monitor shows. Seconds, counts."""

    boot_id: str = ""
    version: str = ""
    health: dict[str, str] = field(default_factory=dict)
    # device → condition behind its health (the printer's paper_near_end, cover_open...)
    device_details: dict[str, str] = field(default_factory=dict)
    backlog: int | None = None
    oldest_unsent_s: float | None = None
    dead: int | None = None
    uptime_s: float | None = None
    sessions: int | None = None
    errors: int | None = None
    maintenance: bool = False
    historical: bool = False


@dataclass(frozen=True, slots=True)
class AckUpdate:
    """A command acknowledgement: accepted, rejected, succeeded or failed."""

    command_id: str
    state: str
    detail: str = ""
    result: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class AlertUpdate:
    """A staff alert (``staff_alert`` event): where help is needed, never who needs it."""

    alert_id: str
    reason: str
    step: str = ""
    hall: str = ""
    site: str = ""
    raised_at: float = 0.0


@dataclass(frozen=True, slots=True)
class Journey:
    """One journey of a session: service, outcome (completed/abandoned/failed), failure code."""

    service: str
    outcome: str
    failure: str = ""
    duration_s: float = 0.0


@dataclass(frozen=True, slots=True)
class JourneyUpdate:
    """A finished session's journeys (``session_stats`` event); `msg_id` de-duplicates
    redeliveries of the event."""

    msg_id: str
    journeys: tuple[Journey, ...] = ()


FleetMessage = StatusUpdate | TelemetryUpdate | AckUpdate | AlertUpdate | JourneyUpdate


class UnusableMessageError(MalformedMessageError):
    """Carries the terminal id parsed from the topic (None when the topic was not ours)."""

    def __init__(self, terminal_id: str | None, message: str) -> None:
        super().__init__(message)
        self.terminal_id = terminal_id


def parse_message(topic_name: str, payload: bytes) -> tuple[str, FleetMessage] | None:
    """`(terminal_id, update)` for a status, telemetry or cmd/ack message, or a staff alert /
    journey statistics event.

    Returns None for a message the monitor ignores on purpose: another channel, or an empty
    retained status (a cleared retained message). Raises `UnusableMessageError` (reason in its
    message: the contract's stable reason first) for a bad topic, bad JSON, wrong schema, an
    unsupported contract version, an oversized payload, or a payload whose `terminal_id` is not
    the one in its topic (a terminal may speak only for itself).
    """
    parsed = parse_topic(topic_name)
    if parsed is None:
        raise UnusableMessageError(None, "bad_topic")
    terminal_id, channel = parsed
    if channel not in (Channel.STATUS, Channel.TELEMETRY, Channel.CMD_ACK, Channel.EVENTS):
        return None
    if not payload and channel is Channel.STATUS:
        return None
    try:
        if channel is Channel.EVENTS:
            return _event(terminal_id, payload)
        if channel is Channel.STATUS:
            s = decode(StatusMessage, payload)
            _same_terminal(terminal_id, s)
            return terminal_id, StatusUpdate(
                state=s.state.value,
                boot_id=s.boot_id,
                version=s.software_version,
                maintenance=s.maintenance,
            )
        if channel is Channel.TELEMETRY:
            t = decode(Telemetry, payload)
            _same_terminal(terminal_id, t)
            return terminal_id, TelemetryUpdate(
                boot_id=t.boot_id,
                version=t.software_version,
                health=dict(t.devices),
                device_details=dict(t.device_details),
                backlog=t.outbox_depth,
                oldest_unsent_s=t.outbox_oldest_age_s,
                dead=t.dead_rows,
                uptime_s=t.uptime_s,
                sessions=t.sessions,
                errors=sum(t.errors.values()),
                maintenance=t.maintenance,
                historical=t.historical,
            )
        a = decode(CommandAck, payload)
        _same_terminal(terminal_id, a)
        return terminal_id, AckUpdate(
            command_id=a.command_id, state=a.status.value, detail=a.detail, result=a.result
        )
    except ContractError as e:
        raise UnusableMessageError(terminal_id, f"{e.reason}: {e.detail}"[:200]) from None


def _event(terminal_id: str, payload: bytes) -> tuple[str, FleetMessage] | None:
    """Staff alerts and journey statistics; every other business event is none of the
    monitor's business (it may carry personal data) and is dropped unread beyond its kind."""
    e = decode(BusinessEvent, payload)
    _same_terminal(terminal_id, e)
    if e.kind is EventKind.STAFF_ALERT:
        a = decode(StaffAlert, e.data)
        return terminal_id, AlertUpdate(
            alert_id=a.alert_id,
            reason=a.reason.value,
            step=a.step,
            hall=a.hall,
            site=a.site,
            raised_at=a.raised_at or e.wall,
        )
    if e.kind is EventKind.SESSION_STATS:
        stats = decode(SessionStats, e.data)
        return terminal_id, JourneyUpdate(
            msg_id=e.msg_id,
            journeys=tuple(
                Journey(j.service, j.outcome, j.failure, j.duration_s) for j in stats.journeys
            ),
        )
    return None


def _same_terminal(terminal_id: str, message: Envelope) -> None:
    if message.terminal_id != terminal_id:
        raise ContractError("schema", "terminal_id differs from the topic")
