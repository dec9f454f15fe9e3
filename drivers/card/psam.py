"""PSAM client: the terminal's secure access module in the reader's second slot
(docs/card-security.md §5).

Speaks our documented PSAM command set (SELECT DF01, READ terminal number, GET DATA algorithms,
INIT FOR DESCRYPT, DES CRYPT) over any channel with `transmit()` and `transaction()` (the
`CardChannel` of drivers/card/transport.py, which follows 61xx with GET RESPONSE and 6Cxx with
the corrected Le). Key material never leaves the PSAM; diversification factors and cryptograms
are never logged.
"""

from __future__ import annotations

import logging
from contextlib import AbstractContextManager
from dataclasses import dataclass
from enum import IntEnum
from typing import Protocol

from drivers.card.apdu import CommandApdu, ResponseApdu
from drivers.card.crypto import Algorithm
from drivers.card.errors import CardError
from drivers.card.status import describe
from drivers.vocabulary import ErrorCode

__all__ = [
    "PSAM_DF",
    "ApduChannel",
    "KeyUsage",
    "PsamClient",
    "PsamCommandError",
    "PsamError",
    "PsamInfo",
    "PsamKeyMissingError",
    "PsamMissingError",
    "PsamUntrustedError",
]

PSAM_DF = 0xDF01


class ApduChannel(Protocol):
    """What the security code needs of a card channel (structurally A's `CardChannel`)."""

    def transmit(self, apdu: CommandApdu) -> ResponseApdu:
        """Send one command; 61xx/6Cxx are resolved by the channel; returns data + SW."""
        ...

    def transaction(self) -> AbstractContextManager[object]:
        """Exclusive access to the card for a multi-APDU sequence."""
        ...


class KeyUsage(IntEnum):
    """Key purposes and their PSAM usage byte (INIT FOR DESCRYPT P1), docs/card-security.md §2."""

    IRK = 0x27  # internal authentication of the card
    RKSSSE = 0x0A  # read key of the SSSE personal data (card KID 0A)
    UK = 0x0B  # update key of DF04 (card KID 0B)
    TAK = 0x0C  # terminal authentication key: the PSAM proves itself to the terminal


class PsamError(CardError):
    """Root of the PSAM errors."""

    code = ErrorCode.PSAM_MISSING


class PsamMissingError(PsamError):
    """No PSAM answers in the configured slot: the terminal cannot authenticate cards."""

    code = ErrorCode.PSAM_MISSING


class PsamCommandError(PsamError):
    """The PSAM refused a command; `sw1`/`sw2` hold its status word."""

    code = ErrorCode.CARD_STATUS


class PsamKeyMissingError(PsamCommandError):
    """The PSAM has no key for this usage (6A88) or not this algorithm (6A81)."""

    code = ErrorCode.PSAM_MISSING


class PsamUntrustedError(PsamError):
    """The PSAM did not prove the terminal's production key (docs/card-security.md §6): it is not
    ours."""

    code = ErrorCode.PSAM_UNTRUSTED


@dataclass(frozen=True, slots=True)
class PsamInfo:
    """What `kiosk card psam` shows: terminal number, algorithms, key usages, key version."""

    terminal_number: str  # 12 decimal digits
    algorithms: tuple[Algorithm, ...]
    usages: tuple[int, ...]
    key_version: int | None

    def supports(self, alg: Algorithm) -> bool:
        return alg in self.algorithms


def _bcd_digits(data: bytes) -> str:
    text = data.hex().upper()
    return text.rstrip("F")


def parse_algorithms(data: bytes) -> tuple[tuple[Algorithm, ...], tuple[int, ...], int | None]:
    """Parse the GET DATA answer `A0 L algs ‖ A1 L usages ‖ A2 01 version` (docs/card-security.md
    §5)."""
    algs: list[Algorithm] = []
    usages: tuple[int, ...] = ()
    version: int | None = None
    pos = 0
    while pos + 2 <= len(data):
        tag, length = data[pos], data[pos + 1]
        value = data[pos + 2 : pos + 2 + length]
        if len(value) != length:
            raise PsamCommandError("the PSAM's algorithm list is truncated")
        pos += 2 + length
        if tag == 0xA0:
            for b in value:
                try:
                    algs.append(Algorithm(b))
                except ValueError:
                    continue  # an algorithm we do not use (e.g. SSF33) is not an error
        elif tag == 0xA1:
            usages = tuple(value)
        elif tag == 0xA2 and length == 1:
            version = value[0]
    return tuple(algs), usages, version


class PsamClient:
    """Commands of the PSAM in slot 1. Not thread-safe: one caller at a time (the card thread).

    Every method raises `PsamMissingError` when the PSAM does not answer or has no SS
    application, `PsamKeyMissingError` for an unknown usage/algorithm, `PsamCommandError` for
    another refusal, and the channel's `CardError`s (removed, reader error) unchanged.
    """

    def __init__(self, channel: ApduChannel, *, name: str = "psam") -> None:
        self._channel = channel
        self._log = logging.getLogger(f"drivers.card.psam.{name}")
        self._selected = False

    @property
    def channel(self) -> ApduChannel:
        return self._channel

    def _send(self, apdu: CommandApdu, what: str) -> bytes:
        resp = self._channel.transmit(apdu)
        if resp.ok:
            return resp.data
        sw = resp.sw
        self._log.debug("PSAM %s refused: SW %04X", what, sw)
        message = f"PSAM {what}: {describe(resp.sw1, resp.sw2)}"
        if sw in (0x6A88, 0x6A81):
            raise PsamKeyMissingError(message, sw1=resp.sw1, sw2=resp.sw2)
        raise PsamCommandError(message, sw1=resp.sw1, sw2=resp.sw2)

    def select(self) -> None:
        """SELECT the SS application `00 A4 00 00 02 DF01`; `PsamMissingError` if absent."""
        try:
            self._send(CommandApdu(0x00, 0xA4, 0x00, 0x00, PSAM_DF.to_bytes(2, "big")), "SELECT")
        except PsamCommandError as e:
            raise PsamMissingError(
                "no PSAM with a social security application in the PSAM slot",
                sw1=e.sw1,
                sw2=e.sw2,
            ) from None
        self._selected = True

    def _ensure_selected(self) -> None:
        if not self._selected:
            self.select()

    def terminal_number(self) -> str:
        """The PSAM's terminal number, 12 digits (READ BINARY SFI 0x16, 6 bytes BCD)."""
        self._ensure_selected()
        data = self._send(CommandApdu(0x00, 0xB0, 0x96, 0x00, le=6), "READ terminal number")
        if len(data) != 6:
            raise PsamCommandError(f"terminal number of {len(data)} bytes, expected 6")
        return _bcd_digits(data)

    def info(self) -> PsamInfo:
        """Terminal number, algorithms, key usages and key version (GET DATA `80 CA 00 A0`)."""
        self._ensure_selected()
        number = self.terminal_number()
        data = self._send(CommandApdu(0x80, 0xCA, 0x00, 0xA0, le=256), "GET DATA algorithms")
        algs, usages, version = parse_algorithms(data)
        return PsamInfo(number, algs, usages, version)

    def init_for_descrypt(
        self,
        usage: KeyUsage,
        alg: Algorithm,
        factor: bytes,
        process_factor: bytes | None = None,
    ) -> None:
        """INIT FOR DESCRYPT `80 1A usage alg Lc F [‖ R]`: load Div(MK, F) (and the process key).

        `factor` is 8 bytes, or the 6-byte terminal number for the TAK (docs/card-security.md §6).
        """
        self._ensure_selected()
        if len(factor) not in (6, 8) or (process_factor is not None and len(process_factor) != 8):
            raise ValueError("factor is 6 or 8 bytes, process factor 8")
        data = bytes(factor) + (bytes(process_factor) if process_factor else b"")
        self._send(
            CommandApdu(0x80, 0x1A, int(usage), int(alg), data, sensitive=True),
            f"INIT FOR DESCRYPT usage {int(usage):02X}",
        )

    def des_crypt(self, data: bytes) -> bytes:
        """DES CRYPT `80 FA 00 00 Lc X`: the cryptogram of X under the current key."""
        out = self._send(
            CommandApdu(0x80, 0xFA, 0x00, 0x00, bytes(data), sensitive=True), "DES CRYPT"
        )
        if len(out) not in (8, 16):
            raise PsamCommandError(f"PSAM cryptogram of {len(out)} bytes")
        return out

    def compute(
        self,
        usage: KeyUsage,
        alg: Algorithm,
        factor: bytes,
        data: bytes,
        process_factor: bytes | None = None,
    ) -> bytes:
        """INIT FOR DESCRYPT then DES CRYPT, in one PSAM transaction (nobody else between)."""
        with self._channel.transaction():
            self.init_for_descrypt(usage, alg, factor, process_factor)
            return self.des_crypt(data)
