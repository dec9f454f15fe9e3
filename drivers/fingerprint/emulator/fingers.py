"""The emulator's library of simulated fingers: templates derived deterministically from an id.

A template is `MAGIC | key(8) | filler`, where key and filler come from SHA-256 of the finger id,
so the same finger always yields the same bytes, UpChar -> DownChar -> Match round-trips work, and
demo reference templates can be committed as files (config/demo/fingers/f01.tpl ...).
"""

from __future__ import annotations

import hashlib

__all__ = [
    "DEMO_FINGERS",
    "MAGIC",
    "finger_key",
    "finger_template",
    "match_score",
]

MAGIC = b"EMFP"  # marks an emulator template; a real module's bytes never start like this
DEMO_FINGERS = tuple(f"f{i:02d}" for i in range(1, 9))


def _seed(finger_id: str) -> bytes:
    return hashlib.sha256(b"ssk-fingerprint-emulator:" + finger_id.encode()).digest()


def finger_template(finger_id: str, size: int = 512) -> bytes:
    """The template of `finger_id` as the emulated module uploads it (`size` bytes, >= 16)."""
    if size < 16:
        raise ValueError("template size must be at least 16 bytes")
    seed = _seed(finger_id)
    out = bytearray(MAGIC + seed[:8])
    counter = 0
    while len(out) < size:
        out += hashlib.sha256(seed + counter.to_bytes(4, "big")).digest()
        counter += 1
    return bytes(out[:size])


def finger_key(template: bytes | bytearray | None) -> bytes | None:
    """The identity key inside a template, or None when the bytes are not an emulator template."""
    if template is None or len(template) < 12 or template[:4] != MAGIC:
        return None
    return bytes(template[4:12])


def match_score(a: bytes | bytearray | None, b: bytes | bytearray | None) -> int:
    """The module's score: >= 50 for two templates of the same finger, 0 otherwise."""
    ka, kb = finger_key(a), finger_key(b)
    if ka is None or ka != kb:
        return 0
    return 50 + ka[0] % 150  # deterministic per finger, like a real module's repeatable score
