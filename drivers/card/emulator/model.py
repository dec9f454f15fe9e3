"""Profile data: what a virtual card holds, in human form, as read from the JSON profile files.

Tests compare what the driver read with these declared values; the card OS encodes them itself.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = ["BankProfile", "FinancialApp", "KeySet", "PsamProfile", "SscProfile"]


@dataclass(frozen=True)
class KeySet:
    """Master keys (hex) per algorithm ("3des", "sm4") and purpose (irk, rkssse, uk, tak)."""

    name: str
    masters: dict[str, dict[str, str]]

    def master(self, algorithm: str, purpose: str) -> bytes:
        """The 16-byte master key; KeyError names what is missing."""
        try:
            return bytes.fromhex(self.masters[algorithm][purpose])
        except KeyError:
            raise KeyError(f"key set {self.name!r} has no {algorithm}/{purpose} key") from None


@dataclass(frozen=True)
class FinancialApp:
    """The UnionPay debit application (on an SSC or a separate bank card)."""

    pan: str
    expiry: str = "3012"  # YYMM, for track 2 equivalent data
    aid: str = "A000000333010101"
    label: str = "UnionPay Debit"
    gpo_format: int = 1  # 1 = tag 80, 2 = tag 77
    records: str = "both"  # "pan" (tag 5A), "track2" (tag 57) or "both"
    pse: bool = True  # answers SELECT 1PAY.SYS.DDF01
    service_code: str = "220"
    pdol: str = "9F7A019F02065F2A02"  # hex DOL (9F38) the terminal's GPO data must follow

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FinancialApp:
        """Build from the profile's 'financial' object; unknown keys are errors."""
        return cls(**data)


def _build(cls: type[Any], data: dict[str, Any], source: str) -> Any:
    names = {f.name for f in dataclasses.fields(cls)}
    unknown = set(data) - names
    if unknown:
        raise ValueError(f"profile {source}: unknown field(s) {sorted(unknown)}")
    return cls(**data)


@dataclass(frozen=True)
class SscProfile:
    """A social security card: EF05 issuer data, EF06 holder data, PIN, keys, options."""

    profile_name: str
    description: str
    atr: str
    spec_version: str
    card_type: str
    region: str
    card_serial: str  # 16 hex digits: last 8 bytes of the card identification code
    init_org: str
    issue_date: str
    expiry_date: str
    card_number: str
    id_number: str
    name: str
    sex: str
    ethnicity: str
    birthplace: str
    birth_date: str
    pin: str
    demo_finger: str
    pin_tries: int = 3
    pin_max_tries: int = 3
    pin_enabled: bool = True
    algorithm: str = "3des"
    key_set: str = "test"
    key_tries: int = 3
    rkssse_protected: bool = False
    name_extension: str = "auto"  # "auto": 4E only when needed; "always"; "never"
    t0_strict: bool = True
    photo: str | None = None
    raw_records: dict[str, str] = field(default_factory=dict)  # "EF06/0D" -> record hex
    activation: str | None = None  # initial DF04/EF05 record 1 (hex TLV), None = not activated
    financial: FinancialApp | None = None
    kind: str = "ssc"

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str) -> SscProfile:
        """Build from a profile file's object (the 'financial' sub-object becomes FinancialApp)."""
        data = dict(data)
        fin = data.get("financial")
        if fin is not None and not isinstance(fin, FinancialApp):
            data["financial"] = FinancialApp.from_json(fin)
        return _build(cls, data, source)  # type: ignore[no-any-return]

    @property
    def card_id(self) -> bytes:
        """EF05 tag 01: region BCD (3) + D156000005 + 8 card-specific bytes."""
        return bytes.fromhex(self.region) + bytes.fromhex("D156000005") + self.card_factor

    @property
    def card_factor(self) -> bytes:
        """The 8-byte diversification factor (bytes 8..15 of the card identification code)."""
        return bytes.fromhex(self.card_serial)

    @property
    def generation(self) -> int:
        """2 or 3 from the spec version's first character."""
        return 3 if self.spec_version.startswith("3") else 2

    def photo_path(self, base: Path) -> Path | None:
        """The photo file, relative to the profiles folder."""
        return (base / self.photo) if self.photo else None


@dataclass(frozen=True)
class PsamProfile:
    """The test PSAM of docs/card-security.md section 5."""

    profile_name: str
    description: str
    atr: str
    terminal_number: str  # 12 digits, BCD on the card
    key_set: str = "test"
    algorithms: tuple[str, ...] = ("3des", "sm4")
    key_version: int = 1
    t0_strict: bool = True
    kind: str = "psam"

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str) -> PsamProfile:
        """Build from a profile file's object."""
        data = dict(data)
        if "algorithms" in data:
            data["algorithms"] = tuple(data["algorithms"])
        return _build(cls, data, source)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class BankProfile:
    """A separate UnionPay bank card with only the EMV application."""

    profile_name: str
    description: str
    atr: str
    financial: FinancialApp
    holder_name: str = ""
    t0_strict: bool = True
    kind: str = "bank"

    @classmethod
    def from_json(cls, data: dict[str, Any], source: str) -> BankProfile:
        """Build from a profile file's object."""
        data = dict(data)
        data["financial"] = FinancialApp.from_json(data["financial"])
        return _build(cls, data, source)  # type: ignore[no-any-return]
