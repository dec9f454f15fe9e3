"""At-rest encryption of personal payloads: AES-256-GCM with a key from systemd credentials."""

from __future__ import annotations

import base64
import binascii
import hashlib
import logging
import os
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from kiosk.journal.errors import JournalError, JournalKeyError

__all__ = ["DEMO_KEY", "Sealer", "load_key"]

log = logging.getLogger("kiosk.journal.crypto")

# Demo mode only: a fixed, public key, so that a demo journal can be read after a restart.
# A production terminal refuses to start without its credential (load_key).
DEMO_KEY = hashlib.sha256(b"ssk demo journal key - not secret").digest()
_FORMAT = b"\x01"  # version byte of the sealed blob: 0x01 | nonce(12) | ciphertext+tag


def _parse_key(raw: bytes) -> bytes:
    if len(raw) == 32:
        return raw
    text = raw.strip()
    for decode in (bytes.fromhex, base64.b64decode):
        try:
            key = decode(text.decode("ascii"))
        except (ValueError, binascii.Error, UnicodeDecodeError):
            continue
        if len(key) == 32:
            return bytes(key)
    raise JournalKeyError("journal key must be 32 bytes (raw, hex or base64)")


def load_key(name: str, *, demo: bool, environ: Mapping[str, str] | None = None) -> bytes:
    """The journal key from ``$CREDENTIALS_DIRECTORY/{name}`` (systemd ``LoadCredential=``).

    In demo mode a missing credential falls back to `DEMO_KEY` (logged). Raises
    `JournalKeyError` in production when it is missing or malformed.
    """
    env = os.environ if environ is None else environ
    folder = env.get("CREDENTIALS_DIRECTORY")
    if folder:
        path = Path(folder) / name
        if path.is_file():
            return _parse_key(path.read_bytes())
    if demo:
        log.warning("journal key credential %s not found: using the demo key (demo mode)", name)
        return DEMO_KEY
    raise JournalKeyError(f"credential {name!r} not found in $CREDENTIALS_DIRECTORY")


class Sealer:
    """Seals and opens personal payloads; `context` (e.g. the row key) is bound as AAD."""

    def __init__(self, key: bytes) -> None:
        if len(key) != 32:
            raise JournalKeyError("journal key must be 32 bytes")
        self._aead = AESGCM(key)

    def seal(self, plaintext: bytes, context: str) -> bytes:
        """Encrypt; a fresh random 96-bit nonce per call (NIST SP 800-38D)."""
        nonce = os.urandom(12)
        return _FORMAT + nonce + self._aead.encrypt(nonce, plaintext, context.encode())

    def open(self, blob: bytes, context: str) -> bytes:
        """Decrypt. Raises `JournalError` when the blob was altered or the key is wrong."""
        if blob[:1] != _FORMAT or len(blob) < 29:
            raise JournalError("sealed payload has an unknown format")
        try:
            return self._aead.decrypt(blob[1:13], blob[13:], context.encode())
        except InvalidTag:
            raise JournalError("sealed payload failed authentication (wrong key?)") from None
