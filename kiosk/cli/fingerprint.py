"""`kiosk fingerprint ...` commands: the holder's check against the central's reference
(`check`), and the technician tools: module info, enrol to a file, verify against a file,
self-test, emulate.

Only `check` is the citizen's path: the reference template comes from the central system over
RPC and stays in memory (kiosk/services/fingerprint.py). `enroll --out` and
`verify --template` read and write template files for bench work on a module; never use them
with a citizen's finger.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer

from drivers.fingerprint.driver import FingerprintDriver
from drivers.fingerprint.emulator import make_emulator
from drivers.fingerprint.errors import FingerprintError
from drivers.fingerprint.results import PROMPT_TEXT, Prompt
from drivers.personal import wipe_bytes
from kiosk.cli.common import fail, load_or_exit

app = typer.Typer(
    help="Fingerprint scanner: the holder's check against the central's reference; technician"
    " tools (info, enrol/verify with files, self-test); emulate one for the demo.",
    no_args_is_help=True,
)

PortOption = Annotated[
    str | None, typer.Option("--port", "-p", help="Serial port (default: [fingerprint] port).")
]


def register(root: typer.Typer) -> None:
    """Add the `fingerprint` group to the root CLI."""
    root.add_typer(app, name="fingerprint")


def _say(prompt: Prompt) -> None:
    typer.echo(PROMPT_TEXT[prompt])


@contextmanager
def _driver(ctx: typer.Context, port: str | None) -> Iterator[FingerprintDriver]:
    """An opened driver; every fingerprint error becomes a plain message and exit status 2."""
    section = load_or_exit(ctx).config.fingerprint
    driver = FingerprintDriver(section.to_settings(port=port))
    try:
        driver.open()
        yield driver
    except FingerprintError as e:
        raise fail(f"Fingerprint scanner: {e}", 2) from None
    finally:
        driver.stop()


@app.command()
def info(ctx: typer.Context, port: PortOption = None) -> None:
    """Print the module's parameters, read from the module."""
    with _driver(ctx, port) as drv:
        i = drv.info()
        typer.echo(f"port:             {drv.settings.port}")
        typer.echo(f"library size:     {i.capacity} templates")
        typer.echo(f"templates stored: {i.templates_stored}")
        typer.echo(f"security level:   {i.security_level} (1 = most lenient, 5 = strictest)")
        typer.echo(f"packet size:      {i.packet_size} bytes")
        typer.echo(f"baud rate:        {i.baudrate}")
        typer.echo(f"address:          0x{i.address:08X}")
        typer.echo(f"system id:        0x{i.system_id:04X}")


@app.command()
def check(
    ctx: typer.Context,
    reader: Annotated[
        str | None, typer.Option("--reader", help="Card reader (default: [card] reader).")
    ] = None,
    port: PortOption = None,
    connect_timeout: Annotated[
        float, typer.Option("--connect-timeout", help="Seconds to wait for the broker.")
    ] = 10.0,
) -> None:
    """The holder's check: read the card (PSAM-authenticated), fetch the holder's reference
    template from the central system (in memory, never a file), verify the finger.

    Exit 0 match, 1 no match, 2 scanner error, 3 central unreachable or no reference enrolled,
    5 card error."""
    from drivers.card.errors import CardError
    from drivers.card.holder import CardHolder
    from kiosk.card_access import open_central_session, read_card
    from kiosk.cli.sync import _journal
    from kiosk.clock import SystemClock
    from kiosk.journal import JournalError
    from kiosk.services.central_session import CentralSessionClient
    from kiosk.services.errors import ServiceError
    from kiosk.services.fingerprint import FingerprintReferenceError, verify_holder_fingerprint
    from kiosk.sync.errors import SyncError
    from kiosk.sync.service import SyncService

    config = load_or_exit(ctx).config
    try:
        holder = read_card(config, config.card.driver_settings(), reader).holder
    except CardError as e:
        raise fail(f"card error [{e.code.value}]: {e}", 5) from None
    if not isinstance(holder, CardHolder):
        raise fail("the card's holder data needs PSAM authentication: no PSAM", 5)
    try:
        journal = _journal(config)
    except JournalError as e:
        raise fail(f"journal: {e}") from None
    clock = SystemClock()
    sync = SyncService(config.mqtt, journal, clock, software_version="cli", client_suffix="fp")
    sync.start()
    try:
        if not sync.transport.wait_connected(connect_timeout):  # type: ignore[attr-defined]
            raise fail("the central system is unreachable (not connected to the broker)", 3)
        try:
            # The central hands out the reference only to a session of the present card.
            session = open_central_session(
                CentralSessionClient(sync.rpc, clock), config.card.driver_settings(), reader
            )
        except CardError as e:
            raise fail(f"card error [{e.code.value}]: {e}", 5) from None
        with _driver(ctx, port) as drv:
            result = verify_holder_fingerprint(
                sync.rpc, drv, holder.id_number, on_prompt=_say, token=session.token
            )
    except (SyncError, ServiceError, FingerprintReferenceError) as e:
        raise fail(f"reference template: {e}", 3) from None
    finally:
        sync.stop()
        journal.close()
    if result.matched:
        typer.echo(f"Match (score {result.score}): the finger is {holder.name}'s.")
        return
    typer.echo("No match: this finger does not match the holder's reference.")
    raise typer.Exit(1)


@app.command()
def enroll(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", "-o", help="File to write the template to.")],
    port: PortOption = None,
) -> None:
    """Technician tool: capture a finger twice and write its template to a FILE (bench work on
    a module; a citizen's template is never written on a kiosk)."""
    with _driver(ctx, port) as drv:
        template = drv.enroll(on_prompt=_say)
        try:
            fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # biometric data
            with os.fdopen(fd, "wb") as f:
                f.write(template)
            typer.echo(f"Template of {len(template)} bytes written to {out}.")
        finally:
            wipe_bytes(template)


@app.command()
def verify(
    ctx: typer.Context,
    template: Annotated[Path, typer.Option("--template", "-t", help="Reference template file.")],
    port: PortOption = None,
) -> None:
    """Technician tool: 1:1 check of a finger against a template FILE (bench work on a module;
    the citizen's check is `kiosk fingerprint check`). Exit status 0 only on a match."""
    try:
        reference = bytearray(template.read_bytes())
    except OSError as e:
        raise fail(f"Cannot read the template: {e.strerror}: {template}", 2) from None
    try:
        with _driver(ctx, port) as drv:
            result = drv.verify(reference, on_prompt=_say)
    finally:
        wipe_bytes(reference)
    if result.matched:
        typer.echo(f"Match (score {result.score}).")
        return
    typer.echo("No match: this finger does not match the template.")
    raise typer.Exit(1)


@app.command()
def selftest(ctx: typer.Context, port: PortOption = None) -> None:
    """Technician self-test with the module's own library: store, search, delete, empty."""
    with _driver(ctx, port) as drv:
        report = drv.self_test(on_prompt=_say)
    for name, ok, detail in report.steps:
        typer.echo(f"{'PASS' if ok else 'FAIL'}  {name}: {detail}")
    typer.echo("Self-test passed." if report.passed else "Self-test FAILED.")
    if not report.passed:
        raise typer.Exit(1)


@app.command()
def emulate(
    ctx: typer.Context,
    finger: Annotated[
        str | None, typer.Option(help="Finger a cooperative person places (f01..f08).")
    ] = "f01",
    port: Annotated[
        str | None, typer.Option("--link", help="Symlink to create (default: [fingerprint] port).")
    ] = None,
) -> None:
    """Run an emulated module on a pseudo-terminal until Ctrl-C (demo and development only).

    Model, latency, baud rate and password come from [fingerprint] emulator_* and the module
    settings, so the kiosk and the emulator agree."""
    section = load_or_exit(ctx).config.fingerprint
    link = port or section.port
    emulator = make_emulator(
        link,
        profile=section.emulator_profile,
        finger=finger,
        latency_scale=section.emulator_latency_scale,
        baudrate=section.baudrate,
        password=section.password,
        address=section.address,
    )
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    try:
        emulator.start()
    except OSError as e:
        raise fail(f"Cannot create the emulated port at {link}: {e.strerror}") from None
    typer.echo(
        f"Emulated {section.emulator_profile} fingerprint module at {link}. Ctrl-C stops it."
    )
    try:
        done.wait()
    finally:
        emulator.stop()
