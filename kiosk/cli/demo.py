"""`kiosk demo`: the whole kiosk on emulated hardware (what `make demo` runs)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Annotated

import typer

from kiosk.demo import DemoError, DemoOptions, run_demo

__all__ = ["register"]


def demo(
    profile: Annotated[
        str, typer.Option(help="Card profile in the reader (kiosk card emulate --list).")
    ] = "ssc3",
    once: Annotated[bool, typer.Option(help="Run every step once, then stop.")] = False,
    state_dir: Annotated[
        Path | None, typer.Option(help="Where the demo keeps its state (default var/demo).")
    ] = None,
) -> None:
    """Run the kiosk on emulated hardware with a local broker, central system and fleet monitor."""
    try:
        opts = DemoOptions(profile=profile, once=once)
        if state_dir is not None:
            opts = replace(opts, state_dir=state_dir.resolve())
        code = run_demo(opts, typer.echo)
    except DemoError as e:
        typer.echo(f"demo: {e}", err=True)
        raise typer.Exit(1) from None
    raise typer.Exit(code)


def register(root: typer.Typer) -> None:
    root.command("demo")(demo)
