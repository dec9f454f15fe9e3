"""The machine's state: frozen data, replaced (never mutated) by each transition."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, replace
from types import MappingProxyType
from typing import Any

from drivers.card.holder import CardHolder
from drivers.vocabulary import DeviceEvent, DeviceHealth, DeviceKind
from kiosk.config.session import PolicyConfig, SessionConfig
from kiosk.session.effects import Effect
from kiosk.session.events import Event
from kiosk.session.intents import Intent
from kiosk.session.states import StateName
from kiosk.session.stats import Stats

__all__ = [
    "Input",
    "MachineState",
    "Policy",
    "Session",
    "Terminal",
    "Transition",
    "frozen_map",
]

Input = Intent | Event | DeviceEvent
"""What `step` takes: an intent, a session event, or a driver's device event (mapped)."""
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def frozen_map(values: Mapping[str, Any] | None = None, **more: Any) -> Mapping[str, Any]:
    """A read-only copy of `values` updated with `more` (state data is never mutated)."""
    merged = dict(values or {})
    merged.update(more)
    return MappingProxyType(merged)


@dataclass(frozen=True, slots=True)
class Policy:
    """Everything the machine is configured with (built once from the config)."""

    session: SessionConfig = field(default_factory=SessionConfig)  # type: ignore[arg-type]
    policy: PolicyConfig = field(default_factory=PolicyConfig)  # type: ignore[arg-type]
    terminal_id: str = "SSK-TEST-0001"
    default_language: str = "zh_CN"
    technician_secret: bytes = field(default=b"", repr=False)
    card_reader: str = ""  # reader name of the citizen's card (device events); "" = any
    essc_login: bool = False  # the attract screen offers the e-SSC QR login (camera + central)
    idcard_login: bool = False  # ... and the ID card login (ID card reader, camera, central)
    new_key: Callable[[], str] = field(default=lambda: uuid.uuid4().hex, compare=False)

    def factor(self, elderly: bool) -> float:
        return self.session.elderly_factor if elderly else 1.0


@dataclass(frozen=True, slots=True)
class Terminal:
    """What outlives a citizen session: devices, link, maintenance, statistics."""

    devices: Mapping[DeviceKind, DeviceHealth] = field(
        default_factory=lambda: MappingProxyType({})
    )
    central_online: bool = True
    maintenance_remote: bool = False
    technician: bool = False
    technician_failures: int = 0
    technician_locked_until: float = 0.0
    card_present: bool = False
    stats: Stats = field(default_factory=Stats)

    def health(self, kind: DeviceKind) -> DeviceHealth:
        # A device never reported is assumed online (the app reports faults as they happen).
        return self.devices.get(kind, DeviceHealth.ONLINE)

    def device_ok(self, name: str) -> bool:
        return self.health(DeviceKind(name)) is DeviceHealth.ONLINE

    def reported_ok(self, kind: DeviceKind) -> bool:
        """An optional device (the ID card reader) counts only once it reported online."""
        return self.devices.get(kind) is DeviceHealth.ONLINE

    def out_of_service(self) -> bool:
        return self.maintenance_remote or not self.device_ok(DeviceKind.CARD_READER)


@dataclass(frozen=True, slots=True)
class Session:
    """One citizen's session: everything here is wiped (dropped) when it ends."""

    id: str
    started_at: float
    holder: CardHolder | None = None
    expired: bool = False
    proven: frozenset[str] = frozenset()
    token: str = field(default="", repr=False)
    service: str = ""
    service_started_at: float = 0.0
    face_attempts: int = 0
    finger_attempts: int = 0
    pin_tries_left: int | None = None
    pending: str = ""  # id of the answer the current state waits for
    confirmed: frozenset[str] = frozenset()  # payment keys armed by a Confirm
    data: Mapping[str, Any] = field(default_factory=lambda: _EMPTY)
    restricted: bool = False  # card reported lost: only the cancellation is offered
    journeys: tuple[tuple[str, str, float, str], ...] = ()  # (service, outcome, s, reason)
    login: str = "card"  # "card", "essc" (the e-SSC code stood in for card + PIN), or
    # "idcard": the ID card and the central's face match, records lookup only
    print_failures: int = 0  # prints that failed in this session (session_stats)

    def with_data(self, **values: Any) -> Session:
        return replace(self, data=frozen_map(self.data, **values))


@dataclass(frozen=True, slots=True)
class MachineState:
    """The whole machine: the current state, its timer, the terminal and the session."""

    name: StateName = StateName.IDLE
    terminal: Terminal = field(default_factory=Terminal)
    session: Session | None = None
    entered_at: float = 0.0
    activity_at: float = 0.0  # last citizen input in this state (inactivity timer)
    extensions_used: int = 0
    now: float = 0.0  # the latest time the machine was told
    language: str = "zh_CN"
    elderly: bool = False
    staff_called: bool = False
    revealed: frozenset[str] = frozenset()
    notice: str = ""  # message key of a one-screen notice (e.g. why the session ended)
    back_to: StateName = StateName.IDLE  # where TECHNICIAN_LOGIN returns to


@dataclass(frozen=True, slots=True)
class Transition:
    """The result of one step."""

    state: MachineState
    effects: tuple[Effect, ...] = ()
