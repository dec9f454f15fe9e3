"""`kiosk provision`: set up a new terminal (devices, keys, config), then run the doctor."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kiosk.cli.common import CliState, fail
from kiosk.cli.doctor import doctor
from kiosk.config import ConfigError
from kiosk.config.terminal import Mode
from kiosk.provision import ProvisionError, ProvisionPlan, provision

__all__ = ["register"]


def provision_cmd(
    ctx: typer.Context,
    terminal_id: Annotated[str, typer.Option(help="The terminal's id (MQTT client id).")],
    broker: Annotated[str, typer.Option(help="Broker HOST[:PORT].")] = "127.0.0.1:8883",
    site: Annotated[str, typer.Option(help="Service hall name shown to operators.")] = "",
    mode: Annotated[Mode, typer.Option(help="production or demo.")] = Mode.PRODUCTION,
    tls: Annotated[bool, typer.Option(help="TLS with a client certificate.")] = True,
    output: Annotated[Path, typer.Option(help="Config file to write.")] = Path(
        "/etc/kiosk/kiosk.toml"
    ),
    credentials_dir: Annotated[Path, typer.Option(help="Where keys go (0600).")] = Path(
        "/etc/kiosk/credentials"
    ),
    card_reader: Annotated[str, typer.Option(help="Card reader name (default: discover).")] = "",
    psam_reader: Annotated[str, typer.Option(help="PSAM reader name (default: discover).")] = "",
    fingerprint_port: Annotated[str, typer.Option(help="Scanner port (default: probe).")] = "",
    camera: Annotated[str, typer.Option(help="Camera source (default: probe /dev/video*).")] = "",
    probe_port: Annotated[
        list[str] | None, typer.Option(help="Extra serial port to probe first (repeatable).")
    ] = None,
    force: Annotated[bool, typer.Option(help="Replace an existing config and keys.")] = False,
    run_doctor: Annotated[bool, typer.Option("--doctor/--no-doctor")] = True,
) -> None:
    """Discover the readers, scanner and camera, create the keys and the certificate request,
    write the config, then run `kiosk doctor` on it."""
    host, _, port = broker.partition(":")
    plan = ProvisionPlan(
        terminal_id=terminal_id,
        broker_host=host,
        broker_port=int(port) if port else (8883 if tls else 1883),
        site=site,
        mode=mode,
        tls=tls,
        output=output,
        credentials_dir=credentials_dir,
        card_reader=card_reader,
        psam_reader=psam_reader,
        fingerprint_port=fingerprint_port,
        camera=camera,
        extra_serial_ports=tuple(probe_port or ()),
        force=force,
    )
    try:
        provision(plan, typer.echo)
    except (ProvisionError, ConfigError) as e:
        raise fail(f"provision: {e}") from None
    if run_doctor:
        typer.echo("doctor:")
        state = ctx.ensure_object(CliState)
        state.config_path, state.loaded = output, None
        doctor(ctx)


def register(root: typer.Typer) -> None:
    root.command("provision")(provision_cmd)
