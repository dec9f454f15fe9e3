"""Card texts: every profile decodes to the person it describes; impossible data is refused."""

from __future__ import annotations

import contextlib
import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.idcard.emulator.profiles import PROFILES
from drivers.idcard.errors import IdCardDataError
from drivers.idcard.idnumber import check_digit, id_number_problem, is_valid_id_number
from drivers.idcard.layouts import IdCardKind, Sex, decode_text, encode_text
from drivers.personal import Masked

TODAY = dt.date(2026, 12, 3)


@pytest.mark.parametrize(
    ("number", "valid"),
    [
        ("11010519491231002X", True),
        ("932682198501010017", True),
        ("911124198108030024", True),
        ("330304198808080037", True),
        ("330304198808080038", False),
        ("33030419880230003X", False),  # 30 February
        ("3303041988080800a7", False),
        ("33030419880808003", False),
    ],
)
def test_check_digit_reference_vectors(number: str, valid: bool) -> None:
    assert is_valid_id_number(number) is valid


@given(st.text(alphabet="0123456789", min_size=17, max_size=17))
def test_exactly_one_check_character_fits(body: str) -> None:
    digit = check_digit(body)
    for c in "0123456789X":
        problem = id_number_problem(body + c)
        if problem and "birth date" in problem:
            return
        assert (problem is None) is (c == digit)


def test_resident_profile() -> None:
    h = decode_text(PROFILES["resident"].text(), today=TODAY)
    assert h.kind is IdCardKind.RESIDENT
    assert h.name.reveal() == "王建国" and h.sex is Sex.MALE
    assert h.id_number.reveal() == "330304198808080037"
    assert h.birth == dt.date(1988, 8, 8) and h.valid_until is None
    assert h.ethnicity_name == "汉" and not h.expired(TODAY)
    assert "330304198808080037" not in repr(h) and "王建国" not in repr(h)


def test_expired_profile_is_read_and_known_expired() -> None:
    h = decode_text(PROFILES["expired"].text(), today=TODAY)
    assert h.expired(TODAY)


def test_foreigner_and_permit_profiles() -> None:
    f = decode_text(PROFILES["foreigner"].text(), today=TODAY)
    assert f.kind is IdCardKind.FOREIGN_PERMANENT and f.nationality == "GBR"
    assert isinstance(f.english_name, Masked) and f.english_name.reveal() == "SMITH JOHN MICHAEL"
    p = decode_text(PROFILES["permit"].text(), today=TODAY)
    assert p.kind is IdCardKind.HMT_RESIDENCE and p.issue_count == 1
    assert p.id_number.reveal().startswith("810000") and p.expired(TODAY)


def test_bad_check_digit_profile_is_refused() -> None:
    with pytest.raises(IdCardDataError, match="check digit"):
        decode_text(PROFILES["bad_check_digit"].text(), today=TODAY)


def _resident(**changes: str) -> bytes:
    return encode_text(IdCardKind.RESIDENT, {**PROFILES["resident"].fields, **changes})


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({"birth": "19880809"}, "birth date differs"),
        ({"sex": "2"}, "sex digit"),
        ({"sex": "5"}, "GB/T 2261.1"),
        ({"ethnicity": "77"}, "GB/T 3304"),
        ({"valid_from": "20181301"}, "real date"),
        ({"valid_until": "20100101", "valid_from": "20180101"}, "ends before"),
        ({"name": ""}, "no name"),
    ],
)
def test_impossible_resident_data(changes: dict[str, str], reason: str) -> None:
    with pytest.raises(IdCardDataError, match=reason):
        decode_text(_resident(**changes), today=TODAY)


def test_future_birth_and_unknown_type() -> None:
    with pytest.raises(IdCardDataError, match="future"):
        decode_text(_resident(), today=dt.date(1980, 1, 1))
    text = bytearray(_resident())
    text[248:250] = "Z".encode("utf-16-le")
    with pytest.raises(IdCardDataError, match="unknown card type"):
        decode_text(bytes(text))


def test_encoder_never_truncates() -> None:
    with pytest.raises(ValueError, match="slot"):
        encode_text(IdCardKind.RESIDENT, {"name": "很" * 16})
    with pytest.raises(ValueError, match="not in"):
        encode_text(IdCardKind.RESIDENT, {"nationality": "GBR"})


@given(st.binary(min_size=256, max_size=256))
def test_any_text_is_a_holder_or_a_typed_error(text: bytes) -> None:
    with contextlib.suppress(IdCardDataError):
        decode_text(text, today=TODAY)


@given(
    st.text(
        alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5), min_size=1, max_size=15
    ),
    st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31)),
    st.integers(0, 999),
)
def test_resident_round_trip(name: str, birth: dt.date, serial: int) -> None:
    body = f"330304{birth:%Y%m%d}{serial:03d}"
    fields = {
        **PROFILES["resident"].fields,
        "name": name,
        "birth": f"{birth:%Y%m%d}",
        "sex": "1" if serial % 2 else "2",
        "id_number": body + check_digit(body),
        "valid_from": "20200101",
    }
    h = decode_text(encode_text(IdCardKind.RESIDENT, fields), today=TODAY)
    assert (h.name.reveal(), h.birth, h.id_number.reveal()) == (name, birth, fields["id_number"])
