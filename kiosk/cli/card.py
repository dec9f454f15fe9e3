"""`kiosk card read|readers|verify-pin|change-pin`: the card commands of the technician CLI."""

from __future__ import annotations

import os
import sys
import termios
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, BinaryIO

import typer

from drivers.card.driver import CardDriver
from drivers.card.errors import (
    CardError,
    CardRemovedError,
    CardTimeoutError,
    PinBlockedError,
    PinNotEnabledError,
    PinWrongError,
    ReaderError,
)
from drivers.card.holder import CardHolder
from drivers.card.reader import card_present
from drivers.card.settings import CardSettings
from drivers.personal import Masked, PinBuffer, PinFormatError
from kiosk.cli.common import fail, load_or_exit
from kiosk.privacy import dumps

if TYPE_CHECKING:
    from kiosk.card_access import IssuerOnly

__all__ = ["EXIT_CODES", "app", "register"]

app = typer.Typer(help="Card reader and social security card.", no_args_is_help=True)

# Exit status per failure, stable for scripts (0 = success).
EXIT_CODES: dict[type[CardError], int] = {
    PinWrongError: 2,
    PinBlockedError: 3,
    PinNotEnabledError: 4,
    CardRemovedError: 5,
    CardTimeoutError: 5,
    ReaderError: 6,
}

ReaderOpt = Annotated[
    str | None, typer.Option("--reader", "-r", help="Reader name or part of it (default: config).")
]
TimeoutOpt = Annotated[
    float | None, typer.Option("--timeout", help="Seconds to wait for a card (default: config).")
]
PinStdinOpt = Annotated[
    bool, typer.Option("--pin-stdin", help="Read the PIN(s) from stdin, one per line.")
]
PinPadOpt = Annotated[
    bool, typer.Option("--pin-pad", help="Enter the PIN on the reader's PIN pad.")
]


def register(root: typer.Typer) -> None:
    """Add the `card` group to the root CLI (other card modules add to `app`)."""
    root.add_typer(app, name="card")


def _settings(ctx: typer.Context, timeout: float | None) -> CardSettings:
    settings = load_or_exit(ctx).config.card.driver_settings()
    if timeout is not None:
        settings = replace(settings, insert_timeout_s=timeout)
    return settings


def _exit_for(err: CardError) -> typer.Exit:
    code = next((c for t, c in EXIT_CODES.items() if isinstance(err, t)), 1)
    if isinstance(err, PinWrongError):
        return fail(f"wrong PIN: {err.tries_left} tries left", code)
    return fail(f"card error [{err.code.value}]: {err}", code)


def _read_pin_bytes(stream: BinaryIO, fd: int | None) -> PinBuffer:
    """Read one line of digits byte by byte into a PinBuffer: the PIN never becomes a str."""
    pin = PinBuffer()
    try:
        while True:
            b = os.read(fd, 1) if fd is not None else stream.read(1)
            if not b or b in (b"\n", b"\r"):
                break
            pin.push(b[0])
    except PinFormatError:
        pin.wipe()
        raise
    return pin


def _prompt_pin(prompt: str, from_stdin: bool) -> PinBuffer:
    """A PIN from stdin (--pin-stdin) or a hidden prompt on the terminal (echo off)."""
    if from_stdin:
        return _read_pin_bytes(sys.stdin.buffer, None)
    try:
        fd = os.open("/dev/tty", os.O_RDWR | os.O_NOCTTY)
    except OSError:
        raise fail("no terminal for a hidden PIN prompt: use --pin-stdin", 1) from None
    try:
        old = termios.tcgetattr(fd)
        new = termios.tcgetattr(fd)
        new[3] &= ~(termios.ECHO | termios.ICANON)
        os.write(fd, prompt.encode())
        termios.tcsetattr(fd, termios.TCSAFLUSH, new)
        try:
            return _read_pin_bytes(sys.stdin.buffer, fd)
        finally:
            termios.tcsetattr(fd, termios.TCSAFLUSH, old)
            os.write(fd, b"\n")
    finally:
        os.close(fd)


def _print_holder(holder: CardHolder | IssuerOnly, *, as_json: bool, reveal: bool) -> None:
    data = holder.to_dict()
    if as_json:
        if not reveal:
            # Masked output on purpose: the masks themselves are safe to print.
            data = {k: v.masked if isinstance(v, Masked) else v for k, v in data.items()}
        typer.echo(dumps(data, reveal=reveal, indent=2))
        return
    for key, value in data.items():
        shown = value.reveal() if reveal and hasattr(value, "reveal") else str(value)
        typer.echo(f"{key:<12} {shown}")


@app.command("readers")
def readers_cmd(ctx: typer.Context) -> None:
    """List the PC/SC readers and whether a card is in each."""
    driver = CardDriver(_settings(ctx, None))
    try:
        names = driver.readers()
    except CardError as e:
        raise _exit_for(e) from None
    if not names:
        raise fail("no card reader connected", 6)
    for name in names:
        try:
            state = "card" if card_present(name) else "empty"
        except CardError:
            state = "unknown"
        typer.echo(f"{name}\t{state}")


@app.command("read")
def read_cmd(
    ctx: typer.Context,
    reader: ReaderOpt = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print JSON.")] = False,
    reveal: Annotated[
        bool, typer.Option("--reveal", help="Show personal values unmasked.")
    ] = False,
    timeout: TimeoutOpt = None,
    photo: Annotated[
        Path | None,
        typer.Option("--photo", help="Save the holder's photo (EF08, JPEG) to FILE; needs a PSAM."),
    ] = None,
) -> None:
    """Wait for a card, read the holder (EF05 + EF06) and print it, masked unless --reveal."""
    # PSAM authentication (RKSSSE for 3rd-gen holder data and the photo) lives with the card
    # security commands; imported here because that module extends this one's `app`.
    from kiosk.cli.card_security import secure_read

    try:
        holder = secure_read(ctx, _settings(ctx, timeout), reader, photo)
    except CardError as e:
        raise _exit_for(e) from None
    _print_holder(holder, as_json=as_json, reveal=reveal)


@app.command("verify-pin")
def verify_pin_cmd(
    ctx: typer.Context,
    reader: ReaderOpt = None,
    pin_stdin: PinStdinOpt = False,
    pin_pad: PinPadOpt = False,
    timeout: TimeoutOpt = None,
) -> None:
    """VERIFY the card's PIN (never retried). Exit 2 wrong PIN, 3 blocked, 4 not enabled."""
    driver = CardDriver(_settings(ctx, timeout))
    pin: PinBuffer | None = None
    try:
        name = driver.wait_for_card(reader)
        if not pin_pad:
            pin = _prompt_pin("PIN: ", pin_stdin)
        with driver.open(name) as session:
            session.ssc.select()
            session.verify_pin(pin)
    except PinFormatError as e:
        raise fail(f"PIN format: {e}", 1) from None
    except CardError as e:
        raise _exit_for(e) from None
    finally:
        if pin is not None:
            pin.wipe()
    typer.echo("PIN verified")


@app.command("change-pin")
def change_pin_cmd(
    ctx: typer.Context,
    reader: ReaderOpt = None,
    pin_stdin: PinStdinOpt = False,
    pin_pad: PinPadOpt = False,
    timeout: TimeoutOpt = None,
) -> None:
    """CHANGE PIN (old, then new twice on a terminal; old and new lines with --pin-stdin)."""
    driver = CardDriver(_settings(ctx, timeout))
    old: PinBuffer | None = None
    new: PinBuffer | None = None
    again: PinBuffer | None = None
    try:
        name = driver.wait_for_card(reader)
        if not pin_pad:
            old = _prompt_pin("current PIN: ", pin_stdin)
            new = _prompt_pin("new PIN: ", pin_stdin)
            if not pin_stdin:
                again = _prompt_pin("new PIN again: ", False)
                if len(again) != len(new) or not _same(new, again):
                    raise fail("the new PINs differ", 1)
        with driver.open(name) as session:
            session.ssc.select()
            session.change_pin(old, new)
    except PinFormatError as e:
        raise fail(f"PIN format: {e}", 1) from None
    except CardError as e:
        raise _exit_for(e) from None
    finally:
        for buf in (old, new, again):
            if buf is not None:
                buf.wipe()
    typer.echo("PIN changed")


def _same(a: PinBuffer, b: PinBuffer) -> bool:
    # Compare the two entries of the new PIN without building strings (packed BCD bytearrays).
    x, y = a.packed_bcd(), b.packed_bcd()
    try:
        return x == y
    finally:
        for buf in (x, y):
            for i in range(len(buf)):
                buf[i] = 0
