"""`kiosk card psam|bank|check-production` and the PSAM side of `kiosk card read --photo`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from drivers.card.bank import read_bank_card
from drivers.card.driver import CardDriver
from drivers.card.errors import CardError
from drivers.card.holder import CardHolder
from drivers.card.settings import CardSettings
from kiosk.card_access import IssuerOnly, open_psam, production_findings, read_card
from kiosk.cli import card as card_cli
from kiosk.cli.common import fail, load_or_exit
from kiosk.config.psam import TakCredentialError
from kiosk.config.terminal import Mode

__all__ = ["IssuerOnly", "production_findings", "register", "secure_read"]


def secure_read(
    ctx: typer.Context, settings: CardSettings, reader: str | None, photo: Path | None
) -> CardHolder | IssuerOnly:
    """`kiosk card read`'s core: `kiosk.card_access.read_card`, its note on stderr, the photo
    written to `photo` (then wiped from memory)."""
    read = read_card(load_or_exit(ctx).config, settings, reader, want_photo=photo is not None)
    if read.note:
        typer.echo(read.note, err=True)
    if photo is not None and read.photo is not None:
        try:
            photo.write_bytes(read.photo.jpeg)
        finally:
            read.photo.wipe()
        typer.echo(f"photo saved to {photo}", err=True)
    return read.holder


def psam_cmd(ctx: typer.Context) -> None:
    """Show the PSAM's terminal number and algorithms (and check it in production mode)."""
    loaded = load_or_exit(ctx)
    settings = loaded.config.card.driver_settings()
    try:
        psam = open_psam(loaded.config, settings)
    except (CardError, TakCredentialError) as e:
        raise fail(f"PSAM error [{getattr(e, 'code', 'card.psam_untrusted')}]: {e}", 7) from None
    try:
        info = psam.info
        typer.echo(f"reader           {psam.reader}")
        typer.echo(f"terminal number  {info.terminal_number}")
        typer.echo("algorithms       " + ", ".join(a.label for a in info.algorithms))
        typer.echo("key usages       " + " ".join(f"{u:02X}" for u in info.usages))
        if info.key_version is not None:
            typer.echo(f"key version      {info.key_version}")
        if loaded.config.terminal.mode is Mode.PRODUCTION:
            typer.echo("trust            proved the terminal's TAK")
    finally:
        psam.channel.close()


def bank_cmd(
    ctx: typer.Context,
    reader: card_cli.ReaderOpt = None,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Show the card number unmasked.")
    ] = False,
    timeout: card_cli.TimeoutOpt = None,
) -> None:
    """Read the bank card number (the SSC's financial application or a bank card), masked."""
    settings = card_cli._settings(ctx, timeout)
    driver = CardDriver(settings)
    try:
        name = driver.wait_for_card(reader)
        with driver.open(name) as session:
            bank = read_bank_card(session.channel, deadline_s=settings.operation_timeout_s)
    except CardError as e:
        raise card_cli._exit_for(e) from None
    typer.echo(f"card number  {bank.pan.reveal() if reveal else bank.pan}")
    typer.echo(f"application  {bank.aid.hex().upper()} {bank.label}".rstrip())
    typer.echo(f"found by     {bank.found_by} (GPO format {bank.gpo_format})")


def check_production_cmd(ctx: typer.Context) -> None:
    """Check that this terminal is fit for production (exit 1 if any check fails)."""
    findings = production_findings(load_or_exit(ctx).config)
    for f in findings:
        typer.echo(f"{'PASS' if f.ok else 'FAIL'}  {f.check:<8} {f.detail}")
    if not all(f.ok for f in findings):
        raise typer.Exit(1)


def register(root: typer.Typer) -> None:
    """Add `psam`, `bank` and `check-production` to the `card` group of kiosk.cli.card."""
    del root
    card_cli.app.command("psam")(psam_cmd)
    card_cli.app.command("bank")(bank_cmd)
    card_cli.app.command("check-production")(check_production_cmd)
