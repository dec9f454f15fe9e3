"""The central's own copy of the card issuer's key derivation (docs/card-security.md §2), to check
a card's INTERNAL AUTHENTICATE answer to a challenge the central chose.

Written on `cryptography` directly (central never imports drivers). The master keys are read as
JSON data from `[trust] issuer_keys_file`: by default the emulator's TEST key set, which is all
this repository ever holds; a deployment replaces this module's key source with the issuer's
HSM and keeps the rest.
"""

from __future__ import annotations

import hmac
import json
import warnings
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["ALGORITHMS", "IssuerKeyError", "IssuerKeys", "card_answer"]

ALGORITHMS = ("sm4", "3des")
_BLOCK = {"sm4": 16, "3des": 8}


class IssuerKeyError(Exception):
    """The issuer key file is missing, malformed or lacks a key."""


def _ecb(alg: str, key: bytes, data: bytes) -> bytes:
    if len(key) != 16 or len(data) % _BLOCK[alg]:
        raise ValueError("a 16-byte key and whole blocks")
    if alg == "sm4":
        enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    else:
        from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # K1 K2 K1: two-key TDEA, keying option 2
            enc = Cipher(TripleDES(key + key[:8]), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def _diversify(alg: str, master: bytes, factor: bytes) -> bytes:
    inverted = bytes(b ^ 0xFF for b in factor)
    if alg == "3des":
        return _ecb(alg, master, factor) + _ecb(alg, master, inverted)
    return _ecb(alg, master, factor + inverted)


def _pad(alg: str, data: bytes) -> bytes:
    block = _BLOCK[alg]
    if data and len(data) % block == 0:
        return data
    padded = data + b"\x80"
    return padded + b"\x00" * (-len(padded) % block)


def card_answer(alg: str, irk_master: bytes, card_id: bytes, challenge: bytes) -> bytes:
    """What a genuine card answers to INTERNAL AUTHENTICATE R ‖ S: E_SK(pad(S)) with
    K = Div(MK_IRK, F), F = card_id[8:16], and SK = Div(K, R)."""
    if len(card_id) != 16 or len(challenge) != 16:
        raise ValueError("card id and challenge are 16 bytes each")
    card_key = _diversify(alg, irk_master, card_id[8:16])
    session_key = _diversify(alg, card_key, challenge[:8])
    return _ecb(alg, session_key, _pad(alg, challenge[8:]))


@dataclass(frozen=True)
class IssuerKeys:
    """The IRK master keys per algorithm of one key set."""

    name: str
    irk: dict[str, bytes] = field(repr=False)

    @classmethod
    def load(cls, path: Path, key_set: str) -> IssuerKeys:
        """Read `key_set` from the JSON file (``{set: {alg: {irk: hex, ...}}}``)."""
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            sets = data[key_set]
            irk = {alg: bytes.fromhex(sets[alg]["irk"]) for alg in ALGORITHMS if alg in sets}
        except (OSError, ValueError, KeyError, TypeError) as e:
            raise IssuerKeyError(f"issuer keys {path.name}/{key_set}: {e}") from None
        if not irk or any(len(k) != 16 for k in irk.values()):
            raise IssuerKeyError(f"issuer keys {path.name}/{key_set}: no 16-byte IRK")
        return cls(key_set, irk)

    def verify(self, alg: str, card_id: bytes, challenge: bytes, answer: bytes) -> bool:
        """True when `answer` is what the card `card_id` answers to `challenge` (constant time)."""
        master = self.irk.get(alg)
        if master is None:
            return False
        expected = card_answer(alg, master, card_id, challenge)
        return hmac.compare_digest(expected, answer)
