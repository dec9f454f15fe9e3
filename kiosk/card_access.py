"""Card access for the kiosk core: the trusted PSAM, the authenticated holder read, the
photo, and the production rules.

Everything here is shared by the command line, the doctor and (with the journeys) the UI, so
the trust rules of docs/card-security.md §6 live in one place: production reads only through
a PSAM that proved the terminal's key, and accepts a card only after internal authentication.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from drivers.card import reader as pcsc
from drivers.card.crypto import constant_time_equal, key_check_value
from drivers.card.cryptogram import PsamCryptogramProvider
from drivers.card.driver import CardDriver
from drivers.card.errors import CardError, ReaderMissingError, SecurityStatusError
from drivers.card.holder import CardHolder, IssuerData
from drivers.card.photo import HolderPhoto, read_photo
from drivers.card.psam import PsamClient, PsamInfo, PsamMissingError, PsamUntrustedError
from drivers.card.security import ProductionFinding, find_vpcd, make_security_hook, verify_psam
from drivers.card.settings import CardSettings
from drivers.card.transport import PcscChannel
from kiosk.config import KioskConfig
from kiosk.config.psam import PsamConfig, TakCredentialError
from kiosk.config.terminal import Mode
from kiosk.services.central_session import (
    CentralSession,
    CentralSessionClient,
    ChannelCardResponder,
)

__all__ = [
    "CardRead",
    "IssuerOnly",
    "OpenPsam",
    "open_central_session",
    "open_psam",
    "production_findings",
    "psam_reader",
    "read_card",
]


@dataclass(slots=True)
class OpenPsam:
    """A connected, checked PSAM: close `channel` when done."""

    channel: PcscChannel
    client: PsamClient
    info: PsamInfo
    reader: str


def psam_reader(config: PsamConfig) -> str:
    """The PSAM reader: by name when configured, else the reader at `slot` (vpcd slot 1)."""
    readers = pcsc.list_readers()
    if config.reader:
        return pcsc.pick_reader(readers, config.reader)
    if config.slot < len(readers):
        return readers[config.slot]
    raise ReaderMissingError(f"no reader at PSAM slot {config.slot}")


def open_psam(config: KioskConfig, settings: CardSettings) -> OpenPsam:
    """Connect to the PSAM and check it against the terminal's trust policy.

    Raises `PsamMissingError` (no PSAM reader or card), `PsamUntrustedError` (production
    terminal and the PSAM did not prove the TAK), `TakCredentialError`, or a `CardError`.
    """
    production = config.terminal.mode is Mode.PRODUCTION
    psam = config.psam
    try:
        name = psam_reader(psam)
        channel = pcsc.connect(name, settings)
    except CardError as e:
        raise PsamMissingError(f"no PSAM: {e.message}") from None
    try:
        client = PsamClient(channel, name="slot1")
        try:
            tak = psam.load_tak() if production else None
        except TakCredentialError as e:
            raise PsamUntrustedError(str(e)) from None
        policy = psam.trust_policy(production=production, tak=tak)
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


@dataclass(slots=True)
class CardRead:
    """What one read gave: the holder (or, without a PSAM, a 3rd-gen card's issuer data), the
    photo when asked for (the caller wipes it), and a plain note when the read was limited."""

    holder: CardHolder | IssuerOnly
    photo: HolderPhoto | None = None
    authenticated: bool = False
    note: str = ""


def read_card(
    config: KioskConfig, settings: CardSettings, reader: str | None, *, want_photo: bool = False
) -> CardRead:
    """Read the holder with PSAM authentication when a PSAM is there, and the photo if asked.

    Without a PSAM (or with `[psam] enabled = false`) in demo mode the card is read as it
    allows (a 3rd-generation card: its issuer data only, as `IssuerOnly`) and `note` says what
    that means. Production mode refuses to read without a trusted PSAM, and accepts a card
    only after internal authentication (docs/card-security.md §6). Raises `CardError` (a photo
    asked for without a PSAM: `SecurityStatusError`).
    """
    production = config.terminal.mode is Mode.PRODUCTION
    psam: OpenPsam | None = None
    if production and not config.psam.enabled:
        # Switching the PSAM off must not turn into unauthenticated reads.
        raise PsamUntrustedError(
            "production mode reads cards only through a trusted PSAM, and psam.enabled is false"
        )
    why = "psam.enabled is false"
    if config.psam.enabled:
        try:
            psam = open_psam(config, settings)
        except PsamMissingError as e:
            if production:
                raise
            why = e.message
    note = (
        ""
        if psam is not None
        else f"no PSAM ({why}): the card is not authenticated; a 3rd-generation card shows only "
        "its issuer data and no card shows its photo"
    )
    hook = (
        make_security_hook(
            PsamCryptogramProvider(psam.client),
            require_internal=config.psam.internal_auth or production,
        )
        if psam is not None
        else None
    )
    result: CardHolder | IssuerOnly
    photo: HolderPhoto | None = None
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
            if want_photo:
                if psam is None:
                    raise SecurityStatusError(
                        "the holder's photo needs PSAM authentication (RKSSSE) and there is no "
                        "PSAM: no photo saved",
                        0x69,
                        0x82,
                    )
                photo = read_photo(session.channel)
    finally:
        if psam is not None:
            psam.channel.close()
    return CardRead(result, photo, authenticated=psam is not None, note=note)


def open_central_session(
    client: CentralSessionClient,
    settings: CardSettings,
    reader: str | None,
    *,
    pin_verified: bool = False,
) -> CentralSession:
    """Have the card in `reader` answer the central's challenge (docs/central-trust.md) and
    return the session: card credential (+ PIN when the caller verified it in this card
    session). For the technician commands; the citizen's session does this in its effects.

    Raises `CardError` and the service errors of kiosk/services/errors.py."""
    driver = CardDriver(settings)
    name = driver.wait_for_card(reader)
    with driver.open(name) as session, session.channel.transaction():
        issuer = session.ssc.read_issuer()
        return client.open(ChannelCardResponder(session.channel, issuer), pin_verified=pin_verified)


def production_findings(config: KioskConfig) -> list[ProductionFinding]:
    """Every production check of docs/card-security.md §6 that can run without a card; the doctor
    reuses it."""
    cfg = config
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
