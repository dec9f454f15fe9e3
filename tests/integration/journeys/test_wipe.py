"""After a session ends, nothing of the citizen is left in the session's ports or runner: the
whole object graph reachable from them is searched for the holder's ID number, name and card
number (as text, as bytes and inside `Masked` values), after a journey that read the card,
verified the PIN, opened a central session and queried the central."""

from __future__ import annotations

import gc
import types
from collections.abc import Iterable
from typing import Any

from drivers.card.emulator import read_profile
from drivers.personal import Masked
from kiosk.journal.store import Journal
from kiosk.journeys.live import LiveTerminal
from kiosk.journeys.rig import EmulatedHardware, profile_secrets
from kiosk.journeys.runner import JourneyRunner
from kiosk.journeys.spec import load_journey
from kiosk.services.payment import PaymentService
from kiosk.sync.rpc import RpcClient
from tests.fixtures.journeys import JourneyStack

# The agent's parts outlive every session by design (the journal keeps encrypted personal rows
# for their retention; the RPC client is the terminal's link): the search stops at them.
_AGENT_PARTS = (Journal, RpcClient, PaymentService)
_OPAQUE = (types.ModuleType, type, types.FunctionType, types.BuiltinFunctionType)


def _holding(roots: Iterable[object], secrets: list[str]) -> list[str]:
    """Where a secret is still reachable from `roots` (empty: nowhere)."""
    raw = [s.encode("utf-8") for s in secrets] + [s.encode("gbk", "ignore") for s in secrets]
    found: list[str] = []
    seen: set[int] = set()
    todo: list[tuple[object, str]] = [(r, type(r).__name__) for r in roots]
    while todo:
        obj, path = todo.pop()
        if id(obj) in seen or isinstance(obj, (*_OPAQUE, *_AGENT_PARTS)):
            continue
        seen.add(id(obj))
        if isinstance(obj, Masked):
            if any(s in obj.reveal() for s in secrets):
                found.append(f"{path}: Masked")
            continue
        if isinstance(obj, str):
            if any(s in obj for s in secrets):
                found.append(f"{path}: str")
            continue
        if isinstance(obj, bytes | bytearray):
            if any(r and r in obj for r in raw):
                found.append(f"{path}: bytes")
            continue
        referents: Any = gc.get_referents(obj)
        todo.extend((r, f"{path}>{type(r).__name__}") for r in referents)
    return found


def test_nothing_of_the_citizen_survives_the_session(
    journey_stack: JourneyStack, terminal: EmulatedHardware
) -> None:
    journey = load_journey("query")
    declared = read_profile(journey.card)
    secrets = [
        str(declared.id_number),  # type: ignore[union-attr]
        str(declared.name),  # type: ignore[union-attr]
        str(declared.card_number),  # type: ignore[union-attr]
    ]
    terminal.empty_slot()
    live = LiveTerminal(terminal.config(), journey_stack.backend()).start()
    try:
        assert live.outbox is not None and live.ports is not None and live.runner is not None
        # during the session the holder is there (the search does find it)...
        mid = JourneyRunner(
            journey.model_copy(update={"step": journey.step[:3]}),
            terminal,
            live,
            None,
            profile_secrets(journey.card),
        ).run()
        assert mid.ok, [p for s in mid.steps for p in s.problems]
        assert _holding([live.ports, live.runner], secrets)
        # ...and after it ended (cancel, card taken), nowhere
        rest = JourneyRunner(
            journey.model_copy(update={"step": journey.step[6:]}),
            terminal,
            live,
            None,
            profile_secrets(journey.card),
        ).run()
        assert rest.ok, [p for s in rest.steps for p in s.problems]
        assert live.runner.wait_idle(10)
        assert _holding([live.ports, live.runner], secrets) == []
    finally:
        live.stop()
