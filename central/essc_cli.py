"""`kiosk-central essc issue ID`: a test e-SSC QR code for the demo and the tests, as text and as
a QR image (the reference central plays the national platform: docs/essc-login.md)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import segno
import typer

from central.config import CentralConfigError, load_central_config, resolve_path
from central.errors import CentralError
from central.essc import EsscAuthority
from central.storage import open_storage

__all__ = ["essc_app"]

essc_app = typer.Typer(help="e-SSC QR codes (TEST platform key).", no_args_is_help=True)


@essc_app.command("issue")
def issue_command(
    ctx: typer.Context,
    id_number: Annotated[str, typer.Argument(help="The holder's ID number.")],
    terminal: Annotated[
        str | None, typer.Option(help="Only valid at this terminal (default: any).")
    ] = None,
    ttl: Annotated[float, typer.Option(help="Seconds the code stays valid (1..600).")] = 60.0,
    png: Annotated[Path | None, typer.Option(help="Also write the code as a QR image.")] = None,
) -> None:
    """Print a fresh e-SSC code for ID_NUMBER (valid once, for --ttl seconds)."""
    try:
        cfg = load_central_config(getattr(ctx.obj, "config_path", None))
    except CentralConfigError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None
    key_file = cfg.trust.essc_key_file
    try:
        authority = EsscAuthority.load(resolve_path(key_file) if key_file else None)
        with open_storage(cfg.storage) as db:
            token = authority.issue(db, id_number, ttl_s=ttl, terminal_id=terminal)
    except CentralError as e:
        typer.echo(f"kiosk-central: cannot issue: {e}", err=True)
        raise typer.Exit(2) from None
    typer.echo(token)
    if png is not None:
        segno.make(token, error="m", micro=False).save(str(png), scale=8, border=4)
        typer.echo(f"QR image written to {png}", err=True)
