"""`kiosk agent`, `kiosk pay ...` and `kiosk sync ...`: the headless core and the sync tools.

`kiosk pay` connects as an auxiliary client of the terminal (client id ``{terminal_id}-pay``,
same certificate, so the same ACL): beside a running agent it neither takes the agent's
connection over nor touches the retained presence.
"""

from __future__ import annotations

import json
import signal
import sys
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from typing import Annotated, Any

import typer

from kiosk.agent import state_dir
from kiosk.app import KioskApp
from kiosk.cli.common import CliState, fail, load_or_exit
from kiosk.clock import SystemClock
from kiosk.config import KioskConfig
from kiosk.config.terminal import Mode
from kiosk.contract import PaymentPurpose
from kiosk.journal import Journal, JournalError, Sealer, load_key
from kiosk.services.payment import OPEN_STATES, PaymentService
from kiosk.sync.commands import CommandProcessor
from kiosk.sync.service import SyncService

__all__ = ["register"]

app = typer.Typer(
    help="Sync with the central system: status, dead rows, commands.", no_args_is_help=True
)
pay_app = typer.Typer(help="Payment client (technicians and tests).", no_args_is_help=True)


def _echo(data: Any) -> None:
    typer.echo(json.dumps(data, ensure_ascii=False, indent=2, sort_keys=True))


def _journal(config: KioskConfig) -> Journal:
    key = load_key(config.journal.key_credential, demo=config.terminal.mode is Mode.DEMO)
    path = Path(config.journal.path)
    return Journal(
        path if path.is_absolute() else state_dir(config) / path,
        config=config.journal,
        sealer=Sealer(key),
        clock=SystemClock(),
        terminal_id=config.terminal.id,
        boot_id=uuid.uuid4().hex,
    )


@contextmanager
def _online(ctx: typer.Context, wait_s: float) -> Iterator[PaymentService]:
    config = load_or_exit(ctx).config
    try:
        journal = _journal(config)
    except JournalError as e:
        raise fail(f"journal: {e}") from None
    clock = SystemClock()
    sync = SyncService(config.mqtt, journal, clock, software_version="cli", client_suffix="pay")
    payments = PaymentService(journal, sync.rpc, clock, deadline_s=config.mqtt.payment_deadline_s)
    sync.start()
    try:
        if not sync.transport.wait_connected(wait_s):  # type: ignore[attr-defined]
            typer.echo("not connected to the broker: working offline", err=True)
        else:
            # A restart is a reconciliation point: settle what a previous run left unknown.
            payments.reconcile()
        yield payments
    finally:
        sync.stop()
        journal.close()


def agent(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", "-c", help="Terminal config file (TOML).")
    ] = None,
) -> None:
    """Run the kiosk core headless: journal, sync, telemetry, remote commands (no UI)."""
    state: CliState = ctx.ensure_object(CliState)
    if config is not None:
        state.config_path = config
    loaded = load_or_exit(ctx)
    # Signals first: a SIGTERM during start-up must still mean a clean stop (`stopped`).
    stopping = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.set())
    # Through the composition root: its init steps start the devices that are available,
    # and the agent reports their health.
    app = KioskApp(loaded.config)
    app.start()
    core = app.init_agent(config_path=state.config_path, profile=state.profile)
    if "agent" in app.failed:
        app.stop()
        raise fail(f"agent: {app.failed['agent']}")

    def relay() -> None:
        stopping.wait()
        core.request_stop()

    threading.Thread(target=relay, name="signals", daemon=True).start()
    try:
        code = app.run(core)
    finally:
        app.stop()
    raise typer.Exit(code)


@pay_app.command("submit")
def pay_submit(
    ctx: typer.Context,
    amount: Annotated[int, typer.Option(help="Amount in cents (fen).", min=1)],
    id_number: Annotated[str, typer.Option(help="Payer's ID number.")],
    reference: Annotated[str, typer.Option(help="Bill id, or contribution period.")] = "",
    purpose: Annotated[PaymentPurpose, typer.Option()] = PaymentPurpose.UTILITY_BILL,
    card_number: Annotated[str, typer.Option()] = "",
    key: Annotated[str | None, typer.Option(help="Idempotency key (default: new).")] = None,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the broker.")] = 10.0,
    token: Annotated[
        str,
        typer.Option(
            envvar="KIOSK_SESSION_TOKEN",
            help="Central session token of the payer's card (docs/central-trust.md).",
        ),
    ] = "",
) -> None:
    """Pay once. Exit 0 accepted, 2 declined, 3 unknown (reconciled later, never re-sent).
    Without a session token of the payer's present card the central declines (forbidden)."""
    with _online(ctx, wait) as payments:
        outcome = payments.submit(
            id_number=id_number,
            card_number=card_number,
            purpose=purpose,
            reference=reference,
            amount_cents=amount,
            payment_key=key,
            token=token,
        )
    _echo(asdict(outcome))
    raise typer.Exit({"accepted": 0, "declined": 2}.get(outcome.state, 3))


@pay_app.command("status")
def pay_status(ctx: typer.Context, key: str) -> None:
    """A payment as this terminal's journal knows it (offline)."""
    config = load_or_exit(ctx).config
    journal = _journal(config)
    try:
        row = journal.payment_get(key)
    finally:
        journal.close()
    if row is None:
        raise fail(f"no payment {key}")
    _echo({k: v for k, v in asdict(row).items() if k != "request"})


@pay_app.command("reconcile")
def pay_reconcile(
    ctx: typer.Context,
    wait: Annotated[float, typer.Option(help="Seconds to wait for the broker.")] = 10.0,
) -> None:
    """Ask the central about every open payment. Exit 0 when none is left open, else 3."""
    with _online(ctx, wait) as payments:
        payments.reconcile()
        left = payments.open_count()
    _echo({"open": left})
    raise typer.Exit(0 if left == 0 else 3)


@pay_app.command("list")
def pay_list(ctx: typer.Context) -> None:
    """Every payment in the journal (state, amount, key)."""
    journal = _journal(load_or_exit(ctx).config)
    try:
        rows = journal.payments()
    finally:
        journal.close()
    _echo([{"key": r.payment_key, "state": r.state, "amount_cents": r.amount_cents} for r in rows])


@app.command("status")
def sync_status(ctx: typer.Context) -> None:
    """Backlog, dead rows, open payments and running sagas from the journal (offline)."""
    journal = _journal(load_or_exit(ctx).config)
    try:
        stats = journal.stats()
        data = {
            "schema_version": journal.schema_version(),
            "outbox": asdict(stats),
            "open_payments": len(journal.payments(OPEN_STATES)),
            "running_sagas": len(journal.sagas(state="running")),
            "telemetry_dropped": journal.counter("telemetry_dropped"),
        }
    finally:
        journal.close()
    _echo(data)


@app.command("dead")
def sync_dead(ctx: typer.Context) -> None:
    """Rows the central rejected for good, with their reasons."""
    journal = _journal(load_or_exit(ctx).config)
    try:
        _echo([{"msg_id": m, "reason": r} for m, r in journal.dead_rows()])
    finally:
        journal.close()


@app.command("commands")
def sync_commands() -> None:
    """The remote commands this kiosk understands, with their help."""
    for name, text in CommandProcessor.help().items():
        typer.echo(f"{name:15} {text}")


def register(root: typer.Typer) -> None:
    """Add `agent`, `pay` and `sync` to the root command."""
    root.command("agent")(agent)
    root.add_typer(pay_app, name="pay")
    root.add_typer(app, name="sync")


if __name__ == "__main__":  # pragma: no cover
    sys.exit("use `kiosk`")
