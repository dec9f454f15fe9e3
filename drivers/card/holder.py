"""The card's issuer data (EF05) and holder data (EF06) as frozen records, with the parsers that
turn raw record values into them and reject impossible data (docs/card.md §2.4, §2.5)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from drivers.card.bcd import BcdError, decode_date, decode_digits
from drivers.card.errors import CardDataError
from drivers.personal import Masked, PersonalKind

__all__ = [
    "EF05_LENGTHS",
    "EF06_LENGTHS",
    "CardHolder",
    "IssuerData",
    "decode_name",
    "parse_holder",
    "parse_issuer",
]

# tag -> value length of the SSSE records (Jiangsu SSSE32 table, cross-checked; §2.4/§2.5).
EF05_LENGTHS: dict[int, int] = {0x01: 16, 0x02: 1, 0x03: 4, 0x04: 12, 0x05: 4, 0x06: 4, 0x07: 9}
EF06_LENGTHS: dict[int, int] = {
    0x08: 18,
    0x09: 30,
    0x4E: 20,
    0x0A: 1,
    0x0B: 1,
    0x0C: 3,
    0x0D: 4,
}
# Tags whose value may be shorter than the table says (names are padded, some cards do not pad).
_UP_TO = {0x09, 0x4E}

_ID_NUMBER = re.compile(r"[0-9]{17}[0-9X]")
_CARD_NUMBER = re.compile(r"[0-9A-Z]{1,9}")
_VERSION = re.compile(r"[0-9]\.[0-9]{2}")
_SEXES = {"0", "1", "2", "9"}  # GB/T 2261.1: unknown, male, female, unstated


def _value(records: Mapping[int, bytes], tag: int, lengths: Mapping[int, int]) -> bytes:
    try:
        value = records[tag]
    except KeyError:
        raise CardDataError(f"record {tag:02X} is missing") from None
    want = lengths[tag]
    if tag in _UP_TO:
        if len(value) > want:
            raise CardDataError(f"record {tag:02X} has {len(value)} bytes, at most {want}")
    elif len(value) != want:
        raise CardDataError(f"record {tag:02X} has {len(value)} bytes, expected {want}")
    return value


def _ascii(value: bytes, tag: int) -> str:
    text = value.rstrip(b"\x00 ")
    if not text or not all(0x20 < b < 0x7F for b in text):
        raise CardDataError(f"record {tag:02X} is not printable ASCII")
    return text.decode("ascii")


def _date(value: bytes, tag: int) -> dt.date:
    try:
        return decode_date(value)
    except BcdError as e:
        raise CardDataError(f"record {tag:02X}: {e}") from None


def _digits(value: bytes, tag: int, *, padded: bool = False) -> str:
    try:
        return decode_digits(value, allow_padding=padded)
    except BcdError as e:
        raise CardDataError(f"record {tag:02X}: {e}") from None


def decode_name(base: bytes, extension: bytes | None) -> str:
    """Full name = tag 09 ‖ tag 4E, GBK, NUL/space padding trimmed (docs/card.md §2.5).

    The raw bytes are joined before decoding so that a character split over the two records
    still decodes. Raises `CardDataError` for undecodable bytes, control characters or an empty
    name.
    """
    raw = base.rstrip(b"\x00 ")
    if extension:
        raw += extension.rstrip(b"\x00 ")
    try:
        name = raw.decode("gbk")
    except UnicodeDecodeError:
        raise CardDataError("the name is not valid GBK") from None
    name = name.strip()
    if not name or any(not c.isprintable() for c in name):
        raise CardDataError("the name is empty or holds control characters")
    return name


@dataclass(frozen=True, slots=True)
class IssuerData:
    """EF05, the card and issuer data (readable without PIN on every card).

    `card_id` is the 16-byte card identification code (region BCD ‖ D156000005 ‖ 8 bytes);
    `region` its first 6 digits; dates are calendar dates.
    """

    card_id: bytes
    region: str
    card_type: str
    spec_version: str
    init_org: str
    issue_date: dt.date
    expiry_date: dt.date
    card_number: Masked

    @property
    def generation(self) -> int:
        """2 or 3 from the spec version ("1.00" and "2.00" cards read the same way)."""
        return 3 if self.spec_version.startswith("3") else 2


@dataclass(frozen=True, slots=True)
class CardHolder:
    """Everything the kiosk reads from EF05 and EF06. Personal values are `Masked`.

    Dates are `datetime.date`; `region` and `birthplace` are administrative division codes
    (6 digits; `birthplace` may be shorter or empty when the card pads it with F).
    """

    card_id: str  # 32 hex digits
    region: str
    card_type: str
    spec_version: str
    issue_date: dt.date
    expiry_date: dt.date
    card_number: Masked
    id_number: Masked
    name: Masked
    sex: str
    ethnicity: str
    birthplace: str
    birth_date: dt.date

    @property
    def generation(self) -> int:
        """2 or 3 from the spec version."""
        return 3 if self.spec_version.startswith("3") else 2

    def is_expired(self, today: dt.date) -> bool:
        """True when `today` is after the expiry date."""
        return today > self.expiry_date

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict; personal values stay `Masked` (kiosk.privacy.dumps decides)."""
        return {
            "card_id": self.card_id,
            "region": self.region,
            "card_type": self.card_type,
            "spec_version": self.spec_version,
            "issue_date": self.issue_date.isoformat(),
            "expiry_date": self.expiry_date.isoformat(),
            "card_number": self.card_number,
            "id_number": self.id_number,
            "name": self.name,
            "sex": self.sex,
            "ethnicity": self.ethnicity,
            "birthplace": self.birthplace,
            "birth_date": self.birth_date.isoformat(),
        }


def parse_issuer(records: Mapping[int, bytes]) -> IssuerData:
    """EF05 record values (tag → V, without T and L) → `IssuerData`; raises `CardDataError`."""
    card_id = _value(records, 0x01, EF05_LENGTHS)
    region = _digits(card_id[:3], 0x01)
    issue = _date(_value(records, 0x05, EF05_LENGTHS), 0x05)
    expiry = _date(_value(records, 0x06, EF05_LENGTHS), 0x06)
    if expiry < issue:
        raise CardDataError("the card expires before it was issued")
    version = _ascii(_value(records, 0x03, EF05_LENGTHS), 0x03)
    if not _VERSION.fullmatch(version):
        raise CardDataError("record 03 is not a spec version like 2.00")
    number = _ascii(_value(records, 0x07, EF05_LENGTHS), 0x07)
    if not _CARD_NUMBER.fullmatch(number):
        raise CardDataError("record 07 is not a card number")
    return IssuerData(
        card_id=card_id,
        region=region,
        card_type=_ascii(_value(records, 0x02, EF05_LENGTHS), 0x02),
        spec_version=version,
        init_org=_value(records, 0x04, EF05_LENGTHS).hex().upper(),
        issue_date=issue,
        expiry_date=expiry,
        card_number=Masked(number, PersonalKind.CARD_NUMBER),
    )


def parse_holder(issuer: IssuerData, records: Mapping[int, bytes]) -> CardHolder:
    """EF06 record values (tag → V; 4E optional) plus the issuer data → `CardHolder`.

    Raises `CardDataError` on a missing record, a wrong length, a malformed ID number, an
    undecodable name, an impossible BCD date or an unknown sex code.
    """
    id_number = _ascii(_value(records, 0x08, EF06_LENGTHS), 0x08)
    if not _ID_NUMBER.fullmatch(id_number):
        raise CardDataError("record 08 is not an 18-character ID number")
    ext = _value(records, 0x4E, EF06_LENGTHS) if 0x4E in records else None
    name = decode_name(_value(records, 0x09, EF06_LENGTHS), ext)
    sex = _ascii(_value(records, 0x0A, EF06_LENGTHS), 0x0A)
    if sex not in _SEXES:
        raise CardDataError("record 0A is not a GB/T 2261.1 sex code")
    return CardHolder(
        card_id=issuer.card_id.hex().upper(),
        region=issuer.region,
        card_type=issuer.card_type,
        spec_version=issuer.spec_version,
        issue_date=issuer.issue_date,
        expiry_date=issuer.expiry_date,
        card_number=issuer.card_number,
        id_number=Masked(id_number, PersonalKind.ID_NUMBER),
        name=Masked(name, PersonalKind.NAME),
        sex=sex,
        ethnicity=_digits(_value(records, 0x0B, EF06_LENGTHS), 0x0B),
        birthplace=_digits(_value(records, 0x0C, EF06_LENGTHS), 0x0C, padded=True),
        birth_date=_date(_value(records, 0x0D, EF06_LENGTHS), 0x0D),
    )
