"""e-SSC QR codes: the reference central issues them and checks them (docs/essc-login.md).

A real electronic social security card's QR code comes from the national platform, whose
format and verification API are not public; the kiosk treats the code as opaque and hands it to
the central system, which alone judges it. This reference central plays the platform with a
format of its own:

    ESSC1.<base64url(claims JSON)>.<base64url(Ed25519 signature over "ESSC1." + claims)>

claims: ``jti`` (the code's id), ``iat``/``exp`` (epoch seconds) and ``tid`` (the terminal
the code was made for, or null). The code names nobody: whoever photographs a phone's screen
learns no ID number; the platform's own table `essc_codes` maps the id to the holder. A code
counts once: one UPDATE marks it used, so a replayed code is refused even by another worker.
A person whose card is reported lost is refused (the loss revokes the e-SSC too). The signing
key is the TEST key of this file unless `[trust] essc_key_file` names one.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
import logging
import secrets
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)

from central.errors import CentralError
from central.idnumber import is_valid_id_number, mask_id
from central.storage import Storage
from central.trust import CardLostError, ForbiddenError

__all__ = ["PREFIX", "TEST_KEY_SEED", "EsscAuthority", "EsscClaims"]

logger = logging.getLogger("central.essc")

PREFIX = "ESSC1."
TEST_KEY_SEED = b"SSK TEST E-SSC PLATFORM KEY - NOT FOR PRODUCTION"
"""The TEST platform key is Ed25519 from SHA-256 of this text."""
MAX_TOKEN = 1024
MAX_TTL_S = 600.0  # a code on a phone screen refreshes; a long-lived one is a stolen one


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


@dataclass(frozen=True, slots=True)
class EsscClaims:
    token_id: str
    issued_at: float
    expires_at: float
    terminal_id: str | None


class EsscAuthority:
    """Issues and checks e-SSC codes with one Ed25519 key."""

    def __init__(self, key: Ed25519PrivateKey, clock: Callable[[], float] = time.time) -> None:
        self._key = key
        self._public: Ed25519PublicKey = key.public_key()
        self._clock = clock

    @classmethod
    def load(
        cls, pem_file: str | Path | None, clock: Callable[[], float] = time.time
    ) -> EsscAuthority:
        """From a PEM file, or the TEST key when none is named."""
        if not pem_file:
            seed = hashlib.sha256(TEST_KEY_SEED).digest()
            return cls(Ed25519PrivateKey.from_private_bytes(seed), clock)
        try:
            key = serialization.load_pem_private_key(Path(pem_file).read_bytes(), password=None)
        except (OSError, ValueError) as e:
            raise CentralError(f"[trust] essc_key_file: {e}", code="central.config") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise CentralError("[trust] essc_key_file is not an Ed25519 key", code="central.config")
        return cls(key, clock)

    def issue(
        self, db: Storage, id_number: str, *, ttl_s: float = 60.0, terminal_id: str | None = None
    ) -> str:
        """A code for `id_number`, valid `ttl_s` seconds, optionally only at `terminal_id`."""
        if not is_valid_id_number(id_number):
            raise CentralError("not a valid ID number", code="invalid_params")
        if not 1 <= ttl_s <= MAX_TTL_S:
            raise CentralError(f"an e-SSC code lives 1..{MAX_TTL_S:g} s", code="invalid_params")
        if db.one("SELECT 1 FROM persons WHERE id_number = ?", (id_number,)) is None:
            raise CentralError("no insured person with this ID number", code="not_found")
        now = self._clock()
        claims = {
            "jti": secrets.token_hex(12),
            "iat": round(now, 3),
            "exp": round(now + ttl_s, 3),
            "tid": terminal_id,
        }
        db.execute(
            "INSERT INTO essc_codes (token_id, id_number, bound_terminal, issued_at, expires_at) "
            "VALUES (?, ?, ?, ?, ?)",
            (claims["jti"], id_number, terminal_id, now, now + ttl_s),
        )
        body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
        signature = self._key.sign((PREFIX + body).encode())
        return f"{PREFIX}{body}.{_b64(signature)}"

    def parse(self, token: str) -> EsscClaims:
        """The claims of a well-formed, correctly signed code (no expiry or use check)."""
        if len(token) > MAX_TOKEN or not token.startswith(PREFIX) or token.count(".") != 2:
            raise ForbiddenError("this is not an e-SSC code")
        body, _, sig = token[len(PREFIX) :].partition(".")
        try:
            self._public.verify(_unb64(sig), (PREFIX + body).encode())
            d = json.loads(_unb64(body))
            claims = EsscClaims(
                token_id=str(d["jti"]),
                issued_at=float(d["iat"]),
                expires_at=float(d["exp"]),
                terminal_id=None if d.get("tid") is None else str(d["tid"]),
            )
        except (InvalidSignature, binascii.Error, ValueError, KeyError, TypeError):
            logger.warning("a forged or damaged e-SSC code was shown")
            raise ForbiddenError("this e-SSC code is not valid") from None
        if not 1 <= len(claims.token_id) <= 64:
            raise ForbiddenError("this e-SSC code is not valid")
        return claims

    def redeem(self, db: Storage, terminal_id: str, token: str) -> str:
        """Check a code shown at `terminal_id`, use it up, and return its holder's ID number.
        ForbiddenError (expired, used, another terminal's, forged, unknown) or CardLostError
        (the holder's card is reported lost)."""
        claims = self.parse(token)
        now = self._clock()
        if now >= claims.expires_at:
            raise ForbiddenError("this e-SSC code has expired: refresh it in the app")
        if claims.terminal_id is not None and claims.terminal_id != terminal_id:
            logger.warning("terminal %s was shown a code made for another terminal", terminal_id)
            raise ForbiddenError("this e-SSC code was made for another terminal")
        row = db.one("SELECT id_number FROM essc_codes WHERE token_id = ?", (claims.token_id,))
        if row is None:  # signed with our key, yet never issued: the key is in wrong hands
            logger.warning("terminal %s: an e-SSC code the platform never issued", terminal_id)
            raise ForbiddenError("this e-SSC code is not valid")
        id_number = str(row[0])
        lost = db.one("SELECT 1 FROM cards WHERE id_number = ? AND state != 'active'", (id_number,))
        if lost is not None:
            raise CardLostError("the social security card is reported lost: the e-SSC is revoked")
        # One statement decides, on SQLite and PostgreSQL alike: two workers shown the same
        # code at once cannot both mark it used.
        marked = db.execute(
            "UPDATE essc_codes SET used_at = ?, used_by = ? WHERE token_id = ? AND used_at IS NULL",
            (now, terminal_id, claims.token_id),
        )
        if marked != 1:
            logger.warning("terminal %s: an e-SSC code was shown again", terminal_id)
            raise ForbiddenError("this e-SSC code was already used: refresh it in the app")
        logger.info("terminal %s: e-SSC login of %s", terminal_id, mask_id(id_number))
        return id_number
