"""Insured certificates (参保证明): built from the contribution records, signed with Ed25519
(`cryptography`), stored once per request key, and verifiable later by their code.

The document is the canonical JSON (sorted keys, no spaces) of every field but the signature;
the signature covers exactly those bytes, so a verifier needs only the document, the signature
and the central's public key. The holder's name and ID number are masked in it (the privacy
rules of drivers/personal.py: family name only; first 3 and last 4 of the ID number).
"""

from __future__ import annotations

import base64
import hashlib
import json
import logging
import secrets
from collections.abc import Iterable, Sequence
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from central.errors import CentralError
from central.idnumber import mask_id
from central.storage import Row, Storage
from kiosk.contract import (
    CertificateVerifyResult,
    ContractError,
    InsuranceKind,
    InsuredCertificate,
    InsuredPeriod,
    decode,
)

__all__ = [
    "TEST_KEY_SEED",
    "CertificateSigner",
    "insured_periods",
    "issue_certificate",
    "verify_code",
]

logger = logging.getLogger("central.certificates")

TEST_KEY_SEED = b"SSK TEST CERTIFICATE SIGNING KEY - NOT FOR PRODUCTION"
"""The TEST signing key is Ed25519 from SHA-256 of this text (docs/central-trust.md)."""
_CODE_ALPHABET = "23456789ABCDEFGHJKLMNPQRSTUVWXYZ"  # no 0/O, 1/I: read off paper


class CertificateSigner:
    """The central's certificate key: the TEST key, or an Ed25519 PEM file."""

    def __init__(self, key: Ed25519PrivateKey) -> None:
        self._key = key
        raw = key.public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw
        )
        self.key_id = "ed25519:" + hashlib.sha256(raw).hexdigest()[:16]
        self.public_key: Ed25519PublicKey = key.public_key()

    @classmethod
    def load(cls, pem_file: str | Path | None) -> CertificateSigner:
        """From a PEM file, or the TEST key when `pem_file` is empty."""
        if not pem_file:
            return cls(Ed25519PrivateKey.from_private_bytes(hashlib.sha256(TEST_KEY_SEED).digest()))
        try:
            key = serialization.load_pem_private_key(Path(pem_file).read_bytes(), password=None)
        except (OSError, ValueError, TypeError) as e:
            raise CentralError(f"certificate key: {e}", code="central.config") from None
        if not isinstance(key, Ed25519PrivateKey):
            raise CentralError("certificate key: not an Ed25519 key", code="central.config")
        return cls(key)

    def sign(self, document: bytes) -> str:
        return base64.b64encode(self._key.sign(document)).decode("ascii")

    def verify(self, document: bytes, signature_b64: str) -> bool:
        try:
            self.public_key.verify(base64.b64decode(signature_b64, validate=True), document)
        except (InvalidSignature, ValueError):
            return False
        return True


def _mask_name(name: str) -> str:
    return name[:1] + "*" * max(0, len(name) - 1)


def _next(period: str) -> str:
    year, month = int(period[:4]), int(period[4:])
    return f"{year + month // 12:04d}{month % 12 + 1:02d}"


def insured_periods(rows: Iterable[Row]) -> list[InsuredPeriod]:
    """Uninterrupted runs of paid months per insurance from ``(insurance, period)`` rows sorted
    by insurance then period."""
    out: list[InsuredPeriod] = []
    current: list[str] | None = None  # [insurance, first, last, months]
    for insurance, period in rows:
        if current and current[0] == insurance and _next(current[2]) == period:
            current[2] = period
            current[3] = str(int(current[3]) + 1)
            continue
        if current:
            out.append(_period(current))
        current = [insurance, period, period, "1"]
    if current:
        out.append(_period(current))
    return out


def _period(run: Sequence[str]) -> InsuredPeriod:
    return InsuredPeriod(
        insurance=InsuranceKind(run[0]), from_period=run[1], to_period=run[2], months=int(run[3])
    )


def _code() -> str:
    raw = "".join(secrets.choice(_CODE_ALPHABET) for _ in range(16))
    return "-".join(raw[i : i + 4] for i in range(0, 16, 4))


def _document(fields: dict[str, object]) -> str:
    return json.dumps(fields, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def issue_certificate(
    db: Storage,
    signer: CertificateSigner,
    *,
    request_key: str,
    terminal_id: str,
    id_number: str,
    name: str,
    insurances: Sequence[InsuranceKind],
    now: float,
) -> tuple[InsuredCertificate, bool]:
    """The certificate of `request_key`, made and stored the first time; `(cert, repeated)`."""
    stored = _stored(db, "request_key", request_key)
    if stored is not None:
        return stored, True
    kinds = [k.value for k in (insurances or list(InsuranceKind))]
    marks = ",".join("?" for _ in kinds)
    rows = db.query(
        "SELECT insurance, period FROM contributions WHERE id_number = ? AND paid = 1"
        f" AND insurance IN ({marks}) ORDER BY insurance, period",
        (id_number, *kinds),
    )
    certificate_id = "C" + hashlib.sha256(request_key.encode()).hexdigest()[:15].upper()
    fields: dict[str, object] = {
        "certificate_id": certificate_id,
        "verification_code": _code(),
        "holder_name_masked": _mask_name(name),
        "id_number_masked": mask_id(id_number),
        "issued_at": now,
        "periods": [p.model_dump(mode="json") for p in insured_periods(rows)],
        "issuer": "SSK reference central system (TEST)",
        "key_id": signer.key_id,
    }
    document = _document(fields)
    cert = InsuredCertificate(
        certificate_id=certificate_id,
        verification_code=str(fields["verification_code"]),
        holder_name_masked=str(fields["holder_name_masked"]),
        id_number_masked=str(fields["id_number_masked"]),
        issued_at=now,
        periods=insured_periods(rows),
        document=document,
        signature_b64=signer.sign(document.encode("utf-8")),
        key_id=signer.key_id,
    )
    with db.transaction() as tx:
        tx.execute(
            "INSERT INTO certificates (certificate_id, request_key, verification_code, id_number,"
            " terminal_id, issued_at, body) VALUES (?,?,?,?,?,?,?)"
            " ON CONFLICT (request_key) DO NOTHING",
            (
                certificate_id,
                request_key,
                cert.verification_code,
                id_number,
                terminal_id,
                now,
                cert.model_dump_json(),
            ),
        )
    stored = _stored(db, "request_key", request_key)  # a concurrent twin may have won
    assert stored is not None
    logger.info(
        "certificate %s issued to %s at %s", certificate_id, mask_id(id_number), terminal_id
    )
    return stored, stored.verification_code != cert.verification_code


def _stored(db: Storage, column: str, value: str) -> InsuredCertificate | None:
    row = db.one(f"SELECT body FROM certificates WHERE {column} = ?", (value,))
    if row is None:
        return None
    try:
        return decode(InsuredCertificate, str(row[0]))
    except ContractError:
        logger.error("certificate row %s is corrupt", value[:8])
        return None


def verify_code(db: Storage, signer: CertificateSigner, code: str) -> CertificateVerifyResult:
    """Whether `code` names a stored certificate whose signature checks with this key."""
    normalized = code.strip().upper()
    cert = _stored(db, "verification_code", normalized)
    if cert is None:
        return CertificateVerifyResult(valid=False, reason="unknown verification code")
    if cert.key_id != signer.key_id:
        return CertificateVerifyResult(
            valid=False, certificate=cert, reason="signed by another key"
        )
    fields = json.loads(cert.document)
    if fields.get("verification_code") != normalized or not signer.verify(
        cert.document.encode("utf-8"), cert.signature_b64
    ):
        return CertificateVerifyResult(valid=False, certificate=cert, reason="bad signature")
    return CertificateVerifyResult(valid=True, certificate=cert)
