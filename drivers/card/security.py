"""Card authentication and terminal trust: INTERNAL/EXTERNAL AUTHENTICATE, RKSSSE, production.

After docs/card-security.md §2-§3 and §6. The card proves its IRK to the terminal (INTERNAL
AUTHENTICATE checked against a `CryptogramProvider`), the terminal proves RKSSSE (KID 0A) or UK
(KID 0B) to the card (GET CHALLENGE → provider → EXTERNAL AUTHENTICATE), and a terminal in
production mode trusts a PSAM only after it proved the terminal's TAK, never for its reader name
or ATR. Random challenges come from `os.urandom` unless a test injects its own source.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path

from drivers.card.apdu import CommandApdu, external_authenticate, get_challenge
from drivers.card.crypto import (
    Algorithm,
    block_size,
    constant_time_equal,
    cryptogram,
    key_check_value,
)
from drivers.card.cryptogram import CryptogramProvider
from drivers.card.errors import CardError, StatusWordError
from drivers.card.holder import IssuerData
from drivers.card.psam import (
    ApduChannel,
    KeyUsage,
    PsamClient,
    PsamInfo,
    PsamMissingError,
    PsamUntrustedError,
)
from drivers.card.ssc import SscApplication
from drivers.card.status import Context, describe, error_for
from drivers.vocabulary import ErrorCode

__all__ = [
    "KID_RKSSSE",
    "KID_UK",
    "VPCD_DRIVER_PATHS",
    "CardAccess",
    "CardAuthenticationError",
    "CardAuthenticator",
    "ChallengeMissingError",
    "ProductionFinding",
    "TrustPolicy",
    "algorithm_from_fci",
    "answer_challenge",
    "card_algorithm",
    "card_factor_from_id",
    "find_vpcd",
    "is_third_generation",
    "make_security_hook",
    "open_card_access",
    "verify_psam",
]

KID_RKSSSE = 0x0A
KID_UK = 0x0B
VPCD_DRIVER_PATHS = (Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so"),)
READER_CONF_DIRS = (Path("/etc/reader.conf.d"),)

RandomSource = Callable[[int], bytes]


class CardAuthenticationError(CardError):
    """The card failed INTERNAL AUTHENTICATE: its answer is not what the PSAM computed."""

    code = ErrorCode.CARD_AUTH_FAILED


class ChallengeMissingError(StatusWordError):
    """6984 on EXTERNAL AUTHENTICATE: the card has no fresh challenge (used or reset)."""

    code = ErrorCode.CARD_AUTH_FAILED


def card_factor_from_id(card_id: bytes) -> bytes:
    """The 8-byte card factor F: bytes 8..15 of the 16-byte card identification code (EF05 01)."""
    if len(card_id) != 16:
        raise ValueError(f"a card identification code is 16 bytes, not {len(card_id)}")
    return bytes(card_id[8:16])


def algorithm_from_fci(fci: bytes | None) -> Algorithm | None:
    """The algorithm flag of the SSSE FCI, `9F0C 03 86 01 xx` (docs/card-security.md §3), or None
    if absent."""
    if not fci:
        return None
    marker = bytes.fromhex("9F0C038601")
    at = bytes(fci).find(marker)
    if at < 0 or at + len(marker) >= len(fci):
        return None
    try:
        return Algorithm(fci[at + len(marker)])
    except ValueError:
        return None


def is_third_generation(spec_version: str) -> bool:
    """True for spec version "3.xx": personal data behind RKSSSE (docs/card.md §2.4 tag 03)."""
    return spec_version.strip().startswith("3")


def card_algorithm(spec_version: str, fci: bytes | None = None) -> Algorithm:
    """The card's cipher: the FCI flag when present, else SM4 for 3rd gen and 3DES before."""
    flagged = algorithm_from_fci(fci)
    if flagged is not None:
        return flagged
    return Algorithm.SM4 if is_third_generation(spec_version) else Algorithm.TDES


def answer_challenge(channel: ApduChannel, challenge: bytes) -> bytes:
    """The card's INTERNAL AUTHENTICATE answer to a challenge someone else chose (the central's
    session challenge, docs/central-trust.md): `00 88 00 00 10 R ‖ S` → the cryptogram of S
    under Div(K_IRK, R), 8 (3DES) or 16 (SM4) bytes. Checking it is the challenger's job.

    Raises `StatusWordError` (or the status word's typed error) when the card refuses."""
    if len(challenge) != 16:
        raise ValueError(f"a session challenge is 16 bytes (R ‖ S), not {len(challenge)}")
    with channel.transaction():
        resp = channel.transmit(CommandApdu(0x00, 0x88, 0x00, 0x00, bytes(challenge)))
    if not resp.ok:
        err = error_for(resp.sw1, resp.sw2, Context.GENERIC)
        raise err or StatusWordError("INTERNAL AUTHENTICATE failed", resp.sw1, resp.sw2)
    return bytes(resp.data)


class CardAuthenticator:
    """Authentications between one user card and a cryptogram provider.

    Runs on the card thread; each method is one card transaction. Errors: `CardAuthenticationError`
    (internal authentication mismatch), `AuthenticationFailedError` (63Cx, `tries_left`),
    `KeyBlockedError` (6983), `ChallengeMissingError` (6984), `StatusWordError` (others, e.g.
    6A88 unknown KID), and the provider's and channel's `CardError`s.
    """

    def __init__(
        self,
        channel: ApduChannel,
        provider: CryptogramProvider,
        *,
        algorithm: Algorithm,
        card_factor: bytes,
        random: RandomSource = os.urandom,
        name: str = "card",
    ) -> None:
        if len(card_factor) != 8:
            raise ValueError("the card factor is 8 bytes")
        self._channel = channel
        self._provider = provider
        self._alg = algorithm
        self._factor = bytes(card_factor)
        self._random = random
        self._log = logging.getLogger(f"drivers.card.security.{name}")

    @property
    def algorithm(self) -> Algorithm:
        return self._alg

    def internal_authenticate(self) -> None:
        """The card proves its IRK: `00 88 00 00 10 R ‖ S`, compared with the provider's answer."""
        process = self._random(8)
        source = self._random(8)
        expected = self._provider.cryptogram(
            usage=KeyUsage.IRK,
            algorithm=self._alg,
            card_factor=self._factor,
            data=source,
            process_factor=process,
        )
        with self._channel.transaction():
            resp = self._channel.transmit(CommandApdu(0x00, 0x88, 0x00, 0x00, process + source))
        if not resp.ok:
            err = error_for(resp.sw1, resp.sw2, Context.GENERIC)
            raise err or StatusWordError("INTERNAL AUTHENTICATE failed", resp.sw1, resp.sw2)
        answer = resp.data[: len(expected)]
        if len(answer) != len(expected) or not constant_time_equal(answer, expected):
            self._log.warning("card failed internal authentication (%s)", self._alg.label)
            raise CardAuthenticationError(
                "the card failed internal authentication: it is not a card this PSAM knows"
            )
        self._log.info("card passed internal authentication (%s)", self._alg.label)

    def external_authenticate(self, kid: int, usage: KeyUsage) -> None:
        """The terminal proves key `usage` to the card: GET CHALLENGE → cryptogram → `00 82`.

        On success the card's security state for `kid` holds until reset or another DF/ADF is
        selected. Challenge and cryptogram are in one card transaction so nobody consumes it.
        """
        with self._channel.transaction():
            ch = self._channel.transmit(get_challenge(8))
            if not ch.ok or len(ch.data) != 8:
                raise StatusWordError(f"GET CHALLENGE: {describe(ch.sw1, ch.sw2)}", ch.sw1, ch.sw2)
            crypt = self._provider.cryptogram(
                usage=usage, algorithm=self._alg, card_factor=self._factor, data=ch.data
            )
            resp = self._channel.transmit(external_authenticate(kid, crypt))
        if resp.ok:
            self._log.info("external authentication KID %02X passed", kid)
            return
        self._log.warning("external authentication KID %02X refused: SW %04X", kid, resp.sw)
        if resp.sw == 0x6984:
            raise ChallengeMissingError(
                "the card has no challenge for this authentication", resp.sw1, resp.sw2
            )
        err = error_for(resp.sw1, resp.sw2, Context.EXTERNAL_AUTH)
        raise err or StatusWordError("EXTERNAL AUTHENTICATE failed", resp.sw1, resp.sw2)

    def authenticate_read(self) -> None:
        """RKSSSE (KID 0A): opens EF06/EF08 of 3rd-gen cards and EF08 of 2nd-gen cards."""
        self.external_authenticate(KID_RKSSSE, KeyUsage.RKSSSE)

    def authenticate_update(self) -> None:
        """UK (KID 0B): allows UPDATE RECORD of the activation record in DF04."""
        self.external_authenticate(KID_UK, KeyUsage.UK)


@dataclass(frozen=True, slots=True)
class CardAccess:
    """What the terminal may read of the card now, and why (shown plainly to the technician)."""

    algorithm: Algorithm
    internal_authenticated: bool
    read_authenticated: bool
    note: str = ""


def open_card_access(
    channel: ApduChannel,
    provider: CryptogramProvider | None,
    *,
    card_id: bytes,
    spec_version: str,
    fci: bytes | None = None,
    require_internal: bool = True,
    random: RandomSource = os.urandom,
) -> tuple[CardAccess, CardAuthenticator | None]:
    """Authenticate a freshly selected SSSE: internal authentication, then RKSSSE.

    Call right after SELECT SSSE and reading EF05 tag 01 and 03 (the state is lost on another
    SELECT of a DF). Without a provider nothing is authenticated and `note` says what that
    means; a 3rd-gen card then shows only EF05. Raises the `CardAuthenticator` errors.
    """
    alg = card_algorithm(spec_version, fci)
    if provider is None:
        note = (
            "no PSAM: the holder data and photo of this 3rd-generation card need RKSSSE "
            "authentication; only the issuer data (EF05) can be read"
            if is_third_generation(spec_version)
            else "no PSAM: the card is not authenticated and its photo cannot be read"
        )
        return CardAccess(alg, False, False, note), None
    auth = CardAuthenticator(
        channel, provider, algorithm=alg, card_factor=card_factor_from_id(card_id), random=random
    )
    if require_internal:
        auth.internal_authenticate()
    auth.authenticate_read()
    return CardAccess(alg, require_internal, True), auth


# --- terminal trust (docs/card-security.md §6) ----------------------------------------------------


@dataclass(frozen=True, slots=True)
class TrustPolicy:
    """How far the terminal trusts a PSAM: built by the composition root from [psam] config.

    In production the PSAM must prove `tak` (the terminal's TAK, from systemd credentials),
    whose KCV must equal `tak_kcv`; reader and ATR pins are checked too but never suffice.
    """

    production: bool
    tak_algorithm: Algorithm = Algorithm.SM4
    tak: bytes | None = field(default=None, repr=False)
    tak_kcv: bytes | None = None
    trusted_readers: tuple[str, ...] = ()
    trusted_atrs: tuple[bytes, ...] = ()


def verify_psam(
    psam: PsamClient,
    policy: TrustPolicy,
    *,
    reader_name: str,
    atr: bytes,
    random: RandomSource = os.urandom,
) -> PsamInfo:
    """Check the PSAM against the policy; returns its info. Raises `PsamUntrustedError`.

    Production: the reader name and ATR must match the pins when pins are set, then the PSAM
    computes `80 1A 0C <alg> 06 <terminal number>` + DES CRYPT over a fresh random block and
    the answer must equal the terminal's own TAK cryptogram. Demo: only `PsamMissingError`
    when no PSAM answers.
    """
    log = logging.getLogger("drivers.card.security.trust")
    info = psam.info()
    if not policy.production:
        return info
    if policy.trusted_readers and reader_name not in policy.trusted_readers:
        raise PsamUntrustedError(f"PSAM reader {reader_name!r} is not a trusted reader")
    if policy.trusted_atrs and bytes(atr) not in policy.trusted_atrs:
        raise PsamUntrustedError("the PSAM's ATR is not a trusted ATR")
    if policy.tak is None or policy.tak_kcv is None:
        raise PsamUntrustedError(
            "production mode needs the terminal's TAK credential and its key check value"
        )
    alg = policy.tak_algorithm
    if not constant_time_equal(key_check_value(alg, policy.tak), policy.tak_kcv):
        raise PsamUntrustedError("the TAK credential does not match the configured check value")
    if not info.supports(alg):
        raise PsamUntrustedError(f"the PSAM does not offer {alg.label}")
    number = bytes.fromhex(info.terminal_number.rjust(12, "0"))
    challenge = random(block_size(alg))
    try:
        answer = psam.compute(KeyUsage.TAK, alg, number, challenge)
    except PsamMissingError:
        raise
    except CardError as e:
        raise PsamUntrustedError(
            f"the PSAM cannot prove the terminal key: {e.message}", sw1=e.sw1, sw2=e.sw2
        ) from None
    if not constant_time_equal(answer, cryptogram(alg, policy.tak, challenge)):
        log.warning("PSAM in %s failed the TAK proof: refused", reader_name)
        raise PsamUntrustedError("the PSAM did not prove the terminal's production key")
    log.info("PSAM in %s proved the terminal's TAK", reader_name)
    return info


@dataclass(frozen=True, slots=True)
class ProductionFinding:
    """One line of `kiosk card check-production`: what was checked, whether it passed, why."""

    check: str
    ok: bool
    detail: str


def find_vpcd(
    driver_paths: Iterable[Path] = VPCD_DRIVER_PATHS,
    conf_dirs: Iterable[Path] = READER_CONF_DIRS,
) -> list[str]:
    """Where the vpcd virtual reader driver is installed or configured (empty = nowhere)."""
    found = [str(p) for p in driver_paths if p.exists()]
    for folder in conf_dirs:
        if not folder.is_dir():
            continue
        for conf in sorted(folder.iterdir()):
            try:
                text = conf.read_text(errors="replace")
            except OSError:
                continue
            if "libifdvpcd" in text or conf.name == "vpcd":
                found.append(str(conf))
    return found


def make_security_hook(
    provider: CryptogramProvider,
    *,
    require_internal: bool = True,
    random: RandomSource = os.urandom,
    on_access: Callable[[CardAccess, CardAuthenticator | None], None] | None = None,
) -> Callable[[SscApplication, IssuerData], None]:
    """A `SecurityHook` for `SscApplication`/`CardDriver`: authenticate between EF05 and EF06.

    Runs internal authentication (when `require_internal`) and RKSSSE on every card, so EF06
    of 3rd-gen cards and EF08 of all cards become readable in this SSSE selection. `on_access`
    receives the result (e.g. to keep the authenticator for a later activation write).
    """

    def hook(ssc: SscApplication, issuer: IssuerData) -> None:
        fci = bytes([0x9F, 0x0C, 0x03, 0x86, 0x01, ssc.algorithm]) if ssc.algorithm else None
        access, auth = open_card_access(
            ssc.channel,
            provider,
            card_id=issuer.card_id,
            spec_version=issuer.spec_version,
            fci=fci,
            require_internal=require_internal,
            random=random,
        )
        if on_access is not None:
            on_access(access, auth)

    return hook
