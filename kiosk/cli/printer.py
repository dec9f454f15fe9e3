"""`kiosk print ...`: the technician's printer tools (status, test page, sample documents) and an
emulated printer for the demo."""

from __future__ import annotations

import signal
import threading
from pathlib import Path
from typing import Annotated

import typer

from drivers.printer.driver import PrinterDriver, PrinterError, PrinterFailedMidDocumentError
from drivers.printer.emulator import make_emulator
from drivers.printer.encode import encode
from kiosk.cli.common import fail, load_or_exit
from kiosk.documents import Language, render_document
from kiosk.documents.samples import sample_data

app = typer.Typer(
    help="Receipt printer: status, test page, sample receipt/certificate/statement; emulate one.",
    no_args_is_help=True,
)

PortOption = Annotated[
    str | None, typer.Option("--port", "-p", help="Serial port (default: [printer] port).")
]
LangOption = Annotated[str, typer.Option("--lang", help="zh_CN or en.")]


def register(root: typer.Typer) -> None:
    """Add the `print` group to the root CLI."""
    root.add_typer(app, name="print")


def _print(ctx: typer.Context, port: str | None, document: str, lang: str) -> None:
    if lang not in ("zh_CN", "en"):
        raise fail("--lang is zh_CN or en", 2)
    loaded = load_or_exit(ctx)
    section = loaded.config.printer
    data = sample_data(document, terminal=loaded.config.terminal.id)
    language: Language = "en" if lang == "en" else "zh_CN"
    doc = render_document(document, data, lang=language, paper_dots=section.paper_dots)
    driver = PrinterDriver(section.to_settings(port=port))
    try:
        driver.open()
        result = driver.print_bytes(encode(doc, paper_dots=section.paper_dots))
    except PrinterFailedMidDocumentError as e:
        raise fail(
            f"Printer stopped part way: {e}. Show the QR code on screen instead.", 2
        ) from None
    except PrinterError as e:
        raise fail(f"Printer: {e}", 2) from None
    finally:
        driver.close()
    typer.echo(f"Printed {document} ({result.bytes_sent} bytes in {result.seconds:.2f} s).")
    if result.status.paper_near_end:
        typer.echo("Warning: the paper roll is near its end.")


@app.command()
def status(ctx: typer.Context, port: PortOption = None) -> None:
    """Read the real-time status (DLE EOT). Exit 0 when ready, 1 when not, 2 on no answer."""
    section = load_or_exit(ctx).config.printer
    driver = PrinterDriver(section.to_settings(port=port))
    try:
        st = driver.open()
    except PrinterError as e:
        raise fail(f"Printer: {e}", 2) from None
    finally:
        driver.close()
    typer.echo("ready" if st.ready else "not ready")
    for problem in st.problems():
        typer.echo(f"  {problem}")
    if not st.ready:
        raise typer.Exit(1)


@app.command("test")
def test_page(ctx: typer.Context, port: PortOption = None, lang: LangOption = "zh_CN") -> None:
    """Print the test page (no personal data)."""
    _print(ctx, port, "test_page", lang)


@app.command()
def receipt(ctx: typer.Context, port: PortOption = None, lang: LangOption = "zh_CN") -> None:
    """Print a sample payment receipt (fictitious, masked)."""
    _print(ctx, port, "payment_receipt", lang)


@app.command()
def certificate(ctx: typer.Context, port: PortOption = None, lang: LangOption = "zh_CN") -> None:
    """Print a sample insured certificate (fictitious, masked)."""
    _print(ctx, port, "insured_certificate", lang)


@app.command()
def statement(ctx: typer.Context, port: PortOption = None, lang: LangOption = "zh_CN") -> None:
    """Print a sample contribution statement (fictitious, masked)."""
    _print(ctx, port, "contribution_statement", lang)


@app.command()
def emulate(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder for the receipts' PNGs.")] = Path(
        "var/printer"
    ),
    link: Annotated[
        str | None, typer.Option("--link", help="Symlink to create (default: [printer] port).")
    ] = None,
) -> None:
    """Run an emulated printer on a pseudo-terminal until Ctrl-C; each cut writes a PNG to --out."""
    section = load_or_exit(ctx).config.printer
    where = link or section.port
    emulator = make_emulator(where, out_dir=out, baudrate=section.baudrate)
    done = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: done.set())
    signal.signal(signal.SIGINT, lambda *_: done.set())
    try:
        emulator.start()
    except OSError as e:
        raise fail(f"Cannot create the emulated port at {where}: {e.strerror}") from None
    typer.echo(f"Emulated receipt printer at {where}; receipts go to {out}/. Ctrl-C stops it.")
    try:
        done.wait()
    finally:
        emulator.stop()
