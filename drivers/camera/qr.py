"""QR codes through the camera (e-SSC login): decoding with zxing-cpp, and the rule that a code
counts only when two frames agree.

zxing-cpp decoded 92.6 % of 1400 degraded frames at 0.6-2.3 ms each where OpenCV's detectors
managed 47-66 % at 8-20 ms (docs/essc-login.md; `bench/qr.py` measures it again in every run).
The payload is an opaque token: it is passed on unchanged to the central system, which alone
can judge it, and never logged (only a short hash is).
"""

from __future__ import annotations

import hashlib
import time
from dataclasses import dataclass

import numpy as np
import zxingcpp

__all__ = ["MAX_PAYLOAD", "QrDecoder", "QrScanner", "payload_hash"]

_QR_ONLY = zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
MAX_PAYLOAD = 1024  # characters: an e-SSC token is far shorter; longer is not ours


def payload_hash(text: str) -> str:
    """What the logs may say about a scanned code: 12 hex digits of its SHA-256."""
    return hashlib.sha256(text.encode()).hexdigest()[:12]


class QrDecoder:
    """Decodes the QR codes in one frame (BGR or grey)."""

    def decode(self, image: np.ndarray) -> list[str]:
        # Green alone is closest to luminance and costs no colour conversion.
        grey = np.ascontiguousarray(image[:, :, 1]) if image.ndim == 3 else image
        found = zxingcpp.read_barcodes(grey, formats=_QR_ONLY)
        return [
            r.text
            for r in found
            if r.valid
            and r.format == zxingcpp.BarcodeFormat.QRCode
            and 0 < len(r.text) <= MAX_PAYLOAD
        ]


@dataclass
class QrScanner:
    """Feeds frames, answers a payload once two frames within `window_s` decoded the same text.

    One frame can be misread or show a code half covered by a hand; two equal reads are cheap
    (a code stays in view for seconds) and stop a flicker from logging anybody in."""

    decoder: QrDecoder
    window_s: float = 2.0
    _last: str | None = None
    _last_at: float = 0.0
    frames_seen: int = 0
    frames_decoded: int = 0

    def feed(self, image: np.ndarray, at: float | None = None) -> str | None:
        now = time.monotonic() if at is None else at
        self.frames_seen += 1
        texts = self.decoder.decode(image)
        if len(texts) != 1:
            return None  # none, or two codes in view: which one would the citizen mean?
        self.frames_decoded += 1
        text = texts[0]
        if self._last == text and now - self._last_at <= self.window_s:
            self._last = None
            return text
        self._last, self._last_at = text, now
        return None

    def reset(self) -> None:
        self._last = None
