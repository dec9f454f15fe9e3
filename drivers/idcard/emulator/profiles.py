"""Emulated cards: fictitious holders for each kind the reader knows, and broken ones.

Every ID number is made with the real check digit (except `bad_check_digit`, on purpose); the
names and addresses are invented. `resident` is the holder of the card emulator's
`ssc3_financial` social security card profile, so the activation journey can check that both
cards belong to one person.
"""

from __future__ import annotations

from dataclasses import dataclass

from drivers.idcard.idnumber import check_digit
from drivers.idcard.layouts import LONG_TERM, IdCardKind, encode_text

__all__ = ["PROFILES", "CardProfile"]


@dataclass(frozen=True, slots=True)
class CardProfile:
    """One emulated card: its kind and text fields, and a fake WLT photo (opaque bytes)."""

    name: str
    kind: IdCardKind
    fields: dict[str, str]
    description: str

    def text(self) -> bytes:
        return encode_text(self.kind, self.fields)

    def photo(self) -> bytes:
        # Not a WLT image (no encoder ships either): recognisable filler of the right size.
        seed = self.name.encode()
        return (seed * (1024 // len(seed) + 1))[:1024]


def _id(body17: str) -> str:
    return body17 + check_digit(body17)


_RESIDENT = {
    "name": "王建国",
    "sex": "1",
    "ethnicity": "01",
    "birth": "19880808",
    "address": "浙江省温州市瓯海区娄桥街道古岸头村十二号",
    "id_number": _id("33030419880808003"),
    "authority": "温州市公安局瓯海分局",
    "valid_from": "20180601",
    "valid_until": LONG_TERM,
}

PROFILES: dict[str, CardProfile] = {
    p.name: p
    for p in (
        CardProfile("resident", IdCardKind.RESIDENT, _RESIDENT, "resident card, long-term"),
        CardProfile(
            "resident_other",
            IdCardKind.RESIDENT,
            {
                **_RESIDENT,
                "name": "张秀英",
                "sex": "2",
                "birth": "19580314",
                "id_number": _id("11010119580314002"),
                "valid_from": "20150310",
                "valid_until": "20350310",
            },
            "another resident (not the gen3 social security card's holder)",
        ),
        CardProfile(
            "resident_retiree",
            IdCardKind.RESIDENT,
            {
                **_RESIDENT,
                "name": "王秀英",
                "sex": "2",
                "birth": "19580308",
                "address": "浙江省温州市瓯海区娄桥街道古岸头村十二号",
                "id_number": _id("33030419580308004"),
                "valid_from": "20180308",
                "valid_until": LONG_TERM,
            },
            "resident card of the ssc3_retiree social security card's holder (activation)",
        ),
        CardProfile(
            "expired",
            IdCardKind.RESIDENT,
            {**_RESIDENT, "valid_from": "20060101", "valid_until": "20160101"},
            "resident card whose validity ended in 2016",
        ),
        CardProfile(
            "bad_check_digit",
            IdCardKind.RESIDENT,
            {**_RESIDENT, "id_number": _RESIDENT["id_number"][:17] + "9"},
            "resident card with a wrong ID check digit (a forgery or a corrupt read)",
        ),
        CardProfile(
            "foreigner",
            IdCardKind.FOREIGN_PERMANENT,
            {
                "english_name": "SMITH JOHN MICHAEL",
                "sex": "1",
                "id_number": "GBR110062071501",
                "nationality": "GBR",
                "name": "约翰",
                "valid_from": "20190501",
                "valid_until": "20290501",
                "birth": "19620715",
                "version": "01",
                "authority": "1500",
            },
            "foreigner permanent-residence card (2017 layout)",
        ),
        CardProfile(
            "permit",
            IdCardKind.HMT_RESIDENCE,
            {
                "name": "陈嘉欣",
                "sex": "2",
                "birth": "19900102",
                "address": "广东省深圳市福田区福华路八号",
                "id_number": _id("81000019900102004"),
                "authority": "深圳市公安局",
                "valid_from": "20200101",
                "valid_until": "20250101",
                "pass_number": "H12345678",
                "issue_count": "01",
            },
            "Hong Kong resident's residence permit",
        ),
    )
}
