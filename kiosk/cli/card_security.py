"""`kiosk card psam|bank|check-production` and the PSAM side of `kiosk card read --photo`."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer

from drivers.card import reader as pcsc
from drivers.card.bank import read_bank_card
from drivers.card.crypto import constant_time_equal, key_check_value
from drivers.card.cryptogram import PsamCryptogramProvider
from drivers.card.driver import CardDriver
from drivers.card.errors import CardError, ReaderMissingError, SecurityStatusError
from drivers.card.holder import CardHolder, IssuerData
from drivers.card.photo import read_photo
from drivers.card.psam import PsamClient, PsamInfo, PsamMissingError, PsamUntrustedError
from drivers.card.security import ProductionFinding, find_vpcd, make_security_hook, verify_psam
from drivers.card.settings import CardSettings
from drivers.card.transport import PcscChannel
from kiosk.cli import card as card_cli
from kiosk.cli.common import fail, load_or_exit
from kiosk.config.loader import LoadedConfig
from kiosk.config.psam import PsamConfig, TakCredentialError
from kiosk.config.terminal import Mode

__all__ = ["IssuerOnly", "production_findings", "register", "secure_read"]

_log = logging.getLogger("kiosk.cli.card_security")


@dataclass(slots=True)
class OpenPsam:
    """A connected, checked PSAM: close `channel` when done."""

    channel: PcscChannel
    client: PsamClient
    info: PsamInfo
    reader: str


def _psam_reader(config: PsamConfig) -> str:
    """The PSAM reader: by name when configured, else the reader at `slot` (vpcd slot 1)."""
    readers = pcsc.list_readers()
    if config.reader:
        return pcsc.pick_reader(readers, config.reader)
    if config.slot < len(readers):
        return readers[config.slot]
    raise ReaderMissingError(f"no reader at PSAM slot {config.slot}")


def open_psam(loaded: LoadedConfig, settings: CardSettings) -> OpenPsam:
    """Connect to the PSAM and check it against the terminal's trust policy.

    Raises `PsamMissingError` (no PSAM reader or card), `PsamUntrustedError` (production
    terminal and the PSAM did not prove the TAK), `TakCredentialError`, or a `CardError`.
    """
    config = loaded.config.psam
    production = loaded.config.terminal.mode is Mode.PRODUCTION
    try:
        name = _psam_reader(config)
        channel = pcsc.connect(name, settings)
    except CardError as e:
        raise PsamMissingError(f"no PSAM: {e.message}") from None
    try:
        client = PsamClient(channel, name="slot1")
        try:
            tak = config.load_tak() if production else None
        except TakCredentialError as e:
            raise PsamUntrustedError(str(e)) from None
        policy = config.trust_policy(production=production, tak=tak)
        info = verify_psam(client, policy, reader_name=name, atr=channel.atr)
    except BaseException:
        channel.close()
        raise
    return OpenPsam(channel, client, info, name)


@dataclass(frozen=True, slots=True)
class IssuerOnly:
    """What a 3rd-generation card shows a terminal without a PSAM: its EF05 issuer data."""

    issuer: IssuerData

    def to_dict(self) -> dict[str, Any]:
        """The same keys as `CardHolder.to_dict()` for EF05; the card number stays `Masked`."""
        i = self.issuer
        return {
            "card_id": i.card_id.hex().upper(),
            "region": i.region,
            "card_type": i.card_type,
            "spec_version": i.spec_version,
            "issue_date": i.issue_date.isoformat(),
            "expiry_date": i.expiry_date.isoformat(),
            "card_number": i.card_number,
            "holder": "not readable without a PSAM (RKSSSE authentication)",
        }


def secure_read(
    ctx: typer.Context, settings: CardSettings, reader: str | None, photo: Path | None
) -> CardHolder | IssuerOnly:
    """Read the holder with PSAM authentication when a PSAM is there; save the photo if asked.

    Without a PSAM (or with `[psam] enabled = false`) in demo mode the card is read as it
    allows (a 3rd-generation card: its issuer data only, as `IssuerOnly`), and a line on stderr
    says what that means. Production mode refuses to read without a trusted PSAM. Raises
    `CardError` (a photo asked for without a PSAM: `SecurityStatusError`).
    """
    loaded = load_or_exit(ctx)
    production = loaded.config.terminal.mode is Mode.PRODUCTION
    psam: OpenPsam | None = None
    if production and not loaded.config.psam.enabled:
        # Production trusts a card only after internal authentication with a proved PSAM
        # (docs §6): switching the PSAM off must not turn into unauthenticated reads.
        raise PsamUntrustedError(
            "production mode reads cards only through a trusted PSAM, and psam.enabled is false"
        )
    why = "psam.enabled is false"
    if loaded.config.psam.enabled:
        try:
            psam = open_psam(loaded, settings)
        except PsamMissingError as e:
            if production:
                raise
            why = e.message
    if psam is None:
        typer.echo(
            f"no PSAM ({why}): the card is not authenticated; a 3rd-generation card shows only "
            "its issuer data and no card shows its photo",
            err=True,
        )
    hook = (
        make_security_hook(
            PsamCryptogramProvider(psam.client),
            # Production accepts a user card only after internal authentication (docs §6).
            require_internal=loaded.config.psam.internal_auth or production,
        )
        if psam is not None
        else None
    )
    result: CardHolder | IssuerOnly
    try:
        driver = CardDriver(settings, security_hook=hook)
        name = driver.wait_for_card(reader)
        with driver.open(name) as session, session.channel.transaction():
            try:
                result = session.ssc.read_holder()
            except SecurityStatusError:
                if psam is not None:
                    raise
                # No PSAM: show what the card allows (EF05) rather than nothing.
                issuer = session.ssc.read_issuer()
                if issuer.generation < 3:
                    raise
                result = IssuerOnly(issuer)
            if photo is not None:
                if psam is None:
                    raise SecurityStatusError(
                        "the holder's photo needs PSAM authentication (RKSSSE) and there is no "
                        "PSAM: no photo saved",
                        0x69,
                        0x82,
                    )
                image = read_photo(session.channel)
                try:
                    photo.write_bytes(image.jpeg)
                finally:
                    image.wipe()
                typer.echo(f"photo saved to {photo}", err=True)
    finally:
        if psam is not None:
            psam.channel.close()
    return result


def production_findings(loaded: LoadedConfig) -> list[ProductionFinding]:
    """Every production check of docs §6 that can run without a card; the doctor reuses it."""
    cfg = loaded.config
    out = [
        ProductionFinding(
            "mode",
            cfg.terminal.mode is Mode.PRODUCTION,
            f"terminal.mode = {cfg.terminal.mode.value}"
            + ("" if cfg.terminal.mode is Mode.PRODUCTION else " (demo mode is refused)"),
        )
    ]
    vpcd = find_vpcd()
    out.append(
        ProductionFinding(
            "vpcd",
            not vpcd,
            "virtual reader driver not installed"
            if not vpcd
            else "virtual reader driver found: " + ", ".join(vpcd),
        )
    )
    out.append(ProductionFinding("psam", cfg.psam.enabled, f"psam.enabled = {cfg.psam.enabled}"))
    kcv_ok = bool(cfg.psam.tak_kcv)
    out.append(
        ProductionFinding(
            "tak_kcv", kcv_ok, "psam.tak_kcv set" if kcv_ok else "psam.tak_kcv is empty"
        )
    )
    try:
        tak = cfg.psam.load_tak()
    except TakCredentialError as e:
        out.append(ProductionFinding("tak", False, str(e)))
    else:
        if tak is None:
            out.append(ProductionFinding("tak", False, "no $CREDENTIALS_DIRECTORY"))
        elif kcv_ok:
            same = constant_time_equal(
                key_check_value(cfg.psam.algorithm(), tak), bytes.fromhex(cfg.psam.tak_kcv)
            )
            out.append(
                ProductionFinding(
                    "tak",
                    same,
                    "TAK credential matches psam.tak_kcv"
                    if same
                    else "TAK credential does not match psam.tak_kcv",
                )
            )
        else:
            out.append(ProductionFinding("tak", False, "TAK present but nothing to check it by"))
    return out


def psam_cmd(ctx: typer.Context) -> None:
    """Show the PSAM's terminal number and algorithms (and check it in production mode)."""
    loaded = load_or_exit(ctx)
    settings = loaded.config.card.driver_settings()
    try:
        psam = open_psam(loaded, settings)
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
            bank = read_bank_card(session.channel)
    except CardError as e:
        raise card_cli._exit_for(e) from None
    typer.echo(f"card number  {bank.pan.reveal() if reveal else bank.pan}")
    typer.echo(f"application  {bank.aid.hex().upper()} {bank.label}".rstrip())
    typer.echo(f"found by     {bank.found_by} (GPO format {bank.gpo_format})")


def check_production_cmd(ctx: typer.Context) -> None:
    """Check that this terminal is fit for production (exit 1 if any check fails)."""
    findings = production_findings(load_or_exit(ctx))
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
