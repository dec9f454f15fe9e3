"""Card ciphers: SM4 and two-key TripleDES (ECB), padding, key diversification, cryptograms, KCV.

Pure functions over `cryptography`'s primitives, after docs/card-security.md §1-§2. No I/O, no
logging: key material never reaches a log line. The primitives themselves are checked against the
published known-answer vectors (GB/T 32907-2016 appendix A examples 1 and 2, NIST SP 800-20 /
SP 800-67, and the CAVP TECBMMT2 two-key file) in tests/unit/card/test_crypto.py before anything
here is built on them.
"""

from __future__ import annotations

import hmac
from enum import IntEnum

from cryptography.hazmat.decrepit.ciphers.algorithms import TripleDES
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

__all__ = [
    "Algorithm",
    "CryptoError",
    "block_size",
    "constant_time_equal",
    "cryptogram",
    "decrypt_ecb",
    "diversify",
    "encrypt_ecb",
    "iso9797_m2_pad",
    "key_check_value",
    "key_length",
    "pad_block",
    "process_key",
]


class Algorithm(IntEnum):
    """Card cipher identifiers as the SSSE FCI (`9F0C 03 86 01 xx`) and the PSAM name them."""

    TDES = 0x01  # two-key TripleDES, 2nd-generation cards
    SM4 = 0x04  # SM4, 3rd-generation cards

    @property
    def label(self) -> str:
        """Human name: "3DES" or "SM4"."""
        return "3DES" if self is Algorithm.TDES else "SM4"


class CryptoError(ValueError):
    """A key or input of the wrong size for the algorithm (a programming or data error)."""


def block_size(alg: Algorithm) -> int:
    """Block size in bytes: 8 for 3DES, 16 for SM4."""
    return 8 if alg is Algorithm.TDES else 16


def key_length(alg: Algorithm) -> int:
    """Key length in bytes: 16 for both (double-length 3DES, SM4-128)."""
    del alg
    return 16


def _cipher(alg: Algorithm, key: bytes) -> Cipher[modes.ECB]:
    if len(key) != key_length(alg):
        raise CryptoError(f"{alg.label} key must be {key_length(alg)} bytes, not {len(key)}")
    if alg is Algorithm.TDES:
        # Keying option 2 (K1, K2, K1): `cryptography` takes the 24-byte form without a warning.
        return Cipher(TripleDES(bytes(key) + bytes(key[:8])), modes.ECB())
    return Cipher(algorithms.SM4(bytes(key)), modes.ECB())


def _check_blocks(alg: Algorithm, data: bytes) -> None:
    if not data or len(data) % block_size(alg):
        raise CryptoError(f"{alg.label} input must be whole {block_size(alg)}-byte blocks")


def encrypt_ecb(alg: Algorithm, key: bytes, data: bytes) -> bytes:
    """Encrypt whole blocks with `key` in ECB mode. Raises `CryptoError` on a bad size."""
    _check_blocks(alg, data)
    enc = _cipher(alg, key).encryptor()
    return enc.update(bytes(data)) + enc.finalize()


def decrypt_ecb(alg: Algorithm, key: bytes, data: bytes) -> bytes:
    """Decrypt whole blocks with `key` in ECB mode. Raises `CryptoError` on a bad size."""
    _check_blocks(alg, data)
    dec = _cipher(alg, key).decryptor()
    return dec.update(bytes(data)) + dec.finalize()


def iso9797_m2_pad(data: bytes, size: int) -> bytes:
    """ISO/IEC 9797-1 padding method 2: append `80`, then `00`s to a multiple of `size`."""
    out = bytes(data) + b"\x80"
    return out + bytes(-len(out) % size)


def pad_block(alg: Algorithm, data: bytes) -> bytes:
    """One block from `data` (docs/card-security.md §1): a full block as is, a shorter input padded
    (method 2).

    Raises `CryptoError` for an empty input or one longer than a block: every cryptogram of the
    SSC/PSAM protocol covers exactly one block.
    """
    size = block_size(alg)
    if len(data) == size:
        return bytes(data)
    if not 0 < len(data) < size:
        raise CryptoError(f"{alg.label} cryptogram input must be 1..{size} bytes, not {len(data)}")
    return iso9797_m2_pad(data, size)


def diversify(alg: Algorithm, master: bytes, factor: bytes) -> bytes:
    """Derive a 16-byte card key from `master` and an 8-byte factor F (docs/card-security.md §2,
    [ours]).

    3DES: `E(F) ‖ E(~F)` (two single-block encryptions); SM4: `E(F ‖ ~F)` (one block).
    """
    if len(factor) != 8:
        raise CryptoError(f"a diversification factor is 8 bytes, not {len(factor)}")
    inverted = bytes(b ^ 0xFF for b in factor)
    if alg is Algorithm.TDES:
        return encrypt_ecb(alg, master, bytes(factor)) + encrypt_ecb(alg, master, inverted)
    return encrypt_ecb(alg, master, bytes(factor) + inverted)


def process_key(alg: Algorithm, card_key: bytes, process_factor: bytes) -> bytes:
    """Session key of an INTERNAL AUTHENTICATE: `Div(K, R)` with the 8-byte process factor R."""
    return diversify(alg, card_key, process_factor)


def cryptogram(alg: Algorithm, key: bytes, data: bytes) -> bytes:
    """`E_key(pad(X))`: 8 bytes (3DES) or 16 bytes (SM4). See `pad_block` for the sizes."""
    return encrypt_ecb(alg, key, pad_block(alg, data))


def key_check_value(alg: Algorithm, key: bytes) -> bytes:
    """KCV: the first 3 bytes of the key's encryption of one all-zero block (docs/card-security.md
    §6)."""
    return encrypt_ecb(alg, key, bytes(block_size(alg)))[:3]


def constant_time_equal(a: bytes, b: bytes) -> bool:
    """Compare two cryptograms without a timing side channel."""
    return hmac.compare_digest(bytes(a), bytes(b))
