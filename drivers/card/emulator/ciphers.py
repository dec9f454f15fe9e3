"""Card-side ciphers of the emulator: SM4 and two-key 3DES, padding and key diversification.

Written from docs/card-security.md on `cryptography` directly, on purpose without importing the
driver's crypto module, so that the driver and the emulator cannot agree on a mistake.
"""

from __future__ import annotations

import enum
import warnings

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = ["Algorithm", "cryptogram", "diversify", "ecb_encrypt", "pad_block"]


class Algorithm(enum.Enum):
    """Block cipher of a card or PSAM key; the value is the FCI/PSAM algorithm byte."""

    TDES = 0x01
    SM4 = 0x04

    @property
    def block(self) -> int:
        """Block size in bytes."""
        return 8 if self is Algorithm.TDES else 16

    @classmethod
    def from_name(cls, name: str) -> Algorithm:
        """'3des' / 'tdes' or 'sm4' (profile files use these names)."""
        key = name.strip().lower()
        if key in ("3des", "tdes"):
            return cls.TDES
        if key == "sm4":
            return cls.SM4
        raise ValueError(f"unknown card algorithm {name!r}: expected '3des' or 'sm4'")


def ecb_encrypt(alg: Algorithm, key: bytes, data: bytes) -> bytes:
    """ECB-encrypt whole blocks; a 16-byte 3DES key is two-key TDEA (K1 K2 K1)."""
    if len(data) % alg.block:
        raise ValueError(f"data of {len(data)} bytes is not whole {alg.block}-byte blocks")
    if alg is Algorithm.SM4:
        if len(key) != 16:
            raise ValueError("SM4 needs a 16-byte key")
        enc = Cipher(algorithms.SM4(key), modes.ECB()).encryptor()
    else:
        if len(key) != 16:
            raise ValueError("two-key 3DES needs a 16-byte key")
        from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES

        with warnings.catch_warnings():
            # Passing K1 K2 K1 explicitly (24 bytes) is keying option 2 without the warning.
            warnings.simplefilter("ignore")
            enc = Cipher(TripleDES(key + key[:8]), modes.ECB()).encryptor()
    return enc.update(data) + enc.finalize()


def pad_block(alg: Algorithm, data: bytes) -> bytes:
    """ISO 9797-1 method 2 up to one block for short inputs; whole blocks are left as they are."""
    if data and len(data) % alg.block == 0:
        return data
    padded = data + b"\x80"
    while len(padded) % alg.block:
        padded += b"\x00"
    return padded


def cryptogram(alg: Algorithm, key: bytes, data: bytes) -> bytes:
    """Cryptogram of `data`: E_key(pad(data)) (docs/card-security.md section 2)."""
    return ecb_encrypt(alg, key, pad_block(alg, data))


def diversify(alg: Algorithm, master: bytes, factor: bytes) -> bytes:
    """Derived 16-byte key Div(MK, F) for an 8-byte factor F.

    3DES: E_MK(F) || E_MK(~F); SM4: E_MK(F || ~F).
    """
    if len(factor) != 8:
        raise ValueError("diversification factor must be 8 bytes")
    inverted = bytes(b ^ 0xFF for b in factor)
    if alg is Algorithm.TDES:
        return ecb_encrypt(alg, master, factor) + ecb_encrypt(alg, master, inverted)
    return ecb_encrypt(alg, master, factor + inverted)
