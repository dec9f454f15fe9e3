"""`kiosk-central`: the reference central system's command line (run, seed, config check,
certificate verification)."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Annotated

import sdnotify
import typer

from central.certificates import CertificateSigner, verify_code
from central.config import CentralConfig, CentralConfigError, load_central_config, resolve_path
from central.errors import CentralError
from central.essc_cli import essc_app
from central.logs import setup_logging
from central.seed import ledger_row_counts, seed_database
from central.service import CentralService
from central.storage import open_storage

__all__ = ["app", "run"]

logger = logging.getLogger("central.cli")

app = typer.Typer(
    help="Reference central system of the kiosk fleet: RPC, ledger, events, telemetry, monitor.",
    no_args_is_help=True,
    add_completion=False,
)


@dataclass
class _State:
    config_path: Path | None


def _config(ctx: typer.Context) -> CentralConfig:
    state: _State = ctx.obj
    try:
        return load_central_config(state.config_path)
    except CentralConfigError as e:
        typer.echo(str(e), err=True)
        raise typer.Exit(2) from None


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None,
        typer.Option("--config", "-c", help="Config file over config/central.toml."),
    ] = None,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING, ERROR.")] = "INFO",
) -> None:
    """Options common to every command."""
    setup_logging(getattr(logging, log_level.upper(), logging.INFO))
    ctx.obj = _State(config_path=config)


@app.command("run")
def run_command(ctx: typer.Context) -> None:
    """Start the workers (and the fleet monitor) until SIGTERM or Ctrl-C."""
    cfg = _config(ctx)
    service = CentralService(cfg)
    stop = threading.Event()

    def _on_signal(signum: int, _frame: FrameType | None) -> None:
        logger.info("signal %d: stopping", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    if cfg.run.seed_if_empty:
        _seed_if_empty(cfg)
    try:
        # Not waiting for the broker: paho keeps retrying, and the broker may start after us.
        service.start(wait=False)
    except (CentralError, OSError) as e:
        typer.echo(f"kiosk-central: cannot start: {e}", err=True)
        raise typer.Exit(1) from None
    try:
        # "running" (and systemd's READY) only once every worker holds its subscription (SUBACK):
        # before that, a kiosk's RPC would go unanswered.
        typer.echo(
            f"kiosk-central starting: {cfg.workers.count} workers subscribing on"
            f" {cfg.broker.host}:{cfg.broker.port}",
            err=True,
        )
        while not service.wait_ready(1.0):
            if stop.is_set():
                return
        url = service.monitor.url if service.monitor is not None else None
        typer.echo(
            f"kiosk-central running: {cfg.workers.count} workers on"
            f" {cfg.broker.host}:{cfg.broker.port}" + (f", fleet monitor at {url}" if url else "")
        )
        sys.stdout.flush()
        sdnotify.SystemdNotifier().notify("READY=1")
        while not stop.wait(60.0):
            s = service.stats()
            logger.info(
                "stats: rpc=%d events=%d/%d dup/%d rejected telemetry=%d inbound_rejected=%d",
                s.rpc,
                s.events_accepted,
                s.events_duplicate,
                s.events_rejected,
                s.telemetry,
                sum(s.rejected.values()),
            )
    finally:
        sdnotify.SystemdNotifier().notify("STOPPING=1")
        service.stop()


def _seed_if_empty(cfg: CentralConfig) -> None:
    try:
        with open_storage(cfg.storage) as db:
            db.create_schema()
            row = db.one("SELECT COUNT(*) FROM persons")
            if row is not None and int(row[0]) == 0:
                summary = seed_database(db, cfg.seed)
                logger.info("empty database seeded: %s", summary.counts)
    except CentralError as e:
        typer.echo(f"kiosk-central: cannot prepare the database: {e}", err=True)
        raise typer.Exit(1) from None


@app.command("seed")
def seed_command(
    ctx: typer.Context,
    persons: Annotated[
        int | None, typer.Option(help="Generated persons (default: [seed] persons).")
    ] = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Wipe the database even when its ledger holds rows."),
    ] = False,
) -> None:
    """(Re)create the database with the deterministic seed data set. Refuses (exit 3) when the
    ledger holds payments, event receipts or activations, unless --force."""
    cfg = _config(ctx)
    seed_cfg = cfg.seed if persons is None else cfg.seed.model_copy(update={"persons": persons})
    try:
        with open_storage(cfg.storage) as db:
            held = ledger_row_counts(db)
            if held and not force:
                rows = ", ".join(f"{n} {table}" for table, n in held.items())
                typer.echo(
                    f"kiosk-central: refusing to seed: the database holds ledger rows ({rows});"
                    " seeding wipes them. Run `kiosk-central seed --force` to wipe it anyway.",
                    err=True,
                )
                raise typer.Exit(3)
            summary = seed_database(db, seed_cfg)
    except CentralError as e:
        typer.echo(f"kiosk-central: seed failed: {e}", err=True)
        raise typer.Exit(1) from None
    for table, count in summary.counts.items():
        typer.echo(f"{table}: {count}")
    typer.echo(f"card holders: {', '.join(summary.holders) or 'none'}")
    for reason in summary.skipped:
        typer.echo(f"skipped: {reason}")


@app.command("verify")
def verify_command(
    ctx: typer.Context,
    code: Annotated[str, typer.Argument(help="Verification code of an insured certificate.")],
) -> None:
    """Verify an insured certificate by its code: exit 0 valid, 1 not valid (why on stderr).
    Prints the certificate as issued (holder masked) and the signing key's id."""
    cfg = _config(ctx)
    key_file = cfg.trust.certificate_key_file
    try:
        signer = CertificateSigner.load(resolve_path(key_file) if key_file else None)
        with open_storage(cfg.storage) as db:
            result = verify_code(db, signer, code)
    except CentralError as e:
        typer.echo(f"kiosk-central: cannot verify: {e}", err=True)
        raise typer.Exit(2) from None
    if result.certificate is not None:
        cert = result.certificate
        typer.echo(
            json.dumps(
                {
                    "valid": result.valid,
                    "certificate_id": cert.certificate_id,
                    "holder": cert.holder_name_masked,
                    "id_number": cert.id_number_masked,
                    "issued_at": cert.issued_at,
                    "periods": [p.model_dump(mode="json") for p in cert.periods],
                    "key_id": cert.key_id,
                },
                ensure_ascii=False,
                indent=2,
            )
        )
    if not result.valid:
        typer.echo(f"not valid: {result.reason}", err=True)
        raise typer.Exit(1)


app.add_typer(essc_app, name="essc")


@app.command("check-config")
def check_config_command(ctx: typer.Context) -> None:
    """Validate the config and print it (exit 0 valid, 2 invalid)."""
    cfg = _config(ctx)
    typer.echo(cfg.model_dump_json(indent=2))


def run() -> None:
    """Console-script entry point (`kiosk-central`)."""
    app()


if __name__ == "__main__":
    run()
