"""Entry point `kiosk`: global options, then one sub-command group per area."""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Annotated

import typer

from kiosk.cli.common import CliState

root = typer.Typer(
    help="Social security self-service kiosk: run, provision, check and operate a terminal.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)

# Each module has `register(root)`; the order is the order of `kiosk --help`.
COMMAND_MODULES = (
    "kiosk.cli.demo",
    "kiosk.cli.journey",
    "kiosk.cli.config_cmd",
    "kiosk.cli.card",
    "kiosk.cli.card_emulate",
    "kiosk.cli.card_security",
    "kiosk.cli.camera",
    "kiosk.cli.fingerprint",
    "kiosk.cli.idcard",
    "kiosk.cli.printer",
    "kiosk.cli.sync",
    "kiosk.cli.doctor",
    "kiosk.cli.provision",
)


@root.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Terminal config file (TOML).")
    ] = None,
    profile: Annotated[str | None, typer.Option(help="Config profile: test, demo.")] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="Debug logging.")] = False,
) -> None:
    """Global options."""
    ctx.obj = CliState(config_path=config, profile=profile, verbose=verbose)


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(root)


def run() -> None:
    """Console script entry point."""
    root()


if __name__ == "__main__":
    run()
