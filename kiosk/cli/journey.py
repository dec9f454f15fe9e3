"""`kiosk journey NAME`: one citizen journey, headless, on the emulated hardware, against a
running central system; each state's view is printed masked, then the outcome."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated

import typer

from kiosk.agent import state_dir
from kiosk.cli.common import fail, load_or_exit
from kiosk.journeys.spec import JOURNEYS_DIR, JourneyFileError, journey_names, load_journey

__all__ = ["EXIT_MISMATCH", "register"]

EXIT_MISMATCH = 2  # the journey ran but did not go as its file says


def journey(
    ctx: typer.Context,
    name: Annotated[
        str | None, typer.Argument(help="Journey in config/journeys (see --list).")
    ] = None,
    card: Annotated[
        str | None,
        typer.Option(
            "--card", help="Card profile instead of the journey's (kiosk card emulate --list)."
        ),
    ] = None,
    script: Annotated[
        Path | None, typer.Option("--script", help="Run this journey file instead of NAME.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the result as JSON.")] = False,
    list_: Annotated[bool, typer.Option("--list", help="List the journeys and exit.")] = False,
    connect_timeout: Annotated[
        float, typer.Option(help="Seconds to wait for the broker before starting.")
    ] = 15.0,
) -> None:
    """Run one journey headless on the emulated card, scanner and camera (root: the emulated
    reader lives in a network namespace). Exit 0 when every step and the outcome went as the
    journey file says, 2 when not, 1 when it could not run."""
    if list_:
        for known in journey_names():
            typer.echo(f"{known:<28} {load_journey(known).description}")
        return
    if script is None and name is None:
        raise fail(f"name a journey (one of: {', '.join(journey_names())}) or give --script")
    try:
        spec = load_journey(str(script) if script is not None else str(name), JOURNEYS_DIR)
    except JourneyFileError as e:
        raise fail(str(e)) from None
    if card is not None:
        spec = spec.model_copy(update={"card": card})
    if os.geteuid() != 0:
        raise fail("the emulated card reader lives in a network namespace: run as root")
    config = load_or_exit(ctx).config
    from kiosk.journeys.headless import headless_kiosk  # heavy imports only when it runs
    from kiosk.journeys.live import run_journey
    from kiosk.journeys.rig import HardwareError

    def say(line: str) -> None:
        if not as_json:
            typer.echo(line)

    try:
        with headless_kiosk(
            config, state_dir(config) / "journey", say=say, card_profile=spec.card
        ) as kiosk:
            if not kiosk.wait_online(connect_timeout):
                say(
                    f"warning: no broker at {config.mqtt.host}:{config.mqtt.port} yet: "
                    "online services will say the central is unreachable"
                )
            say(f"journey {spec.name}: {spec.description} (card {spec.card})")
            result = run_journey(spec, kiosk.hardware, kiosk.backend, say=say)
    except HardwareError as e:
        raise fail(f"journey: {e}") from None
    if as_json:
        typer.echo(json.dumps(result.to_dict(), ensure_ascii=False, indent=2))
    else:
        outcome = result.outcome
        if outcome is not None:
            journeys = ", ".join(
                f"{j.service}={j.result}" + (f" ({j.reason})" if j.reason else "")
                for j in outcome.journeys
            )
            typer.echo(f"outcome: session {outcome.reason}; {journeys or 'no service'}")
        for problem in [p for s in result.steps for p in s.problems] + result.problems:
            typer.echo(f"mismatch: {problem}")
        typer.echo(f"result={'pass' if result.ok else 'fail'} seconds={result.seconds:.2f}")
    if not result.ok:
        raise typer.Exit(EXIT_MISMATCH)


def register(root: typer.Typer) -> None:
    root.command("journey")(journey)
