"""GB 11643 ID numbers: check digit against known examples and properties."""

from __future__ import annotations

import datetime as dt

from hypothesis import given
from hypothesis import strategies as st

from central.idnumber import check_digit, is_valid_id_number, make_id_number, mask_id


def test_known_check_digits() -> None:
    # Published GB 11643 example and a number whose check character is X.
    assert check_digit("11010519491231002") == "X"
    assert is_valid_id_number("11010519491231002X")
    assert is_valid_id_number("11010519491231002x")
    assert not is_valid_id_number("110105194912310021")
    assert not is_valid_id_number("11010519491331002X")  # month 13
    assert not is_valid_id_number("1101051949123100")


@given(
    region=st.sampled_from(["110101", "310115", "440305"]),
    birth=st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2025, 12, 31)),
    serial=st.integers(0, 999),
)
def test_made_numbers_are_valid_and_one_digit_change_is_caught(
    region: str, birth: dt.date, serial: int
) -> None:
    number = make_id_number(region, birth, serial)
    assert is_valid_id_number(number)
    i = serial % 17
    changed = number[:i] + str((int(number[i]) + 1) % 10) + number[i + 1 :]
    assert not is_valid_id_number(changed) or changed[6:14] != number[6:14]


@given(st.text(max_size=30))
def test_validation_never_raises(text: str) -> None:
    is_valid_id_number(text)


def test_mask() -> None:
    assert mask_id("11010519491231002X") == "110***********002X"
