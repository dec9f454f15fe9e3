"""`kiosk card psam|bank|check-production`: card security commands."""

from __future__ import annotations

import typer


def register(root: typer.Typer) -> None:
    """Adds its commands to the `card` group defined in kiosk.cli.card."""
