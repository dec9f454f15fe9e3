"""`kiosk config ...`: validate, show and document the configuration."""

from __future__ import annotations

import json

import typer

from kiosk.cli.common import load_or_exit
from kiosk.config import KioskConfig

app = typer.Typer(help="Validate and inspect the configuration.", no_args_is_help=True)


@app.command()
def validate(ctx: typer.Context) -> None:
    """Load every layer and validate; exit 0 if the config is usable, 1 with the reasons if not."""
    loaded = load_or_exit(ctx)
    typer.echo("config OK: " + ", ".join(str(f) for f in loaded.files))


@app.command()
def show(ctx: typer.Context) -> None:
    """Print the effective config as JSON."""
    loaded = load_or_exit(ctx)
    typer.echo(json.dumps(loaded.config.model_dump(mode="json"), indent=2, ensure_ascii=False))


@app.command()
def schema() -> None:
    """Print the JSON schema of the config: every key, bound and description."""
    typer.echo(json.dumps(KioskConfig.model_json_schema(), indent=2, ensure_ascii=False))


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="config")
