"""Entry point `kiosk`: global options, then one sub-command group per area."""

from __future__ import annotations

import importlib
import logging
import tomllib
from importlib.metadata import EntryPoint, entry_points
from pathlib import Path
from typing import Annotated

import typer

from kiosk.cli.common import CliState
from kiosk.config.loader import PROJECT_DIR

log = logging.getLogger("kiosk.cli")

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
# Entry point group through which other packages add commands (the touchscreen's: ui/cli.py).
COMMAND_GROUP = "kiosk.commands"


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


def command_plugins() -> list[EntryPoint]:
    """The `kiosk.commands` entry points: those the source tree's pyproject.toml declares (a
    checkout whose editable install predates a new plugin still finds it), then those of the
    installed distributions."""
    found: dict[str, EntryPoint] = {}
    pyproject = PROJECT_DIR / "pyproject.toml"
    if pyproject.is_file():
        project = tomllib.loads(pyproject.read_text(encoding="utf-8")).get("project", {})
        for name, value in project.get("entry-points", {}).get(COMMAND_GROUP, {}).items():
            found[name] = EntryPoint(name, str(value), COMMAND_GROUP)
    for ep in entry_points(group=COMMAND_GROUP):
        found.setdefault(ep.name, ep)
    return [found[name] for name in sorted(found)]


def _register_plugins() -> None:
    for ep in command_plugins():
        try:
            register = ep.load()
        except ImportError as e:  # e.g. a terminal without the touchscreen's packages
            log.warning("kiosk commands %s (%s) not available: %s", ep.name, ep.value, e)
            continue
        register(root)


for _name in COMMAND_MODULES:
    importlib.import_module(_name).register(root)
_register_plugins()


def run() -> None:
    """Console script entry point."""
    root()


if __name__ == "__main__":
    run()
