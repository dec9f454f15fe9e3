"""DLE EOT status bytes: the reference values, and the emulator's answers read back."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from drivers.printer.status import (
    PrinterStatus,
    StatusByteError,
    decode_status,
    encode_status,
    query,
)


def test_all_clear_and_paper_out_reference_bytes() -> None:
    assert decode_status({1: 0x12, 2: 0x12, 3: 0x12, 4: 0x12}).ready
    # Out of paper, n = 1/2/4 answer 1A/32/7E (docs/receipt-printer.md).
    out = decode_status({1: 0x1A, 2: 0x32, 4: 0x7E})
    assert out.paper_out and out.offline and not out.ready
    near = decode_status({4: 0x1E})
    assert near.paper_near_end and near.ready
    cover = decode_status({1: 0x1A, 2: 0x16})
    assert cover.cover_open and not cover.ready
    assert "cover open" in cover.problems()


@pytest.mark.parametrize("byte", [0x00, 0xFF, 0x13, 0x92, 0x02])
def test_bytes_that_cannot_be_status(byte: int) -> None:
    with pytest.raises(StatusByteError):
        decode_status({1: byte})


@given(
    st.builds(
        PrinterStatus,
        **{
            f: st.booleans()
            for f in (
                "cover_open",
                "paper_near_end",
                "paper_out",
                "cutter_error",
                "unrecoverable_error",
                "auto_recoverable_error",
            )
        },
    )
)
def test_round_trip(status: PrinterStatus) -> None:
    answers = {n: encode_status(status, n) for n in (1, 2, 3, 4)}
    back = decode_status(answers)
    for name in (
        "cover_open",
        "paper_near_end",
        "paper_out",
        "cutter_error",
        "unrecoverable_error",
        "auto_recoverable_error",
    ):
        assert getattr(back, name) == getattr(status, name), name


def test_query_bytes() -> None:
    assert query(4) == b"\x10\x04\x04"
    with pytest.raises(ValueError):
        query(5)
