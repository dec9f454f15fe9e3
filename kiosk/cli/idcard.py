"""`kiosk idcard ...`: read a resident ID card, show the SAM, emulate a reader for the demo."""

from __future__ import annotations

import datetime as dt
import signal
import threading
from typing import Annotated

import typer

from drivers.idcard.driver import IdCardReader
from drivers.idcard.emulator import PROFILES, make_emulator
from drivers.idcard.errors import IdCardError, IdCardNoCardError
from drivers.personal import Masked
from kiosk.cli.common import fail, load_or_exit
from kiosk.privacy import dumps

app = typer.Typer(
    help="Resident ID card reader (SAM_A module): read a card, show the SAM, emulate one.",
    no_args_is_help=True,
)

PortOption = Annotated[
    str | None, typer.Option("--port", "-p", help="Serial port (default: [idcard] port).")
]


def register(root: typer.Typer) -> None:
    """Add the `idcard` group to the root CLI."""
    root.add_typer(app, name="idcard")


def _reader(ctx: typer.Context, port: str | None) -> IdCardReader:
    section = load_or_exit(ctx).config.idcard
    reader = IdCardReader(section.to_settings(port=port))
    try:
        reader.open()
    except IdCardError as e:
        raise fail(f"ID card reader: {e}", 2) from None
    return reader


@app.command()
def read(
    ctx: typer.Context,
    port: PortOption = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for a card.")] = 10.0,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Show personal values unmasked.")
    ] = False,
) -> None:
    """Wait for an ID card, read it and print the holder, masked unless --reveal.

    The photo is never decoded (no licensed WLT decoder ships) nor printed. Exit status 0 on a
    read, 1 when no card came, 2 on a reader or card error."""
    reader = _reader(ctx, port)
    try:
        if not reader.wait_for_card(wait):
            raise fail(f"No ID card was placed on the reader within {wait:g} s.", 1)
        result = reader.read(today=dt.date.today())
    except IdCardNoCardError as e:
        raise fail(f"ID card: {e}", 1) from None
    except IdCardError as e:
        raise fail(f"ID card: {e}", 2) from None
    finally:
        reader.close()
    data = result.holder.to_dict()
    result.photo.wipe()
    if as_json:
        if not reveal:
            data = {k: v.masked if isinstance(v, Masked) else v for k, v in data.items()}
        typer.echo(dumps(data, reveal=reveal, indent=2))
        return
    for key, value in data.items():
        shown = value.reveal() if reveal and isinstance(value, Masked) else str(value)
        typer.echo(f"{key:<13} {shown}")
    if result.holder.expired(dt.date.today()):
        typer.echo("This ID card has expired.")


@app.command()
def info(ctx: typer.Context, port: PortOption = None) -> None:
    """Print the SAM's id and whether a card is on the reader."""
    reader = _reader(ctx, port)
    try:
        typer.echo(f"port:    {reader.settings.port}")
        typer.echo(f"SAM id:  {reader.sam_id()}")
        typer.echo(f"card:    {'present' if reader.card_present() else 'none'}")
        typer.echo("photo:   kept opaque (no licensed WLT decoder installed)")
    except IdCardError as e:
        raise fail(f"ID card reader: {e}", 2) from None
    finally:
        reader.close()


@app.command()
def emulate(
    ctx: typer.Context,
    profile: Annotated[
        str | None, typer.Option(help=f"Card on the reader: {', '.join(PROFILES)}.")
    ] = None,
    link: Annotated[
        str | None, typer.Option("--link", help="Symlink to create (default: [idcard] port).")
    ] = None,
    list_profiles: Annotated[bool, typer.Option("--list", help="List the card profiles.")] = False,
) -> None:
    """Run an emulated reader on a pseudo-terminal until Ctrl-C (demo and development only)."""
    if list_profiles:
        for p in PROFILES.values():
            typer.echo(f"{p.name:<16} {p.description}")
        return
    section = load_or_exit(ctx).config.idcard
    name = profile or section.emulator_profile
    if name not in PROFILES:
        raise fail(f"Unknown ID card profile {name!r}; known: {', '.join(PROFILES)}", 2)
    where = link or section.port
    emulator = make_emulator(where, profile=name, baudrate=section.baudrate)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    try:
        emulator.start()
    except OSError as e:
        raise fail(f"Cannot create the emulated port at {where}: {e.strerror}") from None
    typer.echo(f"Emulated ID card reader at {where} with card {name!r}. Ctrl-C stops it.")
    try:
        done.wait()
    finally:
        emulator.stop()
