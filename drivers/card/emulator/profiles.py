"""Profile files: `profiles/<name>.json` -> a fresh VirtualCard (SSC, PSAM or bank card).

Key sets (test master keys only) are in `profiles/keysets.json`; photos in `profiles/photos/`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from drivers.card.emulator.bank import BankCard
from drivers.card.emulator.card import VirtualCard
from drivers.card.emulator.model import BankProfile, KeySet, PsamProfile, SscProfile
from drivers.card.emulator.psam import PsamCard
from drivers.card.emulator.ssc import SscCard

__all__ = [
    "PROFILE_DIR",
    "ProfileError",
    "list_profiles",
    "load_key_set",
    "load_profile",
    "read_profile",
]

PROFILE_DIR = Path(__file__).resolve().parent / "profiles"
_KEYSETS = "keysets.json"


class ProfileError(ValueError):
    """A profile that does not exist or does not make sense (message names file and field)."""


def list_profiles() -> list[str]:
    """Names of every card profile, sorted."""
    return sorted(p.stem for p in PROFILE_DIR.glob("*.json") if p.name != _KEYSETS)


def load_key_set(name: str) -> KeySet:
    """A key set of profiles/keysets.json."""
    data = json.loads((PROFILE_DIR / _KEYSETS).read_text(encoding="utf-8"))
    if name not in data:
        raise ProfileError(f"{_KEYSETS}: no key set {name!r} (have {sorted(data)})")
    masters = {k: v for k, v in data[name].items() if k in ("3des", "sm4")}
    return KeySet(name=name, masters=masters)


def read_profile(name: str, **overrides: Any) -> SscProfile | PsamProfile | BankProfile:
    """The declared content of a profile, with top-level fields overridden (t0_strict=False ...)."""
    path = PROFILE_DIR / f"{name}.json"
    if not path.is_file():
        raise ProfileError(f"no card profile {name!r}; profiles: {', '.join(list_profiles())}")
    data = json.loads(path.read_text(encoding="utf-8"))
    data.pop("_comment", None)
    data.update(overrides)
    data["profile_name"] = name
    kind = data.get("kind", "ssc")
    try:
        if kind == "ssc":
            return SscProfile.from_json(data, str(path))
        if kind == "psam":
            return PsamProfile.from_json(data, str(path))
        if kind == "bank":
            return BankProfile.from_json(data, str(path))
    except (TypeError, ValueError) as exc:
        raise ProfileError(f"{path}: {exc}") from exc
    raise ProfileError(f"{path}: unknown kind {kind!r}")


def load_profile(name: str, **overrides: Any) -> VirtualCard:
    """A new card built from profile `name` (fresh state: PIN tries, records as in the file)."""
    prof = read_profile(name, **overrides)
    if isinstance(prof, SscProfile):
        photo_path = prof.photo_path(PROFILE_DIR)
        photo = photo_path.read_bytes() if photo_path is not None else None
        return SscCard(prof, load_key_set(prof.key_set), photo=photo)
    if isinstance(prof, PsamProfile):
        return PsamCard(prof, load_key_set(prof.key_set))
    return BankCard(prof)
