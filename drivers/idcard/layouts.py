"""The 256-byte text of the three card kinds a SAM_A module reads (GA/T 490), as typed values.

Pure. Fields are UCS-2LE, padded with U+0020; the character at byte 248 tells the layouts apart:
' ' resident identity card, 'I' foreigner permanent-residence card, 'J' Hong Kong / Macau /
Taiwan residence permit. Impossible data (a wrong check digit, a birth date that is not a date,
an ID number that disagrees with the birth date or sex field, an unknown card type) is an
`IdCardDataError`, never a half-believed person. Personal values come out `Masked`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum

from drivers.idcard.codec import TEXT_LEN
from drivers.idcard.errors import IdCardDataError
from drivers.idcard.idnumber import id_number_problem
from drivers.personal import Masked, PersonalKind

__all__ = [
    "ETHNICITIES",
    "LONG_TERM",
    "IdCardHolder",
    "IdCardKind",
    "Sex",
    "decode_text",
    "encode_text",
]

LONG_TERM = "长期"  # "valid until" of a card that does not expire
_TYPE_OFFSET = 248


class IdCardKind(StrEnum):
    RESIDENT = "resident"
    FOREIGN_PERMANENT = "foreign_permanent"
    HMT_RESIDENCE = "hmt_residence"  # Hong Kong, Macau and Taiwan residents' residence permit


_TYPE_CHAR = {
    " ": IdCardKind.RESIDENT,
    "I": IdCardKind.FOREIGN_PERMANENT,
    "J": IdCardKind.HMT_RESIDENCE,
}
_KIND_CHAR = {kind: char for char, kind in _TYPE_CHAR.items()}


class Sex(StrEnum):
    """GB/T 2261.1 codes."""

    UNKNOWN = "0"
    MALE = "1"
    FEMALE = "2"
    UNSPECIFIED = "9"


# GB/T 3304 code -> name (the card carries the code; the screen shows the name).
ETHNICITIES: dict[str, str] = dict(
    zip(
        [f"{n:02d}" for n in range(1, 57)] + ["97", "98"],
        [
            "汉",
            "蒙古",
            "回",
            "藏",
            "维吾尔",
            "苗",
            "彝",
            "壮",
            "布依",
            "朝鲜",
            "满",
            "侗",
            "瑶",
            "白",
            "土家",
            "哈尼",
            "哈萨克",
            "傣",
            "黎",
            "傈僳",
            "佤",
            "畲",
            "高山",
            "拉祜",
            "水",
            "东乡",
            "纳西",
            "景颇",
            "柯尔克孜",
            "土",
            "达斡尔",
            "仫佬",
            "羌",
            "布朗",
            "撒拉",
            "毛南",
            "仡佬",
            "锡伯",
            "阿昌",
            "普米",
            "塔吉克",
            "怒",
            "乌孜别克",
            "俄罗斯",
            "鄂温克",
            "德昂",
            "保安",
            "裕固",
            "京",
            "塔塔尔",
            "独龙",
            "鄂伦春",
            "赫哲",
            "门巴",
            "珞巴",
            "基诺",
            "其他",
            "外国血统中国籍人士",
        ],
        strict=True,
    )
)

# (field, byte offset, byte length) per layout; lengths are in bytes of UCS-2LE.
_LAYOUTS: dict[IdCardKind, tuple[tuple[str, int, int], ...]] = {
    IdCardKind.RESIDENT: (
        ("name", 0, 30),
        ("sex", 30, 2),
        ("ethnicity", 32, 4),
        ("birth", 36, 16),
        ("address", 52, 70),
        ("id_number", 122, 36),
        ("authority", 158, 30),
        ("valid_from", 188, 16),
        ("valid_until", 204, 16),
    ),
    IdCardKind.FOREIGN_PERMANENT: (
        ("english_name", 0, 120),
        ("sex", 120, 2),
        ("id_number", 122, 30),
        ("nationality", 152, 6),
        ("name", 158, 30),
        ("valid_from", 188, 16),
        ("valid_until", 204, 16),
        ("birth", 220, 16),
        ("version", 236, 4),
        ("authority", 240, 8),
    ),
    IdCardKind.HMT_RESIDENCE: (
        ("name", 0, 30),
        ("sex", 30, 2),
        ("birth", 36, 16),
        ("address", 52, 70),
        ("id_number", 122, 36),
        ("authority", 158, 30),
        ("valid_from", 188, 16),
        ("valid_until", 204, 16),
        ("pass_number", 220, 18),
        ("issue_count", 238, 4),
    ),
}

# Region prefixes of the residence permit's ID number: Hong Kong, Macau, Taiwan.
_HMT_PREFIXES = ("810000", "820000", "830000")


@dataclass(frozen=True, slots=True)
class IdCardHolder:
    """What the card says about its holder; personal values are `Masked`."""

    kind: IdCardKind
    name: Masked
    sex: Sex
    birth: dt.date
    id_number: Masked
    valid_from: dt.date
    valid_until: dt.date | None  # None: long-term (长期)
    authority: str
    address: Masked | None = None
    ethnicity: str | None = None  # GB/T 3304 code
    english_name: Masked | None = None
    nationality: str | None = None  # ISO 3166-1 alpha-3
    pass_number: Masked | None = None
    issue_count: int | None = None

    def expired(self, today: dt.date) -> bool:
        """True when the card's validity ended before `today`."""
        return self.valid_until is not None and self.valid_until < today

    @property
    def ethnicity_name(self) -> str | None:
        return ETHNICITIES.get(self.ethnicity) if self.ethnicity else None

    def to_dict(self) -> dict[str, object]:
        """Field name -> value for display (Masked values stay Masked; None fields left out)."""
        out: dict[str, object] = {
            "kind": self.kind.value,
            "name": self.name,
            "english_name": self.english_name,
            "sex": self.sex.name.lower(),
            "ethnicity": self.ethnicity_name,
            "nationality": self.nationality,
            "birth": self.birth.isoformat(),
            "id_number": self.id_number,
            "address": self.address,
            "authority": self.authority,
            "valid_from": self.valid_from.isoformat(),
            "valid_until": self.valid_until.isoformat() if self.valid_until else LONG_TERM,
            "pass_number": self.pass_number,
            "issue_count": self.issue_count,
        }
        return {k: v for k, v in out.items() if v is not None}


def _date(field: str, value: str) -> dt.date:
    if len(value) != 8 or not value.isascii() or not value.isdigit():
        raise IdCardDataError(f"{field} is not a YYYYMMDD date")
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:]))
    except ValueError:
        raise IdCardDataError(f"{field} is not a real date") from None


def _fields(text: bytes, kind: IdCardKind) -> dict[str, str]:
    out: dict[str, str] = {}
    for field, offset, length in _LAYOUTS[kind]:
        try:
            value = text[offset : offset + length].decode("utf-16-le")
        except UnicodeDecodeError:
            raise IdCardDataError(f"{field} is not UCS-2 text") from None
        if any(0xD800 <= ord(c) <= 0xDFFF or (ord(c) < 0x20 and c != "\0") for c in value):
            raise IdCardDataError(f"{field} holds control or surrogate characters")
        out[field] = value.rstrip(" \0")
    return out


def decode_text(text: bytes, *, today: dt.date | None = None) -> IdCardHolder:
    """The holder described by the 256-byte text; `IdCardDataError` when it is impossible.

    `today` is only used to refuse birth dates in the future (the clock is injected)."""
    if len(text) != TEXT_LEN:
        raise IdCardDataError(f"the card text has {len(text)} bytes, not {TEXT_LEN}")
    try:
        flag = text[_TYPE_OFFSET : _TYPE_OFFSET + 2].decode("utf-16-le")
    except UnicodeDecodeError:
        raise IdCardDataError("the card type is not UCS-2 text") from None
    kind = _TYPE_CHAR.get(flag)
    if kind is None:
        raise IdCardDataError(f"unknown card type {flag!r}")
    f = _fields(text, kind)
    if not f["name"]:
        raise IdCardDataError("the card holds no name")
    try:
        sex = Sex(f["sex"])
    except ValueError:
        raise IdCardDataError("the sex code is not a GB/T 2261.1 code") from None
    birth = _date("birth", f["birth"])
    if today is not None and birth > today:
        raise IdCardDataError("the birth date is in the future")
    valid_from = _date("valid_from", f["valid_from"])
    until_text = f["valid_until"]
    valid_until = None if until_text == LONG_TERM else _date("valid_until", until_text)
    if valid_until is not None and valid_until < valid_from:
        raise IdCardDataError("the card's validity ends before it starts")
    number = f["id_number"]
    if kind is IdCardKind.FOREIGN_PERMANENT:
        return _foreigner(f, sex, birth, valid_from, valid_until)
    problem = id_number_problem(number)
    if problem:
        raise IdCardDataError(problem)
    if number[6:14] != f["birth"]:
        raise IdCardDataError("the ID number's birth date differs from the card's")
    parity_sex = Sex.MALE if int(number[16]) % 2 else Sex.FEMALE
    if sex in (Sex.MALE, Sex.FEMALE) and sex is not parity_sex:
        raise IdCardDataError("the ID number's sex digit differs from the card's sex")
    common = {
        "name": Masked(f["name"], PersonalKind.NAME),
        "sex": sex,
        "birth": birth,
        "id_number": Masked(number, PersonalKind.ID_NUMBER),
        "valid_from": valid_from,
        "valid_until": valid_until,
        "authority": f["authority"],
        "address": Masked(f["address"], PersonalKind.OTHER),
    }
    if kind is IdCardKind.RESIDENT:
        if f["ethnicity"] not in ETHNICITIES:
            raise IdCardDataError("the ethnicity code is not a GB/T 3304 code")
        return IdCardHolder(kind=kind, ethnicity=f["ethnicity"], **common)  # type: ignore[arg-type]
    if not number.startswith(_HMT_PREFIXES):
        raise IdCardDataError("a residence permit's ID number starts 810000, 820000 or 830000")
    count = f["issue_count"]
    if not (count.isascii() and count.isdigit()):
        raise IdCardDataError("the permit's issue count is not a number")
    return IdCardHolder(
        kind=kind,
        pass_number=Masked(f["pass_number"], PersonalKind.CARD_NUMBER),
        issue_count=int(count),
        **common,  # type: ignore[arg-type]
    )


def _foreigner(
    f: dict[str, str],
    sex: Sex,
    birth: dt.date,
    valid_from: dt.date,
    valid_until: dt.date | None,
) -> IdCardHolder:
    number, nationality = f["id_number"], f["nationality"]
    # The 2017 card number: the 3-letter nationality, then 12 digits.
    if not (
        len(number) == 15
        and number[:3].isascii()
        and number[:3].isalpha()
        and number[3:].isascii()
        and number[3:].isdigit()
    ):
        raise IdCardDataError("a permanent-residence card number is 3 letters and 12 digits")
    if not (len(nationality) == 3 and nationality.isascii() and nationality.isalpha()):
        raise IdCardDataError("the nationality is not an ISO 3166 alpha-3 code")
    return IdCardHolder(
        kind=IdCardKind.FOREIGN_PERMANENT,
        name=Masked(f["name"], PersonalKind.NAME),
        english_name=Masked(f["english_name"], PersonalKind.NAME) if f["english_name"] else None,
        sex=sex,
        birth=birth,
        id_number=Masked(number, PersonalKind.ID_NUMBER),
        nationality=nationality,
        valid_from=valid_from,
        valid_until=valid_until,
        authority=f["authority"],
    )


def encode_text(kind: IdCardKind, fields: dict[str, str]) -> bytes:
    """The 256-byte text for `fields` (the module's side; the emulator writes cards with it).

    Unknown field names and values too long for their slot are a ValueError: the encoder never
    truncates, so a profile cannot silently become another person."""
    layout = {name: (offset, length) for name, offset, length in _LAYOUTS[kind]}
    unknown = set(fields) - set(layout)
    if unknown:
        raise ValueError(f"fields {sorted(unknown)} are not in the {kind} layout")
    out = bytearray(" ".encode("utf-16-le") * (TEXT_LEN // 2))
    for name, value in fields.items():
        offset, length = layout[name]
        raw = value.encode("utf-16-le")
        if len(raw) > length:
            raise ValueError(f"{name} needs {len(raw)} bytes, its slot has {length}")
        out[offset : offset + length] = raw + " ".encode("utf-16-le") * ((length - len(raw)) // 2)
    out[_TYPE_OFFSET : _TYPE_OFFSET + 2] = _KIND_CHAR[kind].encode("utf-16-le")
    return bytes(out)
