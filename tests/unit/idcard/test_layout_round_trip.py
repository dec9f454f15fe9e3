"""Property round trips of the two non-resident layouts: every field written is read back as itself.

The resident layout has its own round trip in test_layouts.py; these cover the foreigner
permanent-residence card ('I') and the Hong Kong / Macau / Taiwan residence permit ('J'), whose
field offsets differ (the foreigner's birth date sits at byte 220, the permit's pass number there).
"""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from drivers.idcard.idnumber import check_digit
from drivers.idcard.layouts import IdCardKind, Sex, decode_text, encode_text

TODAY = dt.date(2026, 12, 3)

_HANZI = st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
_UPPER = st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ")
_DIGITS = "0123456789"
_BIRTHS = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2020, 12, 31))
_STARTS = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2030, 12, 31))


def _until(start: dt.date, years: int | None) -> str:
    # None stands for the long-term card; otherwise a date on or after the start
    return "长期" if years is None else f"{start + dt.timedelta(days=365 * years):%Y%m%d}"


# An English name as printed: upper-case words with single spaces, never a trailing pad space
# (the decoder strips the slot's padding, so a value ending in a space could not come back).
_ENGLISH = st.lists(st.text(alphabet=_UPPER, min_size=1, max_size=12), min_size=1, max_size=4).map(
    " ".join
)


@given(
    english=_ENGLISH,
    name=st.text(alphabet=_HANZI, min_size=1, max_size=15),
    sex=st.sampled_from([Sex.MALE, Sex.FEMALE, Sex.UNSPECIFIED]),
    nationality=st.text(alphabet=_UPPER, min_size=3, max_size=3),
    serial=st.text(alphabet=_DIGITS, min_size=12, max_size=12),
    birth=_BIRTHS,
    start=_STARTS,
    years=st.one_of(st.none(), st.integers(0, 20)),
    authority=st.text(alphabet=_DIGITS, min_size=1, max_size=4),
)
def test_foreigner_round_trip(
    english: str,
    name: str,
    sex: Sex,
    nationality: str,
    serial: str,
    birth: dt.date,
    start: dt.date,
    years: int | None,
    authority: str,
) -> None:
    until = _until(start, years)
    fields = {
        "english_name": english,
        "sex": sex.value,
        "id_number": nationality + serial,
        "nationality": nationality,
        "name": name,
        "valid_from": f"{start:%Y%m%d}",
        "valid_until": until,
        "birth": f"{birth:%Y%m%d}",
        "version": "01",
        "authority": authority,
    }
    text = encode_text(IdCardKind.FOREIGN_PERMANENT, fields)
    assert len(text) == 256
    h = decode_text(text, today=TODAY)
    assert h.kind is IdCardKind.FOREIGN_PERMANENT
    assert h.english_name is not None and h.english_name.reveal() == english
    assert (h.name.reveal(), h.sex, h.birth) == (name, sex, birth)
    assert (h.id_number.reveal(), h.nationality, h.authority) == (
        nationality + serial,
        nationality,
        authority,
    )
    assert h.valid_from == start
    assert h.valid_until == (
        None if years is None else dt.datetime.strptime(until, "%Y%m%d").date()
    )
    # the resident-only and permit-only fields stay absent rather than read from foreign bytes
    assert (h.address, h.ethnicity, h.pass_number, h.issue_count) == (None, None, None, None)
    # the card number never appears whole in the holder's text form (it is masked)
    assert nationality + serial not in repr(h)


@given(
    name=st.text(alphabet=_HANZI, min_size=1, max_size=15),
    address=st.text(alphabet=_HANZI, min_size=1, max_size=35),
    region=st.sampled_from(["810000", "820000", "830000"]),
    birth=_BIRTHS,
    serial=st.integers(0, 999),
    start=_STARTS,
    years=st.one_of(st.none(), st.integers(0, 10)),
    authority=st.text(alphabet=_HANZI, min_size=1, max_size=15),
    pass_number=st.builds(
        lambda letter, digits: letter + digits,
        st.sampled_from("HMT"),
        st.text(alphabet=_DIGITS, min_size=8, max_size=8),
    ),
    issue_count=st.integers(0, 99),
)
def test_residence_permit_round_trip(
    name: str,
    address: str,
    region: str,
    birth: dt.date,
    serial: int,
    start: dt.date,
    years: int | None,
    authority: str,
    pass_number: str,
    issue_count: int,
) -> None:
    body = f"{region}{birth:%Y%m%d}{serial:03d}"
    number = body + check_digit(body)
    # the sex field agrees with the ID number's parity digit, as on a real permit
    sex = Sex.MALE if serial % 2 else Sex.FEMALE
    until = _until(start, years)
    fields = {
        "name": name,
        "sex": sex.value,
        "birth": f"{birth:%Y%m%d}",
        "address": address,
        "id_number": number,
        "authority": authority,
        "valid_from": f"{start:%Y%m%d}",
        "valid_until": until,
        "pass_number": pass_number,
        "issue_count": f"{issue_count:02d}",
    }
    h = decode_text(encode_text(IdCardKind.HMT_RESIDENCE, fields), today=TODAY)
    assert h.kind is IdCardKind.HMT_RESIDENCE
    assert (h.name.reveal(), h.sex, h.birth, h.id_number.reveal()) == (name, sex, birth, number)
    assert h.address is not None and h.address.reveal() == address
    assert h.pass_number is not None and h.pass_number.reveal() == pass_number
    assert (h.issue_count, h.authority, h.valid_from) == (issue_count, authority, start)
    assert h.valid_until == (
        None if years is None else dt.datetime.strptime(until, "%Y%m%d").date()
    )
    assert (h.ethnicity, h.english_name, h.nationality) == (None, None, None)
    assert number not in repr(h) and pass_number not in repr(h)
