"""`kiosk card ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="card commands.", no_args_is_help=True)


def register(root: typer.Typer) -> None:
    root.add_typer(app, name="card")
