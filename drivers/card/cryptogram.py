"""Where cryptograms come from: the `CryptogramProvider` protocol, the PSAM and a software HSM.

The security code asks a provider for "the cryptogram of X under the key of this usage,
diversified for this card"; a PSAM in slot 1 answers in a real terminal, a networked HSM (its
client implements the same protocol) or the software provider stands in for tests and demos.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Protocol

from drivers.card.crypto import Algorithm, cryptogram, diversify, process_key
from drivers.card.psam import KeyUsage, PsamClient, PsamKeyMissingError

__all__ = [
    "CryptogramProvider",
    "PsamCryptogramProvider",
    "SoftwareCryptogramProvider",
    "normalise_factor",
]


def normalise_factor(factor: bytes) -> bytes:
    """An 8-byte factor; the 6-byte terminal number is left-padded with 00 (docs/card-security.md
    §6)."""
    if len(factor) == 8:
        return bytes(factor)
    if len(factor) == 6:
        return b"\x00\x00" + bytes(factor)
    raise ValueError(f"a diversification factor is 6 or 8 bytes, not {len(factor)}")


class CryptogramProvider(Protocol):
    """Computes cryptograms with keys the terminal itself never holds.

    `card_factor` is the 8-byte card factor (or the 6-byte terminal number for the TAK);
    `process_factor` (8 bytes) is set for internal authentication only. Returns 8 bytes for
    3DES, 16 for SM4. Raises a `CardError` (PSAM gone, key missing) on failure. Called on the
    card thread; implementations need not be thread-safe.
    """

    @property
    def name(self) -> str:
        """Short label for logs and the CLI ("psam", "software")."""
        ...

    def cryptogram(
        self,
        *,
        usage: KeyUsage,
        algorithm: Algorithm,
        card_factor: bytes,
        data: bytes,
        process_factor: bytes | None = None,
    ) -> bytes:
        """The cryptogram of `data` under Div(MK[usage], card_factor) (and the process key)."""
        ...


class PsamCryptogramProvider:
    """Provider backed by the PSAM: INIT FOR DESCRYPT + DES CRYPT in one transaction."""

    def __init__(self, psam: PsamClient) -> None:
        self._psam = psam

    @property
    def name(self) -> str:
        return "psam"

    @property
    def psam(self) -> PsamClient:
        return self._psam

    def cryptogram(
        self,
        *,
        usage: KeyUsage,
        algorithm: Algorithm,
        card_factor: bytes,
        data: bytes,
        process_factor: bytes | None = None,
    ) -> bytes:
        return self._psam.compute(usage, algorithm, card_factor, data, process_factor)


class SoftwareCryptogramProvider:
    """Provider holding master keys in memory: the stand-in of a networked HSM, for tests/demo.

    `masters` maps (usage, algorithm) to a 16-byte master key. Never for production keys: the
    keys live in this process's memory.
    """

    def __init__(self, masters: Mapping[tuple[KeyUsage, Algorithm], bytes]) -> None:
        for (usage, alg), key in masters.items():
            if len(key) != 16:
                raise ValueError(f"master key {usage.name}/{alg.label} must be 16 bytes")
        self._masters = dict(masters)

    @property
    def name(self) -> str:
        return "software"

    def cryptogram(
        self,
        *,
        usage: KeyUsage,
        algorithm: Algorithm,
        card_factor: bytes,
        data: bytes,
        process_factor: bytes | None = None,
    ) -> bytes:
        master = self._masters.get((usage, algorithm))
        if master is None:
            raise PsamKeyMissingError(
                f"no {usage.name} key for {algorithm.label} in the software provider"
            )
        key = diversify(algorithm, master, normalise_factor(card_factor))
        if process_factor is not None:
            key = process_key(algorithm, key, process_factor)
        return cryptogram(algorithm, key, data)
