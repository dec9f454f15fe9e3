"""Journey files end to end: the session runner on the real ports, the card emulator behind
pcscd, the scanner on a pty, a generated camera stream, mosquitto and the central."""

from __future__ import annotations

from kiosk.journeys.live import run_journey
from kiosk.journeys.rig import EmulatedHardware
from kiosk.journeys.runner import JourneyResult
from kiosk.journeys.spec import load_journey
from tests.fixtures.journeys import JourneyStack


def _run(stack: JourneyStack, rig: EmulatedHardware, name: str) -> JourneyResult:
    lines: list[str] = []
    result = run_journey(load_journey(name), rig, stack.backend(), say=lines.append)
    assert result.ok, "\n".join([*lines, *result.problems])

    return result


def test_query(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    _run(journey_stack, terminal, "query")


def test_payment(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    _run(journey_stack, terminal, "payment")


def test_activation(journey_stack: JourneyStack, terminal: EmulatedHardware) -> None:
    _run(journey_stack, terminal, "activation")
