"""What every CLI command shares: loading the config and speaking plainly on failure."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import typer

from kiosk.config import ConfigError, LoadedConfig, load_config
from kiosk.logs import setup_logging

__all__ = ["CliState", "fail", "load_or_exit"]


@dataclass(slots=True)
class CliState:
    """Global options, kept on the click context object."""

    config_path: Path | None = None
    profile: str | None = None
    verbose: bool = False
    loaded: LoadedConfig | None = None


def fail(message: str, code: int = 1) -> typer.Exit:
    """Print `message` to stderr and return an Exit to raise."""
    typer.echo(message, err=True)
    return typer.Exit(code)


def load_or_exit(ctx: typer.Context) -> LoadedConfig:
    """Load the config from the global options; on error print every issue and exit 1."""
    state: CliState = ctx.ensure_object(CliState)
    if state.loaded is None:
        try:
            state.loaded = load_config(state.config_path, profile=state.profile)
        except ConfigError as e:
            raise fail(str(e)) from None
        logging_config = state.loaded.config.logging
        if state.verbose:
            logging_config = logging_config.model_copy(update={"level": "DEBUG"})
        setup_logging(logging_config)
    return state.loaded
