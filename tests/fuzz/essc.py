"""e-SSC login entry points: the camera's QR decoding (a frame of outside pixels gives a list of
payloads, never an exception) and the central's token check (`ForbiddenError`, whatever the
token holds)."""

from __future__ import annotations

import base64
import json

import numpy as np
import zxingcpp
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central.essc import MAX_TOKEN, PREFIX, EsscAuthority
from central.trust import ForbiddenError
from drivers.camera.qr import MAX_PAYLOAD, QrDecoder, QrScanner
from tests.fuzz.target import EscapeError, Target

__all__ = ["essc_targets"]

TOKENS = [
    PREFIX.encode(),
    b".",
    b"=",
    b"-",
    b"_",
    b'"jti"',
    b'"exp"',
    b"null",
    b"1e999",
    b"\xff",
    b"\x00",
]
NOW = 1_800_000_000.0
_KEY = Ed25519PrivateKey.from_private_bytes(bytes(range(32)))  # fixed: seeds stay the same


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _token(claims: dict[str, object]) -> str:
    """A token in the central's format (PREFIX body . signature), signed with `_KEY`."""
    body = _b64(json.dumps(claims, separators=(",", ":"), sort_keys=True).encode())
    return f"{PREFIX}{body}.{_b64(_KEY.sign((PREFIX + body).encode()))}"


_AUTHORITY = EsscAuthority(_KEY, clock=lambda: NOW)


def _run_token(data: bytes) -> None:
    """What a QR payload reaches at the central: the text (as decoded, invalid UTF-8 replaced)."""
    _AUTHORITY.parse(data.decode("utf-8", errors="replace"))


def _image(data: bytes) -> np.ndarray:
    """The first byte is the width, the rest grey pixels (rows cut to whole ones)."""
    width = max(1, data[0]) if data else 1
    pixels = np.frombuffer(data[1:], dtype=np.uint8)
    rows = len(pixels) // width
    return pixels[: rows * width].reshape(rows, width) if rows else np.zeros((1, 1), np.uint8)


def _run_qr(data: bytes) -> None:
    image = _image(data)
    texts = QrDecoder().decode(image)
    if any(not 0 < len(t) <= MAX_PAYLOAD for t in texts):
        raise EscapeError("a payload past the documented bound was passed on")
    scanner = QrScanner(QrDecoder())
    scanner.feed(image, at=0.0)
    scanner.feed(image, at=0.1)


def _qr_seed(text: str) -> bytes:
    code = zxingcpp.create_barcode(text, zxingcpp.BarcodeFormat.QRCode)
    pixels = np.asarray(zxingcpp.write_barcode_to_image(code, scale=1))
    return bytes([pixels.shape[1]]) + pixels.tobytes()


def essc_targets() -> list[Target]:
    good = {"jti": "a1b2c3", "iat": NOW - 5, "exp": NOW + 55, "tid": None}
    tokens = [
        _token(good),
        _token({**good, "tid": "K-0001"}),
        _token({**good, "exp": NOW - 1}),  # expired: parse accepts, redeem refuses
    ]
    assert all(len(t) <= MAX_TOKEN for t in tokens)
    return [
        Target("essc.token", _run_token, (ForbiddenError,), [t.encode() for t in tokens], TOKENS),
        Target("essc.qr", _run_qr, (), [_qr_seed(t) for t in tokens[:2]], TOKENS),
    ]
